"""The briefing's tables as one workbook, a sheet each, with typed cells (dates, counts, rates) so the
office can sort and filter them. Text from submissions is written as text, never as a formula."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from diaodu.dispatch.tables import KeyFigure, Table

NUMBER_FORMATS = {"int": "0", "change": "+0;-0;0", "rate": "0.00%", "points": "+0.00;-0.00;0.00",
                  "money": "#,##0", "date": "yyyy-mm-dd"}


def _width(table: Table, index: int) -> float:
    """Column width in Excel units: CJK characters take two."""
    column = table.columns[index]
    values = [column.label] + [str(v) for v in table.frame[column.key].head(200).to_list() if v is not None]
    longest = max(sum(2 if ord(ch) > 0x2E7F else 1 for ch in text) for text in values)
    return min(max(longest + 2, 8), 48 if column.wide else 30)


def write_workbook(path: Path, title: str, figures: list[KeyFigure], tables: list[Table],
                   created: datetime | None = None) -> Path:
    """`created`: the document's date (default now); a document that must come out byte for byte the same
    when written again (a 督办单) gives its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per process: two runs may write one day's briefing at once
    book = xlsxwriter.Workbook(str(staging), {"strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False})
    if created is not None:
        book.set_properties({"created": created})
    heading = book.add_format({"bold": True, "font_size": 13, "font_color": "#C00000"})
    header = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF1F5", "align": "center",
                              "valign": "vcenter", "text_wrap": True})
    plain = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    typed = {kind: book.add_format({"border": 1, "valign": "top", "num_format": fmt})
             for kind, fmt in NUMBER_FORMATS.items()}
    tones = {"红": book.add_format({"border": 1, "bg_color": "#F4C7C3", "align": "center"}),
             "黄": book.add_format({"border": 1, "bg_color": "#FCE8B2", "align": "center"}),
             "绿": book.add_format({"border": 1, "bg_color": "#C8E6C9", "align": "center"})}

    summary = book.add_worksheet("概况")
    summary.write_string(0, 0, title, heading)
    summary.write_row(1, 0, ["指标", "数值", "说明"], header)
    for row, figure in enumerate(figures, start=2):
        summary.write_string(row, 0, figure.label, plain)
        summary.write_string(row, 1, figure.value, plain)
        summary.write_string(row, 2, figure.detail, plain)
    summary.set_column(0, 0, 22)
    summary.set_column(1, 1, 18)
    summary.set_column(2, 2, 60)

    for table in tables:
        sheet = book.add_worksheet(table.sheet)
        sheet.write_string(0, 0, f"{table.title}（{table.frame.height}）", heading)
        sheet.write_row(1, 0, [c.label for c in table.columns], header)
        for index in range(len(table.columns)):
            sheet.set_column(index, index, _width(table, index))
        for row, record in enumerate(table.records(), start=2):
            for index, column in enumerate(table.columns):
                _write(sheet, row, index, record[column.key], column.kind, plain, typed, tones)
        sheet.freeze_panes(2, 0)
        if table.frame.height:
            sheet.autofilter(1, 0, table.frame.height + 1, len(table.columns) - 1)
    book.close()
    staging.replace(path)  # a reader never opens a half-written workbook
    return path


def _write(sheet: Worksheet, row: int, col: int, value: Any, kind: str, plain: Format, typed: dict[str, Format],
           tones: dict[str, Format]) -> None:
    if value is None:
        sheet.write_blank(row, col, None, plain)
    elif kind == "date" and isinstance(value, (date, datetime)):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), typed["date"])
    elif kind in typed and isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value, typed[kind])
    elif kind == "flag":
        sheet.write_string(row, col, "是" if value else "", plain)
    elif kind == "light":
        sheet.write_string(row, col, str(value), tones.get(str(value), plain))
    else:
        sheet.write_string(row, col, str(value), plain)
