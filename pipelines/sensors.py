"""The inbox sensor: a new or changed file in inbox/<UNIT>/ that has stopped growing triggers one
run for all such files. The run key is the files' names, sizes and modification times, so a file
is processed once; processed files leave the inbox (they are archived by content hash)."""


import hashlib
import time

import dagster as dg

from intake.inbox import leftover_claims, scan_inbox
from pipelines.jobs import ingest_job
from pipelines.resources import DiaoduSettings, local_today

ABANDONED_CLAIM_SECONDS = 300


@dg.sensor(job=ingest_job, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: DiaoduSettings):
    files, strays = scan_inbox(settings.inbox)
    now = time.time()
    # A claim older than this was left by a run that died; the next run finishes it.
    abandoned = [c.claim_key for c in leftover_claims(settings.root)
                 if now - c.path.stat().st_mtime > ABANDONED_CLAIM_SECONDS]
    settled, unsettled = [], []
    for item in files:
        stat = item.path.stat()
        (settled if now - stat.st_mtime >= settings.settle_seconds else unsettled).append(
            (f"{item.unit_code}/{item.name}", stat.st_size, stat.st_mtime_ns))
    if unsettled:
        context.log.info(f"Waiting for {len(unsettled)} file(s) still being written")
    if not settled and not strays and not abandoned:
        return dg.SkipReason("No new settled files in the inbox")
    fingerprint = hashlib.sha256(repr([sorted(settled), sorted(map(str, strays)), abandoned]).encode()).hexdigest()[:24]
    return dg.RunRequest(
        run_key=fingerprint,
        partition_key=local_today().isoformat(),
        run_config={"ops": {"submissions": {"config": {"files": [name for name, _, _ in settled]}}}},
        tags={"diaodu/files": str(len(settled))},
    )
