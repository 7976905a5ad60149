"""Daily rollups: the state as of each report date, re-judged against that date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from diaodu.schemas.reference import city, supervision
from diaodu.schemas.workdays import calendar_frame
from diaodu.warehouse import failpoints
from diaodu.warehouse.store import insert, sql

CALENDAR_MARGIN = timedelta(days=400)
# Report dates computed together: one query over a month of days costs about what three single
# days did; the span bounds the memory (~1 GiB for 5,000 projects × 11 procedures × 31 days).
SPAN_DAYS = 31
# In dependency order (procedure status reads the day's project status), with each table's grain.
ROLLUP_GRAINS = {
    "project_status": ("as_of_date", "project_code"),
    "procedure_status": ("as_of_date", "project_code", "procedure"),
    "problem_status": ("as_of_date", "project_code", "description", "source_unit"),
    "supervision": ("as_of_date", "project_code", "procedure"),
}
# Records of what was issued (督办单): only added to, never rewritten, each grain's first column its date.
ISSUED_GRAINS = {
    "supervision_order": ("issue_date", "order_no"),
    "supervision_order_item": ("issue_date", "order_no", "project_code", "procedure"),
}
ROLLUP_TABLES = (*ROLLUP_GRAINS, *ISSUED_GRAINS)


def refresh_calendar(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> None:
    """Rebuilds ref.calendar over every date the lights of these report dates need."""
    earliest, latest = con.execute(
        "SELECT min(promised_date), max(promised_date) FROM core.procedure_version"
    ).fetchall()[0]
    first = min(filter(None, [earliest, city().campaign_start, first_day])) - timedelta(days=1)
    last = max(filter(None, [latest, last_day])) + CALENDAR_MARGIN
    calendar = calendar_frame(first, last)
    con.execute("BEGIN")
    con.execute("DELETE FROM ref.calendar")
    insert(con, "ref.calendar", calendar)
    con.execute("COMMIT")


def spans(days: list[date], max_days: int = SPAN_DAYS) -> list[list[date]]:
    """The report dates, sorted and cut into runs no longer than `max_days` from first to last."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][0]).days < max_days:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


@dataclass(frozen=True)
class SpanChecks:
    """What a span's rollup rows are checked for before they are committed."""

    first: date
    last: date
    extra_rows: dict[str, int]  # per rollup table, rows beyond one per grain
    unbalanced_rows: int  # unit × procedure rows where done + in progress + pending <> required

    @property
    def passed(self) -> bool:
        return not any(self.extra_rows.values()) and not self.unbalanced_rows


class RollupCheckFailed(Exception):
    """A span's rollup failed its checks; its transaction was rolled back."""

    def __init__(self, checks: SpanChecks) -> None:
        super().__init__(f"rollup of {checks.first}..{checks.last} failed its checks: {checks}")
        self.checks = checks


def materialise_days(con: duckdb.DuckDBPyConnection, days: list[date], yellow_workdays: int,
                     now: datetime, span_days: int = SPAN_DAYS) -> dict[date, list[str]]:
    """Rewrites the rollup tables for these report dates, a span of dates per query and transaction;
    returns each date's calendar sources. A span whose rows fail their checks is rolled back and
    raises RollupCheckFailed (the spans before it stay committed: they passed)."""
    if not days:
        return {}
    refresh_calendar(con, min(days), max(days))
    sources: dict[date, list[str]] = {}
    for span in spans(days, span_days):
        con.execute("BEGIN")
        try:
            stage_days(con, span)
            for table, statement, params in span_statements(span, yellow_workdays, now):
                if table == "rollup_run":
                    failpoints.reach("mid_rollup")
                con.execute(statement, params)
            checks = check_span(con, span[0], span[-1])
            if not checks.passed:
                raise RollupCheckFailed(checks)
            rows = con.execute("SELECT as_of_date, calendar_sources FROM rollup.rollup_run "
                               "WHERE as_of_date IN (SELECT as_of_date FROM report_day)").fetchall()
            con.execute("DROP TABLE report_day")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        sources.update({day: [s for s in joined.split(",") if s] for day, joined in rows})
    return sources


