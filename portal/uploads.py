"""An upload goes where a dropped file goes: into `inbox/<UNIT>/`, under the clerk's own file name made
safe, written to a hidden temporary name (which the inbox ignores) and renamed, so the pipeline never
sees half a file. What the portal remembers of it (the pre-check, which drop it became) is kept in
`state/portal/uploads/<UNIT>/<id>.json`."""

from __future__ import annotations

import json
import os
import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from diaodu.intake.inbox import fit_name
from diaodu.portal.accounts import portal_state

ALLOWED_SUFFIXES = (".xlsx", ".csv")
# UTF-8 bytes (a Chinese character is 3): room for "(2)" and the run's claim prefix within 255 bytes a name
MAX_NAME_BYTES = 150
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{16}")


class UploadRefused(Exception):
    """An upload the portal does not take: a Chinese sentence for the clerk."""


@dataclass
class Upload:
    upload_id: str
    unit_code: str
    file_name: str  # as written into the inbox
    claim_key: str  # the drop the pipeline will record it as (unit / arrival time / name)
    uploaded_at: str
    precheck: dict  # what the pre-check said: outcome, counts, findings, seconds


def safe_file_name(name: str) -> str:
    """The clerk's file name without folders, control characters or what the inbox ignores (a leading
    dot, Excel's ~$); UploadRefused when it is not an .xlsx or .csv file."""
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(char for char in unicodedata.normalize("NFC", name)
                   if not unicodedata.category(char).startswith("C"))
    name = name.strip().lstrip(".~$ ").rstrip(". ")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in ALLOWED_SUFFIXES:
        raise UploadRefused("只接收 .xlsx 或 .csv 文件（请用报送模板填写后上传）")
    stem = fit_name(stem.rstrip(". "), MAX_NAME_BYTES - len(suffix)).rstrip(". ") or "台账"
    return stem + suffix.lower()


def write_into_inbox(inbox: Path, unit_code: str, file_name: str, content: bytes) -> tuple[Path, str]:
    """Writes the bytes as `inbox/<UNIT>/<file_name>` (another name if one is waiting there already);
    returns the path and the claim key the pipeline will give it."""
    folder = inbox / unit_code
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".upload-{secrets.token_hex(8)}.tmp"
    try:
        with open(staging, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
            # the inode the link will name: once linked, a run may claim the file away at any moment
            arrived_ns = os.fstat(handle.fileno()).st_mtime_ns
        stem, suffix = os.path.splitext(file_name)
        number = 1
        while True:
            target = folder / file_name
            try:
                os.link(staging, target)  # fails when the name is taken: never replaces a waiting file
                break
            except FileExistsError:
                number += 1
                file_name = f"{stem}({number}){suffix}"
    finally:
        staging.unlink(missing_ok=True)
    return target, f"{unit_code}/{arrived_ns}/{file_name}"


def uploads_dir(data_dir: Path, unit_code: str) -> Path:
    return portal_state(data_dir) / "uploads" / unit_code


def save_upload(data_dir: Path, upload: Upload) -> None:
    folder = uploads_dir(data_dir, upload.unit_code)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{upload.upload_id}.tmp"
    staging.write_text(json.dumps(asdict(upload), ensure_ascii=False), encoding="utf-8")
    os.replace(staging, folder / f"{upload.upload_id}.json")


def load_upload(data_dir: Path, unit_code: str, upload_id: str) -> Upload | None:
    """A unit's own upload; None for an id that is not one of its uploads."""
    if not UPLOAD_ID.fullmatch(upload_id):
        return None
    try:
        content = json.loads((uploads_dir(data_dir, unit_code) / f"{upload_id}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Upload(**content)


def recent_uploads(data_dir: Path, unit_code: str, limit: int = 10) -> list[Upload]:
    """A unit's latest uploads, newest first."""
    folder = uploads_dir(data_dir, unit_code)
    paths = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)[:limit] \
        if folder.is_dir() else []
    return [upload for path in paths if (upload := load_upload(data_dir, unit_code, path.stem)) is not None]


def new_upload_id() -> str:
    return secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]
