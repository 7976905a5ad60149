"""What each notice says: the mail (subject, text, attachment) and the group robot's markdown.

A returned file's notice is for its unit alone and carries only that file's receipt: no other unit's
file, row or name. Robot messages stay short (WeCom takes 4,096 bytes of markdown): the counts and a
link; the mail carries the whole text. Every robot message says 调度, so a DingTalk robot whose
security setting is the custom keyword “调度” takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas import reference
from diaodu.warehouse.merge import SubmissionRecord

ROBOT_LIMIT_BYTES = 4000
ROBOT_ITEMS = 10  # red lights listed in a robot message; the mail lists them all


@dataclass(frozen=True)
class Notice:
    notice_id: str
    kind: str  # returned | reminder | red_lights
    unit_code: str
    subject: str
    body: str
    robot_text: str
    about_date: date | None = None
    submission_id: str | None = None
    attachment: str | None = None  # relative to the data directory


def _title() -> str:
    return f"{reference.city().name}重点项目前期手续调度"


def _fit(lines: list[str]) -> str:
    """Robot markdown within the vendor's size limit: whole lines, the first always kept."""
    kept, size = [], 0
    for line in lines:
        size += len(line.encode("utf-8")) + 1
        if kept and size > ROBOT_LIMIT_BYTES:
            kept.append("……（其余见邮件）")
            break
        kept.append(line)
    return "\n".join(kept)


def returned_notice(record: SubmissionRecord, receipt: str, annotated: str | None, link: str | None) -> Notice:
    """A returned or partly accepted file: its receipt by mail with the annotated copy; counts and a link
    in the group. `annotated` is the copy's path relative to the data directory, when one was written."""
    unit = reference.units()[record.unit_code]
    outcome = OUTCOME_LABELS[record.outcome] + (f"，退回 {record.rows_rejected} 行" if record.outcome == "partial" else "")
    subject = f"【调度回执】{unit.name}（{unit.code}）报送的“{record.file_name}”：{outcome}"
    where = (f"在门户查看回执与退回标注：{link}" if link
             else f"回执与退回标注已放入 outbox/{unit.code}/（报送编号 {record.submission_id}）")
    body = receipt.rstrip("\n") + "\n\n" + (f"退回标注见附件“{Path(annotated).name}”。\n" if annotated else "") + where + "\n"
    robot = [
        f"**{subject}**",
        f"> 报送编号：{record.submission_id}",
        f"> 填报日期：{record.report_date.isoformat() if record.report_date else '未识别'}",
        f"> 共 {record.rows_total} 行，接收 {record.rows_accepted} 行，退回 {record.rows_rejected} 行",
        f"[在门户查看回执与退回标注]({link})" if link else where,
        f"（{_title()}）",
    ]
    return Notice(f"returned-{record.submission_id}", "returned", unit.code, subject, body, _fit(robot),
                  record.report_date, record.submission_id, annotated)


def reminder_notice(unit: reference.Unit, day: date, at: datetime, portal_url: str) -> Notice:
    subject = f"【催报】{unit.name}：{day.isoformat()} 的台账尚未报送"
    text = (f"{unit.name}：截至 {at:%Y-%m-%d %H:%M}，调度尚未收到贵单位填报日期为 {day.isoformat()} 的台账"
            "（被接收或部分接收的文件）。今天是工作日，请尽快报送。")
    upload = f"报送地址：{portal_url}/" if portal_url else f"报送方式：将台账放入 inbox/{unit.code}/"
    body = "\n".join([_title() + " · 催报", "", text, "", upload]) + "\n"
    robot = [f"**{subject}**", f"> {text}", f"[报送台账]({portal_url}/)" if portal_url else upload, f"（{_title()}）"]
    return Notice(f"reminder-{day.isoformat()}-{unit.code}", "reminder", unit.code, subject, body, _fit(robot), day)


def office_reminder_notice(units: list[reference.Unit], day: date, at: datetime, office: str) -> Notice:
    """The data office's list of the units a 催报 went to."""
    subject = f"【催报】{day.isoformat()} 尚未报送的单位：{len(units)} 个"
    listed = [f"{number}. {unit.name}（{unit.code}）" for number, unit in enumerate(units, 1)]
    body = "\n".join([_title() + " · 催报名单", "", f"截至 {at:%Y-%m-%d %H:%M}，以下单位尚未报送填报日期为 "
                      f"{day.isoformat()} 的台账，已分别发出催报：", "", *listed]) + "\n"
    robot = [f"**{subject}**", *(f"> {line}" for line in listed), f"（{_title()}）"]
    return Notice(f"reminder-{day.isoformat()}-{office}", "reminder", office, subject, body, _fit(robot), day)


def red_lights_notice(unit: reference.Unit, day: date, red: pl.DataFrame, portal_url: str) -> Notice:
    """A county's or park's red lights (its projects), or a bureau's (the procedures it approves)."""
    subject = f"【亮红灯】{unit.name}：{day.isoformat()} 有 {red.height} 项手续超过承诺办结日期"
    items = []
    for number, row in enumerate(red.iter_rows(named=True), 1):
        whose = (f"{row['unit_name']}，" if unit.is_bureau else f"审批部门{row['approving_unit_name']}，")
        items.append(f"{number}. {row['project_name']}（{row['project_code']}）“{row['procedure']}”："
                     f"{row['status']}，承诺 {row['promised_date']} 办结，已超期 {row['workdays_overdue']} 个工作日"
                     f"（{whose}包保领导 {row['responsible_leader'] or '未填'}）")
    what = "贵部门审批的手续" if unit.is_bureau else "贵单位项目的手续"
    body = "\n".join([_title() + " · 红灯提醒", "", f"截至 {day.isoformat()} 调度，{what}中以下 {red.height} 项"
                      "已超过承诺办结日期（亮红灯），请抓紧办理并如实报送：", "", *items]) + "\n"
    more = [f"> ……另有 {red.height - ROBOT_ITEMS} 项，见邮件"] if red.height > ROBOT_ITEMS else []
    robot = [f"**{subject}**", *(f"> {item}" for item in items[:ROBOT_ITEMS]), *more,
             *([f"[查看]({portal_url}/)"] if portal_url else []), f"（{_title()}）"]
    return Notice(f"red_lights-{day.isoformat()}-{unit.code}", "red_lights", unit.code, subject, body, _fit(robot), day)
