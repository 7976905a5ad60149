"""The corpus of bad and messy inputs: each case ends with the exact findings (rule, sheet, row,
column, message) for the unit that sent it, the pipeline still running, and no accepted data changed.
Every rule of the contract (schemas/reference/rules.csv) has a case here that makes it fire."""

from __future__ import annotations

import csv
import os
import shutil
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import openpyxl
import pytest

from diaodu.sample.ledgers import xlsx_bytes
from tests.conftest import query
from tests.corpus import (
    ACCEPTED,
    BASELINE_FILES,
    GXQ_C,
    LS_A,
    LS_B,
    PROBLEM,
    PROCEDURE,
    PROJECT,
    csv_bytes,
    dated,
    drop,
    ingest,
    problem,
    procedure,
    project,
    zip_bomb,
)

# (rule, sheet, row as the clerk sees it, column as written, message): what the unit is told.
Finding = tuple[str, "str | None", "int | None", "str | None", str]
NO_SHEET: Finding = ("file.no_sheet", None, None, None,
                     "没有找到可识别的台账表（项目 / 手续 / 问题）：未找到包含必填表头的行。请使用统一模板填报。")
# Filled in from the baseline: the time and id of the first receipt of the same bytes.
FIRST_RECEIPT = "{first_receipt}"


def left_out_project(code: str) -> Finding:
    return ("project.missing_from_ledger", "项目", None, "项目代码",
            f"上次报送的项目“{code}”本次台账中没有。系统仍按上次报送的情况保留该项目；如项目已调出或撤销，请在报送时说明，否则请补报。")


def left_out_procedure(code: str, kind: str) -> Finding:
    return ("procedure.missing_from_ledger", "手续", None, "项目代码",
            f"上次报送的手续“{code} {kind}”本次台账中没有。系统仍按上次报送的情况保留；如不再需要办理，请报“是否应办：否”，否则请补报。")


@dataclass
class Case:
    name: str
    unit: str
    file_name: str
    content: bytes
    findings: set[Finding]  # the errors, exactly
    outcome: str = "returned"
    warnings: set[Finding] = field(default_factory=set)  # the warnings, exactly
    max_file_mb: int = 20
    known_bug: str = ""  # why the case fails today: the test is a strict xfail until it is fixed


def rows(*data: list[str], day: str = "2023年1月29日", header: list[str] = PROCEDURE) -> list[list[str]]:
    return dated(day) + [header, *data]


def _valid_xlsx() -> bytes:
    return xlsx_bytes({"手续": rows(procedure(LS_A))})


