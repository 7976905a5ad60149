"""Merging one judged submission into the warehouse, in one transaction.

Accepted rows become versions keyed by what they describe and their report date; a later file
from the same unit for the same report date replaces those versions row by row, and a row that
was returned leaves the last accepted version untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from diaodu.schemas import reference
from diaodu.schemas.findings import build_findings
from diaodu.warehouse import failpoints
from diaodu.warehouse.store import insert, sql

# Sheet key → (target table, the columns taken from the judged frame).
VERSION_TABLES = {
    "project": ("core.project_version", [
        "project_code", "unit_code", "report_date", "project_name", "builder", "total_investment",
        "planned_start_date", "construction_state", "actual_start_date", "responsible_leader", "is_campaign",
    ]),
    "procedure": ("core.procedure_version", [
        "project_code", "procedure", "source_unit", "source_role", "report_date", "required", "status",
        "approval_level", "promised_date", "accepted_date", "completed_date", "approval_number", "approval_mode",
        "note",
    ]),
    "problem": ("core.problem_version", [
        "project_code", "description", "source_unit", "report_date", "responsible_unit", "raised_date",
        "deadline", "closed", "closed_date",
    ]),
    "reply": ("core.supervision_reply", [
        "order_no", "project_code", "procedure", "source_unit", "report_date", "reply_text", "expected_date",
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
    archive_path: str  # relative to the data directory; empty when the file was too large to keep
    claim_key: str  # which drop this was: unit / arrival time / file name
    batch_id: str  # the files judged together with it
    internal_error: str | None = None  # the traceback when a failure of ours kept the file out


def archived_file(data_dir: Path, archive_path: str) -> Path | None:
    """Where a submission's received bytes are. The warehouse stores the path relative to the data
    directory, so the directory can be restored or moved anywhere; None when they were not kept."""
    return data_dir / archive_path if archive_path else None


def last_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The arrival number of the latest submission (0 for none)."""
    return con.execute("SELECT coalesce(max(seq), 0) FROM core.submission").fetchall()[0][0]


# What a version is a version of, per sheet.
VERSION_KEYS = {
    "project": ["project_code", "unit_code"],
    "procedure": ["project_code", "procedure", "source_unit"],
    "problem": ["project_code", "description", "source_unit"],
    "reply": ["order_no", "project_code", "procedure", "source_unit"],
}


def close_versions(con: duckdb.DuckDBPyConnection, key: str, incoming: pl.DataFrame) -> None:
    """Sets valid_to (the next version's report date) on every version of the keys just written,
    so a late file for an earlier date slots in between and the days after it stay right.

    Only versions still valid on or after the earliest report date written can change (valid_to NULL
    or later than it); every version after one of them is one of them too, so the next version of
    each is among them. Filtering on that first keeps the cost with the current state, not the
    history (a year of versions is ~20 M rows, the current ones ~75 k)."""
    table, keys = VERSION_TABLES[key][0], VERSION_KEYS[key]
    on = " AND ".join(f"v.{column} = n.{column}" for column in keys)
    earliest = incoming.get_column("report_date").min()
    con.register("touched_keys", incoming.select(keys).unique())
    try:
        con.execute(f"""
            UPDATE {table} AS v SET valid_to = n.next_date
            FROM (SELECT {", ".join(keys)}, report_date,
                         lead(report_date) OVER (PARTITION BY {", ".join(keys)} ORDER BY report_date) AS next_date
                  FROM (SELECT * FROM {table} WHERE valid_to IS NULL OR valid_to > $earliest)
                  SEMI JOIN touched_keys USING ({", ".join(keys)})) AS n
            WHERE {on} AND v.report_date = n.report_date AND v.valid_to IS DISTINCT FROM n.next_date
              AND (v.valid_to IS NULL OR v.valid_to > $earliest)""", {"earliest": earliest})
    finally:
        con.unregister("touched_keys")


