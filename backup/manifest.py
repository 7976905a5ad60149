"""A backup's manifest: every file it holds (size, SHA-256, modification time), when it was written, by
which diaodu and at which warehouse schema version. Written last into the archive, checked on restore."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import IO

FORMAT = "diaodu-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
WAREHOUSE_NAME = "warehouse.duckdb"  # the consistent snapshot of the working database


class Refused(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the data officer."""


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    mtime_ns: int  # kept exactly: an inbox file's arrival time is part of its record


@dataclass(frozen=True)
class Manifest:
    created_at: str  # Asia/Shanghai wall time
    source: str  # the data directory backed up
    diaodu_version: str
    schema_version: int | None  # of the warehouse snapshot; None when the directory had none yet
    files: dict[str, FileEntry]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            fields = json.loads(data.decode("utf-8"))
            if fields.get("format") != FORMAT or fields.get("format_version") != FORMAT_VERSION:
                found = f"{fields.get('format')} {fields.get('format_version')}"
                raise Refused(f"不是 diaodu 备份，或备份格式不受支持（{found}）")
            files = {name: FileEntry(**entry) for name, entry in fields.pop("files").items()}
            return cls(files=files, **fields)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise Refused(f"备份清单 {MANIFEST_NAME} 无法读取（{type(error).__name__}）") from error

    def check(self, found: dict[str, tuple[str, int]]) -> None:
        """Refuses unless the archive held exactly the manifest's files, each with its size and hash."""
        missing = sorted(set(self.files) - set(found))
        extra = sorted(set(found) - set(self.files))
        damaged = sorted(name for name, entry in self.files.items()
                         if name in found and found[name] != (entry.sha256, entry.size))
        for problem, names in (("缺少文件", missing), ("校验值不符", damaged), ("清单外的文件", extra)):
            if names:
                raise Refused(f"备份与清单不符：{problem} {len(names)} 个（如 {names[0]}）")


def diaodu_version() -> str:
    return version("diaodu")


def copy_hashing(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    """Copies a stream, returning the SHA-256 and size of what was copied."""
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
        target.write(block)
    return digest.hexdigest(), size
