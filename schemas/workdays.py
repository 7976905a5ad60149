"""The one working-day calendar: China's official calendar with 调休 (chinese-calendar), plus an
override file (`reference/workday_overrides.csv`) where the data office adds a year as soon as the
State Council publishes it. A year neither knows falls back to Monday–Friday — never silently:
the calendar frame marks those days `fallback` so runs and checks can say so.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import cache
from typing import cast

import chinese_calendar
import polars as pl

from diaodu.schemas.reference import REFERENCE_DIR


@cache
def overrides() -> dict[date, bool]:
    with open(REFERENCE_DIR / "workday_overrides.csv", encoding="utf-8", newline="") as handle:
        return {date.fromisoformat(row["day"]): row["is_workday"].strip() in {"1", "true", "是"}
                for row in csv.DictReader(handle)}


@cache
def override_years() -> frozenset[int]:
    return frozenset(day.year for day in overrides())


@cache
def official_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def day_kind(day: date) -> tuple[bool, str]:
    """(is it a working day, which source said so)."""
    if day in overrides():
        return overrides()[day], "override"
    if official_covers(day.year):
        return chinese_calendar.is_workday(day), "official"
    if day.year in override_years():
        return day.weekday() < 5, "override"  # an override year lists only its exceptions
    return day.weekday() < 5, "fallback"


def calendar_frame(first: date, last: date) -> pl.DataFrame:
    """day, is_workday, workday_seq (working days up to and including day, counted from `first`), source."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    kinds = [day_kind(day) for day in days]
    return pl.DataFrame(
        {"day": days, "is_workday": [kind[0] for kind in kinds], "source": [kind[1] for kind in kinds]},
        schema={"day": pl.Date, "is_workday": pl.Boolean, "source": pl.String},
    ).with_columns(workday_seq=pl.col("is_workday").cast(pl.Int32).cum_sum()).select(
        "day", "is_workday", "workday_seq", "source"
    )


def add_workdays(frame: pl.DataFrame, start: str, workdays: str, into: str) -> pl.DataFrame:
    """Sets `into` to the working day that is `workdays` working days after `start` (where both are
    given and `into` is empty), on the one calendar: 20个工作日 from a Friday before the Spring Festival
    skips the holiday and counts the make-up weekend days."""
    given = frame.filter(pl.col(start).is_not_null() & pl.col(workdays).is_not_null())
    if given.is_empty():
        return frame
    first, latest = cast(date, given[start].min()), cast(date, given[start].max())
    last = latest + timedelta(days=cast(int, given[workdays].max()) * 3 + 60)
    calendar = calendar_frame(first, last)
    starts = calendar.select(pl.col("day").alias(start), pl.col("workday_seq").alias("_start_seq"))
    targets = calendar.filter("is_workday").select(pl.col("workday_seq").alias("_target_seq"), pl.col("day").alias("_due"))
    return (
        frame.join(starts, on=start, how="left")
        .with_columns(_target_seq=pl.col("_start_seq") + pl.col(workdays).cast(pl.Int32))
        .join(targets, on="_target_seq", how="left")
        .with_columns(pl.coalesce(into, "_due").alias(into))
        .drop("_start_seq", "_target_seq", "_due")
    )
