"""Assembles diaodu's Dagster definitions; `dagster dev` and the `diaodu` CLI load the same ones."""

import os

import dagster as dg

from diaodu.pipelines.assets import daily_briefing, submissions
from diaodu.pipelines.jobs import daily_rollup_job, ingest_job
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.schedules import daily_dispatch_schedule
from diaodu.pipelines.sensors import inbox_sensor, stale_rollup_sensor
from diaodu.pipelines.warehouse_assets import VIEW_SPECS, daily_rollup


def build_definitions(data_dir: str) -> dg.Definitions:
    return dg.Definitions(
        assets=[submissions, daily_rollup, *VIEW_SPECS, daily_briefing],
        jobs=[ingest_job, daily_rollup_job],
        sensors=[inbox_sensor, stale_rollup_sensor],
        schedules=[daily_dispatch_schedule],
        resources={"settings": DiaoduSettings(data_dir=data_dir)},
    )


defs = build_definitions(os.environ.get("DIAODU_DATA_DIR", "data"))
