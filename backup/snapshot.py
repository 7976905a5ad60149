"""Writing a backup of a data directory while the service runs.

Consistency: the working database is copied while it is held (`Warehouse.held`: checkpointed, no run
writing), so the backup has the warehouse as the last finished transaction left it, even when a killed
run had merged files it never published. Under the same hold the inbox and the claimed files
(state/processing) are copied: no run can claim or finish a file meanwhile, so every drop is either in
the warehouse copy or among the files copied (a restored directory's next run takes them in, exactly as
after a killed run). The rest is copied after the hold, while runs go on: the archive only grows, so it
holds at least every file the warehouse copy refers to. Each file is first copied aside until a copy is
stable (same size and time before and after), then added; a file that disappears meanwhile is skipped.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import duckdb

from diaodu.backup.manifest import MANIFEST_NAME, WAREHOUSE_NAME, FileEntry, Manifest, Refused, diaodu_version
from diaodu.schemas.reference import local_now
from diaodu.warehouse.store import Warehouse, stored_version

# Copied while the warehouse is held: what a run claims and finishes.
HELD = ("inbox", "state/processing")
# Copied afterwards, relative to the data directory (folders whole, patterns as globs). Left out: the
# working and published warehouse files (the snapshot replaces both), Dagster's run history under
# dagster/ (see README), logs/ and backups/.
LIVE = ("diaodu-data.toml", "archive", "outbox", "quarantine", "accounts*", "state/portal/accounts.json",
        "contacts.csv", "dagster.yaml", "workspace.yaml", "dagster/*.yaml")
NAME_PREFIX, NAME_SUFFIX = "diaodu-backup-", ".tar.gz"
STABLE_ATTEMPTS = 3


def write_backup(data_dir: Path, target: Path) -> Manifest:
    """Writes one archive of the data directory to `target` (atomically: a half-written backup is
    never found under its name) and returns its manifest."""
    data_dir = data_dir.resolve()
    if not data_dir.is_dir():
        raise Refused(f"数据目录不存在：{data_dir}")
    if target.exists():
        raise Refused(f"备份文件已存在，不覆盖：{target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".diaodu-backup-") as staging:
        staged = Path(staging)
        _stage_held(data_dir, staged / "held")
        entries: dict[str, FileEntry] = {}
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for path in _files(staged / "held"):
                entries[path.relative_to(staged / "held").as_posix()] = _add(tar, path, staged / "held")
            for path in (found for pattern in LIVE for found in _files(data_dir, pattern)):
                name = path.relative_to(data_dir).as_posix()
                aside = staged / "live" / name
                if _stable_copy(path, aside):
                    entries[name] = _add(tar, aside, staged / "live")
                    aside.unlink()
            manifest = Manifest(local_now().isoformat(), str(data_dir), diaodu_version(),
                                _schema_version(staged / "held" / WAREHOUSE_NAME), entries)
            _add_bytes(tar, MANIFEST_NAME, manifest.to_json())
    os.chmod(partial, 0o600)  # it may hold accounts
    partial.replace(target)
    return manifest


def _stage_held(data_dir: Path, held: Path) -> None:
    warehouse = Warehouse(data_dir)
    held.mkdir(parents=True)
    with warehouse.held() if warehouse.work_path.exists() else nullcontext(None) as work:
        if work is not None:
            shutil.copyfile(work, held / WAREHOUSE_NAME)
        for path in (found for pattern in HELD for found in _files(data_dir, pattern)):
            _stable_copy(path, held / path.relative_to(data_dir))


def _files(root: Path, pattern: str = "*") -> Iterator[Path]:
    """Regular files matching the pattern under root, folders whole; links are never followed."""
    for match in sorted(root.glob(pattern)):
        if match.is_symlink():
            continue
        if match.is_file():
            yield match
        elif match.is_dir():
            yield from sorted(path for path in match.rglob("*") if path.is_file() and not path.is_symlink())


def _stable_copy(source: Path, target: Path) -> bool:
    """Copies a file that may be being written (with its time); False when it disappeared. A file still
    changing after a few copies is kept as last copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(STABLE_ATTEMPTS):
        try:
            before = source.stat()
            shutil.copy2(source, target)
            after = source.stat()
        except FileNotFoundError:
            return False
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            break
    return True


def _add(tar: tarfile.TarFile, path: Path, root: Path) -> FileEntry:
    stat = path.stat()
    with open(path, "rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        handle.seek(0)
        info = tar.gettarinfo(fileobj=handle, arcname=path.relative_to(root).as_posix())
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, handle)
    return FileEntry(sha256, stat.st_size, stat.st_mtime_ns)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(local_now().timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _schema_version(warehouse: Path) -> int | None:
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return stored_version(con)


def nightly_backup(data_dir: Path, backup_dir: Path, keep: int) -> Path:
    """A backup named by its time into backup_dir, then only the newest `keep` backups are kept."""
    target = backup_dir / f"{NAME_PREFIX}{local_now():%Y%m%d-%H%M%S}{NAME_SUFFIX}"
    write_backup(data_dir, target)
    prune_backups(backup_dir, keep)
    return target


def prune_backups(backup_dir: Path, keep: int) -> list[Path]:
    """Deletes all but the newest `keep` backups this module named (never another file); returns them."""
    if keep < 1:
        raise ValueError(f"keep at least one backup, not {keep}")
    stale = sorted(backup_dir.glob(f"{NAME_PREFIX}*{NAME_SUFFIX}"))[:-keep]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def backup_command(data_dir: Path, target: Path) -> int:
    """`diaodu backup`: exit code 0 when written, 2 when refused, 1 when the warehouse stayed busy."""
    try:
        manifest = write_backup(data_dir, target)
    except Refused as refused:
        print(f"备份未进行：{refused}", file=sys.stderr)
        return 2
    except duckdb.IOException as busy:  # a run held the warehouse longer than Warehouse waits
        print(f"备份未完成：仓库一直被运行占用，请稍后重试（{busy}）", file=sys.stderr)
        return 1
    schema = "无仓库" if manifest.schema_version is None else f"仓库版本 v{manifest.schema_version}"
    print(f"备份完成：{target.resolve()}（{len(manifest.files)} 个文件，{schema}）")
    return 0
