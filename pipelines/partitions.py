"""The daily report-date partitions: one per calendar day from the campaign's start, Asia/Shanghai."""

from collections.abc import Callable
from datetime import date

import dagster as dg

from diaodu.schemas.reference import city

daily_report_dates = dg.DailyPartitionsDefinition(
    start_date=city().campaign_start.isoformat(),
    timezone=city().timezone,
    end_offset=1,  # today's report date exists today, not tomorrow
)


def report_date_range() -> tuple[date, date]:
    """The first and the last report date a run can be for now: the campaign's start and today."""
    first, last = daily_report_dates.get_first_partition_key(), daily_report_dates.get_last_partition_key()
    if first is None or last is None:  # only before the campaign's first day (a clock set far back)
        raise ValueError(f"no report date yet: the campaign starts on {city().campaign_start}")
    return date.fromisoformat(first), date.fromisoformat(last)


def up_to_today(days: list[date], warn: Callable[[str], None]) -> list[date]:
    """`days` without those after today, which no run can be for (yet): a warehouse holds such a report
    date only if the server's clock once ran ahead. The skipped days are named in one `warn`ing."""
    _, today = report_date_range()
    ahead = [day for day in days if day > today]
    if ahead:
        warn(f"仓库里有晚于今天（{today}）的填报日期 {'、'.join(map(str, ahead))}，不能为其运行，"
             "已跳过（服务器时钟曾经超前？）")
    return [day for day in days if day <= today]


def report_date_range_tags(days: list[date]) -> dict[str, str]:
    """Run tags for one run over the report dates from the earliest of `days` to the latest (Dagster's
    partition-range tags; the single-run backfill policy makes the assets take the range in one step).
    Dates in between are materialised too: a rollup is a pure function of the warehouse."""
    return {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
