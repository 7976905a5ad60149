"""Raw grids → located sheets: find the header row wherever it is, map headers (and their
aliases) to the contract's fields, and pick up the `填报单位：… 填报日期：…` line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from diaodu.intake.cells import as_date, clean_text
from diaodu.intake.files import FileRejected, RawGrid
from diaodu.schemas.models import SHEETS, SheetSpec

HEADER_SCAN_ROWS = 30
REPORT_DATE_HEADERS = {"填报日期", "报送日期", "填报时间"}
REPORTING_UNIT_HEADERS = {"填报单位", "报送单位"}
REPORT_DATE_LINE = re.compile(r"(?:填报|报送)(?:日期|时间)\s*[:：]\s*([0-9０-９][^\s,，;；]*)")
REPORTING_UNIT_LINE = re.compile(r"(?:填报|报送)单位\s*[:：]\s*([^\s,，;；]+)")


def header_key(text: str | None) -> str:
    """How headers are compared: NFKC, no blanks, no required-field stars."""
    return re.sub(r"[\s*＊]", "", unicodedata.normalize("NFKC", text or ""))


@dataclass
class LocatedSheet:
    spec: SheetSpec
    grid: RawGrid
    header_row: int  # spreadsheet row number of the header
    columns: dict[str, tuple[str, str]]  # field → (header as written, grid column)
    extra_headers: list[str]
    rows: pl.DataFrame  # one text column per field present, plus row_number
    report_dates: list = field(default_factory=list)  # distinct dates found (line or column)
    unparsed_report_dates: list[str] = field(default_factory=list)
    unit_names: list[str] = field(default_factory=list)


def _header_lookup(spec: SheetSpec) -> dict[str, str]:
    return {header_key(header): name for name in spec.columns for header in spec.headers(name)}


def _row_texts(grid: RawGrid, index: int) -> dict[str, str]:
    row = grid.cells.row(index, named=True)
    return {column: value for column, value in row.items() if value is not None and value.strip()}


def locate(grid: RawGrid) -> LocatedSheet | None:
    """The sheet this grid holds, or None when it holds none of the contract's sheets.

    Raises `FileRejected` when a header row is recognisable but lacks required columns.
    """
    best_partial: tuple[int, SheetSpec, list[str]] | None = None
    for index in range(min(HEADER_SCAN_ROWS, grid.cells.height)):
        texts = _row_texts(grid, index)
        keys = {column: header_key(text) for column, text in texts.items()}
        for spec in _specs_by_hint(grid):
            lookup = _header_lookup(spec)
            fields = {lookup[key]: column for column, key in keys.items() if key in lookup}
            if spec.marker not in fields or "project_code" not in fields:
                continue
            missing = [name for name in spec.required_fields if name not in fields]
            if not missing:
                return _located(grid, spec, index, texts, keys, fields)
            if best_partial is None or len(missing) < len(best_partial[2]):
                best_partial = (index, spec, missing)
    if best_partial:
        _, spec, missing = best_partial
        raise FileRejected("file.missing_columns", "、".join(spec.header(name) for name in missing), sheet=spec.name)
    return None


def _specs_by_hint(grid: RawGrid) -> list[SheetSpec]:
    # Columns decide; the sheet or file name only breaks ties (`连山区项目手续台账.csv`).
    hint = grid.sheet_name + grid.file_hint
    return sorted(SHEETS, key=lambda spec: spec.name not in hint)


def _located(grid: RawGrid, spec: SheetSpec, index: int, texts: dict[str, str], keys: dict[str, str],
             fields: dict[str, str]) -> LocatedSheet:
    meta_columns = {key: column for column, key in keys.items() if key in REPORT_DATE_HEADERS | REPORTING_UNIT_HEADERS}
    extra = [texts[c] for c, key in keys.items() if c not in fields.values() and c not in meta_columns.values()]
    body = grid.cells.slice(index + 1).with_row_index("row_number", offset=index + 2)
    rows = body.select(
        pl.col("row_number").cast(pl.Int32),
        *[pl.col(column).alias(name) for name, column in fields.items()],
        *[pl.col(column).alias(f"_meta_{key}") for key, column in meta_columns.items()],
    )
    # Rows with nothing in any contract column are spacing or totals, not data.
    rows = rows.filter(pl.any_horizontal(pl.col(name).str.contains(r"\S") for name in fields))
    located = LocatedSheet(
        spec=spec,
        grid=grid,
        header_row=index + 1,
        columns={name: (texts[column], column) for name, column in fields.items()},
        extra_headers=extra,
        rows=rows.select("row_number", *fields),
    )
    _read_report_meta(located, grid.cells.slice(0, index), rows)
    return located


def _read_report_meta(located: LocatedSheet, above: pl.DataFrame, rows: pl.DataFrame) -> None:
    date_texts, unit_names = [], []
    for row in above.iter_rows():
        line = "  ".join(cell for cell in row if cell)
        line = unicodedata.normalize("NFKC", line)
        date_texts += REPORT_DATE_LINE.findall(line)
        unit_names += REPORTING_UNIT_LINE.findall(line)
    for column in rows.columns:
        if column.removeprefix("_meta_") in REPORT_DATE_HEADERS:
            date_texts += rows.select(clean_text(column)).to_series().drop_nulls().unique().to_list()
        if column.removeprefix("_meta_") in REPORTING_UNIT_HEADERS:
            unit_names += rows.select(clean_text(column)).to_series().drop_nulls().unique().to_list()
    parsed = pl.DataFrame({"text": date_texts}, schema={"text": pl.String}).with_columns(
        date=as_date(clean_text("text"))
    )
    located.report_dates = sorted(set(parsed["date"].drop_nulls().to_list()))
    located.unparsed_report_dates = parsed.filter(pl.col("date").is_null())["text"].to_list()
    located.unit_names = sorted({unicodedata.normalize("NFKC", name) for name in unit_names})
