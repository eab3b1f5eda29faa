"""Bearer tokens of the lookup service: created and revoked by `recon web-token`, checked on
every request.

A token is `rw_<id>_<secret>`, 32 random bytes of secret, shown once when it is created. The
store `{data_dir}/web/tokens.json` (0640) keeps, per token, its name, role, id, a random salt
and SHA-256(salt + secret): never the token itself. A random 256-bit secret needs no slow
hash (nobody can guess it, and checking it stays microseconds per request); the salt keeps
two stores from sharing a hash. The service reloads the store when the file changes, so a
revoked token stops working at its next request, without a restart.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from transforms.config import Config
from transforms.errors import UsageError

ROLES = ("service", "finance")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
TOKEN = re.compile(r"rw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
FILE_MODE = 0o640
DIR_MODE = 0o750


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to."""

    name: str
    role: str


def web_dir(data_dir: Path) -> Path:
    return data_dir / "web"


def store_path(data_dir: Path) -> Path:
    return web_dir(data_dir) / "tokens.json"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("ascii")).hexdigest()


def _read(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read as the token store ({exc})") from None
    return list(data.get("tokens", []))


def _write(path: Path, tokens: list[dict]) -> None:
    """Replace the store in one rename; the file is 0640 whatever the umask."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, json.dumps({"tokens": tokens}, indent=1, sort_keys=True).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextmanager
def _locked(data_dir: Path):
    """One `recon web-token` at a time changes the store."""
    folder = web_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, DIR_MODE)
    fd = os.open(folder / ".tokens.lock", os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield store_path(data_dir)
    finally:
        os.close(fd)


def add(config: Config, name: str, role: str) -> str:
    """A new token for NAME with ROLE; returns the token (the only time it is seen)."""
    if not NAME.fullmatch(name or ""):
        raise UsageError(
            f"web-token: name {name!r}: expected 1-64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit (a person or a system, e.g. zhang.san or bot-1)"
        )
    if role not in ROLES:
        raise UsageError(f"web-token: role {role!r}: expected one of {', '.join(ROLES)}")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    with _locked(config.data_dir) as path:
        tokens = _read(path)
        if any(t["name"] == name for t in tokens):
            raise UsageError(
                f"web-token: {name!r} already has a token in {path}; revoke it first "
                f"(recon web-token revoke {name} --config {config.path})"
            )
        tokens.append(
            {
                "name": name,
                "role": role,
                "id": token_id,
                "salt": salt,
                "sha256": _digest(salt, secret),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        )
        _write(path, tokens)
    return f"rw_{token_id}_{secret}"


def revoke(config: Config, name: str) -> None:
    with _locked(config.data_dir) as path:
        tokens = _read(path)
        kept = [t for t in tokens if t["name"] != name]
        if len(kept) == len(tokens):
            known = ", ".join(sorted(t["name"] for t in tokens)) or "none"
            raise UsageError(f"web-token: no token named {name!r} in {path} (tokens: {known})")
        _write(path, kept)


def listing(config: Config) -> list[dict]:
    """Name, role and creation time of every token (nothing secret)."""
    return [
        {k: t[k] for k in ("name", "role", "created_at")}
        for t in _read(store_path(config.data_dir))
    ]


class TokenStore:
    """The tokens as the service checks them, reloaded when the file changes."""

    def __init__(self, data_dir: Path):
        self.path = store_path(data_dir)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._by_id: dict[str, dict] = {}

    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _current(self) -> dict[str, dict]:
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                tokens = _read(self.path) if stamp else []
                self._by_id = {t["id"]: t for t in tokens}
                self._stamp = stamp
            return self._by_id

    def count(self) -> int:
        return len(self._current())

    def verify(self, token: str | None) -> Principal | None:
        m = TOKEN.fullmatch(token or "")
        if m is None:
            return None
        record = self._current().get(m.group(1))
        if record is None:
            return None
        if not hmac.compare_digest(_digest(record["salt"], m.group(2)), record["sha256"]):
            return None
        return Principal(record["name"], record["role"])
