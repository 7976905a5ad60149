"""What the briefing reads: the `mart` views for one report date, as Polars frames.

Nothing here computes a figure: the queries select, order and join the views (for names) so the
briefing shows exactly what downstream tools see in the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

# The procedures the dispatch leads with (the source article's 立项 and 能评): the first two of the
# reference order, so another city's reference data decides.
LEADING_PROCEDURES = 2

QUERIES = {
    "report_date": "SELECT * FROM mart.report_dates WHERE as_of_date = $as_of",
    "city": "SELECT * FROM mart.unit_completion WHERE as_of_date = $as_of AND unit_code = 'CITY'",
    # The previous report date comes first, as a value: joined to it, the view aggregated a year of rollup
    # rows before filtering (19 s at province scale against 1 s).
    "city_previous": "SELECT * FROM mart.unit_completion WHERE as_of_date = $previous AND unit_code = 'CITY'",
    "procedures": """
        SELECT * FROM mart.procedure_rollup_change
        WHERE as_of_date = $as_of AND unit_code = 'CITY' ORDER BY procedure_order""",
    "red": """
        SELECT * FROM mart.light_list WHERE as_of_date = $as_of AND is_campaign AND light = '红'
        ORDER BY workdays_overdue DESC, days_overdue DESC, unit_code, project_name, project_code, procedure_order""",
    "yellow": """
        SELECT * FROM mart.light_list WHERE as_of_date = $as_of AND is_campaign AND light = '黄'
        ORDER BY workdays_left, promised_date, unit_code, project_name, project_code, procedure_order""",
    "units": """
        SELECT * FROM mart.unit_completion WHERE as_of_date = $as_of AND rank_group IN ('area', 'bureau')
        ORDER BY rank_group, rank_in_group, unit_code""",
    "compliance": """
        SELECT * FROM mart.unit_compliance WHERE as_of_date = $as_of
        ORDER BY missed DESC, workdays_since_report DESC NULLS FIRST, kind, unit_code""",
    "done_today": """
        SELECT * FROM mart.done_today WHERE as_of_date = $as_of AND is_campaign
        ORDER BY unit_code, project_name, project_code, procedure_order""",
    "closed_problems": """
        SELECT * FROM mart.problem_status WHERE as_of_date = $as_of AND closed AND closed_date = $as_of
        ORDER BY unit_code, project_name, project_code, description""",
    "ready": """
        SELECT r.*, p.unit_name
        FROM mart.ready_to_start AS r
        LEFT JOIN mart.project_status AS p USING (as_of_date, project_code)
        WHERE r.as_of_date = $as_of
        ORDER BY r.planned_start_date, r.unit_code, r.project_name, r.project_code""",
    "countdown": """
        SELECT * FROM mart.start_countdown WHERE as_of_date = $as_of
        ORDER BY days_to_start NULLS LAST, outstanding_count DESC, unit_code, project_name, project_code""",
    "start_rate": """
        SELECT * FROM mart.start_rate WHERE as_of_date = $as_of
        ORDER BY unit_code = 'CITY' DESC, start_rate DESC NULLS LAST, unit_code""",
    "conflicts": """
        SELECT c.*, p.project_name, p.unit_name, p.responsible_leader
        FROM mart.conflicts AS c
        LEFT JOIN mart.project_status AS p USING (as_of_date, project_code)
        WHERE c.as_of_date = $as_of
        ORDER BY c.unit_code, p.project_name, c.project_code, c.procedure""",
    "open_problems": """
        SELECT * FROM mart.open_problems WHERE as_of_date = $as_of
        ORDER BY past_deadline DESC, days_past_deadline DESC NULLS LAST, deadline, unit_code, project_name, project_code, description""",
    "trend": f"""
        SELECT as_of_date, '全部手续' AS series, 0 AS series_order, done_rate
        FROM mart.unit_completion WHERE unit_code = 'CITY' AND as_of_date <= $as_of
        UNION ALL
        SELECT as_of_date, procedure, procedure_order, done_rate
        FROM mart.procedure_rollup_change
        WHERE unit_code = 'CITY' AND procedure_order <= {LEADING_PROCEDURES} AND as_of_date <= $as_of
        ORDER BY series_order, as_of_date""",
}


@dataclass
class BriefingData:
    as_of: date
    report_date: pl.DataFrame  # one row (mart.report_dates)
    city: pl.DataFrame  # one row, or none when no campaign project is registered yet
    city_previous: pl.DataFrame  # the same on the previous report date that has a rollup (or none)
    procedures: pl.DataFrame
    red: pl.DataFrame
    yellow: pl.DataFrame
    units: pl.DataFrame
    compliance: pl.DataFrame
    done_today: pl.DataFrame
    closed_problems: pl.DataFrame
    ready: pl.DataFrame
    countdown: pl.DataFrame
    start_rate: pl.DataFrame
    conflicts: pl.DataFrame
    open_problems: pl.DataFrame
    trend: pl.DataFrame

    def city_value(self, column: str, default: float | None = 0) -> Any:
        return self.city[column][0] if self.city.height else default


class NoRollup(LookupError):
    """The report date has no rollup yet: materialise `daily_rollup` for it first."""


def read_briefing_data(con: duckdb.DuckDBPyConnection, as_of: date) -> BriefingData:
    previous = con.execute("SELECT previous_as_of_date FROM mart.report_dates WHERE as_of_date = ?", [as_of]).fetchall()
    values = {"as_of": as_of, "previous": previous[0][0] if previous else None}
    frames = {name: con.sql(sql, params={k: v for k, v in values.items() if f"${k}" in sql}).pl()
              for name, sql in QUERIES.items()}
    if frames["report_date"].is_empty():
        raise NoRollup(f"no rollup for report date {as_of}: materialise daily_rollup for it first")
    return BriefingData(as_of=as_of, **frames)
