"""Notices in Dagster: the `notices` asset (record what a run decided, then deliver what is due), the
jobs and automation that run it, and the recording of a returned file's notice inside `submissions`.

- ingest_job: `submissions` records a notice per returned or partly accepted file, in the run that wrote
  its receipt; `notices` delivers it after the rollup (the warehouse work never waits for a mail server).
- reminder_job + reminder_schedule (DIAODU_REMIND_AT, default 15:00, on working days of the 调休 calendar):
  the day's rollup, then a 催报 to each unit that has not reported and the list to the office.
- notices_sensor (every 60 s) starts notices_job: the day's red lights once a working day's rollup has
  been materialised at or after the daily schedule's hour, and the retry of failed deliveries once
  their wait has passed.
The asset's materialisations show the data officer each pass: what was sent, what failed and why.
"""


import hashlib
import os
import traceback
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl

from diaodu.notices.contacts import Contacts, read_contacts
from diaodu.notices.delivery import Settings
from diaodu.notices.ledger import (
    Outcome,
    awaiting_contacts,
    deliver,
    due,
    record,
    red_light_notices,
    reminder_notices,
    returned_notices,
)
from diaodu.pipelines.data_dir import NotADataDirectory, open_data_dir
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.warehouse_assets import DAILY_ROLLUP, SUBMISSIONS, daily_rollup
from diaodu.schemas.reference import city, local_now, units
from diaodu.schemas.workdays import day_kind
from diaodu.warehouse.merge import SubmissionRecord

NOTICES_TAG = "diaodu/notices"
CHANNELS = {"mail": "邮件", "robot": "群机器人"}
STATUS_LABELS = {"sent": "已发送", "failed": "失败", "pending": "待发送", "not_configured": "未配置"}


def record_returned(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, records: list[SubmissionRecord],
                    returns: dict[str, dict[str, Path]], data_dir: Path) -> int:
    """Called by `submissions` in its warehouse transaction. A failure here is logged, never the run's:
    the units' files are in and their receipts written whatever becomes of the notices."""
    try:
        settings, contacts = Settings.from_env(os.environ), read_contacts(data_dir)
        notices = returned_notices(records, returns, data_dir, settings)
        return len(record(con, notices, contacts, settings, local_now()))
    except Exception as error:
        context.log.error("通知未能记录（回执已写好，文件已处理）：\n" + "".join(traceback.format_exception(error)))
        return 0


class NoticesConfig(dg.Config):
    """What this run decides before delivering: 催报 and/or red lights for a report date (YYYY-MM-DD)."""

    remind_for: str | None = None
    red_lights_for: str | None = None


@dg.asset(
    group_name="notices",
    kinds={"duckdb", "email"},
    deps=[SUBMISSIONS, DAILY_ROLLUP],
    description="Notices by mail and group robot (contacts.csv, DIAODU_SMTP_*): a returned file's receipt to its "
    "unit, 催报 on working days, each unit's red lights; recorded in the warehouse (mart.notices), then delivered. "
    "A failed delivery is retried by later runs; each materialisation lists this pass's sends and failures.",
)
def notices(context: dg.AssetExecutionContext, config: NoticesConfig, settings: DiaoduSettings) -> dg.MaterializeResult:
    env, contacts = Settings.from_env(os.environ), read_contacts(settings.root)
    for problem in [*contacts.problems, *env.problems]:
        context.log.warning(problem)
    now = local_now()
    warehouse = settings.warehouse()
    recorded = 0
    if config.remind_for or config.red_lights_for:
        with warehouse.writing() as con:
            if config.remind_for:
                recorded += len(record(con, reminder_notices(con, date.fromisoformat(config.remind_for), now, env),
                                       contacts, env, now))
            if config.red_lights_for:
                recorded += len(record(con, red_light_notices(con, date.fromisoformat(config.red_lights_for), env),
                                       contacts, env, now))
    try:
        outcomes, error = deliver(warehouse, contacts, env, now), ""
    except Exception as failure:  # a failure of ours: the deliveries stay pending for the next pass, the run goes on
        outcomes, error = [], contacts.without_keys("".join(traceback.format_exception(failure)))
        context.log.error(f"通知发送过程出错（未发出的通知保持待发送，下次运行重试）：\n{error}")
    for outcome in outcomes:
        if outcome.status == "failed":
            context.log.warning(f"通知未送达（第 {outcome.attempts} 次）：{outcome.due.unit_code} "
                                f"{CHANNELS[outcome.due.channel]} {outcome.due.recipient}：{outcome.error}")
    metadata = _metadata(recorded, outcomes, contacts, env, warehouse.published_path)
    return dg.MaterializeResult(metadata=metadata | ({"delivery_error": dg.MetadataValue.text(error)} if error else {}))


