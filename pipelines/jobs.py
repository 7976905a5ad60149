"""Jobs: what a sensor tick or the daily schedule launches."""

import dagster as dg

from pipelines.assets import daily_briefing, daily_rollup, submissions

# New files, then the rollup of the report date the run is for (today, by default), then its briefing.
ingest_job = dg.define_asset_job(
    "ingest_job", selection=dg.AssetSelection.assets(submissions, daily_rollup, daily_briefing)
)
# The day's rollup and briefing alone: lights move even when nobody reports.
daily_rollup_job = dg.define_asset_job(
    "daily_rollup_job", selection=dg.AssetSelection.assets(daily_rollup, daily_briefing)
)
