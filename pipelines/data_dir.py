"""What makes a directory a diaodu data directory, and making one.

A data directory holds a marker file, `diaodu-data.toml`, at its root, written by `diaodu init` and
`diaodu demo`. A marker rather than the presence of folders: a mistyped path has none, a folder that
happens to hold an inbox/ is not taken for one, and the file says what the directory is: a sample
fixed at one report date (`sample_report_date`), which the sensors and the Dagster UI follow. A
directory written by diaodu before the marker existed (warehouse.duckdb and state/) is accepted and
gets one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from diaodu.notices.contacts import write_template
from diaodu.schemas.reference import units

MARKER = "diaodu-data.toml"
FORMAT = 1


class NotADataDirectory(Exception):
    """A path given as a data directory that is not one (or cannot become one): a Chinese sentence."""


@dataclass(frozen=True)
class DataDirectory:
    root: Path
    sample_report_date: date | None  # a sample's fixed report date; None for a real campaign's data


def open_data_dir(path: Path) -> DataDirectory:
    """The data directory at `path`; NotADataDirectory when there is none (nothing is created)."""
    if not path.exists():
        raise NotADataDirectory(f"数据目录 {path} 不存在；新建数据目录请运行 diaodu init {path}")
    if not (path / MARKER).is_file():
        if not _written_before_the_marker(path):
            raise NotADataDirectory(f"{path} 不是 diaodu 数据目录（没有 {MARKER}）；请检查路径，"
                                    f"新建数据目录请运行 diaodu init DIR")
        _write_marker(path, None)
    return DataDirectory(path, _read_marker(path))


def init_data_dir(path: Path, sample: date | None = None) -> DataDirectory:
    """Creates (or completes) the layout: inbox/<UNIT>/ for every unit, outbox/, a header-only contacts.csv,
    the marker (with a sample's fixed report date). Refuses a directory with other contents, and mixing a sample with a
    real campaign's data."""
    if path.is_file() or (path.exists() and any(path.iterdir())):
        if not ((path / MARKER).is_file() or _written_before_the_marker(path)):
            raise NotADataDirectory(f"{path} 不是空目录，也不是 diaodu 数据目录；请换一个新的或空的目录")
        existing = sample_report_date(path) if (path / MARKER).is_file() else _unmarked_kind(path, sample)
        if existing != sample:
            raise NotADataDirectory(f"{path} 已是{_kind(existing)}，不能再作{_kind(sample)}使用；请换一个新的或空的目录")
    for unit_code in units():
        (path / "inbox" / unit_code).mkdir(parents=True, exist_ok=True)
    (path / "outbox").mkdir(exist_ok=True)
    if not (path / MARKER).is_file():
        write_template(path)  # who the notices go to: the data office fills it in (README, Notices)
        _write_marker(path, sample)
    return DataDirectory(path, sample)


def is_data_directory(path: Path) -> bool:
    """Whether `path` is a data directory (marked, or written before the marker existed)."""
    return (path / MARKER).is_file() or _written_before_the_marker(path)


def sample_report_date(path: Path) -> date | None:
    """The fixed report date when `path` is a sample's data directory, else None (also when unmarked)."""
    return _read_marker(path) if (path / MARKER).is_file() else None


def sample_note(sample: date) -> str:
    """What the Dagster UI says of a sample's data directory."""
    return f"示例数据，填报日期固定为 {sample.isoformat()}"


def _kind(sample: date | None) -> str:
    return "正式数据目录" if sample is None else f"示例数据目录（填报日期固定为 {sample}）"


def _unmarked_kind(path: Path, sample: date | None) -> date | None:
    """What an unmarked directory from before the marker holds: an earlier `diaodu demo`'s sample when
    every file it took in was for the sample's date, else a real campaign's data."""
    if sample is None:
        return None
    try:
        with duckdb.connect(str(path / "warehouse.duckdb"), read_only=True) as con:
            (others,) = con.execute("SELECT count(*) FILTER (WHERE report_date <> ?) "
                                    "FROM core.submission", [sample]).fetchall()[0]
    except duckdb.Error:
        return None
    return sample if others == 0 else None


def _written_before_the_marker(path: Path) -> bool:
    return (path / "warehouse.duckdb").is_file() and (path / "state").is_dir()


def _read_marker(path: Path) -> date | None:
    try:
        marker = tomllib.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise NotADataDirectory(f"{path / MARKER} 无法读取（{error}）") from error
    sample = marker.get("sample_report_date")
    if sample is not None and not isinstance(sample, date):
        raise NotADataDirectory(f"{path / MARKER}：sample_report_date 应为日期，如 2023-01-29")
    return sample


def _write_marker(path: Path, sample: date | None) -> None:
    lines = ["# diaodu 数据目录标记：由 diaodu init / diaodu demo 写入，请勿删除。", f"format = {FORMAT}"]
    if sample is not None:
        lines += ["# 示例数据：传感器与界面的填报日期固定为此日期。", f"sample_report_date = {sample.isoformat()}"]
    (path / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")
