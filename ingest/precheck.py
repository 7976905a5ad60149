"""The pre-check of one uploaded file: read and judged exactly as the batch will (the same reading,
Pandera models, messages and look-back rules, against the published warehouse), with nothing written:
no merge, no archive, no returns. The pipeline's receipt has the last word; this is what a clerk sees
within seconds of uploading."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from diaodu.ingest.batch import Submission, read_and_judge, submission_record
from diaodu.intake.inbox import ClaimedFile
from diaodu.schemas.reference import local_now
from diaodu.warehouse.merge import earlier_submission
from diaodu.warehouse.store import apply_schema


@dataclass(frozen=True)
class Precheck:
    outcome: str  # accepted | partial | returned | duplicate, as the pipeline would say it now
    report_date: date | None
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    findings: pl.DataFrame  # FINDING_SCHEMA, sorted as the receipt lists them


def precheck(path: Path, file_name: str, unit_code: str, con: duckdb.DuckDBPyConnection | None,
             data_dir: Path, max_file_bytes: int, today: date) -> Precheck:
    """`path`: the uploaded bytes; `con`: the published warehouse (None before the first run)."""
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    claimed = ClaimedFile(unit_code, path, file_name, path.stat().st_mtime_ns)
    submission = Submission(claimed, sha256, local_now(), archive_path="")
    empty = con is None
    if con is None:  # nothing published yet: judged against an empty warehouse, as the first run will be
        con = _empty_warehouse()
    try:
        submission.duplicate_of = None if empty else earlier_submission(con, unit_code, sha256)
        read_and_judge([submission], con, data_dir, max_file_bytes, today)
        record, findings = submission_record(submission, 0, "precheck")
    finally:
        if empty:
            con.close()
    findings = findings.sort("severity", "sheet", "row_number", "cell", "rule", nulls_last=False, maintain_order=True)
    return Precheck(record.outcome, record.report_date, record.rows_total, record.rows_accepted,
                    record.rows_rejected, findings)


def _empty_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    apply_schema(con)
    return con
