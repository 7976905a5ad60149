"""Notices that find people: a real SMTP server (aiosmtpd) and a real HTTP server on 127.0.0.1 receive
what the real Dagster jobs send from a real data directory; the ledger (mart.notices) says what happened."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from diaodu.notices.contacts import Contact, Contacts, Robot, read_contacts, robot_kind
from diaodu.notices.delivery import DeliveryFailed, Settings, post_robot, robot_payload
from diaodu.notices.ledger import deliver, record
from diaodu.notices.messages import Notice
from diaodu.pipelines.assets import submissions
from diaodu.pipelines.data_dir import init_data_dir
from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.notices import notices
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas.reference import local_now
from diaodu.warehouse.store import Warehouse
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, project_row, query, write_csv

DAY = "2023-01-28"  # a Saturday, and a make-up working day (调休) before the Spring Festival
LS_CODE, LG_CODE = "2022-211402-26-03-000001", "2022-211403-26-03-000002"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    """aiosmtpd handler: every message the server accepted, as (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def about(self, prefix: str) -> list[tuple[list[str], EmailMessage]]:
        return [(to, message) for to, message in self.messages if str(message["Subject"]).startswith(prefix)]


class _Robots(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body))
        answer = {"errcode": 310000, "errmsg": "keywords not in content"} if "BAD" in self.path else {
            "errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _drop_files(data_dir: Path) -> None:
    # 连山区: one wrong row (a status nobody knows) → partly accepted; 能评 promised long ago → red.
    write_csv(data_dir / "inbox" / "LS" / "连山区台账.csv", [[f"填报日期：{DAY}"], PROJECT_HEADER, project_row(LS_CODE)])
    write_csv(data_dir / "inbox" / "LS" / "连山区手续.csv", [
        [f"填报日期：{DAY}"], PROCEDURE_HEADER,
        [LS_CODE, "立项", "是", "已办结", "2023-01-05", "", "2023-01-06", ""],
        [LS_CODE, "能评", "是", "正办理", "2023-01-10", "", "", ""],
        [LS_CODE, "环评", "是", "办好了", "2023-03-10", "", "", ""]])
    # 龙港区: everything right → accepted, nothing to tell.
    write_csv(data_dir / "inbox" / "LG" / "龙港区台账.csv", [[f"填报日期：{DAY}"], PROJECT_HEADER, project_row(LG_CODE)])
    write_csv(data_dir / "inbox" / "LG" / "龙港区手续.csv", [
        [f"填报日期：{DAY}"], PROCEDURE_HEADER, [LG_CODE, "立项", "是", "已办结", "2023-01-05", "", "2023-01-06", ""]])


def _notices(data_dir: Path, where: str = "true") -> list[tuple]:
    return query(data_dir, "SELECT notice_id, kind, unit_code, channel, recipient, status, attempts, error "
                           f"FROM mart.notices WHERE {where} ORDER BY ALL")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A data directory with contacts, an SMTP server, a robot server, and the environment pointing at them."""
    data_dir = init_data_dir(tmp_path_factory.mktemp("notices") / "data").root
    inbox, smtp_port, dead_port = _Inbox(), _free_port(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    _Robots.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Robots)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    robots = f"http://127.0.0.1:{http.server_address[1]}"
    (data_dir / "contacts.csv").write_text("\n".join([
        "单位代码,邮箱,群机器人",
        f"LS,ls1@ls.example.cn；ls2@ls.example.cn,{robots}/cgi-bin/webhook/send?key=LSKEY1234",
        f"龙港区,lg@lg.example.cn,{robots}/robot/send?access_token=LGTOKEN9876",
        "FGW,fgw@fgw.example.cn,",
        "OFFICE,office@diaodu.example.cn,",
        "XX,x@x.example.cn,",
        "NP,not-a-mail,https://example.com/hook",
    ]) + "\n", encoding="utf-8-sig")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DIAODU_SMTP_HOST", "127.0.0.1")
        env.setenv("DIAODU_SMTP_PORT", str(dead_port))  # nothing listens: every mail fails
        env.setenv("DIAODU_MAIL_FROM", "diaodu@city.example.cn")
        env.setenv("DIAODU_PORTAL_URL", "https://diaodu.example.cn/portal/")
        yield {"data_dir": data_dir, "inbox": inbox, "env": env, "smtp_port": smtp_port,
               "robots_port": http.server_address[1],
               "defs": build_definitions(str(data_dir))}
    controller.stop()
    http.shutdown()


def test_contacts_file_is_checked_row_by_row(world):
    contacts = read_contacts(world["data_dir"])
    assert contacts.of("LS").mails == ("ls1@ls.example.cn", "ls2@ls.example.cn")
    assert [robot.kind for robot in contacts.of("LS").robots + contacts.of("LG").robots] == ["wecom", "dingtalk"]
    assert contacts.of("LG").mails == ("lg@lg.example.cn",)  # named by the unit's name
    assert "XX" not in contacts.by_unit and contacts.of("NP").mails == () and contacts.of("NP").robots == ()
    assert contacts.problems == [
        "contacts.csv 第 6 行：单位代码“XX”不是已知单位（见单位名录；数据办公室用 OFFICE），该行不发送任何通知",
        "contacts.csv 第 7 行：邮箱“not-a-mail”格式不对，不向它发送",
        "contacts.csv 第 7 行：群机器人地址不是企业微信（…/cgi-bin/webhook/send?key=…）或钉钉"
        "（…/robot/send?access_token=…）的 Webhook 地址，不向它发送"]
    (world["data_dir"] / "bad").mkdir(exist_ok=True)
    (world["data_dir"] / "bad" / "contacts.csv").write_text("unit,mail\nLS,a@b.cn\n", encoding="utf-8")
    bad = read_contacts(world["data_dir"] / "bad")
    assert bad.by_unit == {} and bad.problems == [
        "contacts.csv 第 1 行应为表头“单位代码,邮箱,群机器人”，实为“unit,mail”；所有通知都暂不发送，改好后补发"]


def test_robot_kind_is_told_by_the_documented_webhook_path():
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc") == "wecom"
    assert robot_kind("https://oapi.dingtalk.com/robot/send?access_token=abc") == "dingtalk"
    assert robot_kind("https://example.com/hook") is None and robot_kind("ftp://x/robot/send") is None
    wecom = Robot("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234", "wecom")
    ding = Robot("https://oapi.dingtalk.com/robot/send?access_token=zzz9876", "dingtalk")
    assert robot_payload(wecom, "T", "**T**\n> x") == {"msgtype": "markdown", "markdown": {"content": "**T**\n> x"}}
    assert robot_payload(ding, "T", "**T**") == {"msgtype": "markdown", "markdown": {"title": "T", "text": "**T**"}}
    assert wecom.label == "wecom:qyapi.weixin.qq.com…1234" and "abcd1234" not in wecom.label
    settings = Settings.from_env({"DIAODU_SMTP_PORT": "abc", "DIAODU_SMTP_HOST": "mail", "DIAODU_REMIND_AT": "25:00"})
    assert not settings.mail_configured and settings.smtp_port == 25 and len(settings.problems) == 3


def test_a_robot_that_refuses_the_message_is_a_failed_delivery_with_its_reason(world):
    port = world["robots_port"]
    refusing = Robot(f"http://127.0.0.1:{port}/robot/send?access_token=BAD1", "dingtalk")
    with pytest.raises(DeliveryFailed, match="errcode 310000：keywords not in content"):
        post_robot(refusing, "标题", "调度")
    with pytest.raises(DeliveryFailed, match="无法连接"):
        post_robot(Robot(f"http://127.0.0.1:{_free_port()}/robot/send?access_token=x", "dingtalk"), "标题", "调度")
    _Robots.received.clear()


@pytest.fixture(scope="module")
def ingested(world):
    """The ingest job with the mail server unreachable: the robot is reached, the mails fail."""
    _drop_files(world["data_dir"])
    result = world["defs"].resolve_job_def("ingest_job").execute_in_process(partition_key=DAY, raise_on_error=False)
    assert result.success
    return result


def test_a_returned_file_is_told_to_its_unit_only_and_a_failed_mail_is_delivered_once_by_the_next_run(world, ingested):
    data_dir, inbox = world["data_dir"], world["inbox"]
    (submission_id,) = [s for (s,) in query(data_dir, "SELECT submission_id FROM mart.submissions "
                                                      "WHERE outcome = 'partial'")]
    assert submission_id.startswith("S") and "-LS-" in submission_id
    robot_label = "wecom:127.0.0.1…1234"
    notice = f"returned-{submission_id}"
    assert _notices(data_dir, "kind = 'returned'") == [
        (notice, "returned", "LS", "mail", "ls1@ls.example.cn", "failed", 1, _notices(data_dir)[0][7]),
        (notice, "returned", "LS", "mail", "ls2@ls.example.cn", "failed", 1, _notices(data_dir)[1][7]),
        (notice, "returned", "LS", "robot", robot_label, "sent", 1, None)]
    assert "无法连接" in _notices(data_dir)[0][7]
    assert inbox.messages == []
    # The robot's JSON: WeCom markdown, its first line naming the unit, the file and the outcome; counts, link.
    ((path, payload),) = _Robots.received
    assert path == "/cgi-bin/webhook/send?key=LSKEY1234" and payload["msgtype"] == "markdown"
    text = payload["markdown"]["content"]
    first = text.splitlines()[0]
    assert "连山区" in first and "连山区手续.csv" in first and "部分接收" in first
    assert "共 3 行，接收 2 行，退回 1 行" in text
    assert f"https://diaodu.example.cn/portal/submissions/{submission_id}" in text
    assert "龙港" not in text and "LG" not in text
    # The Dagster UI shows the pass: the failure and why.
    materialization = ingested.asset_materializations_for_node("notices")[0]
    assert materialization.metadata["failed"].value == 2 and materialization.metadata["sent"].value == 1
    assert "XX" in materialization.metadata["contacts_problems"].value

    # The retry sensor waits 5 minutes after a failure, then starts a run for the failed deliveries.
    sensor = world["defs"].resolve_sensor_def("notices_sensor")
    resources = {"settings": DiaoduSettings(data_dir=str(data_dir))}
    with dg.build_sensor_context(resources=resources) as context:
        assert sensor(context).skip_message
    with Warehouse(data_dir).writing() as con:
        con.execute("UPDATE core.notice_delivery SET last_attempt_at = last_attempt_at - INTERVAL 6 MINUTE")
    with dg.build_sensor_context(resources=resources) as context:
        (retry,) = sensor(context).run_requests
    assert retry.tags["diaodu/notices"] == "retry"

    # The mail server is back: the next run delivers each mail once, the robot is not told again.
    world["env"].setenv("DIAODU_SMTP_PORT", str(world["smtp_port"]))
    notices_job = world["defs"].resolve_job_def("notices_job")
    assert notices_job.execute_in_process(tags=retry.tags).success
    assert notices_job.execute_in_process().success  # nothing is due any more
    returned = inbox.about("【调度回执】")
    assert sorted(to for to, _ in returned) == [["ls1@ls.example.cn"], ["ls2@ls.example.cn"]]
    for _, message in returned:
        assert message["Subject"] == "【调度回执】连山区（LS）报送的“连山区手续.csv”：部分接收，退回 1 行"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        content = body.get_content()
        assert "报送编号：" + submission_id in content and "“手续”表第 5 行" in content
        assert "龙港" not in content and "LG" not in content
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename().endswith("_退回标注.xlsx")
        assert attachment.get_content()[:2] == b"PK"  # the workbook's bytes
    assert len(_Robots.received) == 1
    assert {row[5:7] for row in _notices(data_dir, "kind = 'returned'")} == {("sent", 2), ("sent", 1)}
    assert query(data_dir, "SELECT count(*) FROM mart.notices WHERE kind = 'returned' AND sent_at IS NULL") == [(0,)]


def test_reminders_go_out_on_a_make_up_working_day_and_not_on_a_holiday(world, ingested):
    data_dir, inbox = world["data_dir"], world["inbox"]
    world["env"].setenv("DIAODU_SMTP_PORT", str(world["smtp_port"]))
    defs = world["defs"]
    schedule = defs.resolve_schedule_def("reminder_schedule")
    assert schedule.cron_schedule == "0 15 * * *"
    with dg.build_schedule_context(scheduled_execution_time=datetime(2023, 1, 23, 15, tzinfo=SHANGHAI)) as holiday:
        assert isinstance(schedule.evaluate_tick(holiday).skip_message, str)  # 春节 holiday, a Monday
    with dg.build_schedule_context(scheduled_execution_time=datetime(2023, 1, 28, 15, tzinfo=SHANGHAI),
                                   repository_def=defs.get_repository_def()) as makeup:
        (request,) = schedule.evaluate_tick(makeup).run_requests or []
    assert request.partition_key == DAY
    result = defs.resolve_job_def("reminder_job").execute_in_process(
        partition_key=DAY, run_config=request.run_config, raise_on_error=False)
    assert result.success
    units_told = {unit for (unit,) in query(data_dir, "SELECT DISTINCT unit_code FROM mart.notices "
                                                      "WHERE kind = 'reminder'")}
    assert units_told == {"NP", "SZ", "JC", "XC", "KFQ", "GXQ", "BGQ", "SZBH", "FGW", "STJ", "ZRJ", "ZJJ", "YJJ",
                          "ZFW", "GDGS", "OFFICE"}  # every unit but the two that reported, and the office
    reminders = inbox.about("【催报】")
    assert sorted(to[0] for to, _ in reminders) == ["fgw@fgw.example.cn", "office@diaodu.example.cn"]
    office = next(message for to, message in reminders if to == ["office@diaodu.example.cn"])
    listing = office.get_content()
    assert "南票区（NP）" in listing and "市发改委（FGW）" in listing and "连山区" not in listing
    assert _notices(data_dir, "kind = 'reminder' AND unit_code = 'NP'") == [
        (f"reminder-{DAY}-NP", "reminder", "NP", "mail", None, "not_configured", 0,
         "contacts.csv 中没有 NP 的邮箱或群机器人")]
    assert defs.resolve_job_def("reminder_job").execute_in_process(
        partition_key=DAY, run_config=request.run_config).success
    assert len(inbox.about("【催报】")) == 2  # decided again, recorded and sent once


def test_each_bureau_and_each_county_gets_its_own_red_lights(world, ingested):
    data_dir, inbox = world["data_dir"], world["inbox"]
    world["env"].setenv("DIAODU_SMTP_PORT", str(world["smtp_port"]))
    assert world["defs"].resolve_job_def("notices_job").execute_in_process(
        run_config={"ops": {"notices": {"config": {"red_lights_for": DAY}}}}).success
    assert {unit for (unit,) in query(data_dir, "SELECT DISTINCT unit_code FROM mart.notices "
                                                "WHERE kind = 'red_lights'")} == {"LS", "FGW"}
    red = {to[0]: message for to, message in inbox.about("【亮红灯】")}
    assert set(red) == {"ls1@ls.example.cn", "ls2@ls.example.cn", "fgw@fgw.example.cn"}
    assert red["fgw@fgw.example.cn"]["Subject"] == f"【亮红灯】市发改委：{DAY} 有 1 项手续超过承诺办结日期"
    assert red["ls1@ls.example.cn"]["Subject"] == f"【亮红灯】连山区：{DAY} 有 1 项手续超过承诺办结日期"
    for message in red.values():
        text = message.get_content()
        assert LS_CODE in text and "“能评”" in text and LG_CODE not in text and "“环评”" not in text
    robot = [payload for path, payload in _Robots.received if "LSKEY" in path][-1]
    assert robot["markdown"]["content"].startswith(f"**【亮红灯】连山区：{DAY}")


def test_a_run_killed_between_sending_and_recording_sends_again_at_least_once(world, ingested):
    """The documented choice: a message the server took just before the process died is sent again by the
    next run (never lost); once recorded as sent it is never sent again."""
    data_dir, inbox = world["data_dir"], world["inbox"]
    world["env"].setenv("DIAODU_SMTP_PORT", str(world["smtp_port"]))
    settings = Settings.from_env(os.environ)
    with Warehouse(data_dir).writing() as con:
        record(con, [Notice("crash-1", "reminder", "FGW", "【测试】进程中断", "正文", "**【测试】进程中断**")],
               read_contacts(data_dir), settings, local_now())
    script = ("from diaodu.pipelines.definitions import build_definitions; "
              f"build_definitions({str(data_dir)!r}).resolve_job_def('notices_job').execute_in_process()")
    killed = subprocess.run([sys.executable, "-c", script], env=os.environ | {"DIAODU_KILL_AT": "notices_sent"},
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert len(inbox.about("【测试】")) == 1 and _notices(data_dir, "notice_id = 'crash-1'")[0][5] == "pending"
    notices_job = world["defs"].resolve_job_def("notices_job")
    assert notices_job.execute_in_process().success and notices_job.execute_in_process().success
    assert len(inbox.about("【测试】")) == 2
    assert _notices(data_dir, "notice_id = 'crash-1'")[0][5:7] == ("sent", 1)


def test_with_nothing_configured_nothing_breaks_and_the_ledger_says_not_configured(tmp_path, monkeypatch):
    for name in ("DIAODU_SMTP_HOST", "DIAODU_MAIL_FROM", "DIAODU_PORTAL_URL", "DIAODU_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    data_dir = init_data_dir(tmp_path / "data").root
    assert (data_dir / "contacts.csv").read_text(encoding="utf-8-sig") == "单位代码,邮箱,群机器人\n"
    (data_dir / "contacts.csv").unlink()
    write_csv(data_dir / "inbox" / "LS" / "手续.csv", [
        [f"填报日期：{DAY}"], PROCEDURE_HEADER, [LS_CODE, "环评", "是", "办好了", "2023-03-10", "", "", ""]])
    result = dg.materialize([submissions, notices], resources={"settings": DiaoduSettings(data_dir=str(data_dir))})
    assert result.success
    (row,) = _notices(data_dir)
    assert row[1:] == ("returned", "LS", "mail", None, "not_configured", 0, "数据目录中没有 contacts.csv，通知不发送")


def _garbage_server() -> int:
    """A port where something answers every request with a line that is not HTTP (http.client's BadStatusLine)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"garbage\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    return listener.getsockname()[1]


def _ledger_dir(tmp_path: Path, contacts: str) -> Path:
    data_dir = init_data_dir(tmp_path / "data").root
    (data_dir / "contacts.csv").write_text(contacts, encoding="utf-8-sig")
    return data_dir


def _mail_settings(world) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=world["smtp_port"], mail_from="diaodu@city.example.cn")


def test_an_unexpected_error_fails_its_delivery_only_and_what_was_sent_is_never_sent_again(world, tmp_path):
    robots, garbage = world["robots_port"], _garbage_server()
    data_dir = _ledger_dir(tmp_path, "单位代码,邮箱,群机器人\n"
                           f"FGW,fgw@fgw.example.cn,http://127.0.0.1:{garbage}/cgi-bin/webhook/send?key=SECRETKEY0001;"
                           f"http://127.0.0.1:{robots}/robot/send?access_token=GOODTOKEN0002\n")
    contacts, settings, warehouse = read_contacts(data_dir), _mail_settings(world), Warehouse(data_dir)
    with warehouse.writing() as con:  # a subject with a line break (a file's name can carry one)
        record(con, [Notice("isolated-1", "returned", "FGW", "【隔离】一行\r\n两行", "正文", "**【隔离】调度**")],
               contacts, settings, local_now())
    _Robots.received.clear()
    first = {(o.due.channel, o.due.recipient): (o.status, o.error) for o in deliver(warehouse, contacts, settings,
                                                                                    local_now())}
    assert first == {("mail", "fgw@fgw.example.cn"): ("sent", None),
                     ("robot", "dingtalk:127.0.0.1…0002"): ("sent", None),
                     ("robot", "wecom:127.0.0.1…0001"): ("failed", "发送时出错（BadStatusLine），下次运行重试")}
    ((_, mail),) = world["inbox"].about("【隔离】")
    assert mail["Subject"] == "【隔离】一行 两行"
    second = deliver(warehouse, contacts, settings, local_now())  # only the failed robot is tried again
    assert [(o.due.recipient, o.status, o.attempts) for o in second] == [("wecom:127.0.0.1…0001", "failed", 2)]
    assert len(world["inbox"].about("【隔离】")) == 1 and len(_Robots.received) == 1
    assert "SECRETKEY" not in repr(_notices(data_dir))
    assert contacts.without_keys("InvalidURL: '/cgi-bin/webhook/send?key=SECRETKEY0001 x'") == (
        "InvalidURL: '/cgi-bin/webhook/send?key=**** x'")


def test_one_robot_written_twice_is_one_recipient_and_cannot_drop_other_units_notices(world, tmp_path):
    port = world["robots_port"]
    data_dir = _ledger_dir(tmp_path, "单位代码,邮箱,群机器人\n"
                           f"LS, ls1@LS.Example.cn ;ls1@ls.example.cn,http://127.0.0.1:{port}/cgi-bin/webhook/send?key="
                           f"DUPKEY1111 ;https://127.0.0.1:{port}/cgi-bin/webhook/send/?key=DUPKEY1111\n"
                           "FGW,fgw@fgw.example.cn,\n")
    contacts = read_contacts(data_dir)
    assert contacts.of("LS").mails == ("ls1@ls.example.cn",)
    assert contacts.of("LS").robots == (Robot(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=DUPKEY1111", "wecom"),)
    assert contacts.problems == ["contacts.csv 第 2 行：群机器人 wecom:127.0.0.1…1111 与前面的地址同名"
                                 "（同一机器人或密钥末 4 位相同），只向前面的发送"]
    # Recording keys a delivery by the robot's label: two robots named alike are one row, other units unharmed.
    twins = Contacts({"LS": Contact("LS", (), (Robot(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=A1111", "wecom"),
                                               Robot(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=B1111", "wecom"))),
                      "FGW": contacts.of("FGW")}, present=True)
    with Warehouse(data_dir).writing() as con:
        recorded = record(con, [Notice("twins-LS", "returned", "LS", "【孪生】", "正文", "调度"),
                                Notice("twins-FGW", "returned", "FGW", "【孪生】", "正文", "调度")],
                          twins, _mail_settings(world), local_now())
    assert len(recorded) == 2
    assert [row[2:6] for row in _notices(data_dir)] == [("FGW", "mail", "fgw@fgw.example.cn", "pending"),
                                                        ("LS", "robot", "wecom:127.0.0.1…1111", "pending")]


def test_notices_decided_while_contacts_is_broken_are_sent_once_it_is_fixed(world, tmp_path):
    data_dir = _ledger_dir(tmp_path, "unit,mail\nFGW,fgw@fgw.example.cn\n")  # a wrong header
    settings, warehouse = _mail_settings(world), Warehouse(data_dir)
    broken = read_contacts(data_dir)
    with warehouse.writing() as con:
        record(con, [Notice("broken-1", "returned", "FGW", "【待联系人】", "正文", "调度")], broken, settings, local_now())
    waiting = ("broken-1", "returned", "FGW", "mail", None, "pending", 0,
               "contacts.csv 第 1 行应为表头“单位代码,邮箱,群机器人”，实为“unit,mail”，改好后补发")
    assert _notices(data_dir) == [waiting]
    assert deliver(warehouse, broken, settings, local_now()) == [] and _notices(data_dir) == [waiting]
    sensor = build_definitions(str(data_dir)).resolve_sensor_def("notices_sensor")
    resources = {"settings": DiaoduSettings(data_dir=str(data_dir))}
    with dg.build_sensor_context(resources=resources) as context:
        assert sensor(context).skip_message  # nothing to do until the file is fixed
    (data_dir / "contacts.csv").write_text("单位代码,邮箱,群机器人\nFGW,fgw@fgw.example.cn,\n", encoding="utf-8-sig")
    with dg.build_sensor_context(resources=resources) as context:
        (retry,) = sensor(context).run_requests
    assert retry.tags["diaodu/notices"] == "retry"
    (outcome,) = deliver(warehouse, read_contacts(data_dir), settings, local_now())
    assert (outcome.due.recipient, outcome.status) == ("fgw@fgw.example.cn", "sent")
    assert [to for to, _ in world["inbox"].about("【待联系人】")] == [["fgw@fgw.example.cn"]]
    assert _notices(data_dir)[0][3:7] == ("mail", "fgw@fgw.example.cn", "sent", 1)
