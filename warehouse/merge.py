"""Merging one judged submission into the warehouse, in one transaction.

Accepted rows become versions keyed by what they describe and their report date; a later file
from the same unit for the same report date replaces those versions row by row, and a row that
was returned leaves the last accepted version untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from warehouse import failpoints

# Sheet key → (target table, the columns taken from the judged frame).
VERSION_TABLES = {
    "project": ("core.project_version", [
        "project_code", "unit_code", "report_date", "project_name", "builder", "total_investment",
        "planned_start_date", "construction_state", "actual_start_date", "responsible_leader", "is_campaign",
    ]),
    "procedure": ("core.procedure_version", [
        "project_code", "procedure", "source_unit", "source_role", "report_date", "required", "status",
        "approval_level", "promised_date", "accepted_date", "completed_date", "approval_number", "approval_mode",
    ]),
    "problem": ("core.problem_version", [
        "project_code", "description", "source_unit", "report_date", "responsible_unit", "raised_date",
        "deadline", "closed", "closed_date",
    ]),
}


@dataclass
class SubmissionRecord:
    submission_id: str
    seq: int
    unit_code: str
    report_date: date | None
    received_at: datetime
    file_name: str
    sha256: str
    outcome: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    archive_path: str  # empty when the file was too large to keep
    claim_key: str  # which drop this was: unit / arrival time / file name
    batch_id: str  # the files judged together with it


def next_seq(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(seq), 0) + 1 FROM core.submission").fetchall()[0][0]


def merge_submission(
    con: duckdb.DuckDBPyConnection,
    record: SubmissionRecord,
    findings: pl.DataFrame,
    accepted: dict[str, pl.DataFrame],
) -> None:
    """Records the submission, its findings and its accepted rows atomically."""
    submission = pl.DataFrame([record.__dict__])
    finding_rows = findings.select(
        submission_id=pl.lit(record.submission_id), unit_code=pl.lit(record.unit_code),
        sheet="sheet", row_number="row_number", column_name="column_name", value="value", rule="rule",
        message="message", severity="severity",
    )
    con.execute("BEGIN")
    try:
        con.execute("INSERT INTO core.submission BY NAME SELECT * FROM submission")
        con.execute("INSERT INTO core.finding BY NAME SELECT * FROM finding_rows")
        failpoints.reach("mid_merge")
        for key, rows in accepted.items():
            table, columns = VERSION_TABLES[key]
            incoming = rows.with_columns(
                source_unit=pl.col("unit_code"),
                source_role=pl.when(pl.col("unit_kind") == "bureau").then(pl.lit("bureau")).otherwise(pl.lit("unit")),
            ).select(
                *columns, submission_id=pl.lit(record.submission_id), seq=pl.lit(record.seq, pl.Int64),
                source_row="row_number",
            )
            con.register("incoming", incoming)
            con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def registered_projects(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """project_code → owning unit, from every accepted registration."""
    return con.sql(
        "SELECT project_code, arg_min(unit_code, seq) AS owner_unit FROM core.project_version GROUP BY project_code"
    ).pl()


def earlier_submission(con: duckdb.DuckDBPyConnection, unit_code: str, sha256: str) -> tuple[str, datetime] | None:
    rows = con.execute(
        "SELECT submission_id, received_at FROM core.submission "
        "WHERE unit_code = ? AND sha256 = ? AND outcome <> 'duplicate' ORDER BY seq LIMIT 1",
        [unit_code, sha256],
    ).fetchall()
    return rows[0] if rows else None


def finished_submission(con: duckdb.DuckDBPyConnection, claim_key: str) -> tuple[SubmissionRecord, pl.DataFrame] | None:
    """The merged record and findings of a drop, when a run merged it already."""
    records = con.sql(
        "SELECT * EXCLUDE (batch_id, claim_key), batch_id, claim_key FROM core.submission WHERE claim_key = ?",
        params=[claim_key],
    ).pl()
    if records.is_empty():
        return None
    record = SubmissionRecord(**records.row(0, named=True))
    findings = con.sql(
        "SELECT sheet, row_number, column_name, value, rule, message, severity, tab, cell "
        "FROM core.finding WHERE submission_id = ?", params=[record.submission_id]).pl()
    return record, findings
