"""Writing returns into `outbox/<UNIT>/`.

Everything here is derived from the submission record, its findings and the received file's
grids, so a run that resumes a killed one writes the same returns the killed run would have.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from diaodu.intake.files import RawGrid
from diaodu.schemas import reference
from diaodu.warehouse import failpoints
from diaodu.warehouse.merge import SubmissionRecord, said

OUTCOME_LABELS = {"accepted": "已接收", "partial": "部分接收", "returned": "退回", "duplicate": "重复"}
OUTCOME_EXPLAINED = {"partial": "（部分行退回）", "duplicate": "报送（未作改动）"}
# A cell starting with one of these is a formula to Excel once edited (OWASP CSV injection).
FORMULA_LEAD_PATTERN = r"^[=+\-@\t\r]"
FIXED_TIMESTAMP = datetime(2000, 1, 1)
MAX_COMMENTS = 2000  # comments are heavy in Excel; a file this bad is read from the 问题清单 sheet  # workbook metadata: keeps re-written returns byte-identical


def safe_stem(file_name: str, limit: int = 60) -> str:
    """A file name's stem that is safe as a path component ('../', emoji, 200 characters …)."""
    stem = Path(file_name).stem
    stem = re.sub(r"[^\w\u4e00-\u9fff()（）\-]+", "_", stem).strip("._") or "file"
    return stem[:limit]


def return_paths(outbox: Path, record: SubmissionRecord) -> dict[str, Path]:
    folder = outbox / record.unit_code
    base = f"{record.received_at:%Y%m%d-%H%M%S}_{safe_stem(record.file_name)}_{record.submission_id}"
    return {
        "receipt": folder / f"{base}_回执.txt",
        "findings": folder / f"{base}_findings.json",
        "annotated": folder / f"{base}_退回标注.xlsx",
    }


