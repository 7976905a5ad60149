"""The annotated return when there is no workbook to keep (a .csv, or a workbook the editor cannot
change): a new workbook of the cells exactly as read, as text — a .csv has no types, and guessing
them would change what the clerk wrote (codes with leading zeros, 2023.1.5) — with the same 问题清单
sheet first and the same marks. Strings stay strings: nothing from a submission can run."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from diaodu.intake.files import RawGrid
from diaodu.returns.listing import (
    FORMULA_LEAD_PATTERN,
    SUMMARY_HEADERS,
    SUMMARY_SHEET,
    SUMMARY_WIDTHS,
    Annotation,
    notes_by_tab,
    summary_rows,
)
from diaodu.returns.sheet_marks import MAX_NOTES
from diaodu.returns.styles import HEADER_RGB, MARK_RGB
from xlsxwriter.utility import xl_cell_to_rowcol

FIXED_TIMESTAMP = datetime(2000, 1, 1)  # workbook metadata: keeps re-written returns byte-identical


def write_values_copy(path: Path, findings: pl.DataFrame, grids: list[RawGrid]) -> Annotation:
    workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    workbook.set_properties({"created": FIXED_TIMESTAMP, "title": "退回标注"})
    bold = workbook.add_format({"bold": True, "bg_color": f"#{HEADER_RGB[2:]}"})
    text = workbook.add_format({"quote_prefix": True})
    bad = workbook.add_format({"bg_color": f"#{MARK_RGB[2:]}", "quote_prefix": True})

    summary = workbook.add_worksheet(SUMMARY_SHEET)
    summary.write_row(0, 0, SUMMARY_HEADERS, bold)
    for row, values in enumerate(summary_rows(findings), start=1):
        summary.write_row(row, 0, values)
        if (value := values[5]) and re.match(FORMULA_LEAD_PATTERN, value):
            summary.write_string(row, 5, value, text)
    for column, width in enumerate(SUMMARY_WIDTHS):
        summary.set_column(column, column, width)
    summary.freeze_panes(1, 0)

    notes = notes_by_tab(findings)
    used_names = {SUMMARY_SHEET}
    marked = noted = 0
    for grid in grids:
        sheet = workbook.add_worksheet(_sheet_name(grid.sheet_name, used_names))
        for row_index, row in enumerate(grid.cells.iter_rows()):
            sheet.write_row(row_index, grid.first_column, row)  # strings stay strings (workbook options)
        for offset, column in enumerate(grid.cells.columns):  # text Excel would run if edited: quoted
            risky = grid.cells.select(pl.col(column).str.contains(FORMULA_LEAD_PATTERN).arg_true()).to_series()
            for row_index in risky:
                sheet.write_string(row_index, grid.first_column + offset, grid.cells[row_index, column], text)
        for ref, note in notes.get(grid.sheet_name, {}).items():
            row_index, column = xl_cell_to_rowcol(ref)
            inside = row_index < grid.cells.height and 0 <= column - grid.first_column < grid.cells.width
            value = grid.cells[row_index, column - grid.first_column] if inside else None
            sheet.write_string(row_index, column, value or "", bad)  # overwrites the plain cell
            marked += 1
            if noted < MAX_NOTES:  # beyond this, the red cells and the 问题清单 sheet say it
                sheet.write_comment(ref, note, {"x_scale": 2, "y_scale": 1.5})
                noted += 1
    workbook.close()
    return Annotation(own_workbook=False, marked=marked, noted=noted)


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "表"
    candidate, counter = clean, 2
    while candidate in used:
        candidate, counter = f"{clean[:25]}_{counter}", counter + 1
    used.add(candidate)
    return candidate
