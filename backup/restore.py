"""Restoring a backup into an empty directory anywhere: every file is extracted beside the target,
checked against the manifest (size and SHA-256, nothing missing, nothing extra), given back its
modification time, and only then moved into place; the warehouse snapshot becomes both the working
and the published file, migrated to this diaodu's schema. The restored directory's next run takes in
the inbox and claimed files the backup held, as after a killed run."""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from diaodu.backup.manifest import MANIFEST_NAME, WAREHOUSE_NAME, Manifest, Refused, copy_hashing
from diaodu.warehouse.store import SCHEMA_VERSION, Warehouse


def restore(archive: Path, into: Path) -> Manifest:
    if not archive.is_file():
        raise Refused(f"备份文件不存在：{archive}")
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise Refused(f"目标目录不是空的：{into}（恢复只写入空目录或新目录）")
    into.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=into.parent, prefix=f".{into.name}.restoring-"))
    try:
        manifest = _extract_checked(archive, staging)
        if manifest.schema_version is not None:
            if manifest.schema_version > SCHEMA_VERSION:
                raise Refused(f"备份的仓库版本 v{manifest.schema_version} 高于本程序的 v{SCHEMA_VERSION}，"
                              "请先升级 diaodu")
            work = Warehouse(staging).work_path
            work.parent.mkdir(parents=True, exist_ok=True)
            (staging / WAREHOUSE_NAME).replace(work)
        _move_into(staging, into)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if manifest.schema_version is not None:
        with Warehouse(into).writing():  # migrated to this version's schema, then published
            pass
    return manifest


def _extract_checked(archive: Path, staging: Path) -> Manifest:
    found: dict[str, tuple[str, int]] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = PurePosixPath(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    raise Refused(f"备份含有不允许的条目：{member.name}")
                source = tar.extractfile(member)
                if source is None:
                    raise Refused(f"备份含有不允许的条目：{member.name}")
                if member.name == MANIFEST_NAME:
                    manifest_bytes = source.read()
                    continue
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as out:
                    found[member.name] = copy_hashing(source, out)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise Refused(f"备份文件已损坏或不完整：{archive}（{type(error).__name__}: {first_line}）") from error
    if manifest_bytes is None:
        raise Refused(f"备份缺少清单 {MANIFEST_NAME}：{archive}（不完整？）")
    manifest = Manifest.from_json(manifest_bytes)
    manifest.check(found)
    for name, entry in manifest.files.items():
        os.utime(staging / name, ns=(entry.mtime_ns, entry.mtime_ns))
    return manifest


def _move_into(staging: Path, into: Path) -> None:
    if not into.exists():
        staging.rename(into)
        return
    for child in staging.iterdir():  # into is an empty directory
        child.rename(into / child.name)


def restore_command(archive: Path, into: Path) -> int:
    """`diaodu restore`: exit code 0 when restored, 2 when refused (damaged backup, non-empty target)."""
    try:
        manifest = restore(archive, into)
    except Refused as refused:
        print(f"恢复未进行：{refused}", file=sys.stderr)
        return 2
    print(f"恢复完成：{into.resolve()}（{len(manifest.files)} 个文件，备份于 {manifest.created_at}，"
          f"来自 {manifest.source}，diaodu {manifest.diaodu_version}）")
    return 0
