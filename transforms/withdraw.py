"""Take back published report dates created by mistake (a run for the wrong dates, a date in
the future), with a record of who did it and why.

Only the last published dates can be withdrawn: a date is computed from the state of the one
before it, so withdrawing a date withdraws every later one with it, and a request that would
leave a later date standing on a withdrawn one is refused. Each date leaves `current/` in one
unlink, latest first, so the published dates stay an unbroken run at every moment; then its
stable links and its version folder go (a crash in between leaves only what the next run's
clean-up removes). Every withdrawal is first appended to `{data_dir}/audit/withdrawals.jsonl`
(one JSON object a line; never rewritten). Nothing in the inbox, the ledger or the finance
decisions changes: running a withdrawn date again computes it again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import publish, resolutions
from transforms.config import Config
from transforms.errors import UsageError


@dataclass(frozen=True)
class Withdrawal:
    dates: list[dt.date]
    versions: dict[str, str]  # date -> version id
    audit: Path
    decisions: int  # finance decisions effective on the withdrawn dates (kept, not undone)


def audit_log(config: Config) -> Path:
    return config.data_dir / "audit" / "withdrawals.jsonl"


def choose(published: list[dt.date], start: dt.date, end: dt.date) -> list[dt.date]:
    """The published dates of start..end, refused unless no published date comes after them."""
    if end < start:
        raise UsageError(f"--to {end} is before --date {start}; expected a range in date order")
    if not published:
        raise UsageError("nothing is published: nothing to withdraw")
    chosen = [d for d in published if start <= d <= end]
    span = f"{start}" if start == end else f"{start} .. {end}"
    if not chosen:
        raise UsageError(
            f"no published report date in {span}; published: {published[0]} .. {published[-1]}"
        )
    later = [d for d in published if d > end]
    if later:
        what = (
            f"{later[0]} is published and built"
            if len(later) == 1
            else f"{later[0]} .. {later[-1]} ({len(later)} dates) are published and built"
        )
        raise UsageError(
            f"{what} on {chosen[-1]} (each date starts from the state of the one before): "
            f"withdraw {'it' if len(later) == 1 else 'them'} too with --to {later[-1]}, or "
            "withdraw nothing"
        )
    return chosen


def withdraw(
    config: Config, start: dt.date, end: dt.date, by: str, reason: str, wait_seconds: float = 0
) -> Withdrawal:
    """Withdraw the published dates start..end (the last ones published), under the run lock."""
    if not by.strip():
        raise UsageError("withdraw: who withdraws? (--by is empty)")
    if not reason.strip():
        raise UsageError("withdraw: why? (--reason is empty; it is kept in the audit trail)")
    with publish.run_lock(config, wait_seconds):
        chosen = choose(publish.published_days(config), start, end)
        versions = {}
        for day in chosen:
            version = publish.current_version(config, day)
            versions[day.isoformat()] = version.name if version else None
        publish.check_writable([config.data_dir / "current", audit_log(config).parent])
        decisions = _decisions_on(config, chosen)
        log = audit_log(config)
        _append(
            log,
            {
                "withdrawn_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "by": by.strip(),
                "reason": reason.strip(),
                "dates": [d.isoformat() for d in chosen],
                "versions": versions,
                "decisions_effective_on_them": decisions,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "command": publish.command_line(),
            },
        )
        for day in reversed(chosen):  # latest first: what stays published is unbroken
            publish.pointer(config, day).unlink(missing_ok=True)
        for day in chosen:
            publish.remove_links(config, day)
            shutil.rmtree(publish.versions_dir(config, day), ignore_errors=True)
    return Withdrawal(chosen, versions, log, decisions)


def _decisions_on(config: Config, days: list[dt.date]) -> int:
    """How many decisions in force take effect on one of `days` (they stay recorded)."""
    listed = ", ".join(f"DATE '{d}'" for d in days)
    return duckdb.sql(
        f"SELECT count(*) FROM ({resolutions.load_sql(config)}) WHERE effective_date IN ({listed})"
    ).fetchall()[0][0]


def _append(path: Path, record: dict) -> None:
    """One line appended and made durable before anything is withdrawn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
