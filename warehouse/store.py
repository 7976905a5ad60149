"""Where the warehouse lives and how it is opened.

DuckDB allows one writer per file, and a reader holding a file blocks writers. So the pipeline
never writes the file downstream tools open: it writes `state/work.duckdb`, and after each step
publishes a checkpointed copy by atomic rename onto `warehouse.duckdb`. A reader that keeps the
old file open keeps seeing the complete state it opened; the next reader sees the new one.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from schemas import reference

SQL_DIR = Path(__file__).resolve().parent


def sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    for folder in ("ddl", "mart"):
        for path in sorted((SQL_DIR / folder).glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
    _load_reference(con)


def _load_reference(con: duckdb.DuckDBPyConnection) -> None:
    units = pl.DataFrame(
        [(u.code, u.name, u.kind, u.admin_code) for u in reference.units().values()],
        schema=["unit_code", "unit_name", "kind", "admin_code"], orient="row",
    )
    procedures = pl.DataFrame(
        [(name, owner, order) for order, (name, owner) in enumerate(reference.procedures().items(), start=1)],
        schema=["procedure", "owner_unit", "sort_order"], orient="row",
    )
    con.execute("BEGIN")
    con.execute("DELETE FROM ref.unit; INSERT INTO ref.unit SELECT * FROM units")
    con.execute("DELETE FROM ref.procedure; INSERT INTO ref.procedure SELECT * FROM procedures")
    con.execute("COMMIT")


class Warehouse:
    """The working database and the published file, under one data directory."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.work_path = self.data_dir / "state" / "work.duckdb"
        self.published_path = self.data_dir / "warehouse.duckdb"

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the working database; publishes when the block succeeds."""
        self.work_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.work_path))
        try:
            apply_schema(con)
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        self.publish()

    def publish(self) -> None:
        staging = self.published_path.with_name(f".{self.published_path.name}.{os.getpid()}.tmp")
        shutil.copyfile(self.work_path, staging)
        os.replace(staging, self.published_path)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published file, as downstream tools open it."""
        con = duckdb.connect(str(self.published_path), read_only=True)
        try:
            yield con
        finally:
            con.close()
