"""Who a unit's notices go to: `contacts.csv` in the data directory, read and checked.

Columns `单位代码,邮箱,群机器人`; either may be blank; several mail addresses (or robots) in one cell are
separated by `;`. The data office's own row uses the code `OFFICE` (it gets the list of units a 催报 went
to). A row that names no known unit sends nothing, and every mistake is said in one Chinese line, for the
Dagster log and the notices asset's metadata.

A robot's kind is told by the path of its webhook, as each vendor documents it: `…/cgi-bin/webhook/send`
is a WeCom (企业微信) group robot (qyapi.weixin.qq.com), `…/robot/send` a DingTalk (钉钉) one
(oapi.dingtalk.com); a proxy in between keeps the path, so the kind survives it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from diaodu.intake.files import FileRejected, decode_text
from diaodu.schemas import reference

FILE_NAME = "contacts.csv"
HEADER = ("单位代码", "邮箱", "群机器人")
OFFICE = "OFFICE"  # the data office's row
ROBOT_PATHS = {"/cgi-bin/webhook/send": "wecom", "/robot/send": "dingtalk"}
ROBOT_NAMES = {"wecom": "企业微信", "dingtalk": "钉钉"}
MAIL = re.compile(r"[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\"]+")
SEPARATORS = re.compile(r"[;；]")
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Robot:
    url: str
    kind: str  # wecom | dingtalk

    @property
    def key(self) -> str:
        """The secret in the URL."""
        return next(iter(parse_qs(urlsplit(self.url).query).get("key" if self.kind == "wecom" else "access_token",
                                                                   [])), "")

    @property
    def label(self) -> str:
        """How the ledger names the robot: its key is never stored."""
        return f"{self.kind}:{urlsplit(self.url).hostname}…{self.key[-4:]}"


@dataclass(frozen=True)
class Contact:
    unit_code: str
    mails: tuple[str, ...] = ()
    robots: tuple[Robot, ...] = ()


@dataclass
class Contacts:
    by_unit: dict[str, Contact] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one Chinese line per mistake in the file
    present: bool = False  # whether the data directory has a contacts.csv at all
    unusable: str | None = None  # why a contacts.csv that is there cannot be used (unreadable, wrong header)

    def of(self, unit_code: str) -> Contact:
        return self.by_unit.get(unit_code) or Contact(unit_code)

    def without_keys(self, text: str) -> str:
        """Text for a log with every robot's key blanked: an HTTP library's error can quote the URL."""
        for robot in (robot for contact in self.by_unit.values() for robot in contact.robots):
            text = text.replace(robot.key, "****") if robot.key else text
        return text


def robot_kind(url: str) -> str | None:
    """wecom or dingtalk from the webhook's path (see the module's docstring); None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return ROBOT_PATHS.get(parts.path.rstrip("/"))


def normal_mail(text: str) -> str:
    """An address as the ledger keeps it: no whitespace, the domain in lower case (domains ignore case)."""
    local, _, domain = WHITESPACE.sub("", text).rpartition("@")
    return f"{local}@{domain.lower()}" if local else domain


def normal_robot_url(text: str) -> str:
    """A webhook as pasted, without the whitespace a copy from a chat or a cell brings (never part of a URL)."""
    return WHITESPACE.sub("", text)


def unit_code_of(text: str) -> str | None:
    """A unit's code from what a clerk wrote: its code (any case) or its exact name; OFFICE for the office."""
    code = text.strip().upper()
    if code == OFFICE or code in reference.units():
        return code
    return next((unit.code for unit in reference.units().values() if unit.name == text.strip()), None)


def read_contacts(data_dir: Path) -> Contacts:
    path = data_dir / FILE_NAME
    if not path.is_file():
        return Contacts()
    contacts = Contacts(present=True)
    try:
        text = decode_text(path.read_bytes())
    except (OSError, FileRejected) as error:
        detail = error.detail if isinstance(error, FileRejected) else type(error).__name__
        contacts.unusable = f"{FILE_NAME} 无法读取（{detail}）"
        contacts.problems.append(f"{contacts.unusable}，所有通知都暂不发送，改好后补发；请另存为 UTF-8 的 CSV")
        return contacts
    rows = list(csv.reader(io.StringIO(text)))
    header = tuple(cell.strip() for cell in rows[0]) if rows else ()
    if header[:3] != HEADER:
        contacts.unusable = f"{FILE_NAME} 第 1 行应为表头“{','.join(HEADER)}”，实为“{','.join(header)}”"
        contacts.problems.append(f"{contacts.unusable}；所有通知都暂不发送，改好后补发")
        return contacts
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = [*(cell.strip() for cell in row), "", "", ""][:3]
        if not any(cells):
            continue
        code = unit_code_of(cells[0])
        if code is None:
            contacts.problems.append(f"{FILE_NAME} 第 {number} 行：单位代码“{cells[0]}”不是已知单位"
                                     f"（见单位名录；数据办公室用 {OFFICE}），该行不发送任何通知")
            continue
        mails, robots = [], []
        for mail in filter(None, (normal_mail(part) for part in SEPARATORS.split(cells[1]))):
            if MAIL.fullmatch(mail):
                mails.append(mail)
            else:
                contacts.problems.append(f"{FILE_NAME} 第 {number} 行：邮箱“{mail}”格式不对，不向它发送")
        for url in filter(None, (normal_robot_url(part) for part in SEPARATORS.split(cells[2]))):
            kind = robot_kind(url)
            if kind is None:
                contacts.problems.append(
                    f"{FILE_NAME} 第 {number} 行：群机器人地址不是企业微信（…/cgi-bin/webhook/send?key=…）或钉钉"
                    "（…/robot/send?access_token=…）的 Webhook 地址，不向它发送")
            else:
                robots.append(Robot(url, kind))
        if code in first_row:
            contacts.problems.append(f"{FILE_NAME} 第 {number} 行：单位 {code} 已在第 {first_row[code]} 行出现，"
                                     "两行的联系方式合并使用")
        first_row.setdefault(code, number)
        earlier = contacts.of(code)
        # The ledger keys a delivery by the robot's label: two URLs of one label (http and https, a trailing
        # slash, or two keys ending alike) would be two rows of one key, so only the first is used.
        by_label: dict[str, Robot] = {}
        for robot in [*earlier.robots, *robots]:
            kept = by_label.setdefault(robot.label, robot)
            if kept is not robot and kept.url != robot.url and robot in robots:
                contacts.problems.append(f"{FILE_NAME} 第 {number} 行：群机器人 {robot.label} 与前面的地址同名"
                                         "（同一机器人或密钥末 4 位相同），只向前面的发送")
        contacts.by_unit[code] = Contact(code, tuple(dict.fromkeys([*earlier.mails, *mails])), tuple(by_label.values()))
    return contacts


def write_template(data_dir: Path) -> Path | None:
    """A header-only contacts.csv (UTF-8 with BOM, so Excel opens it right), unless there is one."""
    path = data_dir / FILE_NAME
    if path.exists():
        return None
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8-sig")
    return path
