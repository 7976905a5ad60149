"""The inbox sensor: a new or changed file in inbox/<UNIT>/ that has stopped growing triggers one
run for all such files. The run key is the files' names, sizes and modification times, so a file
is processed once; processed files leave the inbox (they are archived by content hash)."""


import hashlib
import time

import dagster as dg

from intake.batch import scan_inbox
from pipelines.jobs import ingest_job
from pipelines.resources import DiaoduSettings, local_today


@dg.sensor(job=ingest_job, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: DiaoduSettings):
    files, strays = scan_inbox(settings.inbox)
    now = time.time()
    settled, unsettled = [], []
    for item in files:
        stat = item.path.stat()
        (settled if now - stat.st_mtime >= settings.settle_seconds else unsettled).append(
            (f"{item.unit_code}/{item.name}", stat.st_size, stat.st_mtime_ns))
    if unsettled:
        context.log.info(f"Waiting for {len(unsettled)} file(s) still being written")
    if not settled and not strays:
        return dg.SkipReason("No new settled files in the inbox")
    fingerprint = hashlib.sha256(repr(sorted(settled) + sorted(map(str, strays))).encode()).hexdigest()[:24]
    return dg.RunRequest(
        run_key=fingerprint,
        partition_key=local_today().isoformat(),
        run_config={"ops": {"submissions": {"config": {"files": [name for name, _, _ in settled]}}}},
        tags={"diaodu/files": str(len(settled))},
    )
