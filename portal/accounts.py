"""The portal's accounts, sessions and lockouts, kept under `<data_dir>/state/portal/`.

One account per unit (named by its unit code) and office accounts (any other name) that see every
unit. Passwords are kept only as Argon2id hashes. A session is a random token: the browser holds it
signed in a cookie, the server keeps its SHA-256 with the account, its CSRF token and its expiry, so
disabling an account ends its sessions at once. Every change is a read-modify-write under a file lock,
written to a temporary file and renamed (the CLI and the running portal share these files)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from diaodu.schemas.reference import local_now, units

SESSION_SECONDS = 8 * 3600  # a working day; then the clerk logs in again
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
MAX_UNKNOWN_NAMES = 1000  # failure counts kept for names without an account
MIN_PASSWORD_LENGTH = 8
OFFICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{1,31}")

_hasher = PasswordHasher()  # Argon2id, the library's memory-hard defaults (64 MiB, 3 passes)


class AccountError(Exception):
    """A mistake in managing accounts: a Chinese sentence for the CLI."""


@dataclass(frozen=True)
class Account:
    name: str
    office: bool
    disabled: bool
    updated_at: str

    @property
    def label(self) -> str:
        return "数据办公室" if self.office else units()[self.name].name


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    token_hash: str


@dataclass(frozen=True)
class LoginResult:
    session_token: str | None  # set when the login succeeded
    locked_minutes: int = 0  # > 0: locked out, for about this long


def portal_state(data_dir: Path) -> Path:
    return data_dir / "state" / "portal"


class AccountStore:
    def __init__(self, data_dir: Path, clock=time.time) -> None:
        self.root = portal_state(data_dir)
        self.clock = clock

    # -- files ---------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read(self, name: str) -> dict:
        try:
            return json.loads((self.root / f"{name}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _write(self, name: str, content: dict) -> None:
        staging = self.root / f".{name}.{os.getpid()}.tmp"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # hashes and session ids: owner only
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, ensure_ascii=False, indent=1)
        os.replace(staging, self.root / f"{name}.json")

    def secret(self) -> bytes:
        """The key that signs session cookies; made once per data directory."""
        path = self.root / "secret.key"
        with self._locked():
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
            return path.read_text().strip().encode()

    # -- accounts ------------------------------------------------------------------------------
    def set_password(self, name: str, password: str, office: bool) -> Account:
        if office:
            if name.upper() in units() or not OFFICE_NAME.fullmatch(name):
                raise AccountError(f"办公室账号名“{name}”不可用：应为字母开头的 2–32 位字母、数字、_ 或 -，且不是单位代码")
        elif name not in units():
            raise AccountError(f"没有单位代码“{name}”（可用：{'、'.join(units())}）")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")
        with self._locked():
            accounts = self._read("accounts")
            if name in accounts and accounts[name]["office"] != office:
                raise AccountError(f"账号“{name}”已存在且类型不同")
            accounts[name] = {"office": office, "hash": _hasher.hash(password), "disabled": False,
                              "updated_at": local_now().isoformat(sep=" ")}
            self._write("accounts", accounts)
            self._end_sessions(name)  # a new password ends the sessions of whoever knew the old one
            lockouts = self._read("lockouts")
            lockouts.pop(name, None)
            self._write("lockouts", lockouts)
        return self.account(name)  # type: ignore[return-value]

    def disable(self, name: str) -> None:
        with self._locked():
            accounts = self._read("accounts")
            if name not in accounts:
                raise AccountError(f"没有账号“{name}”")
            accounts[name]["disabled"] = True
            accounts[name]["updated_at"] = local_now().isoformat(sep=" ")
            self._write("accounts", accounts)
            self._end_sessions(name)

    def _end_sessions(self, name: str) -> None:
        sessions = self._read("sessions")
        self._write("sessions", {key: value for key, value in sessions.items() if value["account"] != name})

    def accounts(self) -> list[Account]:
        return [Account(name, entry["office"], entry["disabled"], entry["updated_at"])
                for name, entry in sorted(self._read("accounts").items())]

    def account(self, name: str) -> Account | None:
        return next((account for account in self.accounts() if account.name == name), None)

    # -- logging in ----------------------------------------------------------------------------
    def login(self, name: str, password: str) -> LoginResult:
        """Checks a password; MAX_FAILURES wrong ones in a row, each within LOCK_SECONDS of the last,
        lock the name for LOCK_SECONDS (then it opens again by itself, so nobody can lock a unit out
        for good).

        The file lock is held only to read and write the files, never while Argon2 works, so logins
        do not queue behind each other. An attempt counts as a failure before its password is checked
        (and the count is dropped if it was right): parallel guesses can never get past MAX_FAILURES."""
        name = name.strip()[:64]
        if name.upper() in units():  # unit codes are upper case; office names never equal one ignoring case
            name = name.upper()
        with self._locked():
            now = self.clock()
            lockouts = _live(self._read("lockouts"), now)
            entry = lockouts.get(name, {"failures": 0, "last": now})
            if entry["failures"] >= MAX_FAILURES:
                return LoginResult(None, max(1, round((entry["last"] + LOCK_SECONDS - now) / 60)))
            lockouts[name] = counted = {"failures": entry["failures"] + 1, "last": now}
            accounts = self._read("accounts")
            stored: dict = accounts.get(name) or {"disabled": True}
            self._write("lockouts", _capped(lockouts, accounts))
        usable = not stored["disabled"]
        if not (_verified(str(stored["hash"]) if usable else _dummy_hash(), password) and usable):
            return LoginResult(None, LOCK_SECONDS // 60 if counted["failures"] >= MAX_FAILURES else 0)
        with self._locked():
            now = self.clock()
            if self._read("accounts").get(name) != stored:  # disabled or a new password meanwhile
                return LoginResult(None)
            lockouts = _live(self._read("lockouts"), now)
            lockouts.pop(name, None)  # only this account's own count: never another's
            self._write("lockouts", lockouts)
            token = secrets.token_urlsafe(32)
            sessions = {key: value for key, value in self._read("sessions").items() if value["expires"] > now}
            sessions[_token_hash(token)] = {"account": name, "csrf": secrets.token_urlsafe(24),
                                            "expires": now + SESSION_SECONDS}
            self._write("sessions", sessions)
            return LoginResult(token)

    def session(self, token: str) -> Session | None:
        """The live session of a token: unexpired, its account still there and enabled."""
        key = _token_hash(token)
        entry = self._read("sessions").get(key)
        if entry is None or entry["expires"] <= self.clock():
            return None
        account = self.account(entry["account"])
        if account is None or account.disabled:
            return None
        return Session(account, entry["csrf"], key)

    def logout(self, session: Session) -> None:
        with self._locked():
            sessions = self._read("sessions")
            sessions.pop(session.token_hash, None)
            self._write("sessions", sessions)


@cache
def _dummy_hash() -> str:
    """What an unknown or disabled name is checked against: it costs as much as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


def _live(lockouts: dict, now: float) -> dict:
    """The entries still in force: a name's count ends LOCK_SECONDS after its last failure (for a
    locked name, when its lock runs out), the same for every name, so the answers never tell which
    names exist. An entry of the earlier format (no "last") has run out."""
    return {name: entry for name, entry in lockouts.items() if entry.get("last", 0) + LOCK_SECONDS > now}


def _capped(lockouts: dict, accounts: dict) -> dict:
    """At most MAX_UNKNOWN_NAMES entries for names without an account (anyone can type any name, and
    the file is rewritten at every login), the oldest dropped first."""
    strangers = sorted((entry["last"], name) for name, entry in lockouts.items() if name not in accounts)
    for _, name in strangers[:max(0, len(strangers) - MAX_UNKNOWN_NAMES)]:
        del lockouts[name]
    return lockouts


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
