"""Delivering one message: a mail over SMTP, or a group robot's markdown message over HTTPS.

Settings come from the environment (`/etc/diaodu/diaodu.env` under the service): `DIAODU_SMTP_HOST`,
`DIAODU_SMTP_PORT` (default 25; 465 is implicit TLS), `DIAODU_MAIL_FROM`, optionally `DIAODU_SMTP_USER`,
`DIAODU_SMTP_PASSWORD`, `DIAODU_SMTP_STARTTLS` (1/true/yes), `DIAODU_PORTAL_URL`, the public address of
the unit portal used in links, and `DIAODU_REMIND_AT` (HH:MM, default 15:00), when the 催报 goes out. Timeouts are short: a notice never holds a run for long.
"""

from __future__ import annotations

import json
import mimetypes
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from diaodu.notices.contacts import Robot

SMTP_TIMEOUT_SECONDS = 10
ROBOT_TIMEOUT_SECONDS = 5
TRUE = {"1", "true", "yes", "on", "是"}


class DeliveryFailed(Exception):
    """A message that did not go out, said in one line (kept in the ledger's error)."""


@dataclass(frozen=True)
class Settings:
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = ""
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)  # never logged
    starttls: bool = False
    portal_url: str = ""
    remind_at: time = time(15, 0)  # DIAODU_REMIND_AT: when the 催报 goes out on a working day (Asia/Shanghai)
    problems: tuple[str, ...] = ()  # what is wrong in the environment, in Chinese

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        problems = []
        port_text = env.get("DIAODU_SMTP_PORT", "").strip() or "25"
        port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else 25
        if str(port) != port_text:
            problems.append(f"DIAODU_SMTP_PORT={port_text} 不是有效端口，按 25 使用")
        host, mail_from = env.get("DIAODU_SMTP_HOST", "").strip(), env.get("DIAODU_MAIL_FROM", "").strip()
        if bool(host) != bool(mail_from):
            problems.append("发邮件需要同时设置 DIAODU_SMTP_HOST 和 DIAODU_MAIL_FROM，当前只设置了"
                            + ("DIAODU_SMTP_HOST" if host else "DIAODU_MAIL_FROM") + "，邮件不发送")
        remind_text = env.get("DIAODU_REMIND_AT", "").strip() or "15:00"
        try:
            remind_at = time.fromisoformat(remind_text)
        except ValueError:
            remind_at = time(15, 0)
            problems.append(f"DIAODU_REMIND_AT={remind_text} 不是有效时间（应写作 HH:MM），按 15:00 催报")
        return cls(host, port, mail_from, env.get("DIAODU_SMTP_USER", "").strip(), env.get("DIAODU_SMTP_PASSWORD", ""),
                   env.get("DIAODU_SMTP_STARTTLS", "").strip().lower() in TRUE,
                   env.get("DIAODU_PORTAL_URL", "").strip().rstrip("/"), remind_at, tuple(problems))

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host and self.mail_from)

    def submission_link(self, submission_id: str) -> str | None:
        return f"{self.portal_url}/submissions/{submission_id}" if self.portal_url else None


MAIL_NOT_CONFIGURED = "未配置发信服务器（DIAODU_SMTP_HOST、DIAODU_MAIL_FROM），邮件不发送"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    attachment: Path | None = None


class MailSession:
    """One SMTP connection for a pass's mails, opened on the first mail. A server that cannot be reached
    fails every mail of the pass at once, instead of waiting out the timeout for each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *_: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass

    def _connection(self) -> smtplib.SMTP:
        if self._unreachable is not None:
            raise DeliveryFailed(self._unreachable)
        if self._smtp is None:
            s = self.settings
            try:
                if s.smtp_port == 465:
                    smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS,
                                            context=ssl.create_default_context())
                else:
                    smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
                    if s.starttls:
                        smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
            except (smtplib.SMTPException, OSError) as error:
                self._unreachable = f"发信服务器 {s.smtp_host}:{s.smtp_port} 无法连接或登录（{_said(error)}）"
                raise DeliveryFailed(self._unreachable) from error
            self._smtp = smtp
        return self._smtp

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = mail.to
        # A line break in a header is refused (or would start a header of its own): a file's name can carry one.
        message["Subject"] = " ".join(mail.subject.splitlines())
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="diaodu")
        message.set_content(mail.body)
        if mail.attachment is not None:
            if not mail.attachment.is_file():
                raise DeliveryFailed(f"附件 {mail.attachment.name} 已不存在")
            kind = mimetypes.guess_type(mail.attachment.name)[0] or "application/octet-stream"
            main, sub = kind.split("/", 1)
            message.add_attachment(mail.attachment.read_bytes(), maintype=main, subtype=sub,
                                   filename=mail.attachment.name)
        try:
            refused = self._connection().send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"发信服务器拒收（{_said(error)}）") from error
        if refused:
            raise DeliveryFailed(f"发信服务器拒收收件人 {mail.to}（{refused[mail.to]}）")


def robot_payload(robot: Robot, title: str, text: str) -> dict:
    """The robot's documented markdown message: WeCom {"msgtype":"markdown","markdown":{"content"}},
    DingTalk {"msgtype":"markdown","markdown":{"title","text"}}."""
    if robot.kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def post_robot(robot: Robot, title: str, text: str) -> None:
    """Posts the message; both vendors answer HTTP 200 with {"errcode": 0} when it was taken."""
    body = json.dumps(robot_payload(robot, title, text), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(robot.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    name = robot.label
    try:
        with urllib.request.urlopen(request, timeout=ROBOT_TIMEOUT_SECONDS) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"群机器人 {name} 返回 HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"群机器人 {name} 无法连接（{_said(error)}）") from error
    try:
        said = json.loads(answer)
    except ValueError as error:
        raise DeliveryFailed(f"群机器人 {name} 的回答不是 JSON") from error
    if not isinstance(said, dict) or said.get("errcode") != 0:
        errcode = said.get("errcode") if isinstance(said, dict) else None
        errmsg = said.get("errmsg") if isinstance(said, dict) else None
        raise DeliveryFailed(f"群机器人 {name} 未接收（errcode {errcode}：{errmsg}）")


def _said(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return f"{type(error).__name__}: {reason or error}"[:300]
