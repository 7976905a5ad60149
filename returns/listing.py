"""What every annotated return holds, whichever way it is written: the 问题清单 rows and the
notes per cell, and what was done (for the receipt to say exactly that)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SUMMARY_SHEET = "问题清单"
SUMMARY_HEADERS = ["表", "工作表", "单元格", "行号", "列", "填写的值", "问题与修改方法", "级别"]
SUMMARY_WIDTHS = [14, 14, 14, 14, 14, 14, 80, 14]
# A cell starting with one of these is a formula to Excel once edited (OWASP CSV injection).
FORMULA_LEAD_PATTERN = r"^[=+\-@\t\r]"


@dataclass(frozen=True)
class Annotation:
    """What an annotated return is: the unit's own workbook with marks added, or (from a .csv, or
    a workbook this editor cannot change) a new workbook of the values as text."""

    own_workbook: bool
    marked: int  # cells filled red
    noted: int  # of them, with the message as a note


def summary_rows(findings: pl.DataFrame) -> list[tuple]:
    """Every finding, one row each, in the order of SUMMARY_HEADERS."""
    return findings.select(
        "sheet", "tab", "cell", "row_number", "column_name", "value", "message",
        pl.when(pl.col("severity") == "error").then(pl.lit("退回")).otherwise(pl.lit("提示")),
    ).rows()


def notes_by_tab(findings: pl.DataFrame) -> dict[str, dict[str, str]]:
    """tab → cell → the messages of the returned findings located at that cell."""
    located = findings.filter(pl.col("cell").is_not_null() & pl.col("tab").is_not_null()
                              & (pl.col("severity") == "error"))
    notes: dict[str, dict[str, str]] = {}
    for tab, cell, message in located.select("tab", "cell", "message").iter_rows():
        cells = notes.setdefault(tab, {})
        cells[cell] = f"{cells[cell]}\n{message}" if cell in cells else message
    return notes
