"""The briefing's building blocks — sections of paragraphs, key figures, charts and tables — shared by
the HTML page and the workbook, and how a value of each kind reads in Chinese."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # text | int | change (signed int) | rate | points (change of a rate, 百分点) | date | money (万元)
    # | light (红/黄/绿 with a marker) | flag (true → 是)
    kind: str = "text"
    wide: bool = False  # long text (project names, problems): the column that takes the slack
    on_page: bool = True  # False: a detail only the workbook carries (the printed table stays narrow)


@dataclass
class Table:
    sheet: str  # the workbook sheet (≤ 31 characters) and the table's short name
    title: str
    columns: tuple[Column, ...]
    frame: pl.DataFrame
    html_rows: int | None = None  # the page shows the first N rows; the workbook has them all
    empty: str = "无。"
    tone: str = ""  # red | yellow: a marker on the page's rows
    numbered: bool = True  # a 序号 column on the page (not for tables that carry their own rank)
    on_page: bool = True  # False: a workbook sheet only (e.g. every open problem, not just the late ones)

    @property
    def page_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.on_page)

    def records(self, limit: int | None = None) -> list[dict]:
        frame = self.frame if limit is None else self.frame.head(limit)
        missing = [c.key for c in self.columns if c.key not in frame.columns]
        if missing:
            raise KeyError(f"table {self.sheet}: no column {missing}")
        return frame.select([c.key for c in self.columns]).to_dicts()


@dataclass(frozen=True)
class Paragraph:
    text: str
    tone: str = ""  # alert | note | ""


@dataclass(frozen=True)
class Figure:
    svg: str
    caption: str


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    detail: str = ""
    tone: str = ""  # red | yellow | green | ""


Block = Paragraph | Figure | Table | list[KeyFigure]


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def day_text(day: date | datetime | None, report_year: int | None = None) -> str:
    """1月29日 within the report's year, 2022年8月26日 otherwise."""
    if day is None:
        return ""
    if report_year is not None and day.year == report_year:
        return f"{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def full_day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.2%}"


def points_text(change: float | None) -> str:
    if change is None:
        return "—"
    return "0.00" if round(change * 100, 2) == 0 else f"{change * 100:+.2f}"


def change_text(change: int | None) -> str:
    return "—" if change is None else "0" if change == 0 else f"{change:+d}"


def cell_text(value: Any, kind: str, report_year: int) -> str:  # a frame cell: its type follows `kind`
    """How a value reads on the page (the workbook writes typed cells instead)."""
    if kind == "change":
        return change_text(value)
    if kind == "points":
        return points_text(value)
    if value is None:
        return ""
    if kind == "rate":
        return rate_text(value)
    if kind == "date":
        return day_text(value, report_year)
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "flag":
        return "是" if value else ""
    return str(value)
