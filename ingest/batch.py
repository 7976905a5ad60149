"""One batch of inbox files: received → read → judged → merged → returned → archived.

Files that arrive together are judged together: project registrations (项目) from every file are
judged before procedure and problem rows, so a bureau's row about a project a county registers in
the same batch is not returned as unknown; a unit's files in one batch are judged against each
other as if they had come one after the other, in report-date order. Each submission is merged in
its own transaction, in arrival order. A unit's file never crashes the batch: every failure becomes a finding.
"""

from __future__ import annotations

import hashlib
import shutil
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from diaodu.ingest.judge import (
    SheetJudgement,
    SubmissionContext,
    judge,
    judge_history,
    judge_ledger,
    judge_registrations,
    judge_replies,
)
from diaodu.intake.files import FileRejected, RawGrid, read_grids
from diaodu.intake.inbox import ClaimedFile
from diaodu.intake.sheets import LocatedSheet, locate
from diaodu.returns.receipts import write_conflict_notices, write_returns
from diaodu.schemas import reference
from diaodu.schemas.findings import build_findings, findings_frame
from diaodu.warehouse import failpoints
from diaodu.warehouse.merge import (
    LEDGER_KEYS,
    SubmissionRecord,
    archived_file,
    conflict_rows,
    earlier_submission,
    finished_submission,
    issued_order_items,
    last_seq,
    merge_submission,
    previous_statuses,
    registered_projects,
    reported_before,
)


@dataclass
class Submission:
    file: ClaimedFile
    sha256: str
    received_at: datetime
    archive_path: str  # relative to the data directory, as the warehouse stores it; "": too large to keep
    context: SubmissionContext | None = None
    grids: list[RawGrid] = field(default_factory=list)
    sheets: list[LocatedSheet] = field(default_factory=list)
    judgements: list[SheetJudgement] = field(default_factory=list)
    file_findings: list[dict] = field(default_factory=list)
    duplicate_of: tuple[str, datetime] | None = None
    internal_error: str | None = None  # the traceback of a failure of ours while handling this file

    @property
    def unit(self) -> reference.Unit:
        return reference.units()[self.file.unit_code]

    @property
    def returned_whole(self) -> bool:
        return any(finding["severity"] == "error" for finding in self.file_findings)

    def reject_file(self, rule: str, detail: str = "", sheet: str = "", severity: str = "error") -> None:
        self.file_findings.append(dict(sheet=sheet or None, rule=rule, severity=severity, detail=detail))


@dataclass
class BatchResult:
    records: list[SubmissionRecord] = field(default_factory=list)
    returns: dict[str, dict[str, Path]] = field(default_factory=dict)  # submission_id → paths written
    resumed: int = 0  # claims a killed run had merged but not finished
    finding_parts: list[pl.DataFrame] = field(default_factory=list)
    # Failures of ours, not of a unit's file: (which file and step, the traceback) for the data office.
    unforeseen: list[tuple[str, str]] = field(default_factory=list)

    @property
    def findings(self) -> pl.DataFrame:
        """Every finding of the batch, with submission_id and unit_code."""
        empty = findings_frame().with_columns(submission_id=pl.lit(None, pl.String), unit_code=pl.lit(None, pl.String))
        return pl.concat([empty, *self.finding_parts])


def process_batch(
    claims: list[ClaimedFile], con: duckdb.DuckDBPyConnection, data_dir: Path, max_file_bytes: int, today: date,
    batch_id: str,
) -> BatchResult:
    """Judges and merges claimed files; each ends with its returns written and its claim released."""
    result = BatchResult()
    submissions = []
    for claimed in claims:
        finished = finished_submission(con, claimed.claim_key)
        if finished is not None:  # merged by a run that was killed before it wrote the returns
            record, findings = finished
            conflicts = conflict_rows(con, record.submission_id)
            _finish(claimed, record, findings, conflicts, data_dir, max_file_bytes, result)
            result.resumed += 1
        else:
            submissions.append(_receive(claimed, con, data_dir, max_file_bytes))
    read_and_judge(submissions, con, data_dir, max_file_bytes, today)
    for submission in submissions:
        record, findings, conflicts = _merge(submission, con, batch_id)
        _finish(submission.file, record, findings, conflicts, data_dir, max_file_bytes, result, submission.grids)
    return result


