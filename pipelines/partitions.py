"""The daily report-date partitions: one per calendar day from the campaign's start, Asia/Shanghai."""

import dagster as dg

from diaodu.schemas.reference import city

daily_report_dates = dg.DailyPartitionsDefinition(
    start_date=city().campaign_start.isoformat(),
    timezone=city().timezone,
    end_offset=1,  # today's report date exists today, not tomorrow
)