def merge_submission(
    con: duckdb.DuckDBPyConnection,
    record: SubmissionRecord,
    findings: pl.DataFrame,
    accepted: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records the submission, its findings and its accepted rows atomically. Returns the findings
    as recorded, with the disagreements the other side's records show, and those disagreements."""
    submission = pl.DataFrame([record.__dict__])
    finding_rows = findings.select(
        submission_id=pl.lit(record.submission_id), unit_code=pl.lit(record.unit_code),
        sheet="sheet", row_number="row_number", column_name="column_name", value="value", rule="rule",
        message="message", severity="severity", tab="tab", cell="cell",
    )
    con.execute("BEGIN")
    try:
        insert(con, "core.submission", submission)
        insert(con, "core.finding", finding_rows)
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
            insert(con, table, incoming, replace=True)
            close_versions(con, key, incoming)
        conflicts = conflict_rows(con, record.submission_id)
        disagreements = conflict_findings(conflicts)
        if not disagreements.is_empty():
            finding_rows = disagreements.select(
                *disagreements.columns, submission_id=pl.lit(record.submission_id), unit_code=pl.lit(record.unit_code))
            insert(con, "core.finding", finding_rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return pl.concat([findings, disagreements]), conflicts


def registered_projects(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """project_code → owning unit, from every accepted registration."""
    return con.sql(
        "SELECT project_code, arg_min(unit_code, seq) AS owner_unit FROM core.project_version GROUP BY project_code"
    ).pl()


def issued_order_items(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every item of every 督办单 issued: order_no, order_year, order_seq, unit_code, issue_date,
    project_code, procedure (what a 督办回复 row is judged against)."""
    return con.sql(
        "SELECT o.order_no, o.order_year, o.order_seq, o.unit_code, o.issue_date, i.project_code, i.procedure "
        "FROM rollup.supervision_order AS o JOIN rollup.supervision_order_item AS i USING (order_no)"
    ).pl()


# What identifies a row of a unit's ledger, per sheet (problems are closed, not dropped).
LEDGER_KEYS = {"project": ["project_code"], "procedure": ["project_code", "procedure"]}


def reported_before(con: duckdb.DuckDBPyConnection, key: str, unit_code: str, report_date: date) -> pl.DataFrame:
    """The keys of a sheet the unit reported for this or an earlier report date (before this file)."""
    table, _ = VERSION_TABLES[key]
    columns = ", ".join(LEDGER_KEYS[key])
    unit_column = "unit_code" if key == "project" else "source_unit"
    return con.sql(f"SELECT DISTINCT {columns} FROM {table} WHERE {unit_column} = ? AND report_date <= ?",
                   params=[unit_code, report_date]).pl()


def previous_statuses(con: duckdb.DuckDBPyConnection, unit_code: str, report_date: date) -> pl.DataFrame:
    """The unit's latest accepted status of each procedure before `report_date`, and its report date."""
    return con.sql(
        "SELECT project_code, procedure, status, report_date FROM core.procedure_version "
        "WHERE source_unit = $unit AND report_date < $report_date "
        "QUALIFY row_number() OVER (PARTITION BY project_code, procedure ORDER BY report_date DESC, seq DESC) = 1",
        params={"unit": unit_code, "report_date": report_date},
    ).pl()


def earlier_submission(con: duckdb.DuckDBPyConnection, unit_code: str, sha256: str) -> tuple[str, datetime] | None:
    rows = con.execute(
        "SELECT submission_id, received_at FROM core.submission "
        "WHERE unit_code = ? AND sha256 = ? AND outcome IN ('accepted', 'partial') ORDER BY seq LIMIT 1",
        [unit_code, sha256],
    ).fetchall()
    return rows[0] if rows else None


def finished_submission(con: duckdb.DuckDBPyConnection, claim_key: str) -> tuple[SubmissionRecord, pl.DataFrame] | None:
    """The merged record and findings of a drop, when a run merged it already."""
    records = con.sql(
        "SELECT * FROM core.submission WHERE claim_key = ?",
        params=[claim_key],
    ).pl()
    if records.is_empty():
        return None
    record = SubmissionRecord(**records.row(0, named=True))
    findings = con.sql(
        "SELECT sheet, row_number, column_name, value, rule, message, severity, tab, cell "
        "FROM core.finding WHERE submission_id = ? ORDER BY ALL", params=[record.submission_id]).pl()
    return record, findings


def conflict_rows(con: duckdb.DuckDBPyConnection, submission_id: str) -> pl.DataFrame:
    """The submission's procedures where the other side (bureau or project unit) disagrees."""
    return con.sql(sql("queries/submission_conflicts.sql"), params={"submission_id": submission_id}).pl()


def conflict_findings(conflicts: pl.DataFrame) -> pl.DataFrame:
    """Warnings, never errors: a disagreement is not a finding against either side's row."""
    names = {code: unit.name for code, unit in reference.units().items()}
    return build_findings([
        dict(sheet="手续", row_number=row["my_row"], column_name="办理状态", value=row["my_status"],
             rule="procedure.conflict", severity="warning", procedure=row["procedure"], other=names[row["other_unit"]],
             detail=f"本单位报{said(row['my_status'], row['my_completed_date'])}，"
                    f"{names[row['other_unit']]}报{said(row['other_status'], row['other_completed_date'])}")
        for row in conflicts.iter_rows(named=True)
    ])


def said(status: str | None, completed: date | None) -> str:
    return f"“{status or '未填'}”" + (f"（{completed:%Y-%m-%d}办结）" if completed else "")