def read_and_judge(submissions: list[Submission], con: duckdb.DuckDBPyConnection, data_dir: Path,
                   max_file_bytes: int, today: date) -> None:
    """Reads and judges received files, writing nothing: the batch, and the portal's pre-check of an
    upload against the published warehouse, go through this one door."""
    _mark_batch_duplicates(submissions)
    for submission in submissions:
        if submission.duplicate_of is None and not submission.returned_whole:
            try:
                _read(submission, data_dir, max_file_bytes, today)
            except Exception as error:
                _unforeseen(submission, error)
            failpoints.reach("parsing")
    _judge_all(submissions, con)


def _merge(submission: Submission, con: duckdb.DuckDBPyConnection,
           batch_id: str) -> tuple[SubmissionRecord, pl.DataFrame, pl.DataFrame]:
    """Merges a judged submission; when the merge itself fails (a bug of ours), the file is recorded
    as not taken in, with the failure, so nothing of it is half-merged and the batch goes on."""
    try:
        record, findings = submission_record(submission, last_seq(con) + 1, batch_id)
        findings, conflicts = merge_submission(con, record, findings, _accepted(submission))
    except Exception as error:  # merge_submission rolled its transaction back
        _unforeseen(submission, error)
        record, findings = submission_record(submission, last_seq(con) + 1, batch_id)
        findings, conflicts = merge_submission(con, record, findings, {})
    return record, findings, conflicts


def _finish(
    claimed: ClaimedFile, record: SubmissionRecord, findings: pl.DataFrame, conflicts: pl.DataFrame,
    data_dir: Path, max_file_bytes: int, result: BatchResult, grids: list[RawGrid] | None = None,
) -> None:
    archived = archived_file(data_dir, record.archive_path)
    if grids is None:  # resuming: the grids come from the archived bytes, as the first time
        try:
            grids = read_grids(archived, max_file_bytes, record.file_name) if archived else []
        except FileRejected:
            grids = []
    failpoints.reach("before_returns")
    try:
        result.returns[record.submission_id] = write_returns(data_dir / "outbox", record, findings, grids, archived)
        write_conflict_notices(data_dir / "outbox", record, conflicts)
    except Exception as error:  # a bug of ours: the claim stays, so a later run writes the returns once fixed
        result.unforeseen.append((f"{record.submission_id} {record.unit_code}/{record.file_name}：写回执",
                                  "".join(traceback.format_exception(error))))
        return
    if record.internal_error:
        result.unforeseen.append((f"{record.submission_id} {record.unit_code}/{record.file_name}",
                                  record.internal_error))
    claimed.path.unlink(missing_ok=True)
    result.records.append(record)
    result.finding_parts.append(
        findings.with_columns(submission_id=pl.lit(record.submission_id), unit_code=pl.lit(record.unit_code))
    )


