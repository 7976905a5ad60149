"""The drop folders: what is waiting in `inbox/<UNIT>/`, and claiming it for a run.

A run claims a file by renaming it into `state/processing/<UNIT>/` (atomic: when two runs race for
a file, one wins and the other skips it). A claimed file stays there until its receipt is written;
a run that was killed leaves it behind, and the next run finishes it. The claim name keeps the
file's arrival time, so the same drop is recognised and never counted twice.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from diaodu.schemas import reference

IGNORED_PREFIXES = (".", "~$")  # hidden files, Excel's lock files
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")
CLAIM_SEPARATOR = "__"
QUARANTINE_NAME_BYTES = 200  # room for the time and unit put before it, within Linux's 255 bytes a name
LOG = logging.getLogger("diaodu.intake")


@dataclass(frozen=True)
class InboxFile:
    unit_code: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ClaimedFile:
    """A file taken out of the inbox for processing, with what identifies that drop."""

    unit_code: str
    path: Path
    name: str  # as the unit named it
    arrived_ns: int  # its modification time when it was claimed

    @property
    def claim_key(self) -> str:
        return f"{self.unit_code}/{self.arrived_ns}/{self.name}"

    def claimed_at(self) -> float:
        """When a run claimed it (the rename sets the change time); now if it is already gone."""
        try:
            return self.path.stat().st_ctime
        except FileNotFoundError:
            return time.time()

    def received_at(self) -> datetime:
        """Arrival as Asia/Shanghai wall time."""
        moment = datetime.fromtimestamp(self.arrived_ns / 1e9, ZoneInfo(reference.city().timezone))
        return moment.replace(tzinfo=None, microsecond=0)


def is_candidate(path: Path) -> bool:
    return not path.name.startswith(IGNORED_PREFIXES) and not path.name.lower().endswith(IGNORED_SUFFIXES)


def scan_inbox(inbox: Path) -> tuple[list[InboxFile], list[Path]]:
    """Files waiting in `inbox/<UNIT>/`, oldest first, and the paths nobody can be told about
    (unknown unit folders, links, folders inside a unit's folder): those go to quarantine."""
    files, strays = [], []
    if not inbox.is_dir():
        return files, strays
    for folder in sorted(inbox.iterdir()):
        if not folder.is_dir() or folder.is_symlink():
            if is_candidate(folder):
                strays.append(folder)
            continue
        for path in sorted(folder.iterdir()):
            if not is_candidate(path):
                continue
            if folder.name not in reference.units() or path.is_symlink() or not path.is_file():
                strays.append(path)
            else:
                files.append(InboxFile(folder.name, path))
    files.sort(key=lambda item: (_mtime_ns(item.path), item.path.name))
    return files, strays


def _mtime_ns(path: Path) -> int:
    try:
        return path.lstat().st_mtime_ns
    except FileNotFoundError:
        return 0


def quarantine(paths: list[Path], data_dir: Path) -> list[Path]:
    moved = []
    for path in paths:
        now = datetime.now(ZoneInfo(reference.city().timezone))
        name = fit_name(path.name, QUARANTINE_NAME_BYTES)
        target = data_dir / "quarantine" / f"{now:%Y%m%d-%H%M%S}_{path.parent.name}_{name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(str(path), target)  # a link is moved as a link, never followed
        except FileNotFoundError:
            continue
        moved.append(target)
    return moved


def fit_name(name: str, max_bytes: int) -> str:
    """The name cut to at most `max_bytes` bytes of UTF-8 (what the file system counts), never inside
    a character, its extension kept."""
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode()) > max_bytes // 2:  # no real extension: cut the whole name
        stem, suffix = name, ""
    return stem.encode()[:max_bytes - len(suffix.encode())].decode("utf-8", "ignore") + suffix


def processing_dir(data_dir: Path) -> Path:
    return data_dir / "state" / "processing"


def claim(item: InboxFile, data_dir: Path) -> ClaimedFile | None:
    """Moves a waiting file into processing; None when another run took it first, or when it cannot
    be moved (a name too long for the claim's prefix …): then it goes to quarantine, so that one file
    never stops every unit's files on every run."""
    try:
        arrived_ns = item.path.stat().st_mtime_ns
        target = processing_dir(data_dir) / item.unit_code / f"{arrived_ns}{CLAIM_SEPARATOR}{item.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(item.path, target)
    except FileNotFoundError:
        return None
    except OSError as error:
        LOG.warning("Quarantined %s/%s: it cannot be claimed (%s)", item.unit_code, item.name, error.strerror)
        quarantine([item.path], data_dir)
        return None
    return ClaimedFile(item.unit_code, target, item.name, arrived_ns)


def leftover_claims(data_dir: Path) -> list[ClaimedFile]:
    """Files a killed run claimed but did not finish, oldest first."""
    claims = []
    root = processing_dir(data_dir)
    if not root.is_dir():
        return claims
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.is_symlink()):
        for path in sorted(folder.iterdir()):
            arrived, _, name = path.name.partition(CLAIM_SEPARATOR)
            if folder.name in reference.units() and arrived.isdigit() and name:
                claims.append(ClaimedFile(folder.name, path, name, int(arrived)))
    return sorted(claims, key=lambda claimed: (claimed.arrived_ns, claimed.name))
