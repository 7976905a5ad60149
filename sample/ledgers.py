"""The one writer of generated ledgers (the sample campaign, the benchmarks' generator, the tests'
corpus), as units send them. In .xlsx, text stays text — never a formula, a link or a number —,
numbers are number cells and dates are date cells, as a clerk's Excel stores them; the creation
time is fixed, so the same rows give the same bytes. In .csv, as Excel's "save as CSV" writes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

CREATED = datetime(2023, 1, 29, 9, 0, 0)
WIDE_HEADERS = ("项目名称", "问题描述", "建设单位")


class LedgerBook:
    """A workbook of ledger sheets, its cell formats made once."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self.title = book.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.head = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter",
                                     "text_wrap": True})
        self.day = book.add_format({"num_format": "yyyy/m/d"})
        self.wrap = book.add_format({"text_wrap": True})

    def ledger(self, name: str, title_lines: tuple[str, str], header: Sequence[str],
               rows: Sequence[Sequence[object]]) -> None:
        """A titled sheet as units keep them: the title merged across the header, the 填报单位/填报日期
        line, the header row, then the rows."""
        sheet = self.book.add_worksheet(name)
        sheet.merge_range(0, 0, 0, len(header) - 1, title_lines[0], self.title)
        sheet.write_string(1, 0, title_lines[1])
        for column, text in enumerate(header):
            sheet.write_string(2, column, text, self.head)
            sheet.set_column(column, column, 40 if text in WIDE_HEADERS else 26 if "代码" in text or "编号" in text else 14)
        for row, values in enumerate(rows, start=3):
            self.row(sheet, row, values)

    def sheet(self, name: str, rows: Sequence[Sequence[object]]) -> None:
        """A sheet of bare rows, whatever they hold (title lines, header, data, nothing)."""
        sheet = self.book.add_worksheet(name)
        for row, values in enumerate(rows):
            self.row(sheet, row, values)

    def row(self, sheet: Worksheet, row: int, values: Sequence[object]) -> None:
        """Typed cells; None and empty text leave the cell blank."""
        for column, value in enumerate(values):
            if isinstance(value, str):
                if value:
                    sheet.write_string(row, column, value, self.wrap if "\n" in value else None)
            elif isinstance(value, bool):
                raise TypeError(f"a ledger says 是 or 否, not {value!r}")
            elif isinstance(value, (int, float)):
                sheet.write_number(row, column, value)
            elif isinstance(value, date):
                sheet.write_datetime(row, column, datetime(value.year, value.month, value.day), self.day)
            elif value is not None:
                raise TypeError(f"no cell type for {value!r}")


@contextmanager
def ledger_book(target: Path | IO[bytes], author: str = "", constant_memory: bool = False) -> Iterator[LedgerBook]:
    """Writes the workbook on leaving the block; constant_memory (rows in order) for large sheets."""
    book = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "constant_memory": constant_memory})
    book.set_properties({"created": CREATED, "author": author})
    yield LedgerBook(book)
    book.close()


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """A workbook of bare sheets, as bytes."""
    buffer = io.BytesIO()
    with ledger_book(buffer) as book:
        for name, rows in sheets.items():
            book.sheet(name, rows)
    return buffer.getvalue()


def ledger_csv_bytes(title_lines: tuple[str, str] | None, header: Sequence[str], rows: Sequence[Sequence[object]],
                     encoding: str) -> bytes:
    """A sheet saved as CSV: the title lines (Excel pads the merged title row with commas), the
    header, the rows; dates as 2023-01-29, blanks empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    pad = [""] * (len(header) - 1)
    for line in title_lines or ():
        writer.writerow([line, *pad])
    writer.writerow(header)
    writer.writerows([["" if value is None else str(value) for value in row] for row in rows])
    return buffer.getvalue().encode(encoding)
