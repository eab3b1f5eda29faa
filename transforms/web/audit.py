"""The audit log of the lookup service: who saw which borrower's data, when (个人信息保护法).

Every lookup, answered or refused, is one JSON line appended to
`{data_dir}/audit/lookups-YYYY-MM.jsonl` (the month in the config's time zone: a new file
each month, nothing is ever rewritten): when, who (the token's name; null without a valid
token), role, the path, the key (at most KEY_CHARS characters, with its full length when cut),
the report date asked for, how many repayments were shown, the HTTP status and the client's
address. Lines are written with O_APPEND in one write(2) each, so concurrent requests never
interleave; files are 0640 and the folder 0750, as the rest of data_dir.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

FILE_MODE = 0o640
DIR_MODE = 0o750
KEY_CHARS = 200  # a 10,000-character key is logged as its first 200 and its length
READ_LIMIT = 1000  # entries the audit endpoint returns, newest last


def audit_dir(data_dir: Path) -> Path:
    return data_dir / "audit"


def month_file(data_dir: Path, month: str) -> Path:
    return audit_dir(data_dir) / f"lookups-{month}.jsonl"


class AuditLog:
    def __init__(self, data_dir: Path, timezone: str):
        self.data_dir = data_dir
        self.zone = ZoneInfo(timezone)

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone)

    def append(self, entry: dict) -> Path:
        """Append one entry (`at` is set here); returns the month's file."""
        at = self.now()
        key = entry.get("key")
        if isinstance(key, str) and len(key) > KEY_CHARS:
            entry = dict(entry, key=key[:KEY_CHARS], key_length=len(key))
        line = json.dumps(
            {"at": at.isoformat(timespec="milliseconds"), **entry},
            ensure_ascii=False,
            sort_keys=False,
            default=str,
        )
        folder = audit_dir(self.data_dir)
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, DIR_MODE)
        path = month_file(self.data_dir, at.strftime("%Y-%m"))
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
                os.fchmod(fd, FILE_MODE)  # whatever the umask
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        return path

    def read(self, month: str, key: str | None = None) -> list[dict]:
        """The entries of one month (those of `key` only, when given), oldest first."""
        path = month_file(self.data_dir, month)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # a line being written right now
                continue
            if key is None or entry.get("key") == key:
                out.append(entry)
        return out[-READ_LIMIT:]
