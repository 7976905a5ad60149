"""Where the warehouse lives and how it is opened.

DuckDB allows one writer per file, and a reader holding a file blocks writers. So the pipeline
never writes the files downstream tools open: it writes `state/work.duckdb`, and after each step
publishes what changed (warehouse/publish.py): new Parquet parts of the history tables under
`warehouse.parts/` and a small catalog file renamed atomically onto `warehouse.duckdb`, which holds
the small tables, views of the history tables over their parts, and the `mart` views. A reader that
keeps the old catalog open keeps seeing the complete state it opened; the next reader sees the new one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from diaodu.schemas import reference
from diaodu.warehouse.publish import Publisher
from diaodu.warehouse.view_docs import document_view
from diaodu.warehouse.views import mart_views

SQL_DIR = Path(__file__).resolve().parent


def sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame, replace: bool = False) -> None:
    """Inserts a frame's rows by column name (OR REPLACE: a row with the same key is superseded)."""
    con.register("incoming_rows", rows)
    try:
        con.execute(f"INSERT {'OR REPLACE ' if replace else ''}INTO {table} BY NAME SELECT * FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def migrations() -> dict[int, Path]:
    return {int(path.name.split("_")[0]): path for path in (SQL_DIR / "migrations").glob("*.sql")}


SCHEMA_VERSION = max(migrations(), default=1)
REBUILD_SUFFIX = "_before_rebuild"


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version of an existing warehouse; None for a new, empty file."""
    tables = {row[0] for row in con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
    if "core.submission" not in tables:
        return None
    if "core.schema_version" not in tables:
        return 1
    return con.execute("SELECT max(version) FROM core.schema_version").fetchall()[0][0] or 1


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Brings the file to the current schema: the DDL (a new file gets every table; an existing one
    only the ref and rollup tables it lacks), the migrations after its version, then the views.
    A migration that changes a table's keys renames it to `<table>_before_rebuild`; the DDL then
    creates the table anew and its rows are carried over by name."""
    version = stored_version(con)
    pending = [path for number, path in sorted(migrations().items()) if version is not None and number > version]
    con.execute("BEGIN")
    create_tables(con, version)
    if pending:
        for path in pending:
            con.execute(path.read_text(encoding="utf-8"))
        create_tables(con, version)  # anew, what a migration moved aside
        for schema, moved in con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                         "WHERE suffix(table_name, ?)", [REBUILD_SUFFIX]).fetchall():
            con.execute(f"INSERT INTO {schema}.{moved.removesuffix(REBUILD_SUFFIX)} BY NAME "
                        f"SELECT * FROM {schema}.{moved}")
            con.execute(f"DROP TABLE {schema}.{moved}")
    con.execute((SQL_DIR / "ddl" / "core_schema_version.sql").read_text(encoding="utf-8"))
    for number in range((version or SCHEMA_VERSION - 1) + 1, SCHEMA_VERSION + 1):
        con.execute("INSERT INTO core.schema_version VALUES (?, ?)", [number, reference.local_now()])
    for view in mart_views():  # each after the views it reads
        con.execute(view.sql)
        document_view(con, view.sql, view.name)
    con.execute("COMMIT")
    _load_reference(con)


def create_tables(con: duckdb.DuckDBPyConnection, version: int | None) -> None:
    """The tables of warehouse/ddl that are missing (every table in a new file; the core tables of an
    existing file change only through migrations)."""
    for path in sorted((SQL_DIR / "ddl").glob("*.sql")):
        if version is None or not path.name.startswith("core_"):
            con.execute(path.read_text(encoding="utf-8"))


def _load_reference(con: duckdb.DuckDBPyConnection) -> None:
    units = pl.DataFrame(
        [(u.code, u.name, u.kind, u.admin_code) for u in reference.units().values()],
        schema=["unit_code", "unit_name", "kind", "admin_code"], orient="row",
    )
    procedures = pl.DataFrame(
        [(name, owner, order) for order, (name, owner) in enumerate(reference.procedures().items(), start=1)],
        schema=["procedure", "owner_unit", "sort_order"], orient="row",
    )
    targets = pl.DataFrame(reference.start_rate_targets(), schema=["target_date", "target_rate", "label"], orient="row")
    con.execute("BEGIN")
    for table, rows in (("ref.unit", units), ("ref.procedure", procedures), ("ref.start_rate_target", targets)):
        con.execute(f"DELETE FROM {table}")
        insert(con, table, rows)
    con.execute("COMMIT")


# DuckDB's own buffers for a writer (it spills beyond): a year's backfill runs in ~1 GiB instead of
# growing its cache towards 80 % of the machine, which the Dagster daemon and webserver share.
MEMORY_LIMIT = "1GiB"


class Warehouse:
    """The working database and the published file, under one data directory."""

    def __init__(self, data_dir: Path, lock_wait_seconds: float = 300) -> None:
        self.data_dir = Path(data_dir)
        self.work_path = self.data_dir / "state" / "work.duckdb"
        self.published_path = self.data_dir / "warehouse.duckdb"
        self.lock_wait_seconds = lock_wait_seconds

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # Only the pipeline's own writers ever open the working file (readers get the published
        # copy), and Dagster runs one run at a time; a CLI run started beside the daemon waits here.
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                return duckdb.connect(str(self.work_path), config={"memory_limit": MEMORY_LIMIT})
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the working database; publishes when the block succeeds."""
        self.work_path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
        try:
            apply_schema(con)
            yield con
            con.execute("CHECKPOINT")
            self.publish(con)  # under the working file's lock: publishers never overlap
        finally:
            con.close()

    @contextmanager
    def held(self) -> Iterator[Path]:
        """The working file, checkpointed and held: no run writes it until the block ends (a run that
        starts meanwhile waits, as for another run), so its bytes can be copied as one consistent state."""
        con = self._connect()
        try:
            con.execute("CHECKPOINT")
            yield self.work_path
        finally:
            con.close()

    def publish(self, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        """Publishes the working state for readers: the parts that changed and a new catalog, renamed
        atomically onto the published file. Returns the parts written per history table."""
        for stale in self.published_path.parent.glob(f".{self.published_path.name}.*.tmp*"):
            stale.unlink(missing_ok=True)  # left by a publisher that was killed mid-write
        return Publisher(con, self.published_path, SCHEMA_VERSION).publish()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published file, as downstream tools open it."""
        con = duckdb.connect(str(self.published_path), read_only=True)
        try:
            yield con
        finally:
            con.close()
