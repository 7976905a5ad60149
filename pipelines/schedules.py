"""The schedules: every afternoon the day's rollup is materialised, whoever has reported; every night
the data directory is backed up (the job is here with its schedule: it belongs to no asset)."""

import dagster as dg

from diaodu.backup.snapshot import nightly_backup
from diaodu.pipelines.jobs import daily_rollup_job
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas.reference import city

DAILY_ROLLUP_HOUR = 16  # the day's rollup for the dispatch; each working day's red lights follow it
daily_dispatch_schedule = dg.build_schedule_from_partitioned_job(
    daily_rollup_job, hour_of_day=DAILY_ROLLUP_HOUR, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING
)


@dg.op(description="One backup of the data directory into the backup folder; older ones beyond the count kept "
                   "are deleted (settings backup_dir, backup_keep).")
def backup_data_dir(context: dg.OpExecutionContext, settings: DiaoduSettings) -> None:
    written = nightly_backup(settings.root, settings.backups, settings.backup_keep)
    context.log.info(f"Backup written: {written} ({written.stat().st_size:,} bytes)")


@dg.job(executor_def=dg.in_process_executor)
def backup_job() -> None:
    backup_data_dir()


# 02:30, when no unit reports: a run that is going on makes the backup wait for it, not the reverse.
nightly_backup_schedule = dg.ScheduleDefinition(
    job=backup_job, cron_schedule="30 2 * * *", execution_timezone=city().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