def stage_days(con: duckdb.DuckDBPyConnection, span: list[date]) -> None:
    """The temp table report_day that the rollup queries read their report dates from."""
    con.execute("CREATE OR REPLACE TEMP TABLE report_day AS SELECT unnest($days::DATE[]) AS as_of_date", {"days": span})


def span_statements(span: list[date], yellow_workdays: int, now: datetime) -> list[tuple[str, str, dict]]:
    """(table, statement, parameters) rewriting a span's rows, in order: each rollup table's DELETE and
    INSERT, then rollup.rollup_run's rows."""
    settings = supervision()
    values = {"first": span[0], "last": span[-1], "yellow_workdays": yellow_workdays, "materialised_at": now,
              "level1_workdays": settings.level1_workdays, "level2_workdays": settings.level2_workdays,
              "reply_workdays": settings.reply_workdays, "order_prefix": settings.order_prefix}

    def statement(table: str, text: str) -> tuple[str, str, dict]:
        return table, text, {k: v for k, v in values.items() if f"${k}" in text}

    statements = []
    for table in ROLLUP_GRAINS:
        statements.append(statement(table, f"DELETE FROM rollup.{table} WHERE as_of_date BETWEEN $first AND $last "
                                           "AND as_of_date IN (SELECT as_of_date FROM report_day)"))  # the range prunes
        statements.append(statement(table, f"INSERT INTO rollup.{table} " + sql(f"rollup/{table}.sql")))
    for table in ISSUED_GRAINS:
        statements.append(statement(table, f"INSERT INTO rollup.{table} BY NAME " + sql(f"rollup/{table}.sql")))
    statements.append(statement("rollup_run", "INSERT OR REPLACE INTO rollup.rollup_run BY NAME "
                                + sql("rollup/rollup_run.sql")))
    return statements


def grain_duplicates(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict[str, int]:
    """Rows beyond one per grain in each rollup table between two report dates (0 when all is well)."""
    counts = {}
    for table, grain in (ROLLUP_GRAINS | ISSUED_GRAINS).items():
        keys = ", ".join(grain)
        counts[table] = con.execute(
            f"SELECT count(*) - count(DISTINCT ({keys})) FROM rollup.{table} WHERE {grain[0]} BETWEEN ? AND ?",
            [first, last]).fetchall()[0][0]
    return counts


def check_span(con: duckdb.DuckDBPyConnection, first: date, last: date) -> SpanChecks:
    """The rollup rows between two report dates checked for their grain and for counts that add up."""
    unbalanced = con.execute(
        "SELECT count(*) FROM mart.procedure_rollup WHERE as_of_date BETWEEN ? AND ? "
        "AND done_count + in_progress_count + pending_count <> required_count", [first, last]).fetchall()[0][0]
    return SpanChecks(first, last, grain_duplicates(con, first, last), unbalanced)


def stale_report_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Materialised report dates that a later-merged file for that date or an earlier one changed."""
    rows = con.execute(
        """
        SELECT r.as_of_date FROM rollup.rollup_run AS r
        WHERE EXISTS (
            SELECT 1 FROM core.submission AS s
            WHERE s.seq > coalesce(r.submissions_seq, 0) AND s.report_date <= r.as_of_date
              AND s.outcome IN ('accepted', 'partial'))
        ORDER BY r.as_of_date
        """
    ).fetchall()
    return [row[0] for row in rows]


def city_completion(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple]:
    """(procedure, required, done, in progress, pending, done_rate) for the whole city, in the contract's order."""
    return con.execute(
        "SELECT procedure, required_count, done_count, in_progress_count, pending_count, done_rate "
        "FROM mart.procedure_rollup JOIN ref.procedure USING (procedure) "
        "WHERE as_of_date = ? AND unit_code = 'CITY' ORDER BY sort_order", [as_of]).fetchall()
