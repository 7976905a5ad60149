"""What the portal shows, read from the published warehouse and the outbox. Every function takes
the unit it reads for; nothing here lists or opens a path a caller named (see `outbox_file`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from diaodu.returns.receipts import return_paths
from diaodu.schemas import reference
from diaodu.warehouse.merge import SubmissionRecord
from diaodu.warehouse.store import Warehouse


@dataclass(frozen=True)
class OutboxFile:
    name: str
    size: int
    modified: datetime


@contextmanager
def published(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The published warehouse, read-only; None before the pipeline's first run."""
    warehouse = Warehouse(data_dir)
    if not warehouse.published_path.exists():
        yield None
        return
    with warehouse.reading() as con:
        yield con


def submissions(con: duckdb.DuckDBPyConnection | None, unit_code: str, limit: int = 100) -> list[SubmissionRecord]:
    """A unit's submissions, newest first."""
    if con is None:
        return []
    frame = con.sql("SELECT * FROM core.submission WHERE unit_code = ? ORDER BY seq DESC LIMIT ?",
                    params=[unit_code, limit]).pl()
    return [SubmissionRecord(**row) for row in frame.iter_rows(named=True)]


def submission(con: duckdb.DuckDBPyConnection | None, unit_code: str | None, submission_id: str,
               ) -> SubmissionRecord | None:
    """One submission, only when it is `unit_code`'s (None: the office, any unit's)."""
    if con is None:
        return None
    frame = con.sql("SELECT * FROM core.submission WHERE submission_id = ? AND unit_code = coalesce(?, unit_code)",
                    params=[submission_id, unit_code]).pl()
    return SubmissionRecord(**frame.row(0, named=True)) if frame.height else None


def submission_of_claim(con: duckdb.DuckDBPyConnection | None, unit_code: str, claim_key: str) -> str | None:
    """The submission an upload became, once the pipeline has published it."""
    if con is None:
        return None
    rows = con.execute("SELECT submission_id FROM core.submission WHERE unit_code = ? AND claim_key = ?",
                       [unit_code, claim_key]).fetchall()
    return rows[0][0] if rows else None


def returns_of(outbox: Path, record: SubmissionRecord) -> dict[str, Path]:
    """The receipt, findings and annotated copy the pipeline wrote for a submission (those that exist)."""
    return {kind: path for kind, path in return_paths(outbox, record).items() if path.is_file()}


def outbox_files(folder: Path) -> list[OutboxFile]:
    """The regular files of one outbox folder, newest first (receipts, 调度核实通知, 督办单 … alike)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, ZoneInfo(reference.city().timezone))
        files.append(OutboxFile(path.name, stat.st_size, modified))
    return sorted(files, key=lambda item: (item.modified, item.name), reverse=True)


def outbox_file(folder: Path, name: str) -> Path | None:
    """`folder/name` when `name` is one of the folder's listed files, compared as a whole name, so no
    `../`, no folder and no link ever resolves to anything."""
    return folder / name if name in {item.name for item in outbox_files(folder)} else None


def not_reported(con: duckdb.DuckDBPyConnection | None, day: date) -> list[tuple[str, str]]:
    """(code, name) of the units with no accepted or partly accepted file for `day`, as mart.unit_reports counts."""
    if con is None:
        return []
    return con.execute(
        "SELECT u.unit_code, u.unit_name FROM ref.unit AS u WHERE NOT EXISTS (SELECT 1 FROM mart.submissions AS s "
        "WHERE s.unit_code = u.unit_code AND s.report_date = ? AND s.outcome IN ('accepted', 'partial')) "
        "ORDER BY u.unit_code", [day]).fetchall()


def latest_by_unit(con: duckdb.DuckDBPyConnection | None) -> dict[str, SubmissionRecord]:
    if con is None:
        return {}
    frame = con.sql("SELECT * FROM core.submission QUALIFY row_number() OVER (PARTITION BY unit_code "
                    "ORDER BY seq DESC) = 1").pl()
    return {row["unit_code"]: SubmissionRecord(**row) for row in frame.iter_rows(named=True)}
