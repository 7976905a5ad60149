"""Daily rollups: the state as of a report date, re-judged against that date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from schemas.reference import city
from schemas.workdays import calendar_frame
from warehouse import failpoints
from warehouse.store import insert, sql

CALENDAR_MARGIN = timedelta(days=400)
# In dependency order: procedure status reads the day's project status.
ROLLUP_TABLES = ("project_status", "procedure_status", "problem_status")


def refresh_calendar(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """Rebuilds ref.calendar over every date the lights need; returns the sources used."""
    earliest, latest = con.execute(
        "SELECT min(promised_date), max(promised_date) FROM core.procedure_version"
    ).fetchall()[0]
    first = min(filter(None, [earliest, city().campaign_start, as_of])) - timedelta(days=1)
    last = max(filter(None, [latest, as_of])) + CALENDAR_MARGIN
    calendar = calendar_frame(first, last)
    con.execute("BEGIN")
    con.execute("DELETE FROM ref.calendar")
    insert(con, "ref.calendar", calendar)
    con.execute("COMMIT")
    return sorted(calendar["source"].unique().to_list())


def calendar_sources_for(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """Which calendar sources judged the lights of `as_of`: the days up to its furthest open promise."""
    rows = con.execute(
        """
        SELECT DISTINCT c.source
        FROM ref.calendar AS c,
             (SELECT max(promised_date) AS horizon FROM rollup.procedure_status
              WHERE as_of_date = $as_of AND required AND status IS DISTINCT FROM '已办结') AS open
        WHERE c.day BETWEEN $as_of AND greatest($as_of, coalesce(open.horizon, $as_of))
        """,
        {"as_of": as_of},
    ).fetchall()
    return sorted(row[0] for row in rows)


def materialise_day(con: duckdb.DuckDBPyConnection, as_of: date, yellow_workdays: int, now: datetime) -> list[str]:
    """Rewrites the rollup tables for one report date in one transaction."""
    refresh_calendar(con, as_of)
    params = {"as_of_date": as_of, "yellow_workdays": yellow_workdays}
    con.execute("BEGIN")
    try:
        for table in ROLLUP_TABLES:
            con.execute(f"DELETE FROM rollup.{table} WHERE as_of_date = ?", [as_of])
            query = sql(f"rollup/{table}.sql")
            con.execute(f"INSERT INTO rollup.{table} {query}", {k: v for k, v in params.items() if f"${k}" in query})
        sources = calendar_sources_for(con, as_of)
        failpoints.reach("mid_rollup")
        con.execute(
            "INSERT OR REPLACE INTO rollup.rollup_run BY NAME SELECT ? AS as_of_date, ? AS materialised_at, "
            "? AS yellow_workdays, ? AS calendar_sources, (SELECT max(seq) FROM core.submission) AS submissions_seq",
            [as_of, now, yellow_workdays, ",".join(sources)],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return sources


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