def _metadata(recorded: int, outcomes: list[Outcome], contacts: Contacts, env: Settings,
              published: Path) -> dict[str, dg.MetadataValue | int]:
    metadata: dict[str, dg.MetadataValue | int] = {
        "recorded": recorded,
        "sent": sum(o.status == "sent" for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "mail_configured": dg.MetadataValue.bool(env.mail_configured),
        "contacts_problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in [*contacts.problems, *env.problems])
                                                 or "无"),
    }
    if outcomes:
        frame = pl.DataFrame([{
            "单位": units()[o.due.unit_code].name if o.due.unit_code in units() else "数据办公室",
            "类别": o.due.kind, "渠道": CHANNELS[o.due.channel], "收件人": o.due.recipient, "主题": o.due.subject,
            "结果": STATUS_LABELS[o.status], "次数": o.attempts, "错误": o.error or ""} for o in outcomes])
        metadata["this_pass"] = dg.MetadataValue.table(
            [dg.TableRecord(row) for row in frame.rows(named=True)],
            dg.TableSchema(columns=[dg.TableColumn(name, "int" if name == "次数" else "string") for name in frame.columns]))
    counts = {}
    if published.exists():
        with duckdb.connect(str(published), read_only=True) as con:  # the whole ledger, as mart.notices shows it
            counts = dict(con.execute("SELECT status, count(*) FROM mart.notices GROUP BY ALL").fetchall())
    metadata["ledger_by_status"] = dg.MetadataValue.json({STATUS_LABELS[s]: counts.get(s, 0) for s in STATUS_LABELS})
    return metadata


notices_job = dg.define_asset_job("notices_job", selection=dg.AssetSelection.assets(notices),
                                  executor_def=dg.in_process_executor)
# 催报 is judged on the day's rollup (mart.unit_compliance): the rollup first, then the notices.
reminder_job = dg.define_asset_job("reminder_job", selection=dg.AssetSelection.assets(daily_rollup, notices),
                                   executor_def=dg.in_process_executor)


def reminder_schedule(at: time) -> dg.ScheduleDefinition:
    """催报 at `at` (Asia/Shanghai) on each working day of the 调休 calendar: make-up working days yes,
    holidays and weekends off no."""
    timezone = city().timezone

    @dg.schedule(name="reminder_schedule", job=reminder_job, cron_schedule=f"{at.minute} {at.hour} * * *",
                 execution_timezone=timezone, default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"催报 at {at:%H:%M} on working days (调休 calendar): units that have not reported that "
                             "day, and the list to the data office (contacts.csv row OFFICE).")
    def _reminder(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        day = context.scheduled_execution_time.astimezone(ZoneInfo(timezone)).date()
        working, source = day_kind(day)
        if not working:
            return dg.SkipReason(f"{day} 不是工作日（{source} 日历），不催报")
        return dg.RunRequest(run_key=f"reminder:{day}", partition_key=day.isoformat(), tags={NOTICES_TAG: "reminder"},
                             run_config={"ops": {"notices": {"config": {"remind_for": day.isoformat()}}}})

    return _reminder


def notices_sensor_for(red_lights_hour: int) -> dg.SensorDefinition:
    @dg.sensor(name="notices_sensor", job=notices_job, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Red lights once a working day's rollup is materialised at or after {red_lights_hour}:00; "
                           "failed notices retried once their wait has passed.")
    def _notices(context: dg.SensorEvaluationContext, settings: DiaoduSettings) -> dg.SensorResult | dg.SkipReason:
        try:
            data_dir = open_data_dir(settings.root)
        except NotADataDirectory as error:
            return dg.SkipReason(str(error))
        warehouse = settings.warehouse()
        if not warehouse.published_path.exists():
            return dg.SkipReason("No warehouse yet")
        now = local_now()
        today = now.date()
        try:
            with warehouse.reading() as con:
                rolled = con.execute("SELECT materialised_at FROM rollup.rollup_run WHERE as_of_date = ?",
                                     [today]).fetchall()
                waiting = due(con, now, waited=True)
                stalled = awaiting_contacts(con)
        except duckdb.CatalogException:  # published before this version's schema: the next run migrates it
            return dg.SkipReason("The warehouse has no notice ledger yet")
        requests = []
        red_lights_due = rolled and rolled[0][0] >= datetime.combine(today, time(red_lights_hour))
        if data_dir.sample_report_date is None and day_kind(today)[0] and red_lights_due:
            requests.append(dg.RunRequest(run_key=f"red_lights:{today}", tags={NOTICES_TAG: "red_lights"},
                                          run_config={"ops": {"notices": {"config": {"red_lights_for": today.isoformat()}}}}))
        pending: list[tuple] = [(d.notice_id, d.channel, d.recipient, d.attempts) for d in waiting]
        if stalled and read_contacts(data_dir.root).unusable is None:  # contacts.csv fixed since: resolve, send
            pending += stalled
        if pending:
            key = hashlib.sha256(repr(pending).encode())
            requests.append(dg.RunRequest(run_key=f"retry:{key.hexdigest()[:24]}", tags={NOTICES_TAG: "retry"}))
            context.log.info(f"{len(pending)} 条通知等待发送或重试")
        if not requests:
            return dg.SkipReason("没有待发送的通知；今天的红灯提醒已发出或尚未到时间")
        return dg.SensorResult(run_requests=requests)

    return _notices
