"""Writing returns into `outbox/<UNIT>/`.

Everything here is derived from the submission record, its findings, the received file's grids
and its archived bytes, so a run that resumes a killed one writes the same returns the killed run would have.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from diaodu.intake.files import RawGrid
from diaodu.returns.annotate import write_annotated
from diaodu.returns.listing import Annotation
from diaodu.schemas import reference
from diaodu.warehouse import failpoints
from diaodu.warehouse.merge import SubmissionRecord, said

OUTCOME_LABELS = {"accepted": "已接收", "partial": "部分接收", "returned": "退回", "duplicate": "重复"}
OUTCOME_EXPLAINED = {"partial": "（部分行退回）", "duplicate": "报送（未作改动）"}


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


def write_returns(
    outbox: Path, record: SubmissionRecord, findings: pl.DataFrame, grids: list[RawGrid], received: Path | None,
) -> dict[str, Path]:
    """The receipt, the findings and, when cells were returned, the annotated copy; `received` is where
    the received bytes are kept (None when they were not: too large)."""
    paths = return_paths(outbox, record)
    paths["receipt"].parent.mkdir(parents=True, exist_ok=True)
    findings = findings.sort("severity", "sheet", "row_number", "cell", "rule", "value", "message",
                             nulls_last=False, maintain_order=True)
    annotation = None
    if grids and not findings.filter(pl.col("cell").is_not_null() & (pl.col("severity") == "error")).is_empty():
        own = received is not None and Path(record.file_name).suffix.lower() == ".xlsx"
        workbook = received if own else None  # the clerk's own workbook, as received
        annotation = write_annotated(paths["annotated"], workbook, findings, grids)
    else:  # nothing to mark (a file returned whole before its cells were read, or no returned cell)
        paths["annotated"].unlink(missing_ok=True)
        del paths["annotated"]
    paths["receipt"].write_text(receipt_text(record, findings, paths, annotation), encoding="utf-8-sig")
    failpoints.reach("writing_returns")
    paths["findings"].write_text(
        json.dumps(findings_document(record, findings), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return paths


def receipt_text(record: SubmissionRecord, findings: pl.DataFrame, paths: dict[str, Path],
                 annotation: Annotation | None) -> str:
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
        lines += ["", f"需要修改的问题（{errors.height} 处）："]
        if annotation is not None:
            lines.append(f"标注文件：{paths['annotated'].name}（{annotation_text(annotation)}）")
        lines.append("")
        lines += [_finding_line(number, finding) for number, finding in enumerate(errors.iter_rows(named=True), 1)]
        lines += ["", "请修改以上问题后，将完整台账重新报送"
                      "（同一填报日期的新文件会替换旧文件，已接收的数据不会丢失）。"]
    if not warnings.is_empty():
        lines += ["", "提示（不影响接收）："]
        lines += [_finding_line(number, finding) for number, finding in enumerate(warnings.iter_rows(named=True), 1)]
    return "\n".join(lines) + "\n"


def annotation_text(annotation: Annotation) -> str:
    """What the annotated copy is, exactly."""
    what = ("即您报送的工作簿，内容、格式与其他工作表保持原样" if annotation.own_workbook
            else "按您报送文件中的文字生成的新工作簿，单元格均为文本，未保留原文件的格式")
    if annotation.noted == annotation.marked:
        marks = f"{annotation.marked} 个问题单元格已标红并附批注"
    else:
        marks = f"{annotation.marked} 个问题单元格已标红，其中 {annotation.noted} 个附批注"
    return f"{what}；{marks}；首个工作表“问题清单”列出全部问题"


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
                f"{number}. {project_label(row['project_name'], row['project_code'])}“{row['procedure']}”手续："
                f"{reporter.name}报{said(row['my_status'], row['my_completed_date'])}，"
                f"贵单位报{said(row['other_status'], row['other_completed_date'])}。")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        written.append(path)
    return written


def project_label(name: str | None, code: str) -> str:
    """项目“name”（code）, or 项目 code when the warehouse holds no registration of it."""
    return f"项目“{name}”（{code}）" if name else f"项目 {code} "
