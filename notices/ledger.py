"""The notice ledger (core.notice, core.notice_delivery; read as mart.notices) and a delivery pass.

Record first, deliver after: a notice is recorded (one delivery row per recipient, `pending`, or
`not_configured` when there is nobody or no mail server to send to; while contacts.csv is there but cannot
be used, one `pending` row without a recipient that the first pass after the fix resolves) in the run that
decided it, in the warehouse's transaction; a pass sends what is due after the warehouse work, outside any
transaction, and records how each delivery went in one transaction at its end, however the pass ends. A failed delivery is tried again by the
next pass (up to MAX_ATTEMPTS; a reminder or a day's red lights only on the day it was made).

Delivery is at least once. A sent row is never picked again, and one pass runs at a time (a file lock),
so a delivered notice is sent again only if the process dies between the server taking a message and
the pass recording it (the seconds of one pass): that message then goes out twice. The other choice,
at most once, would lose a returned file's notice whenever a run dies mid-pass; a clerk told twice is
the smaller harm.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from diaodu.dispatch.data import QUERIES
from diaodu.notices.contacts import OFFICE, Contacts
from diaodu.notices.delivery import (
    MAIL_NOT_CONFIGURED,
    DeliveryFailed,
    Mail,
    MailSession,
    Settings,
    post_robot,
)
from diaodu.notices.messages import (
    Notice,
    office_reminder_notice,
    red_lights_notice,
    reminder_notice,
    returned_notice,
)
from diaodu.schemas import reference
from diaodu.schemas.workdays import day_kind
from diaodu.warehouse import failpoints
from diaodu.warehouse.merge import SubmissionRecord
from diaodu.warehouse.store import Warehouse, sql

MAX_ATTEMPTS = 10
NOTIFIED_OUTCOMES = ("returned", "partial")


# ---- deciding what to tell whom ------------------------------------------------------------------
def returned_notices(records: list[SubmissionRecord], returns: dict[str, dict[str, Path]], data_dir: Path,
                     settings: Settings) -> list[Notice]:
    """One notice per file returned or partly accepted, from the returns its run wrote."""
    notices = []
    for record in records:
        paths = returns.get(record.submission_id, {})
        if record.outcome not in NOTIFIED_OUTCOMES or "receipt" not in paths:
            continue
        receipt = paths["receipt"].read_text(encoding="utf-8-sig")
        annotated = paths.get("annotated")
        relative = annotated.relative_to(data_dir).as_posix() if annotated is not None else None
        notices.append(returned_notice(record, receipt, relative, settings.submission_link(record.submission_id)))
    return notices


def reminder_notices(con: duckdb.DuckDBPyConnection, day: date, now: datetime, settings: Settings) -> list[Notice]:
    """催报 for a working day of the 调休 calendar: to each unit that has not reported for it (by
    mart.unit_compliance, so the day needs a rollup), and the list to the data office. None on a day off."""
    if not day_kind(day)[0]:
        return []
    codes = [code for (code,) in con.execute(
        "SELECT unit_code FROM mart.unit_compliance WHERE as_of_date = ? AND NOT reported", [day]).fetchall()]
    units = [unit for code, unit in reference.units().items() if code in codes]  # reference order
    if not units:
        return []
    return ([reminder_notice(unit, day, now, settings.portal_url) for unit in units]
            + [office_reminder_notice(units, day, now, OFFICE)])


def red_light_notices(con: duckdb.DuckDBPyConnection, day: date, settings: Settings) -> list[Notice]:
    """Each county or park its projects' red lights, each bureau the red procedures it approves: the red
    list the briefing reads (campaign projects), as of the day. None on a day off or without red lights."""
    if not day_kind(day)[0]:
        return []
    red = con.sql(QUERIES["red"], params={"as_of": day}).pl()
    notices = []
    for code, unit in reference.units().items():
        own = red.filter((red["approving_unit"] if unit.is_bureau else red["unit_code"]) == code)
        if not own.is_empty():
            notices.append(red_lights_notice(unit, day, own, settings.portal_url))
    return notices


# ---- recording ----------------------------------------------------------------------------------
def _deliveries(unit_code: str, contacts: Contacts, settings: Settings) -> list[tuple[str, str, str, str | None]]:
    """(channel, recipient, status, error) for each recipient of a unit's notice; one not_configured row
    when it has none. While contacts.csv is there but cannot be used, one pending row without a recipient,
    never tried: the first pass after the file is fixed gives it its recipients (resolve_awaiting)."""
    if contacts.unusable is not None:
        return [("mail", "", "pending", f"{contacts.unusable}，改好后补发")]
    contact = contacts.of(unit_code)
    rows: list[tuple[str, str, str, str | None]] = [
        ("mail", mail, "pending", None) if settings.mail_configured else ("mail", mail, "not_configured",
                                                                            MAIL_NOT_CONFIGURED)
        for mail in contact.mails]
    rows += [("robot", robot.label, "pending", None) for robot in contact.robots]
    if not rows:
        why = (f"contacts.csv 中没有 {unit_code} 的邮箱或群机器人" if contacts.present
               else "数据目录中没有 contacts.csv，通知不发送")
        rows.append(("mail", "", "not_configured", why))
    return rows


def record(con: duckdb.DuckDBPyConnection, notices: list[Notice], contacts: Contacts, settings: Settings,
           now: datetime) -> list[Notice]:
    """Records the notices not recorded before (a notice's id says what it is about), in one
    transaction; returns those newly recorded."""
    con.execute("BEGIN")
    try:
        known = {notice_id for (notice_id,) in con.execute(
            "SELECT notice_id FROM core.notice WHERE list_contains(?, notice_id)",
            [[n.notice_id for n in notices]]).fetchall()}
        new = [notice for notice in dict((n.notice_id, n) for n in notices).values() if notice.notice_id not in known]
        notice_rows = [[n.notice_id, n.kind, n.unit_code, n.about_date, n.submission_id, n.subject, n.body,
                        n.robot_text, n.attachment, now] for n in new]
        delivery_rows = _delivery_rows([(n.notice_id, n.unit_code) for n in new], contacts, settings)
        if new:  # executemany refuses an empty list
            con.executemany("INSERT INTO core.notice VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", notice_rows)
            con.executemany("INSERT INTO core.notice_delivery VALUES (?, ?, ?, ?, 0, NULL, NULL, ?)", delivery_rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new


def _delivery_rows(notices: list[tuple[str, str]], contacts: Contacts, settings: Settings) -> list[list]:
    """The delivery rows of (notice_id, unit_code), one per key: two recipients the ledger names alike must
    not fail the whole batch, other units' notices with it."""
    rows = {(notice_id, channel, recipient): [notice_id, channel, recipient, status, error]
            for notice_id, unit_code in notices
            for channel, recipient, status, error in _deliveries(unit_code, contacts, settings)}
    return list(rows.values())


def awaiting_contacts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(notice_id, unit_code) of the notices recorded while contacts.csv could not be used."""
    return con.execute("SELECT notice_id, unit_code FROM core.notice_delivery JOIN core.notice USING (notice_id) "
                       "WHERE recipient = '' AND status = 'pending'").fetchall()


def resolve_awaiting(con: duckdb.DuckDBPyConnection, contacts: Contacts, settings: Settings) -> None:
    """Gives the notices recorded while contacts.csv could not be used their recipients, now that it can
    (pending, or not_configured when the fixed file has nobody for the unit)."""
    con.execute("BEGIN")
    try:
        waiting = awaiting_contacts(con)
        if waiting:
            con.execute("DELETE FROM core.notice_delivery WHERE recipient = '' AND status = 'pending'")
            con.executemany("INSERT INTO core.notice_delivery VALUES (?, ?, ?, ?, 0, NULL, NULL, ?)",
                            _delivery_rows(waiting, contacts, settings))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# ---- delivering ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    notice_id: str
    kind: str
    unit_code: str
    channel: str
    recipient: str
    attempts: int
    subject: str
    body: str
    robot_text: str
    attachment: str | None


@dataclass(frozen=True)
class Outcome:
    due: Due
    status: str  # sent | failed
    attempts: int
    at: datetime
    error: str | None


def due(con: duckdb.DuckDBPyConnection, now: datetime, waited: bool = False) -> list[Due]:
    """The deliveries a pass tries; with `waited`, only those whose wait after a failure has passed
    (what makes the retry sensor start a run)."""
    rows = con.execute(sql("queries/notices_due.sql"), {
        "today": now.date(), "now": now, "max_attempts": MAX_ATTEMPTS, "waited": waited}).fetchall()
    return [Due(*row) for row in rows]


@contextmanager
def _one_pass(data_dir: Path) -> Iterator[None]:
    """One delivery pass at a time across processes (a `diaodu run` beside the service's runs)."""
    lock_path = data_dir / "state" / "notices.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def deliver(warehouse: Warehouse, contacts: Contacts, settings: Settings, now: datetime) -> list[Outcome]:
    """Sends what is due (read from the published warehouse, which every earlier step of the run has
    published) and records the outcomes; the warehouse is not held while messages go out."""
    if not warehouse.published_path.exists():
        return []
    with _one_pass(warehouse.data_dir):
        with warehouse.reading() as con:
            todo, waiting = due(con, now), awaiting_contacts(con)
        if waiting and contacts.unusable is None:
            with warehouse.writing() as con:
                resolve_awaiting(con, contacts, settings)
                todo = due(con, now)
        if not todo:
            return []
        outcomes: list[Outcome] = []
        try:
            with MailSession(settings) as session:
                for item in todo:
                    outcomes.append(_attempt(item, session, contacts, settings, warehouse.data_dir))
            failpoints.reach("notices_sent")  # the window of at-least-once (tests/test_notices.py)
        finally:  # whatever stops the pass, what went out is recorded: never sent again by the next one
            if outcomes:
                with warehouse.writing() as con:
                    record_outcomes(con, outcomes)
    return outcomes


def _attempt(item: Due, session: MailSession, contacts: Contacts, settings: Settings, data_dir: Path) -> Outcome:
    """One delivery's outcome. Any error fails this delivery only (retried later), said by its type: the
    message of an HTTP or URL error can carry the robot's URL, whose key must not reach the ledger or log."""
    try:
        _send(item, session, contacts, settings, data_dir)
    except DeliveryFailed as failed:
        return Outcome(item, "failed", item.attempts + 1, reference.local_now(), str(failed))
    except Exception as error:
        return Outcome(item, "failed", item.attempts + 1, reference.local_now(),
                       f"发送时出错（{type(error).__name__}），下次运行重试")
    return Outcome(item, "sent", item.attempts + 1, reference.local_now(), None)


def _send(item: Due, session: MailSession, contacts: Contacts, settings: Settings, data_dir: Path) -> None:
    contact = contacts.of(item.unit_code)
    if item.channel == "mail":
        if not settings.mail_configured:
            raise DeliveryFailed(MAIL_NOT_CONFIGURED)
        if item.recipient not in contact.mails:  # corrected by the office since: never to the old address
            raise DeliveryFailed(f"contacts.csv 已不再列出 {item.recipient}，不再发送")
        session.send(Mail(item.recipient, item.subject, item.body,
                          data_dir / item.attachment if item.attachment else None))
    else:
        robot = next((robot for robot in contact.robots if robot.label == item.recipient), None)
        if robot is None:
            raise DeliveryFailed(f"contacts.csv 已不再列出群机器人 {item.recipient}，不再发送")
        post_robot(robot, item.subject, item.robot_text)


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[Outcome]) -> None:
    con.execute("BEGIN")
    con.executemany(
        "UPDATE core.notice_delivery SET status = ?, attempts = ?, last_attempt_at = ?, sent_at = ?, error = ? "
        "WHERE notice_id = ? AND channel = ? AND recipient = ? AND status <> 'sent'",
        [[o.status, o.attempts, o.at, o.at if o.status == "sent" else None, o.error,
          o.due.notice_id, o.due.channel, o.due.recipient] for o in outcomes])
    con.execute("COMMIT")

