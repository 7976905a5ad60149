"""The corpus of bad and messy inputs: each case ends with the exact findings (rule, sheet, row,
column) for the unit that sent it, the pipeline still running, and no accepted data changed."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field

import openpyxl
import pytest

from tests.conftest import query
from tests.corpus import (
    ACCEPTED, BASELINE_FILES, GXQ_C, LS_A, PROBLEM, PROCEDURE, PROJECT, csv_bytes, dated, drop, ingest, problem,
    procedure, project, xlsx_bytes, zip_bomb,
)

@dataclass
class Case:
    name: str
    unit: str
    file_name: str
    content: bytes
    findings: set  # {(rule, sheet, row_number, column_name)}: the errors, exactly
    outcome: str = "returned"
    warnings: set = field(default_factory=set)  # rules that must be among the warnings
    max_file_mb: int = 20


def rows(*data: list[str], day: str = "2023年1月29日", header: list[str] = PROCEDURE) -> list[list[str]]:
    return dated(day) + [header, *data]


def _valid_xlsx() -> bytes:
    return xlsx_bytes({"手续": rows(procedure(LS_A))})


CASES = [
    # Files nobody can read: returned whole, with one finding that says why.
    Case("zero-byte xlsx", "LS", "空.xlsx", b"", {("file.empty", None, None, None)}),
    Case("zero-byte csv", "LS", "空.csv", b"", {("file.empty", None, None, None)}),
    Case("not a spreadsheet", "LS", "说明.docx", b"PK\x03\x04word", {("file.unsupported_type", None, None, None)}),
    Case("text named xlsx", "LS", "台账.xlsx", "项目代码,手续类型".encode(), {("file.unreadable", None, None, None)}),
    Case("png named xlsx", "LS", "截图.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, {("file.unreadable", None, None, None)}),
    Case("truncated xlsx", "LS", "台账.xlsx", _valid_xlsx()[:2000], {("file.unreadable", None, None, None)}),
    Case("password-protected xlsx", "LS", "加密台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
         {("file.unreadable", None, None, None)}),
    Case("old xls", "LS", "台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, {("file.old_xls", None, None, None)}),
    Case("decompression bomb", "LS", "台账.xlsx", zip_bomb(), {("file.unreadable", None, None, None)}),
    Case("over the size limit", "LS", "大台账.csv", csv_bytes(rows(procedure(LS_A))) + b" " * (2 << 20),
         {("file.too_large", None, None, None)}, max_file_mb=1),
    Case("bytes that fit no encoding", "LS", "乱码.csv", "项目代码,手续类型\n".encode() + b"\x81\xff\xfe\x80\n",
         {("file.encoding", None, None, None)}),
    Case("csv without a header", "LS", "备忘.csv", csv_bytes([["今天开会"], ["明天再说"]]), {("file.no_sheet", None, None, None)}),
    Case("xlsx with only a notes sheet", "LS", "说明.xlsx", xlsx_bytes({"说明": [["填报说明"], ["见模板"]]}),
         {("file.no_sheet", None, None, None)}),
    Case("missing a required column", "LS", "手续.csv",
         csv_bytes(dated() + [["项目代码", "手续类型", "办理状态"], [LS_A, "能评", "正办理"]]),
         {("file.missing_columns", "手续", None, None)}),
    Case("no report date", "LS", "手续.csv", csv_bytes([PROCEDURE, procedure(LS_A)]), {("file.no_report_date", None, None, None)}),
    Case("two report dates", "LS", "台账.xlsx", xlsx_bytes({
        "手续": rows(procedure(LS_A)), "问题": rows(problem(LS_A), day="2023年1月30日", header=PROBLEM)}),
         {("file.mixed_report_dates", None, None, None)}),
    Case("report date in the future", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A), day="2099年1月29日")),
         {("file.future_report_date", None, None, None)}),
    Case("speaks for another unit", "LS", "龙港区台账.csv", csv_bytes(dated("2023年1月29日", "龙港区") + [PROCEDURE, procedure(LS_A)]),
         {("file.other_unit", None, None, None)}),
    Case("header and no rows", "LS", "手续.csv", csv_bytes(rows()), {("file.no_rows", None, None, None)}),
    Case("a bureau sends only a 项目 sheet", "FGW", "项目.csv", csv_bytes(dated(unit="市发改委") + [PROJECT, project(LS_A)]),
         {("file.no_sheet", None, None, None)}),
    # Rows: returned one by one, each finding at its cell.
    Case("project code malformed", "LS", "项目.csv", csv_bytes(rows(project("2022-21140-26-03-1"), header=PROJECT)),
         {("cell.pattern", "项目", 4, "项目代码")}),
    Case("project outside the city", "LS", "项目.csv", csv_bytes(rows(project("2022-110101-26-03-000001"), header=PROJECT)),
         {("project.code_outside_city", "项目", 4, "项目代码")}),
    Case("county registers another county's code", "LS", "项目.csv",
         csv_bytes(rows(project("2022-211403-26-03-000001"), header=PROJECT)), {("project.code_outside_unit", "项目", 4, "项目代码")}),
    Case("duplicate project rows", "LS", "项目.csv", csv_bytes(rows(project(LS_A), project(LS_A), header=PROJECT)),
         {("cell.unique", "项目", 4, "项目代码"), ("cell.unique", "项目", 5, "项目代码")}),
    Case("amount not a number", "LS", "项目.csv", csv_bytes(rows(project(LS_A, amount="三亿"), header=PROJECT)),
         {("cell.format.amount", "项目", 4, "总投资（万元）")}),
    Case("amount zero", "LS", "项目.csv", csv_bytes(rows(project(LS_A, amount="0"), header=PROJECT)),
         {("cell.positive", "项目", 4, "总投资（万元）")}),
    Case("unknown construction state", "LS", "项目.csv", csv_bytes(rows(project(LS_A, state="筹备中"), header=PROJECT)),
         {("cell.allowed_values", "项目", 4, "建设状态")}),
    Case("campaign project without planned start", "LS", "项目.csv",
         csv_bytes(rows(project(LS_A, planned=""), header=PROJECT)), {("project.planned_start_required", "项目", 4, "计划开工日期")}),
    Case("campaign project without leader", "LS", "项目.csv", csv_bytes(rows(project(LS_A, leader=""), header=PROJECT)),
         {("project.leader_required", "项目", 4, "包保领导")}),
    Case("started without a start date", "LS", "项目.csv", csv_bytes(rows(project(LS_A, state="已开工"), header=PROJECT)),
         {("project.actual_start_required", "项目", 4, "实际开工日期")}),
    Case("started after the report date", "LS", "项目.csv",
         csv_bytes(rows(project(LS_A, state="已开工", started="2023-02-01"), header=PROJECT)),
         {("project.actual_start_after_report", "项目", 4, "实际开工日期")}),
    Case("campaign flag not yes or no", "LS", "项目.csv", csv_bytes(rows(project(LS_A, campaign="可能"), header=PROJECT)),
         {("cell.format.yesno", "项目", 4, "是否百日攻坚")}),
    Case("project registered by another park", "KFQ", "项目.csv",
         csv_bytes(dated(unit="葫芦岛经济开发区") + [PROJECT, project(GXQ_C)]), {("project.owned_by_other_unit", "项目", 4, "项目代码")}),
    Case("unknown procedure", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, "规划许可"))),
         {("cell.allowed_values", "手续", 4, "手续类型")}),
    Case("procedure of an unregistered project", "LS", "手续.csv", csv_bytes(rows(procedure("2022-211402-26-03-999999"))),
         {("procedure.unknown_project", "手续", 4, "项目代码")}),
    Case("procedure of another unit's project", "LG", "手续.csv",
         csv_bytes(dated(unit="龙港区") + [PROCEDURE, procedure(LS_A)]), {("procedure.not_own_project", "手续", 4, "项目代码")}),
    Case("bureau reports a procedure it does not approve", "STJ", "手续.csv",
         csv_bytes(dated(unit="市生态环境局") + [PROCEDURE, procedure(LS_A, "立项")]),
         {("procedure.not_owned_by_bureau", "手续", 4, "手续类型")}),
    Case("done without a completion date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, status="已办结", promised=""))),
         {("procedure.completed_required", "手续", 4, "办结日期")}),
    Case("completed after the report date", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, status="已办结", completed="2023-02-03"))),
         {("procedure.completed_after_report", "手续", 4, "办结日期")}),
    Case("accepted after completed", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, status="已办结", accepted="2023-01-25", completed="2023-01-20"))),
         {("procedure.accepted_after_completed", "手续", 4, "受理日期")}),
    Case("promised before accepted", "LS", "手续.csv",
         csv_bytes(rows(procedure(LS_A, accepted="2023-01-25", promised="2023-01-20"))),
         {("procedure.promised_before_accepted", "手续", 4, "承诺办结日期")}),
    Case("required without a status", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, status=""))),
         {("procedure.status_required", "手续", 4, "办理状态")}),
    Case("open without a promised date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, promised=""))),
         {("procedure.promised_required", "手续", 4, "承诺办结日期")}),
    Case("bureau done without a document number", "FGW", "手续.csv",
         csv_bytes(dated(unit="市发改委") + [PROCEDURE, procedure(LS_A, "能评", status="已办结", completed="2023-01-28")]),
         {("procedure.approval_number_required", "手续", 4, "批复文号")}),
    Case("approval mode on another procedure", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, mode="备案"))),
         {("procedure.approval_mode_only_for_lixiang", "手续", 4, "立项方式")}),
    Case("duplicate procedure rows", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A), procedure(LS_A))),
         {("procedure.duplicate", "手续", 4, "手续类型"), ("procedure.duplicate", "手续", 5, "手续类型")}),
    Case("done goes back without a note", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, "立项"))),
         {("procedure.status_backwards", "手续", 4, "办理状态")}),
    Case("impossible date", "LS", "手续.csv", csv_bytes(rows(procedure(LS_A, promised="2023-02-30"))),
         {("cell.format.date", "手续", 4, "承诺办结日期")}),
    Case("closed problem without a date", "LS", "问题.csv", csv_bytes(rows(problem(LS_A, closed="是"), header=PROBLEM)),
         {("problem.closed_date_required", "问题", 4, "销号日期")}),
    Case("deadline before raised", "LS", "问题.csv", csv_bytes(rows(problem(LS_A, deadline="2023-01-01"), header=PROBLEM)),
         {("problem.deadline_before_raised", "问题", 4, "解决时限")}),
    Case("problem of an unregistered project", "LS", "问题.csv",
         csv_bytes(rows(problem("2022-211402-26-03-999999"), header=PROBLEM)), {("problem.unknown_project", "问题", 4, "项目代码")}),
    Case("duplicate problem rows", "LS", "问题.csv", csv_bytes(rows(problem(LS_A), problem(LS_A), header=PROBLEM)),
         {("problem.duplicate", "问题", 4, "问题描述"), ("problem.duplicate", "问题", 5, "问题描述")}),
    Case("formula in a returned row", "LS", "项目.xlsx",
         xlsx_bytes({"项目": rows(project("坏代码", name="=HYPERLINK(\"http://x\",\"点我\")"), header=PROJECT)}),
         {("cell.pattern", "项目", 4, "项目代码")}),
    # Messy but valid: accepted, with the warnings a clerk should still read.
    Case("same bytes again", "LS", "连山区1.28台账(1).xlsx", BASELINE_FILES[("LS", "连山区1.28台账.xlsx")], set(),
         outcome="duplicate", warnings={"file.duplicate"}),
    Case("extra column and a long name with emoji", "LS", "📎 连山区 " + "a" * 185 + " 台账.csv",
         csv_bytes(dated() + [PROCEDURE + ["联系人"], procedure(LS_A, note="") + ["张三"]]), set(), outcome="accepted",
         warnings={"file.extra_columns"}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_exact_findings_and_changes_nothing_accepted(baseline, tmp_path, case):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    accepted_before = [query(data_dir, sql) for sql in ACCEPTED]
    drop(data_dir, case.unit, case.file_name, case.content)

    assert ingest(data_dir, case.max_file_mb).success
    (submission_id, outcome), = query(data_dir, "SELECT submission_id, outcome FROM core.submission "
                                                "WHERE seq = (SELECT max(seq) FROM core.submission)")
    found = set(query(data_dir, "SELECT rule, sheet, row_number, column_name FROM mart.rejections "
                                "WHERE submission_id = ?", [submission_id]))
    warnings = {rule for (rule,) in query(data_dir, "SELECT rule FROM core.finding WHERE severity = 'warning' "
                                                    "AND submission_id = ?", [submission_id])}
    assert (outcome, found) == (case.outcome, case.findings)
    assert case.warnings <= warnings
    if case.outcome != "accepted":
        assert [query(data_dir, sql) for sql in ACCEPTED] == accepted_before
    receipts = list((data_dir / "outbox" / case.unit).glob(f"*{submission_id}_回执.txt"))
    assert len(receipts) == 1 and len(receipts[0].name.encode()) < 255
    assert not list((data_dir / "inbox").rglob("*.*"))


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


def test_rows_left_out_of_a_full_ledger_are_kept_and_the_unit_is_told(baseline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    accepted_before = [query(data_dir, sql) for sql in ACCEPTED]
    drop(data_dir, "LS", "台账.xlsx", xlsx_bytes({"项目": rows(project(LS_A), header=PROJECT),
                                                "手续": rows(procedure(LS_A, "立项", status="已办结", completed="2023-01-20"))}))
    assert ingest(data_dir).success
    warnings = set(query(data_dir, "SELECT rule, value FROM core.finding WHERE severity = 'warning' "
                                   "AND rule LIKE '%missing_from_ledger'"))
    assert warnings == {("project.missing_from_ledger", "2022-211402-26-03-000002"),
                        ("procedure.missing_from_ledger", f"{LS_A} 能评")}
    # The versions of the 28th are all still there (now valid until the 29th); the 29th's are added.
    values = [sql.replace("SELECT *", "SELECT * EXCLUDE (valid_to)") for sql in ACCEPTED]
    assert all(set(before) <= set(query(data_dir, sql)) for before, sql in zip(
        [[row[:-1] for row in rows] for rows in accepted_before], values))
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
    second = drop(data_dir, "LS", "手续下午.csv", csv_bytes(dated() + [PROCEDURE, *ledger, procedure(LS_A, "环评")]))
    os.utime(first, (time.time() - 90, time.time() - 90))
    assert ingest(data_dir).success  # the morning's file knew nothing of 环评: it is not told it left it out
    assert not query(data_dir, "SELECT * FROM core.finding WHERE rule LIKE '%missing_from_ledger'")
    assert query(data_dir, "SELECT count(DISTINCT procedure) FROM core.procedure_version WHERE source_unit = 'LS' "
                           "AND report_date = '2023-01-29'") == [(3,)]
