"""Publishing the warehouse for readers, in proportion to what changed.

The published `warehouse.duckdb` is a small catalog file. It holds the small tables whole (reference
data, submissions, findings, the rollup runs, any table not listed below) and, for the tables that
grow with history, a view of the same name over immutable Parquet parts in `warehouse.parts/`:

- the version tables (`core.*_version`) are cut by the 旬 (days 1–10, 11–20, 21–end of a month) of
  `valid_to`, the versions still current (`valid_to` NULL) forming the part `open`;
- the rollup tables (`rollup.procedure_status`, `project_status`, `problem_status`, `supervision`) by
  the 旬 of `as_of_date`.

Then the `mart` views, created in the catalog from the same SQL and comments as in the working file,
so downstream tools open `warehouse.duckdb` and read `mart.*` as before.

A publish rewrites only the parts that changed since the last one and reuses the others' files:
- a version row is only ever written with the `seq` of the submission that writes it, and the only
  other change merging makes is `valid_to`, set to the report date of a row written with it; so the
  parts changed are `open`, the 旬 of `valid_to` and of `report_date` of the rows with a `seq` above
  the last one published;
- the rollup tables are written for a span of report dates together with `rollup.rollup_run` (in one
  transaction): the parts changed are the 旬 of the dates whose `rollup_run` row differs from the one
  the last catalog holds.
Everything is written again (a full publish) when there is no earlier catalog, when it is of the old
single-file layout or unreadable, or when the schema version changed (a migration may rewrite rows).

Readers: every part is a new file (its name carries the publish's id) and the catalog is replaced by
an atomic rename, so a new connection sees the new state whole; a connection already open keeps the
catalog it opened and the parts it names. A replaced part is deleted `RETAIN_SECONDS` (a day) after
the publish that replaced it: a connection held open longer than that across publishes fails on
its next query of a history view and must reconnect. When the last catalog cannot be read (missing,
or locked by a read-write connection such as the DuckDB CLI's), nothing says which parts its readers
use: every file not named by the new catalog is retired then, none deleted at once. A publisher
killed at any point leaves the last catalog and its parts untouched; the parts it wrote but never
published are deleted by the next publish (a day later when it cannot read the last catalog). Parts,
their folder and the catalog are fsynced before the rename, and a part is reused only when it still
has the size the catalog recorded and Parquet's `PAR1` at both ends (else everything is written
again), so a power loss cannot leave a catalog naming an empty part. The catalog names its parts by
absolute path: a data directory moved without a run in between must be published again (any run
does it; `diaodu restore` always does).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from diaodu.warehouse import failpoints
from diaodu.warehouse.view_docs import document_view
from diaodu.warehouse.views import mart_views

RETAIN_SECONDS = 24 * 3600
OPEN = "open"  # the part of versions still current


@dataclass(frozen=True)
class Partitioned:
    table: str  # schema.table
    column: str  # the date whose 旬 names a row's part (NULL: the part `open`)
    kind: str  # "version" or "rollup": how the parts changed since the last publish are found


PARTITIONED = (
    Partitioned("core.procedure_version", "valid_to", "version"),
    Partitioned("core.project_version", "valid_to", "version"),
    Partitioned("core.problem_version", "valid_to", "version"),
    Partitioned("rollup.procedure_status", "as_of_date", "rollup"),
    Partitioned("rollup.project_status", "as_of_date", "rollup"),
    Partitioned("rollup.problem_status", "as_of_date", "rollup"),
    Partitioned("rollup.supervision", "as_of_date", "rollup"),
)
MAGIC = b"PAR1"  # a Parquet file's first and last four bytes


def xun(column: str) -> str:
    """SQL: the first day of the 旬 of a date, as text; `open` for NULL."""
    return (f"coalesce(strftime(make_date(year({column}), month({column}), CASE WHEN day({column}) <= 10 THEN 1 "
            f"WHEN day({column}) <= 20 THEN 11 ELSE 21 END), '%Y-%m-%d'), '{OPEN}')")


def part_filter(column: str, part: str) -> str:
    """SQL: the rows of a part, as a range the zone maps prune."""
    if part == OPEN:
        return f"{column} IS NULL"
    return (f"{column} >= DATE '{part}' AND {column} < CASE WHEN day(DATE '{part}') = 21 "
            f"THEN date_trunc('month', DATE '{part}') + INTERVAL 1 MONTH ELSE DATE '{part}' + 10 END")


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fsync(path: Path) -> None:
    """Flushes a file's data, or a folder's entries, to the disk (what a power loss keeps)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def intact(path: Path, size: int) -> bool:
    """Whether a part still is the file written: its recorded size and Parquet's magic at both ends
    (a power loss can leave a file empty, short, or its size right over zeroed blocks)."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size != size or size < 2 * len(MAGIC) or handle.read(len(MAGIC)) != MAGIC:
                return False
            handle.seek(-len(MAGIC), os.SEEK_END)
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class Publisher:
    """Writes the catalog and the changed parts from the working connection (under its lock)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, published_path: Path, schema_version: int) -> None:
        self.con = con
        self.published_path = published_path
        self.parts_dir = published_path.with_name(published_path.stem + ".parts")
        self.schema_version = schema_version
        self.publish_id = datetime.now().strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.work_db = con.execute("SELECT current_database()").fetchall()[0][0]

    def publish(self) -> dict[str, int]:
        """Publishes the working state; returns the number of parts written per table."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        staging = self.published_path.with_name(f".{self.published_path.name}.{os.getpid()}.tmp")
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
        previous = self._previous()
        tables = self._tables()
        written: dict[str, int] = {}
        parts: dict[str, dict[str, str]] = {}
        for spec in PARTITIONED:
            if spec.table not in tables:
                continue
            old = previous["parts"].get(spec.table, {}) if previous and not previous["full"] else {}
            changed = self._changed_parts(spec, previous) if previous and old else None
            parts[spec.table], written[spec.table] = self._write_parts(spec, old, changed)
        referenced = {name for table in parts.values() for name in table.values()}
        now = datetime.now()
        if previous:
            retired = dict(previous["retired"])
            for table in previous["parts"].values():
                retired.update({name: now for name in table.values() if name not in referenced})
        else:
            # No readable catalog says which parts its readers still use (it may be only locked by a
            # read-write connection): every file not named now is retired, none deleted at once.
            retired = {path.name: now for path in self.parts_dir.iterdir() if path.name not in referenced}
        retired = {name: at for name, at in retired.items()
                   if name not in referenced and (now - at).total_seconds() < RETAIN_SECONDS}
        self.con.execute("DETACH DATABASE IF EXISTS previous_catalog")
        self._write_catalog(staging, tables, parts, previous, self._layout(tables), retired, now)
        # The parts' data and names, and the catalog, on disk before a rename that names them
        fsync(self.parts_dir)
        fsync(staging)
        failpoints.reach("publish")
        os.replace(staging, self.published_path)
        fsync(self.published_path.parent)  # the rename lasts before any part it replaced goes
        for path in self.parts_dir.iterdir():  # replaced long ago, or written by a killed publisher
            if path.name not in referenced and path.name not in retired:
                path.unlink(missing_ok=True)
        return written

    # ---- what was published before -------------------------------------------------------------
    def _previous(self) -> dict | None:
        """The last catalog's parts, retired parts, submission seq and layout (None: no catalog of this
        layout, or unreadable, even only locked); `full` when every part must be written again (another
        schema version, a part missing or not the file written) — its parts are still retired, not
        deleted, for the readers that hold it."""
        if not self.published_path.exists():
            return None
        try:
            self.con.execute(f"ATTACH {quoted(str(self.published_path))} AS previous_catalog (READ_ONLY)")
            version, seq, layout = self.con.execute(
                "SELECT schema_version, submission_seq, layout FROM previous_catalog.publish.state").fetchall()[0]
            parts: dict[str, dict[str, str]] = {}
            intact_all = True
            for table, part, name, size in self.con.execute(
                    "SELECT table_name, part, file_name, bytes FROM previous_catalog.publish.part").fetchall():
                parts.setdefault(table, {})[part] = name
                intact_all = intact_all and intact(self.parts_dir / name, size)
            full = version != self.schema_version or not intact_all
            retired = dict(self.con.execute(
                "SELECT file_name, retired_at FROM previous_catalog.publish.retired").fetchall())
            return {"parts": parts, "retired": retired, "seq": seq, "layout": layout, "full": full}
        except duckdb.Error:
            self.con.execute("DETACH DATABASE IF EXISTS previous_catalog")
            return None

    def _changed_parts(self, spec: Partitioned, previous: dict) -> set[str]:
        if spec.kind == "version":
            rows = self.con.execute(
                f"SELECT DISTINCT part FROM (SELECT unnest([{xun('valid_to')}, {xun('report_date')}, '{OPEN}']) "
                f"AS part FROM {spec.table} WHERE seq > $seq)", {"seq": previous["seq"]}).fetchall()
        else:
            rows = self.con.execute(
                f"SELECT DISTINCT {xun('as_of_date')} FROM ("
                "(SELECT * FROM rollup.rollup_run EXCEPT ALL SELECT * FROM previous_catalog.rollup.rollup_run) "
                "UNION ALL "
                "(SELECT * FROM previous_catalog.rollup.rollup_run EXCEPT ALL SELECT * FROM rollup.rollup_run))"
            ).fetchall()
        return {row[0] for row in rows}

    # ---- writing -------------------------------------------------------------------------------
    def _tables(self) -> dict[str, list[tuple[str, str]]]:
        """Every table of the working file: schema.table → [(column, type)]."""
        tables: dict[str, list[tuple[str, str]]] = {}
        for schema, table, column, data_type in self.con.execute(
                "SELECT c.schema_name, c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c "
                "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
                "WHERE c.database_name = current_database() AND NOT t.temporary "
                "ORDER BY c.schema_name, c.table_name, c.column_index").fetchall():
            tables.setdefault(f"{schema}.{table}", []).append((column, data_type))
        return tables

    def _write_parts(self, spec: Partitioned, old: dict[str, str],
                     changed: set[str] | None) -> tuple[dict[str, str], int]:
        """The table's parts after this publish (part → file name) and how many were written. With
        `changed` None every part is written."""
        if changed is None:
            present = {row[0] for row in self.con.execute(
                f"SELECT DISTINCT {xun(spec.column)} FROM {spec.table}").fetchall()}
            keep: dict[str, str] = {}
        else:
            present = set(old) | changed
            keep = {part: name for part, name in old.items() if part not in changed}
        written = 0
        for part in sorted(present - set(keep)):
            name = f"{spec.table}.{part}.{self.publish_id}.parquet"
            target = self.parts_dir / name
            rows = self.con.execute(
                f"SELECT count(*) FROM {spec.table} WHERE {part_filter(spec.column, part)}").fetchall()[0][0]
            if not rows:  # a part emptied (a rollup date dropped, versions moved on): it goes
                continue
            self.con.execute(f"COPY (SELECT * FROM {spec.table} WHERE {part_filter(spec.column, part)}) "
                             f"TO {quoted(str(target))} (FORMAT parquet, COMPRESSION zstd)")
            fsync(target)
            keep[part] = name
            written += 1
        return keep, written

    def _layout(self, tables: dict[str, list[tuple[str, str]]]) -> str:
        """What the catalog's shape depends on: the schema version, every table's columns, the mart
        views' SQL, the partitioned tables and where their parts are (a moved data directory gets views
        naming its own parts). An earlier catalog of the same layout is copied and its rows and part
        lists refreshed instead of being built again (views and their comments ~0.3 s)."""
        shape = [self.schema_version, sorted(tables.items()), [view.sql for view in mart_views()],
                 [spec.table for spec in PARTITIONED], str(self.parts_dir.resolve())]
        return hashlib.sha256(json.dumps(shape, ensure_ascii=False).encode()).hexdigest()

    def _write_catalog(self, staging: Path, tables: dict[str, list[tuple[str, str]]],
                       parts: dict[str, dict[str, str]], previous: dict | None, layout: str,
                       retired: dict[str, datetime], now: datetime) -> None:
        con = self.con
        before = previous["parts"] if previous is not None and previous["layout"] == layout else None
        reuse = before is not None
        if reuse:
            shutil.copyfile(self.published_path, staging)
        con.execute(f"ATTACH {quoted(str(staging))} AS catalog")
        con.execute("BEGIN")  # one commit for the whole catalog: statement by statement costs ~1 s
        try:
            if not reuse:
                for schema in sorted({name.split(".")[0] for name in tables} | {"mart", "publish"}):
                    con.execute(f"CREATE SCHEMA catalog.{schema}")
                con.execute("CREATE TABLE catalog.publish.state (schema_version INTEGER, submission_seq BIGINT, "
                            "published_at TIMESTAMP, publish_id VARCHAR, layout VARCHAR)")
                con.execute("CREATE TABLE catalog.publish.part (table_name VARCHAR, part VARCHAR, file_name VARCHAR, "
                            "bytes BIGINT)")
                con.execute("CREATE TABLE catalog.publish.retired (file_name VARCHAR, retired_at TIMESTAMP)")
            partitioned = {spec.table for spec in PARTITIONED}
            for table, columns in tables.items():
                if table in partitioned:
                    if before is None or parts.get(table, {}) != before.get(table, {}):
                        con.execute(f"CREATE OR REPLACE VIEW catalog.{table} AS "
                                    f"{self._over_parts(columns, parts.get(table, {}))}")
                elif reuse:
                    con.execute(f"DELETE FROM catalog.{table}")
                    con.execute(f"INSERT INTO catalog.{table} SELECT * FROM {table}")
                else:
                    con.execute(f"CREATE TABLE catalog.{table} AS SELECT * FROM {table}")
            for table in ("state", "part", "retired"):
                con.execute(f"DELETE FROM catalog.publish.{table}")
            con.execute("INSERT INTO catalog.publish.state SELECT $version, "
                        "(SELECT coalesce(max(seq), 0) FROM core.submission), $now, $id, $layout",
                        {"version": self.schema_version, "now": now, "id": self.publish_id, "layout": layout})
            rows = [(table, part, name, (self.parts_dir / name).stat().st_size)
                    for table, files in parts.items() for part, name in files.items()]
            con.execute("INSERT INTO catalog.publish.part SELECT unnest($t::VARCHAR[]), unnest($p::VARCHAR[]), "
                        "unnest($f::VARCHAR[]), unnest($b::BIGINT[])",
                        {"t": [r[0] for r in rows], "p": [r[1] for r in rows], "f": [r[2] for r in rows],
                         "b": [r[3] for r in rows]})
            con.execute("INSERT INTO catalog.publish.retired SELECT unnest($f::VARCHAR[]), unnest($a::TIMESTAMP[])",
                        {"f": list(retired), "a": list(retired.values())})
            if not reuse:
                con.execute("USE catalog")  # the views bind to the catalog's relations, as readers will
                try:
                    for view in mart_views():
                        con.execute(view.sql)
                        document_view(con, view.sql, view.name)
                finally:
                    con.execute(f"USE {self.work_db}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute("DETACH catalog")

    def _over_parts(self, columns: list[tuple[str, str]], files: dict[str, str]) -> str:
        """A table's rows over its parts, with its own column names and types (none when it has no part)."""
        select = ", ".join(f'"{column}"::{data_type} AS "{column}"' for column, data_type in columns)
        if not files:
            nulls = ", ".join(f'NULL AS "{column}"' for column, _ in columns)
            return f"SELECT {select} FROM (SELECT {nulls}) WHERE false"
        listed = ", ".join(quoted(str(self.parts_dir / name)) for _, name in sorted(files.items()))
        return f"SELECT {select} FROM read_parquet([{listed}])"
