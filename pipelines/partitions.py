"""The daily report-date partitions: one per calendar day from the campaign's start, Asia/Shanghai."""

from datetime import date

import dagster as dg

from diaodu.schemas.reference import city

daily_report_dates = dg.DailyPartitionsDefinition(
    start_date=city().campaign_start.isoformat(),
    timezone=city().timezone,
    end_offset=1,  # today's report date exists today, not tomorrow
)


def report_date_range_tags(days: list[date]) -> dict[str, str]:
    """Run tags for one run over the report dates from the earliest of `days` to the latest (Dagster's
    partition-range tags; the single-run backfill policy makes the assets take the range in one step).
    Dates in between are materialised too: a rollup is a pure function of the warehouse."""
    return {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
