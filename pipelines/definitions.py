"""Assembles diaodu's Dagster definitions; `dagster dev` and the `diaodu` CLI load the same ones."""

import os

import dagster as dg

from diaodu.pipelines.assets import daily_briefing, daily_rollup, submissions
from diaodu.pipelines.jobs import daily_rollup_job, ingest_job
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.schedules import backup_job, daily_dispatch_schedule, nightly_backup_schedule
from diaodu.pipelines.sensors import inbox_sensor, stale_rollup_sensor


def build_definitions(data_dir: str) -> dg.Definitions:
    return dg.Definitions(
        assets=[submissions, daily_rollup, daily_briefing],
        jobs=[ingest_job, daily_rollup_job, backup_job],
        sensors=[inbox_sensor, stale_rollup_sensor],
        schedules=[daily_dispatch_schedule, nightly_backup_schedule],
        resources={"settings": DiaoduSettings(data_dir=data_dir)},
    )


defs = build_definitions(os.environ.get("DIAODU_DATA_DIR", "data"))
