"""Sensors.

`inbox_sensor`: a new or changed file in inbox/<UNIT>/ that has stopped growing triggers one run
for all such files (but for those a queued or running run names already: an upload the portal
launched a run for at once). The run key is the files' names, sizes and modification times, so a file is
processed once; processed files leave the inbox (they are archived by content hash).

`stale_rollup_sensor`: a late or corrected file for an earlier report date re-materialises that
day's rollup and every later materialised day, which are re-judged with it: one run over the range of
report dates from the earliest stale one to the latest."""


import hashlib
import time
from pathlib import Path

import dagster as dg

from diaodu.intake.inbox import leftover_claims, scan_inbox
from diaodu.pipelines.data_dir import NotADataDirectory, open_data_dir, sample_note
from diaodu.pipelines.jobs import daily_rollup_job, ingest_job
from diaodu.pipelines.partitions import report_date_range_tags, up_to_today
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas.reference import local_today
from diaodu.warehouse.merge import last_seq
from diaodu.warehouse.rollup import stale_report_dates

ABANDONED_CLAIM_SECONDS = 300
ABANDONED_CLAIM_RUNS = 3  # runs started for the same abandoned claims
ABANDONED_TAG = "diaodu/abandoned_claims"
UNFINISHED_RUN_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                           dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


@dg.sensor(job=ingest_job, minimum_interval_seconds=3, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: DiaoduSettings) -> dg.SkipReason | dg.RunRequest:
    try:
        data_dir = open_data_dir(settings.root)
    except NotADataDirectory as error:  # a mistyped DIAODU_DATA_DIR must not grow a warehouse of its own
        return dg.SkipReason(str(error))
    files, strays = scan_inbox(settings.inbox)
    now = time.time()
    abandoned = _abandoned_claims(context.instance, settings.root, now)
    settled: list[tuple[str, int, int]] = []  # (<UNIT>/<file name>, size, mtime in ns)
    unsettled: list[tuple[str, int, int]] = []
    launched = _files_of_unfinished_runs(context.instance)
    for item in files:
        if f"{item.unit_code}/{item.name}" in launched:  # the portal has launched its run already
            continue
        try:
            stat = item.path.stat()
        except FileNotFoundError:  # a running job claimed it between the scan and now
            continue
        (settled if now - stat.st_mtime >= settings.settle_seconds else unsettled).append(
            (f"{item.unit_code}/{item.name}", stat.st_size, stat.st_mtime_ns))
    if unsettled:
        context.log.info(f"Waiting for {len(unsettled)} file(s) still being written")
    if not settled and not strays and not abandoned:
        return dg.SkipReason("No new settled files in the inbox")
    # Abandoned claims get a few runs of their own (a run may be killed again); a claim that outlives
    # them (a failure of ours writing its receipt) waits for the next run that new files start.
    claims_tag = hashlib.sha256(repr(abandoned).encode()).hexdigest()[:16] if abandoned else ""
    attempts = context.instance.get_runs_count(dg.RunsFilter(tags={ABANDONED_TAG: claims_tag})) if abandoned else 0
    fingerprint = hashlib.sha256(repr([sorted(settled), sorted(map(str, strays)), abandoned,
                                       min(attempts, ABANDONED_CLAIM_RUNS - 1)]).encode()).hexdigest()[:24]
    sample = data_dir.sample_report_date  # a sample's files are for its own date, not today's
    return dg.RunRequest(
        run_key=fingerprint,
        partition_key=(sample or local_today()).isoformat(),
        run_config={"ops": {"submissions": {"config": {"files": [name for name, _, _ in settled]}}}},
        tags={"diaodu/files": str(len(settled))} | ({ABANDONED_TAG: claims_tag} if abandoned else {})
        | ({"diaodu/sample": sample_note(sample)} if sample else {}),
    )


def _files_of_unfinished_runs(instance: dg.DagsterInstance) -> set[str]:
    """The inbox files that queued or running ingest runs name (`<UNIT>/<file name>`)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=ingest_job.name, statuses=UNFINISHED_RUN_STATUSES))
    named: set[str] = set()
    for run in runs:
        config: dict = dict(run.run_config or {})
        named.update(config.get("ops", {}).get("submissions", {}).get("config", {}).get("files") or [])
    return named


def _abandoned_claims(instance: dg.DagsterInstance, data_dir: Path, now: float) -> list[str]:
    """Claims no run will finish: every claim when no run is queued or in progress (one writer run at
    a time, so the run that made them has ended, killed or failed); else, as a fallback for a run
    recorded as in progress that died unseen (a killed `diaodu run`), claims older than
    ABANDONED_CLAIM_SECONDS. A run that still holds a claim keeps the warehouse's writer lock, so a run
    started too early only waits for it and finds the claim gone."""
    claims = leftover_claims(data_dir)
    if claims and instance.get_runs_count(dg.RunsFilter(statuses=UNFINISHED_RUN_STATUSES)) == 0:
        return [c.claim_key for c in claims]
    return [c.claim_key for c in claims if now - c.claimed_at() > ABANDONED_CLAIM_SECONDS]


@dg.sensor(job=daily_rollup_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_rollup_sensor(context: dg.SensorEvaluationContext, settings: DiaoduSettings) -> dg.SkipReason | dg.RunRequest:
    warehouse = settings.warehouse()
    if not warehouse.published_path.exists():
        return dg.SkipReason("No warehouse yet")
    with warehouse.reading() as con:
        stale = up_to_today(stale_report_dates(con), context.log.warning)
        latest = last_seq(con)
    if not stale:
        return dg.SkipReason("Every materialised report date is current")
    return dg.RunRequest(run_key=f"{stale[0]}..{stale[-1]}:{latest}", tags=report_date_range_tags(stale))
