"""Assembles diaodu's Dagster definitions; `dagster dev` and the `diaodu` CLI load the same ones."""

import os
from pathlib import Path

import dagster as dg

from diaodu.notices.delivery import Settings as NoticeSettings
from diaodu.pipelines.assets import daily_briefing, submissions
from diaodu.pipelines.data_dir import NotADataDirectory, is_data_directory, sample_note, sample_report_date
from diaodu.pipelines.jobs import daily_rollup_job, ingest_job
from diaodu.pipelines.notices import notices, notices_job, notices_sensor_for, reminder_job, reminder_schedule
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.schedules import (
    DAILY_ROLLUP_HOUR,
    backup_job,
    daily_dispatch_schedule,
    nightly_backup_schedule,
)
from diaodu.pipelines.sensors import inbox_sensor, stale_rollup_sensor
from diaodu.pipelines.terminal import terminal_logger
from diaodu.pipelines.warehouse_assets import VIEW_SPECS, daily_rollup


def build_definitions(data_dir: str) -> dg.Definitions:
    # A sample's report date is fixed: its assets say so, and no daily schedule writes today's briefing from it.
    # A path that is not a data directory gets no schedule either (a mistyped DIAODU_DATA_DIR must not grow a
    # warehouse and a briefing in which nobody reported); its sensors say why they skip.
    try:
        sample, scheduled = sample_report_date(Path(data_dir)), is_data_directory(Path(data_dir))
    except NotADataDirectory:  # an unreadable marker: the sensors report it
        sample, scheduled = None, False
    assets = [submissions, daily_rollup, *VIEW_SPECS, daily_briefing, notices]
    if sample is not None:
        assets = dg.map_asset_specs(
            lambda spec: spec.replace_attributes(description=f"**{sample_note(sample)}**\n\n{spec.description}"), assets)
    return dg.Definitions(
        assets=assets,
        jobs=[ingest_job, daily_rollup_job, backup_job, notices_job, reminder_job],
        sensors=[inbox_sensor, stale_rollup_sensor, notices_sensor_for(DAILY_ROLLUP_HOUR)],
        schedules=[daily_dispatch_schedule, nightly_backup_schedule,
                   reminder_schedule(NoticeSettings.from_env(os.environ).remind_at)] if scheduled and sample is None else [],
        resources={"settings": DiaoduSettings(data_dir=data_dir)},
        loggers={"terminal": terminal_logger},  # selected by the diaodu command only
    )


defs = build_definitions(os.environ.get("DIAODU_DATA_DIR", "data"))