def _receive(claimed: ClaimedFile, con: duckdb.DuckDBPyConnection, data_dir: Path, max_file_bytes: int) -> Submission:
    try:
        digest = hashlib.sha256()
        with open(claimed.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha256 = digest.hexdigest()
        archive_path = ""
        if claimed.path.stat().st_size <= max_file_bytes:
            archive_path = f"archive/{claimed.unit_code}/{sha256}{Path(claimed.name).suffix.lower()[:10]}"
            archive = data_dir / archive_path
            if not archive.exists():
                archive.parent.mkdir(parents=True, exist_ok=True)
                staging = archive.with_name(archive.name + ".partial")
                shutil.copyfile(claimed.path, staging)
                staging.replace(archive)
    except OSError as error:  # unreadable (permissions, a device …): returned, never a stuck batch
        submission = Submission(claimed, "", claimed.received_at(), "")
        submission.reject_file("file.unreadable", f"无法读取文件（{type(error).__name__}）")
        return submission
    submission = Submission(claimed, sha256, claimed.received_at(), archive_path)
    submission.duplicate_of = earlier_submission(con, claimed.unit_code, sha256)
    return submission


def _mark_batch_duplicates(submissions: list[Submission]) -> None:
    seen: dict[tuple[str, str], Submission] = {}
    for submission in submissions:
        key = (submission.file.unit_code, submission.sha256)
        if key in seen and submission.duplicate_of is None:
            submission.duplicate_of = (f"同批次文件“{seen[key].file.name}”", seen[key].received_at)
        seen.setdefault(key, submission)


def _read(submission: Submission, data_dir: Path, max_file_bytes: int, today: date) -> None:
    try:
        # unarchived only when too large: then it is rejected
        source = archived_file(data_dir, submission.archive_path) or submission.file.path
        submission.grids = read_grids(source, max_file_bytes, submission.file.name)
        submission.sheets = [sheet for grid in submission.grids if (sheet := locate(grid)) is not None]
    except FileRejected as rejected:
        submission.reject_file(rejected.rule, rejected.detail, rejected.sheet)
        return
    except OSError as error:
        submission.reject_file("file.unreadable", f"无法读取文件（{type(error).__name__}）")
        return
    if not submission.sheets:
        submission.reject_file("file.no_sheet")
        return
    unit = submission.unit
    if unit.is_bureau:
        for sheet in [s for s in submission.sheets if s.spec.key != "procedure"]:
            submission.reject_file("file.sheet_not_allowed", unit.name, sheet.spec.name, severity="warning")
            submission.sheets.remove(sheet)
        if not submission.sheets:
            submission.reject_file("file.no_sheet")
            return
    # Only a name that is another unit's speaks for it: 葫芦岛市连山区 is still 连山区.
    others = {name for sheet in submission.sheets for name in sheet.unit_names
              if (named := reference.unit_by_name(name)) is not None and named.code != unit.code}
    if others:
        submission.reject_file("file.other_unit", "、".join(sorted(others)))
    dates = sorted({day for sheet in submission.sheets for day in sheet.report_dates})
    if len(dates) > 1:
        submission.reject_file("file.mixed_report_dates", "、".join(day.isoformat() for day in dates))
    elif not dates:
        unreadable = [text for sheet in submission.sheets for text in sheet.unparsed_report_dates]
        submission.reject_file("file.no_report_date", f"（无法识别：{'、'.join(unreadable)}）" if unreadable else "")
    elif dates[0] > today:
        submission.reject_file("file.future_report_date", dates[0].isoformat())
    if not submission.returned_whole:
        submission.context = SubmissionContext(unit, dates[0], reference.city().code)


def _judge_all(submissions: list[Submission], con: duckdb.DuckDBPyConnection) -> None:
    """Registrations first (from every file), then the rows that refer to them. The rules that look
    back at what a unit reported before see the warehouse and the unit's files of this batch that
    come before, in report-date then arrival order: as if the unit had sent them one after the other."""
    owners = registered_projects(con)
    orders = issued_order_items(con)
    for key in ("project", "procedure", "problem", "reply"):
        judged: list[tuple[Submission, SheetJudgement]] = []
        for submission in submissions:
            context = submission.context
            if context is None:
                continue
            try:
                judgements = [judge(sheet, context) for sheet in submission.sheets if sheet.spec.key == key]
                for judgement in judgements:
                    if key == "reply":  # answers an order: the order's items say which projects it may name
                        judge_replies(judgement, orders)
                    else:
                        judge_registrations(judgement, owners)
            except Exception as error:
                _unforeseen(submission, error)
                continue
            submission.judgements += judgements
            judged += [(submission, judgement) for judgement in judgements]
            if key == "project":  # registrations count for the rest of the batch once their whole file was judged
                owners = _with_registrations(owners, judgements)
        judged.sort(key=lambda pair: pair[1].context.report_date)  # stable: arrival order within a date
        for position, (submission, judgement) in enumerate(judged):
            if submission.context is None:  # its file failed on another sheet
                continue
            unit = judgement.context.unit.code
            before = [(other_judgement.context.report_date, other_judgement.accepted)
                      for other, other_judgement in judged[:position]
                      if other is not submission and other.context is not None and other_judgement.context.unit.code == unit]
            try:
                _judge_look_back(con, key, judgement, before)
            except Exception as error:
                _unforeseen(submission, error)
        if key == "project":  # a file returned whole after all registers nothing
            owners = _with_registrations(registered_projects(con),
                                         [judgement for submission, judgement in judged if submission.context is not None])


def _with_registrations(owners: pl.DataFrame, judgements: list[SheetJudgement]) -> pl.DataFrame:
    """Project owners, with the accepted registrations of these 项目 sheets for projects nobody owns yet."""
    for judgement in judgements:
        registered = judgement.accepted.select("project_code", owner_unit=pl.col("unit_code"))
        owners = pl.concat([owners, registered.join(owners, on="project_code", how="anti")])
    return owners


def _judge_look_back(con: duckdb.DuckDBPyConnection, key: str, judgement: SheetJudgement,
                     before: list[tuple[date, pl.DataFrame]]) -> None:
    """已办结 going back, and a full ledger's left-out rows, against what the unit reported before: in
    the warehouse, and (`before`: report date, accepted rows) in its files of this batch that come
    before this one."""
    context = judgement.context
    if key == "procedure":
        keys = ["project_code", "procedure"]
        earlier = [accepted.select(*keys, "status", report_date=pl.lit(day))
                   for day, accepted in before if day < context.report_date]
        previous = (pl.concat([previous_statuses(con, context.unit.code, context.report_date), *earlier])
                    .sort("report_date", maintain_order=True).unique(keys, keep="last", maintain_order=True))
        judge_history(judgement, previous.select(*keys, "status"))
    if key in LEDGER_KEYS and not context.unit.is_bureau:
        keys = list(LEDGER_KEYS[key])
        reported = pl.concat([reported_before(con, key, context.unit.code, context.report_date),
                              *(accepted.select(keys) for _, accepted in before)])
        judge_ledger(judgement, reported.unique(maintain_order=True))


def _unforeseen(submission: Submission, error: Exception) -> None:
    """A failure of ours while handling this file (a bug, a rule that could not run): nothing of the
    file is taken in, the unit is told the data office has been told (not that its file is wrong),
    the traceback is kept with the submission, and the batch goes on."""
    submission.judgements.clear()
    submission.context = None
    submission.duplicate_of = None
    submission.file_findings.clear()
    submission.internal_error = "".join(traceback.format_exception(error))
    submission.reject_file("file.internal_error")


def _accepted(submission: Submission) -> dict[str, pl.DataFrame]:
    accepted: dict[str, list[pl.DataFrame]] = {}
    for judgement in submission.judgements:
        accepted.setdefault(judgement.spec.key, []).append(judgement.accepted)
    return {key: pl.concat(frames) for key, frames in accepted.items()}


def submission_record(submission: Submission, seq: int, batch_id: str) -> tuple[SubmissionRecord, pl.DataFrame]:
    item = submission.file
    submission_id = f"S{seq:06d}-{item.unit_code}-{submission.sha256[:8]}"
    if submission.duplicate_of is not None:
        earlier, at = submission.duplicate_of
        submission.reject_file("file.duplicate", f"{at:%Y-%m-%d %H:%M}（{earlier}）", severity="warning")
        submission.judgements.clear()
    total = sum(j.typed.height for j in submission.judgements)
    if submission.context is not None and submission.duplicate_of is None and total == 0:
        submission.reject_file("file.no_rows")
    findings = pl.concat([build_findings(submission.file_findings), *(j.findings for j in submission.judgements)])
    rejected = sum(j.rejected_rows.len() for j in submission.judgements)
    if submission.duplicate_of is not None:
        outcome = "duplicate"
    elif submission.returned_whole or (total and rejected == total):
        outcome = "returned"
    else:
        outcome = "partial" if rejected else "accepted"
    record = SubmissionRecord(
        submission_id=submission_id, seq=seq, unit_code=item.unit_code,
        report_date=submission.context.report_date if submission.context else None,
        received_at=submission.received_at, file_name=item.name, sha256=submission.sha256, outcome=outcome,
        rows_total=total, rows_accepted=total - rejected, rows_rejected=rejected,
        archive_path=submission.archive_path, claim_key=item.claim_key, batch_id=batch_id,
        internal_error=submission.internal_error,
    )
    return record, findings