def write_returns(outbox: Path, record: SubmissionRecord, findings: pl.DataFrame, grids: list[RawGrid]) -> dict[str, Path]:
    paths = return_paths(outbox, record)
    paths["receipt"].parent.mkdir(parents=True, exist_ok=True)
    findings = findings.sort("severity", "sheet", "row_number", "cell", "rule", "value", "message",
                             nulls_last=False, maintain_order=True)
    paths["receipt"].write_text(receipt_text(record, findings, paths), encoding="utf-8-sig")
    failpoints.reach("writing_returns")
    paths["findings"].write_text(
        json.dumps(findings_document(record, findings), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if findings.filter(pl.col("severity") == "error").is_empty():
        paths["annotated"].unlink(missing_ok=True)
        del paths["annotated"]
    else:
        write_annotated(paths["annotated"], findings, grids)
    return paths


def receipt_text(record: SubmissionRecord, findings: pl.DataFrame, paths: dict[str, Path]) -> str:
    unit = reference.units()[record.unit_code]
    errors = findings.filter(pl.col("severity") == "error")
    warnings = findings.filter(pl.col("severity") == "warning")
    lines = [
        f"{reference.city().name}重点项目前期手续调度 · 报送回执",
        "",
        f"报送单位：{unit.name}（{unit.code}）",
        f"文件名称：{record.file_name}",
        f"报送编号：{record.submission_id}",
        f"接收时间：{record.received_at:%Y-%m-%d %H:%M:%S}",
        f"填报日期：{record.report_date.isoformat() if record.report_date else '未识别'}",
        f"处理结果：{OUTCOME_LABELS[record.outcome]}{OUTCOME_EXPLAINED.get(record.outcome, '')}",
        f"数据行数：共 {record.rows_total} 行，接收 {record.rows_accepted} 行，退回 {record.rows_rejected} 行。",
    ]
    if not errors.is_empty():
        lines += ["", f"需要修改的问题（{errors.height} 处）：", f"标注文件：{paths['annotated'].name}（问题单元格已标红并附批注）", ""]
        lines += [_finding_line(number, finding) for number, finding in enumerate(errors.iter_rows(named=True), 1)]
        lines += ["", "请修改以上问题后，将完整台账重新报送（同一填报日期的新文件会替换旧文件，已接收的数据不会丢失）。"]
    if not warnings.is_empty():
        lines += ["", "提示（不影响接收）："]
        lines += [_finding_line(number, finding) for number, finding in enumerate(warnings.iter_rows(named=True), 1)]
    return "\n".join(lines) + "\n"


def _finding_line(number: int, finding: dict) -> str:
    where = "".join(
        part for part in (
            f"“{finding['sheet']}”表" if finding["sheet"] else "",
            f"第 {finding['row_number']} 行" if finding["row_number"] else "",
            f"（{finding['cell']}）" if finding["cell"] else "",
        )
    )
    return f"{number}. {where + '：' if where else ''}{finding['message']}"


def findings_document(record: SubmissionRecord, findings: pl.DataFrame) -> dict:
    return {
        "submission_id": record.submission_id,
        "unit_code": record.unit_code,
        "file_name": record.file_name,
        "report_date": record.report_date.isoformat() if record.report_date else None,
        "received_at": record.received_at.isoformat(),
        "outcome": record.outcome,
        "rows": {"total": record.rows_total, "accepted": record.rows_accepted, "rejected": record.rows_rejected},
        "findings": findings.to_dicts(),
    }


def write_annotated(path: Path, findings: pl.DataFrame, grids: list[RawGrid]) -> None:
    """The unit's own sheets, each bad cell filled red with the message as a comment, behind a
    first sheet listing every finding. Strings stay strings: nothing from a submission can run."""
    workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    workbook.set_properties({"created": FIXED_TIMESTAMP, "title": "退回标注"})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDDDDD"})
    text = workbook.add_format({"quote_prefix": True})
    bad = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "quote_prefix": True})

    summary = workbook.add_worksheet("问题清单")
    headers = ["表", "工作表", "单元格", "行号", "列", "填写的值", "问题与修改方法", "级别"]
    summary.write_row(0, 0, headers, bold)
    listing = findings.select("sheet", "tab", "cell", "row_number", "column_name", "value", "message",
                              pl.when(pl.col("severity") == "error").then(pl.lit("退回")).otherwise(pl.lit("提示")))
    for row, values in enumerate(listing.iter_rows(), start=1):
        summary.write_row(row, 0, values)
        if (value := values[5]) and re.match(FORMULA_LEAD_PATTERN, value):
            summary.write_string(row, 5, value, text)
    summary.set_column(0, 5, 14)
    summary.set_column(6, 6, 80)
    summary.freeze_panes(1, 0)

    marked = findings.filter(pl.col("cell").is_not_null() & (pl.col("severity") == "error"))
    used_names = {"问题清单"}
    for grid in grids:
        name = _sheet_name(grid.sheet_name, used_names)
        sheet = workbook.add_worksheet(name)
        comments = {}
        for finding in marked.filter(pl.col("tab") == grid.sheet_name).iter_rows(named=True):
            comments.setdefault(finding["cell"], []).append(finding["message"])
        for row_index, row in enumerate(grid.cells.iter_rows()):
            sheet.write_row(row_index, grid.first_column, row)  # strings stay strings (workbook options)
        for offset, column in enumerate(grid.cells.columns):  # text Excel would run if edited: quoted
            risky = grid.cells.select(pl.col(column).str.contains(FORMULA_LEAD_PATTERN).arg_true()).to_series()
            for row_index in risky:
                sheet.write_string(row_index, grid.first_column + offset, grid.cells[row_index, column], text)
        for number, (ref, messages) in enumerate(comments.items()):
            row_index, column = xlsxwriter.utility.xl_cell_to_rowcol(ref)
            value = grid.cells[row_index, column - grid.first_column] if row_index < grid.cells.height else None
            sheet.write_string(row_index, column, value or "", bad)  # overwrites the plain cell
            if number < MAX_COMMENTS:  # beyond this, the red cells and the 问题清单 sheet say it
                sheet.write_comment(ref, "\n".join(messages), {"x_scale": 2, "y_scale": 1.5})
    workbook.close()


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "表"
    candidate, counter = clean, 2
    while candidate in used:
        candidate, counter = f"{clean[:25]}_{counter}", counter + 1
    used.add(candidate)
    return candidate


def write_conflict_notices(outbox: Path, record: SubmissionRecord, conflicts: pl.DataFrame) -> list[Path]:
    """Tells the other side of each disagreement (the bureau, or the project's unit) what the
    submitting unit reported; the submitting unit reads the same in its own receipt."""
    written = []
    reporter = reference.units()[record.unit_code]
    for other_unit, rows in conflicts.group_by("other_unit", maintain_order=True):
        path = outbox / other_unit[0] / (
            f"{record.received_at:%Y%m%d-%H%M%S}_{record.submission_id}_调度核实通知.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{reference.city().name}重点项目前期手续调度 · 调度核实通知",
            "",
            f"{reporter.name}（{record.unit_code}）在 {record.received_at:%Y-%m-%d %H:%M} 报送的台账"
            f"（填报日期 {record.report_date}，报送编号 {record.submission_id}）中，以下手续与贵单位的记录不一致。"
            "调度以审批部门的记录为准，请双方核对：",
            "",
        ]
        for number, row in enumerate(rows.iter_rows(named=True), 1):
            lines.append(
                f"{number}. 项目 {row['project_code']} “{row['procedure']}”："
                f"{reporter.name}报{said(row['my_status'], row['my_completed_date'])}，"
                f"贵单位报{said(row['other_status'], row['other_completed_date'])}。")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        written.append(path)
    return written
