"""Cell normalisation and typing, as Polars expressions over text columns.

People write `2023年1月29日`, `２０２３/1/29`, Excel serials, `3亿元`, `3,000万元`; all of it is
normalised (NFKC first: Pandera's float coercion rejects full-width digits) and typed here. A cell
that does not parse becomes null in its typed column, and `ingest.judge` reports that cell.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

EXCEL_EPOCH = pl.date(1899, 12, 30)
PLAUSIBLE_YEARS = (1990, 2100)
MAX_WORKDAYS = 1000  # a 承诺时限 beyond four years of working days is a typing slip
# Serials of plausible dates (1982…2064): a bare number outside this is not read as a date.
EXCEL_SERIAL_RANGE = (30000, 60000)
AMOUNT_UNITS = {"亿元": 10000.0, "亿": 10000.0, "万元": 1.0, "万": 1.0, "元": 0.0001, "": 1.0}
YES_NO = {"是": True, "否": False, "Y": True, "N": False, "YES": True, "NO": False, "TRUE": True, "FALSE": False,
          "√": True, "×": False}


def clean_text(column: str) -> pl.Expr:
    """NFKC, line breaks and runs of blanks folded to one space, trimmed; empty → null."""
    text = (
        pl.col(column)
        .str.normalize("NFKC")
        .str.replace_all(r"[\s\u00a0\u3000]+", " ")
        .str.strip_chars()
    )
    return pl.when(text == "").then(None).otherwise(text)


def as_date(text: pl.Expr) -> pl.Expr:
    # 2023年1月29日 / 2023.1.29 / 2023/1/29 / 2023-01-29 00:00:00 → 2023-1-29
    dashed = (
        text.str.replace(r"^(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$",
                         "$1-$2-$3")
    )
    from_text = dashed.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    compact = text.str.strptime(pl.Date, "%Y%m%d", strict=False)  # 20230129
    serial = text.cast(pl.Float64, strict=False)
    from_serial = (
        pl.when(serial.is_between(*EXCEL_SERIAL_RANGE) & (serial == serial.floor()))
        .then(EXCEL_EPOCH + pl.duration(days=serial.cast(pl.Int64, strict=False)))
        .otherwise(None)
    )
    parsed = pl.coalesce(from_text, pl.when(text.str.len_chars() == 8).then(compact), from_serial)
    # A year outside this is a typing slip (0202, 9999), and would break working-day arithmetic.
    return pl.when(parsed.dt.year().is_between(*PLAUSIBLE_YEARS)).then(parsed)


def as_amount(text: pl.Expr) -> pl.Expr:
    """Money in 万元: `30000`, `3亿元`, `3,000万元`, `12.5亿`; a bare number is already 万元."""
    compact = text.str.replace_all(r"[,\s]", "")
    number = compact.str.extract(r"^(-?\d+(?:\.\d+)?)(?:亿元|亿|万元|万|元)?$", 1).cast(pl.Float64, strict=False)
    unit = compact.str.extract(r"^-?\d+(?:\.\d+)?(亿元|亿|万元|万|元)?$", 1).fill_null("")
    return number * unit.replace_strict(AMOUNT_UNITS, default=None, return_dtype=pl.Float64)


def as_yes_no(text: pl.Expr) -> pl.Expr:
    return text.str.to_uppercase().replace_strict(YES_NO, default=None, return_dtype=pl.Boolean)


def as_workdays(text: pl.Expr) -> pl.Expr:
    """A time limit in working days: `20`, `20个工作日`, `20工作日`."""
    days = text.str.replace_all(" ", "").str.extract(r"^(\d{1,4})(?:个?工作日)?$", 1).cast(pl.Int64, strict=False)
    return pl.when(days <= MAX_WORKDAYS).then(days)


def as_choice(text: pl.Expr, aliases: dict[str, str]) -> pl.Expr:
    """Maps the aliases people use (办理中 → 正办理) to the contract's values; others pass unchanged."""
    if not aliases:
        return text
    return text.replace(aliases)


def typer_for(dtype: pl.DataType, aliases: dict[str, str]) -> tuple[Callable[[pl.Expr], pl.Expr], str | None]:
    """The typing expression for a field of the given Pandera/Polars dtype."""
    if dtype == pl.Date:
        return as_date, "cell.format.date"
    if dtype == pl.Float64:
        return as_amount, "cell.format.amount"
    if dtype == pl.Boolean:
        return as_yes_no, "cell.format.yesno"
    if dtype == pl.Int64:
        return as_workdays, "cell.format.integer"
    return (lambda text: as_choice(text, aliases)), None
