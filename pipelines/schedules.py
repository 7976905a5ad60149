"""The daily schedule: every afternoon the day's rollup is materialised, whoever has reported."""

import dagster as dg

from diaodu.pipelines.jobs import daily_rollup_job

daily_dispatch_schedule = dg.build_schedule_from_partitioned_job(
    daily_rollup_job, hour_of_day=16, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING
)
