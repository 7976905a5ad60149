"""The year's 开复工率 targets (reference data: `schemas/reference/start_rate_targets.csv`), loaded into
`ref.start_rate_target` for `mart.start_rate`. The data office adds next year's rows there."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from schemas.reference import REFERENCE_DIR

TARGETS_CSV = REFERENCE_DIR / "start_rate_targets.csv"


def read_start_rate_targets(path: Path = TARGETS_CSV) -> pl.DataFrame:
    targets = pl.read_csv(path, schema={"target_date": pl.Date, "target_rate": pl.Float64, "label": pl.String})
    bad = targets.filter(~pl.col("target_rate").is_between(0, 1, closed="right") | pl.col("target_date").is_null())
    if not bad.is_empty():
        raise ValueError(f"{path}: target_rate must be a fraction in (0, 1] with a date: {bad.to_dicts()}")
    return targets


def load_start_rate_targets(con: duckdb.DuckDBPyConnection, path: Path = TARGETS_CSV) -> int:
    """Replaces ref.start_rate_target with the file's rows; returns how many."""
    targets = read_start_rate_targets(path)
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM ref.start_rate_target")
        con.execute("INSERT INTO ref.start_rate_target SELECT target_date, target_rate, label FROM targets")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return targets.height
