"""Jobs: what a sensor tick or the daily schedule launches. Their steps run in the run's own
process: a subprocess per step would add a Python start (seconds) to every clerk's receipt."""

import dagster as dg

from diaodu.pipelines.assets import daily_briefing, submissions
from diaodu.pipelines.notices import notices
from diaodu.pipelines.warehouse_assets import daily_rollup

# New files, then the rollup of the report date the run is for (today, by default), then its briefing;
# the notices of returned files go out after the warehouse work.
ingest_job = dg.define_asset_job(
    "ingest_job", selection=dg.AssetSelection.assets(submissions, daily_rollup, daily_briefing, notices),
    executor_def=dg.in_process_executor,
)
# The day's rollup and briefing alone: lights move even when nobody reports.
daily_rollup_job = dg.define_asset_job(
    "daily_rollup_job", selection=dg.AssetSelection.assets(daily_rollup, daily_briefing),
    executor_def=dg.in_process_executor,
)