CASES = [
    # Files nobody can read: returned whole, with one finding that says why.
    Case("zero-byte xlsx", "LS", "空.xlsx", b"", {("file.empty", None, None, None, "文件是空的，没有可读取的内容。请检查后重新报送。")}),
    Case("zero-byte csv", "LS", "空.csv", b"", {("file.empty", None, None, None, "文件是空的，没有可读取的内容。请检查后重新报送。")}),
    Case("not a spreadsheet", "LS", "说明.docx", b"PK\x03\x04word", {("file.unsupported_type", None, None, None, "不支持的文件类型“.docx”。请报送 .xlsx 或 .csv 文件。")}),
    Case("text named xlsx", "LS", "台账.xlsx", "项目代码,手续类型".encode(), {("file.unreadable", None, None, None, "文件无法读取：文件已损坏或不是 Excel 工作簿。请用 Excel 另存为 .xlsx 后重新报送。")}),
    Case("png named xlsx", "LS", "截图.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, {("file.unreadable", None, None, None, "文件无法读取：文件已损坏或不是 Excel 工作簿。请用 Excel 另存为 .xlsx 后重新报送。")}),
    Case("truncated xlsx", "LS", "台账.xlsx", _valid_xlsx()[:2000], {("file.unreadable", None, None, None, "文件无法读取：文件已损坏或不是 Excel 工作簿。请用 Excel 另存为 .xlsx 后重新报送。")}),
    Case("password-protected xlsx", "LS", "加密台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
         {("file.unreadable", None, None, None, "文件无法读取：文件设置了打开密码，请取消密码后重新报送。请用 Excel 另存为 .xlsx 后重新报送。")}),
    Case("old xls", "LS", "台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, {("file.old_xls", None, None, None, "这是旧版 Excel 文件（.xls），系统只接收 .xlsx 或 .csv。请在 Excel 中“另存为”→“Excel 工作簿(*.xlsx)”后重新报送。")}),
    Case("decompression bomb", "LS", "台账.xlsx", zip_bomb(), {("file.unreadable", None, None, None, "文件无法读取：文件解压后异常巨大，疑似损坏。请用 Excel 另存为 .xlsx 后重新报送。")}),
    Case("over the size limit", "LS", "大台账.csv", csv_bytes(rows(procedure(LS_A))) + b" " * (2 << 20),
         {("file.too_large", None, None, None, "文件大小 2.0 MB（上限 1 MB），超过上限。请删去无关的工作表或图片后重新报送。")}, max_file_mb=1),
    Case("bytes that fit no encoding", "LS", "乱码.csv", "项目代码,手续类型\n".encode() + b"\x81\xff\xfe\x80\n",
         {("file.encoding", None, None, None, "CSV 文件编码无法识别（第 2 行第 1 个字节起无法解码）。请用 Excel 另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后重新报送。")}),
    Case("csv without a header", "LS", "备忘.csv", csv_bytes([["今天开会"], ["明天再说"]]), {NO_SHEET}),
    Case("xlsx with only a notes sheet", "LS", "说明.xlsx", xlsx_bytes({"说明": [["填报说明"], ["见模板"]]}),
         {NO_SHEET}),
    Case("missing a required column", "LS", "手续.csv",
         csv_bytes(dated() + [["项目代码", "手续类型", "办理状态"], [LS_A, "能评", "正办理"]]),
         {("file.missing_columns", "手续", None, None, "“手续”表缺少必填列：是否应办。请使用统一模板，补齐这些列后重新报送。")}),
    Case("no report date", "LS", "手续.csv", csv_bytes([PROCEDURE, procedure(LS_A)]), {("file.no_report_date", None, None, None, "没有找到可识别的填报日期。请在表头上方写明“填报日期：2023年1月29日”，或增加“填报日期”列。")}),
    Case("two report dates", "LS", "台账.xlsx", xlsx_bytes({
        "手续": rows(procedure(LS_A)), "问题": rows(problem(LS_A), day="2023年1月30日", header=PROBLEM)}),
         {("file.mixed_report_dates", None, None, None, "同一文件中出现多个填报日期（2023-01-29、2023-01-30）。一个文件只能对应一个填报日期，请拆分后分别报送。")}),
    Case("report date in the future", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A), day="2099年1月29日")),
         {("file.future_report_date", None, None, None, "填报日期 2099-01-29 晚于今天，请核对填报日期。")}),
    Case("speaks for another unit", "LS", "龙港区台账.csv", csv_bytes(dated("2023年1月29日", "龙港区") + [PROCEDURE, procedure(LS_A)]),
         {("file.other_unit", None, None, None, "文件填报单位为“龙港区”，但报送到了本单位的文件夹。每个单位只能报送本单位的台账，请核对后由对应单位报送。")}),
    Case("header and no rows", "LS", "手续.csv", csv_bytes(rows()), {("file.no_rows", None, None, None, "文件中找到了表头，但没有任何数据行。请检查是否选错了文件，或补充台账内容后重新报送。")},
         warnings={left_out_procedure(LS_A, "立项"), left_out_procedure(LS_A, "能评")}),
    Case("a bureau sends only a 项目 sheet", "FGW", "项目.csv", csv_bytes(dated(unit="市发改委") + [PROJECT, project(LS_A)]),
         {NO_SHEET},
         warnings={("file.sheet_not_allowed", "项目", None, None, "市发改委不报送“项目”表，该表未处理。部办局只报送“手续”表。")}),
    # Rows: returned one by one, each finding at its cell.
    Case("project code malformed", "LS", "项目.csv", csv_bytes(rows(project("2022-21140-26-03-1"), header=PROJECT)),
         {("cell.pattern", "项目", 4, "项目代码", "“项目代码”格式不正确：“2022-21140-26-03-1”。项目代码应为“年份-6位行政区划代码-2位行业-2位类型-6位流水号”，如 2022-211402-26-03-012345。")},
         warnings={left_out_project(LS_A), left_out_project(LS_B)}),
    Case("project outside the city", "LS", "项目.csv", csv_bytes(rows(project("2022-110101-26-03-000001"), header=PROJECT)),
         {("project.code_outside_city", "项目", 4, "项目代码", "项目代码“2022-110101-26-03-000001”中的行政区划代码不属于本市（应为 2114 开头），请核对项目代码。")},
         warnings={left_out_project(LS_A), left_out_project(LS_B)}),
    Case("county registers another county's code", "LS", "项目.csv",
         csv_bytes(rows(project("2022-211403-26-03-000001"), header=PROJECT)), {("project.code_outside_unit", "项目", 4, "项目代码", "项目代码“2022-211403-26-03-000001”中的行政区划代码不是本单位的（应为 211402），请核对项目代码，或由项目所在县区报送。")},
         warnings={left_out_project(LS_A), left_out_project(LS_B)}),
    Case("duplicate project rows", "LS", "项目.csv", csv_bytes(rows(project(LS_A), project(LS_A), header=PROJECT)),
         {("cell.unique", "项目", 4, "项目代码", "“项目代码”为“2022-211402-26-03-000001”的行在本表中重复出现，请合并或删除重复行。"),
          ("cell.unique", "项目", 5, "项目代码", "“项目代码”为“2022-211402-26-03-000001”的行在本表中重复出现，请合并或删除重复行。")},
         warnings={left_out_project(LS_B)}),
    Case("amount not a number", "LS", "项目.csv", csv_bytes(rows(project(LS_A, amount="三亿"), header=PROJECT)),
         {("cell.format.amount", "项目", 4, "总投资（万元）", "“总投资（万元）”的值“三亿”无法识别为金额。请填写数字，单位为万元（也可写“3亿元”“3,000万元”）。")},
         warnings={left_out_project(LS_B)}),
    Case("amount zero", "LS", "项目.csv", csv_bytes(rows(project(LS_A, amount="0"), header=PROJECT)),
         {("cell.positive", "项目", 4, "总投资（万元）", "“总投资（万元）”必须大于 0，当前为“0”。")},
         warnings={left_out_project(LS_B)}),
    Case("unknown construction state", "LS", "项目.csv", csv_bytes(rows(project(LS_A, state="筹备中"), header=PROJECT)),
         {("cell.allowed_values", "项目", 4, "建设状态", "“建设状态”只能填写：未开工、已开工、已复工、已竣工；当前为“筹备中”。请从下拉选项中选择。")},
         warnings={left_out_project(LS_B)}),
    Case("campaign project without planned start", "LS", "项目.csv",
         csv_bytes(rows(project(LS_A, planned=""), header=PROJECT)), {("project.planned_start_required", "项目", 4, "计划开工日期", "百日攻坚项目必须填写“计划开工日期”。")},
         warnings={left_out_project(LS_B)}),
    Case("campaign project without leader", "LS", "项目.csv", csv_bytes(rows(project(LS_A, leader=""), header=PROJECT)),
         {("project.leader_required", "项目", 4, "包保领导", "百日攻坚项目必须填写“包保领导”。")},
         warnings={left_out_project(LS_B)}),
    Case("started without a start date", "LS", "项目.csv", csv_bytes(rows(project(LS_A, state="已开工"), header=PROJECT)),
         {("project.actual_start_required", "项目", 4, "实际开工日期", "建设状态为“已开工”或“已复工”时，必须填写“实际开工日期”。")},
         warnings={left_out_project(LS_B)}),
    Case("started after the report date", "LS", "项目.csv",
         csv_bytes(rows(project(LS_A, state="已开工", started="2023-02-01"), header=PROJECT)),
         {("project.actual_start_after_report", "项目", 4, "实际开工日期", "“实际开工日期”2023-02-01 晚于填报日期，请核对。")},
         warnings={left_out_project(LS_B)}),
    Case("campaign flag not yes or no", "LS", "项目.csv", csv_bytes(rows(project(LS_A, campaign="可能"), header=PROJECT)),
         {("cell.format.yesno", "项目", 4, "是否百日攻坚", "“是否百日攻坚”只能填写“是”或“否”，当前为“可能”。")},
         warnings={left_out_project(LS_B)}),
    Case("project registered by another park", "KFQ", "项目.csv",
         csv_bytes(dated(unit="葫芦岛经济开发区") + [PROJECT, project(GXQ_C)]), {("project.owned_by_other_unit", "项目", 4, "项目代码", "项目代码“2022-211400-26-03-000009”已由葫芦岛高新区登记。一个项目只能由一个县区或园区报送，请核对项目代码。")}),
    Case("unknown procedure", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, "规划许可"))),
         {("cell.allowed_values", "手续", 4, "手续类型", "“手续类型”只能填写：立项、能评、环评、稳评、安评、用地预审、用地规划许可、工程规划许可、土地、施工许可、供电；当前为“规划许可”。请从下拉选项中选择。")},
         warnings={left_out_procedure(LS_A, "立项"), left_out_procedure(LS_A, "能评")}),
    Case("procedure of an unregistered project", "LS", "手续.csv", csv_bytes(rows(procedure("2022-211402-26-03-999999"))),
         {("procedure.unknown_project", "手续", 4, "项目代码", "项目代码“2022-211402-26-03-999999”尚未登记。请先在“项目”表中登记该项目（或由项目所在县区报送项目表）。")},
         warnings={left_out_procedure(LS_A, "立项"), left_out_procedure(LS_A, "能评")}),
    Case("procedure of another unit's project", "LG", "手续.csv",
         csv_bytes(dated(unit="龙港区") + [PROCEDURE, procedure(LS_A)]), {("procedure.not_own_project", "手续", 4, "项目代码", "项目代码“2022-211402-26-03-000001”由连山区登记，不是本单位的项目。")}),
    Case("bureau reports a procedure it does not approve", "STJ", "手续.csv",
         csv_bytes(dated(unit="市生态环境局") + [PROCEDURE, procedure(LS_A, "立项")]),
         {("procedure.not_owned_by_bureau", "手续", 4, "手续类型", "“立项”不属于本部门审批，部办局只能报送本部门负责的手续。")}),
    Case("done without a completion date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, status="已办结", promised=""))),
         {("procedure.completed_required", "手续", 4, "办结日期", "“办理状态”为“已办结”时，必须填写“办结日期”。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("completed after the report date", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, status="已办结", completed="2023-02-03"))),
         {("procedure.completed_after_report", "手续", 4, "办结日期", "“办结日期”2023-02-03 晚于填报日期，请核对。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("accepted after completed", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, status="已办结", accepted="2023-01-25", completed="2023-01-20"))),
         {("procedure.accepted_after_completed", "手续", 4, "受理日期", "“受理日期”不能晚于“办结日期”，请核对后重新填报。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("promised before accepted", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, accepted="2023-01-25", promised="2023-01-20"))),
         {("procedure.promised_before_accepted", "手续", 4, "承诺办结日期", "承诺办结日期不能早于受理日期，请核对后重新填报。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("required without a status", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, status=""))),
         {("procedure.status_required", "手续", 4, "办理状态", "“是否应办”为“是”时，必须填写“办理状态”。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("open without a promised date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, promised=""))),
         {("procedure.promised_required", "手续", 4, "承诺办结日期", "手续未办结时，必须填写“承诺办结日期”（或“承诺时限”）。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("bureau done without a document number", "FGW", "手续.csv",
         csv_bytes(dated(unit="市发改委") + [PROCEDURE, procedure(LS_A, "能评", status="已办结", completed="2023-01-28")]),
         {("procedure.approval_number_required", "手续", 4, "批复文号", "审批部门报送“已办结”时，必须填写“批复文号”。")}),
    Case("approval mode on another procedure", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, mode="备案"))),
         {("procedure.approval_mode_only_for_lixiang", "手续", 4, "立项方式", "“立项方式”只适用于立项手续，其他手续请留空。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("duplicate procedure rows", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A), procedure(LS_A))),
         {("procedure.duplicate", "手续", 4, "手续类型", "同一项目的“能评”手续在本表中出现多次，请合并为一行。"),
          ("procedure.duplicate", "手续", 5, "手续类型", "同一项目的“能评”手续在本表中出现多次，请合并为一行。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("done goes back without a note", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, "立项"))),
         {("procedure.status_backwards", "手续", 4, "办理状态", "“立项”手续上次报送为“已办结”，本次改为未办结。如确需撤回，请在“备注”列说明原因；否则请核对办理状态。")},
         warnings={left_out_procedure(LS_A, "能评")}),
    Case("impossible date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, promised="2023-02-30"))),
         {("cell.format.date", "手续", 4, "承诺办结日期", "“承诺办结日期”的值“2023-02-30”无法识别为日期。请按 2023-01-29 或 2023年1月29日 的格式填写。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("closed problem without a date", "LS", "问题.csv", csv_bytes(rows(problem(LS_A, closed="是"), header=PROBLEM)),
         {("problem.closed_date_required", "问题", 4, "销号日期", "“是否销号”为“是”时，必须填写“销号日期”。")}),
    Case("deadline before raised", "LS", "问题.csv", csv_bytes(rows(problem(LS_A, deadline="2023-01-01"), header=PROBLEM)),
         {("problem.deadline_before_raised", "问题", 4, "解决时限", "“解决时限”早于“提出日期”，请核对。")}),
    Case("problem of an unregistered project", "LS", "问题.csv",
         csv_bytes(rows(problem("2022-211402-26-03-999999"), header=PROBLEM)), {("problem.unknown_project", "问题", 4, "项目代码", "项目代码“2022-211402-26-03-999999”尚未登记，问题无法挂到项目上。请先登记该项目。")}),
    Case("duplicate problem rows", "LS", "问题.csv", csv_bytes(rows(problem(LS_A), problem(LS_A), header=PROBLEM)),
         {("problem.duplicate", "问题", 4, "问题描述", "同一项目的问题“用地指标不足”在本表中出现多次，请合并为一行。"),
          ("problem.duplicate", "问题", 5, "问题描述", "同一项目的问题“用地指标不足”在本表中出现多次，请合并为一行。")}),
    Case("required cell left empty", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, required=""))),
         {("cell.required", "手续", 4, "是否应办", "“是否应办”为必填项，请填写。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("time limit not a number", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, accepted="2023-01-20") + ["二十天"], header=PROCEDURE + ["承诺时限"])),
         {("cell.format.integer", "手续", 4, "承诺时限", "“承诺时限”的值“二十天”无法识别为工作日天数。请填写整数，如“20”或“20个工作日”。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("time limit of zero days", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, accepted="2023-01-20", promised="") + ["0"], header=PROCEDURE + ["承诺时限"])),
         {("cell.positive_integer", "手续", 4, "承诺时限", "“承诺时限”必须是正整数，当前为“0”。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("time limit without an accepted date", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, promised="") + ["20"], header=PROCEDURE + ["承诺时限"])),
         {("procedure.time_limit_needs_accepted", "手续", 4, "承诺时限", "按“承诺时限”计算承诺办结日期需要“受理日期”，请补填受理日期，或直接填写“承诺办结日期”。")},
         warnings={left_out_procedure(LS_A, "立项")}),
    Case("problem of another unit's project", "LG", "问题.csv",
         csv_bytes(dated(unit="龙港区") + [PROBLEM, problem(LS_A)]), {("problem.not_own_project", "问题", 4, "项目代码", "项目代码“2022-211402-26-03-000001”由连山区登记，不是本单位的项目，问题请由该单位报送。")}),
    Case("formula in a returned row", "LS", "项目.xlsx",
         xlsx_bytes({"项目": rows(project("坏代码", name="=HYPERLINK(\"http://x\",\"点我\")"), header=PROJECT)}),
         {("cell.pattern", "项目", 4, "项目代码", "“项目代码”格式不正确：“坏代码”。项目代码应为“年份-6位行政区划代码-2位行业-2位类型-6位流水号”，如 2022-211402-26-03-012345。")},
         warnings={left_out_project(LS_A), left_out_project(LS_B)}),
    # Messy but valid: accepted, with the warnings a clerk should still read.
    Case("same bytes again", "LS", "连山区1.28台账(1).xlsx", BASELINE_FILES[("LS", "连山区1.28台账.xlsx")], set(),
         outcome="duplicate", warnings={("file.duplicate", None, None, None, "本文件与 " + FIRST_RECEIPT + " 已报送的文件内容完全相同，未作任何改动。")}),
    Case("extra column and a long name with emoji", "LS", "📎 连山区 " + "a" * 185 + " 台账.csv",
         csv_bytes(dated() + [PROCEDURE + ["联系人"], procedure(LS_A, note="") + ["张三"]]), set(), outcome="accepted",
         warnings={("file.extra_columns", "手续", None, "联系人", "“手续”表有不在模板中的列：联系人。这些列未导入（不影响其他数据）。"),
                   left_out_procedure(LS_A, "立项")}),
    Case("a bureau sends a 项目 sheet with its 手续", "FGW", "发改委台账.xlsx", xlsx_bytes({
        "项目": dated(unit="市发改委") + [PROJECT, project(LS_A)],
        "手续": dated(unit="市发改委") + [PROCEDURE, procedure(LS_A, "立项", status="已办结", completed="2023-01-20",
                                                              number="葫发改备〔2023〕1号", mode="备案")]}),
         set(), outcome="accepted", warnings={("file.sheet_not_allowed", "项目", None, None, "市发改委不报送“项目”表，该表未处理。部办局只报送“手续”表。")}),
    Case("county and bureau disagree on a completion date", "LS", "手续.csv", csv_bytes(rows(
        procedure(LS_A, "立项", status="已办结", completed="2023-01-21"), procedure(LS_A, "能评"))),
         set(), outcome="accepted", warnings={("procedure.conflict", "手续", 4, "办理状态", "“立项”手续与市发改委的记录不一致：本单位报“已办结”（2023-01-21办结），市发改委报“已办结”（2023-01-20办结）。以审批部门的记录为准，已列入调度核实，请双方核对（不影响本行接收）。")}),
    Case("rows left out of a full ledger", "LS", "台账.xlsx", xlsx_bytes({
        "项目": rows(project(LS_A), header=PROJECT),
        "手续": rows(procedure(LS_A, "立项", status="已办结", completed="2023-01-20"))}),
         set(), outcome="accepted", warnings={left_out_procedure(LS_A, "能评"), left_out_project(LS_B)}),
]


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.known_bug, strict=True)] if case.known_bug else []
    return pytest.param(case, id=case.name, marks=marks)


def _first_receipt(baseline: Path) -> str:
    (submission_id, received_at), = query(baseline, "SELECT submission_id, received_at FROM core.submission "
                                                    "WHERE unit_code = 'LS'")
    return f"{received_at:%Y-%m-%d %H:%M}（{submission_id}）"


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input_gets_its_exact_findings_and_changes_nothing_accepted(baseline: Path, tmp_path: Path, case: Case):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    accepted_before = [query(data_dir, sql) for sql in ACCEPTED]
    drop(data_dir, case.unit, case.file_name, case.content)

    assert ingest(data_dir, case.max_file_mb).success
    (submission_id, outcome), = query(data_dir, "SELECT submission_id, outcome FROM core.submission "
                                                "WHERE seq = (SELECT max(seq) FROM core.submission)")
    found = set(query(data_dir, "SELECT rule, sheet, row_number, column_name, message FROM mart.rejections "
                                "WHERE submission_id = ?", [submission_id]))
    warnings = set(query(data_dir, "SELECT rule, sheet, row_number, column_name, message FROM core.finding "
                                   "WHERE severity = 'warning' AND submission_id = ?", [submission_id]))
    first_receipt = _first_receipt(baseline)
    expected_warnings = {(*finding[:4], finding[4].replace(FIRST_RECEIPT, first_receipt)) for finding in case.warnings}
    assert (outcome, found, warnings) == (case.outcome, case.findings, expected_warnings)
    if case.outcome != "accepted":
        assert [query(data_dir, sql) for sql in ACCEPTED] == accepted_before
    receipts = list((data_dir / "outbox" / case.unit).glob(f"*{submission_id}_回执.txt"))
    assert len(receipts) == 1 and len(receipts[0].name.encode()) < 255
    assert not list((data_dir / "inbox").rglob("*.*"))


# No file, however malformed, makes these fire: a bug of ours does (tests/test_unforeseen.py breaks a rule).
FIRED_BY_A_BUG = {"file.internal_error"}


def test_every_rule_of_the_contract_has_a_case_that_makes_it_fire():
    with (files("diaodu.schemas") / "reference" / "rules.csv").open(encoding="utf-8") as handle:
        contract = {row["rule"] for row in csv.DictReader(handle)}
    from tests.test_supervision import REPLY_FINDINGS  # the 督办回复 rules need issued orders: that campaign

    fired = {finding[0] for case in CASES for finding in case.findings | case.warnings}
    fired |= {finding[0] for finding in REPLY_FINDINGS}
    assert contract - fired == FIRED_BY_A_BUG, "rules without a corpus case"
    assert fired - contract == set(), "cases for rules the contract does not have"


def test_text_from_a_submission_never_becomes_a_formula(baseline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    case = next(case for case in CASES if case.name == "formula in a returned row")
    drop(data_dir, case.unit, case.file_name, case.content)
    assert ingest(data_dir).success
    (annotated,) = (data_dir / "outbox" / "LS").glob("*项目*退回标注.xlsx")
    sheet = openpyxl.load_workbook(annotated)["项目"]
    cell = sheet["B4"]  # the clerk's own text, in their own workbook, stays text
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
    assert sheet["A4"].comment is not None and "项目代码" in sheet["A4"].comment.text


def test_files_nobody_can_be_told_about_are_quarantined(baseline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    drop(data_dir, "XYZ", "谁的.csv", b"abc")
    (data_dir / "inbox" / "LS").mkdir(parents=True, exist_ok=True)
    (data_dir / "inbox" / "LS" / "链接.csv").symlink_to(data_dir / "warehouse.duckdb")
    result = ingest(data_dir)
    assert result.success
    quarantined = sorted(path.name for path in (data_dir / "quarantine").iterdir())
    assert len(quarantined) == 2 and any("链接" in name for name in quarantined) and any("XYZ" in name for name in quarantined)
    assert query(data_dir, "SELECT count(*) FROM mart.submissions") == [(3,)]


def test_rows_left_out_of_a_full_ledger_are_kept(baseline: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    accepted_before = [query(data_dir, sql) for sql in ACCEPTED]
    case = next(case for case in CASES if case.name == "rows left out of a full ledger")  # the unit is told: above
    drop(data_dir, case.unit, case.file_name, case.content)
    assert ingest(data_dir).success
    # The versions of the 28th are all still there (now valid until the 29th); the 29th's are added.
    values = [sql.replace("SELECT *", "SELECT * EXCLUDE (valid_to)") for sql in ACCEPTED]
    assert all(set(before) <= set(query(data_dir, sql)) for before, sql in zip(
        [[row[:-1] for row in rows] for rows in accepted_before], values, strict=True))
    assert query(data_dir, "SELECT outcome FROM core.submission ORDER BY seq DESC LIMIT 1") == [("accepted",)]


def test_a_sheet_of_100000_rows_is_read_whole(baseline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    kinds = ["立项", "能评", "环评", "稳评", "安评", "用地预审", "用地规划许可", "工程规划许可", "土地", "施工许可", "供电"]
    codes = [f"2022-211402-27-03-{number:06d}" for number in range(100_000 // len(kinds) + 1)]
    drop(data_dir, "LS", "大台账项目.csv", csv_bytes(rows(*(project(code) for code in codes), header=PROJECT)))
    drop(data_dir, "LS", "大台账手续.csv", csv_bytes(rows(
        *(procedure(codes[i // len(kinds)], kinds[i % len(kinds)]) for i in range(100_000)))))
    assert ingest(data_dir).success
    assert query(data_dir, "SELECT rows_total, rows_accepted FROM core.submission ORDER BY seq DESC LIMIT 1") == [
        (100_000, 100_000)]


@pytest.mark.parametrize("arrival", [(29, 30, 31), (31, 30, 29), (30, 31, 29)])
def test_a_units_files_for_several_dates_in_one_batch_are_judged_in_date_order(baseline, tmp_path, arrival):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    done = procedure(LS_A, "立项", status="已办结", completed="2023-01-20")
    files = {
        29: [done, procedure(LS_A, "能评", status="已办结", completed="2023-01-29"), procedure(LS_A, "环评")],
        # The 30th and the 31st take 能评 back to 正办理 without a note and leave 环评 (new on the 29th) out.
        30: [done, procedure(LS_A, "能评")],
        31: [done, procedure(LS_A, "能评")],
    }
    for order, day in enumerate(arrival):
        path = drop(data_dir, "LS", f"手续1.{day}.csv", csv_bytes(dated(f"2023-01-{day}") + [PROCEDURE, *files[day]]))
        os.utime(path, (time.time() - 90 + order, time.time() - 90 + order))
    assert ingest(data_dir).success
    found = set(query(data_dir, "SELECT s.report_date::VARCHAR, f.rule, f.row_number, f.value FROM core.finding AS f "
                                "JOIN core.submission AS s USING (submission_id) WHERE s.report_date > '2023-01-28'"))
    assert found == {(f"2023-01-{day}", rule, row, value) for day in (30, 31) for rule, row, value in [
        ("procedure.status_backwards", 5, "正办理"), ("procedure.missing_from_ledger", None, f"{LS_A} 环评")]}


def test_a_second_file_of_the_same_day_counts_the_first_as_reported_before(baseline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    ledger = [procedure(LS_A, "立项", status="已办结", completed="2023-01-20"), procedure(LS_A, "能评")]
    first = drop(data_dir, "LS", "手续上午.csv", csv_bytes(dated() + [PROCEDURE, *ledger]))
    drop(data_dir, "LS", "手续下午.csv", csv_bytes(dated() + [PROCEDURE, *ledger, procedure(LS_A, "环评")]))
    os.utime(first, (time.time() - 90, time.time() - 90))
    assert ingest(data_dir).success  # the morning's file knew nothing of 环评: it is not told it left it out
    assert not query(data_dir, "SELECT * FROM core.finding WHERE rule LIKE '%missing_from_ledger'")
    assert query(data_dir, "SELECT count(DISTINCT procedure) FROM core.procedure_version WHERE source_unit = 'LS' "
                           "AND report_date = '2023-01-29'") == [(3,)]
