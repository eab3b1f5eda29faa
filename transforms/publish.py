"""One atomic publish per report date, a lock per data_dir, and clean-up after crashes.

Everything a date produces (its normalized inputs, exceptions, settlements, matches,
state and workbook) is written into one private version folder
`{data_dir}/versions/D/<id>/`. Publishing renames a symlink `{data_dir}/current/D` to
point at it: one rename, so a reader sees the whole old date or the whole new one.
The familiar paths (`lake/<table>/inbox_date=D`, `lake/exceptions/report_date=D`,
`reports/recon_D.xlsx`) are fixed symlinks through `current/D`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shlex
import shutil
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from transforms.config import Config
from transforms.errors import ReconError, UsageError

MANIFEST = "MANIFEST.json"
INPUT_TABLES = ("platform_orders", "channel_txns", "bank_lines", "rejects", "files")
REPORT_TABLES = ("exceptions", "settlements", "distributions", "matches")
STAGING_PREFIX = ".staging-"
HOLDER_COMMAND_CHARS = 2000  # the lock records the holder's whole command, up to this


class LockedError(ReconError):
    pass


def crash_point(name: str) -> None:
    """Tests kill the run here (RECON_CRASH_AT=name) to prove a crash leaves nothing half-done."""
    if os.environ.get("RECON_CRASH_AT") == name:
        os._exit(70)


def versions_dir(config: Config, day: dt.date) -> Path:
    return config.data_dir / "versions" / day.isoformat()


def pointer(config: Config, day: dt.date) -> Path:
    return config.data_dir / "current" / day.isoformat()


def workbook_name(day: dt.date) -> str:
    return f"recon_{day.isoformat()}.xlsx"


def remediation_name(day: dt.date) -> str:
    return f"remediation_{day.isoformat()}"


def current_version(config: Config, day: dt.date) -> Path | None:
    """The published version folder of a date (resolved once), or None."""
    link = pointer(config, day)
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if (target / MANIFEST).exists() else None


def read_manifest(version: Path | None) -> dict | None:
    if version is None:
        return None
    try:
        return json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def published_days(config: Config) -> list[dt.date]:
    root = config.data_dir / "current"
    days = []
    if root.is_dir():
        for p in root.iterdir():
            try:
                days.append(dt.date.fromisoformat(p.name))
            except ValueError:
                continue
    return sorted(days)


def new_stage(config: Config, day: dt.date) -> Path:
    stage = versions_dir(config, day) / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
    for table in INPUT_TABLES + REPORT_TABLES + ("state",):
        (stage / table).mkdir(parents=True)
    return stage


def publish(config: Config, day: dt.date, stage: Path, manifest: dict) -> Path:
    """Seal the staged version and point `current/D` at it in one rename.

    The stable paths are made first: they point through `current/D`, so for a new date they
    lead nowhere until the rename, and a folder that cannot take them fails the date here,
    before anything is visible (what this call made is taken back). A date is wholly visible
    or not at all."""
    shutil.rmtree(stage / "_work", ignore_errors=True)
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    _fsync_tree(stage)
    created = ensure_links(config, day)
    version = stage.with_name(stage.name.removeprefix(STAGING_PREFIX))
    swapped = False
    try:
        os.rename(stage, version)
        crash_point("publish")
        old = current_version(config, day)
        link = pointer(config, day)
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex[:12]}.tmp")
        os.symlink(os.path.relpath(version, link.parent), tmp)
        try:
            os.replace(tmp, link)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        swapped = True
    finally:
        if not swapped:
            for path in created:
                path.unlink(missing_ok=True)
            shutil.rmtree(version, ignore_errors=True)
    if old is not None and old != version:
        shutil.rmtree(old, ignore_errors=True)
    return version


def _fsync_tree(root: Path) -> None:
    """Make the staged files durable before the pointer can name them."""
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _link(path: Path, target: Path) -> bool:
    """Make `path` a symlink to `target`; True if nothing was there before."""
    rel = os.path.relpath(target, path.parent)
    if path.is_symlink() and os.readlink(path) == rel:
        return False
    new = not path.is_symlink() and not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # a folder from the layout before versions
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    os.symlink(rel, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return new


def stable_links(config: Config, day: dt.date) -> list[tuple[Path, Path]]:
    """(stable path, its target through `current/D`) of every output of a date."""
    via = pointer(config, day)
    links = [
        (config.lake / table / f"inbox_date={day.isoformat()}", via / table)
        for table in INPUT_TABLES
    ]
    links += [
        (config.lake / table / f"report_date={day.isoformat()}", via / table)
        for table in REPORT_TABLES
    ]
    for name in (workbook_name(day), remediation_name(day)):
        links.append((config.reports / name, via / name))
    return links


def ensure_links(config: Config, day: dt.date) -> list[Path]:
    """The stable paths of a date, each a symlink through `current/D`; the ones it created
    (all taken back if one fails)."""
    created: list[Path] = []
    try:
        for path, target in stable_links(config, day):
            if _link(path, target):
                created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    return created


def remove_links(config: Config, day: dt.date) -> None:
    """Take away the stable paths of a date (symlinks only; after its withdrawal)."""
    for path, _target in stable_links(config, day):
        if path.is_symlink():
            path.unlink()


def _dangling_links(config: Config) -> list[Path]:
    """Stable paths through a `current/D` that does not exist (a crash between making the
    links of a new date and its publish, or during a withdrawal)."""
    found = []
    folders = [config.lake / t for t in INPUT_TABLES + REPORT_TABLES] + [config.reports]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if (
                path.is_symlink()
                and not path.exists()
                and "current" in Path(os.readlink(path)).parts
            ):
                found.append(path)
    return found


def clean_leftovers(config: Config) -> list[Path]:
    """Remove what crashed runs left: staging folders, unpublished versions, temp links."""
    removed = []
    root = config.data_dir / "versions"
    if root.is_dir():
        for day_dir in root.iterdir():
            try:
                day = dt.date.fromisoformat(day_dir.name)
            except ValueError:
                continue
            live = current_version(config, day)
            for version in day_dir.iterdir():
                if live is None or version.resolve() != live:
                    shutil.rmtree(version, ignore_errors=True)
                    removed.append(version)
    for folder in (config.data_dir / "current", config.lake, config.reports):
        if folder.is_dir():
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
            for stale in folder.rglob(".staging-*"):
                shutil.rmtree(stale, ignore_errors=True)
                removed.append(stale)
    for link in _dangling_links(config):
        link.unlink(missing_ok=True)
        removed.append(link)
    if config.spill_dir.is_dir():  # only DuckDB's own spill files: the folder may be shared
        for spilled in config.spill_dir.glob("duckdb_temp*"):
            if spilled.is_file():
                spilled.unlink(missing_ok=True)
                removed.append(spilled)
    return removed


def _holder(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    return (
        f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')} "
        f"({info.get('command')})"
    )


COMMAND_LINE: list[str] = []  # the recon command being run (flows/cli.py sets it)


def command_line() -> str:
    """The command this process runs, for the lock and the audit trail: the recon command
    when the CLI set it, else the process's own arguments."""
    return holder_command(COMMAND_LINE or sys.argv)


def holder_command(argv: list[str]) -> str:
    """The whole command line, quoted as a shell would take it (very long ones are cut)."""
    text = shlex.join(argv)
    if len(text) > HOLDER_COMMAND_CHARS:
        text = text[: HOLDER_COMMAND_CHARS - 1] + "…"
    return text


PRIVATE_UMASK = 0o027  # files 0640, folders 0750: borrower data is for the owner and group only


def output_folders(config: Config) -> list[Path]:
    """Every folder a run writes into: the publish's links go into each lake table's folder
    and into reports/."""
    return [
        config.data_dir,
        config.lake,
        *(config.lake / table for table in INPUT_TABLES + REPORT_TABLES),
        config.lake / "resolutions",
        config.reports,
        config.data_dir / "current",
        config.data_dir / "versions",
        config.data_dir / "ledger",
        config.spill_dir,
    ]


def check_writable(folders: list[Path]) -> None:
    """Each folder is one (or can be created) and can be written: else exit 2 naming it,
    before any work, so nothing is half swapped in."""
    for folder in folders:
        existing = next(p for p in [folder, *folder.parents] if p.is_symlink() or p.exists())
        made = "" if existing == folder else f" (so {folder} cannot be created)"
        if not existing.exists():
            raise UsageError(
                f"{existing}: a broken link where a folder is expected{made}; nothing was changed"
            )
        if not existing.is_dir():
            raise UsageError(
                f"{existing}: a file where a folder is expected{made}; nothing was changed"
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UsageError(
                f"{existing}: cannot write there (permission denied){made}; nothing was changed"
            )


def private_data_dir(config: Config) -> None:
    """Create `data_dir` owner/group-only and make every file this process writes 0640 and every
    folder 0750, whatever the umask; refuse (exit 2) before any work if an output folder cannot
    be written, so nothing is half swapped in."""
    os.umask(PRIVATE_UMASK)
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    if config.data_dir.stat().st_uid == os.getuid():
        os.chmod(config.data_dir, 0o750)
    check_writable(output_folders(config))


@contextmanager
def run_lock(config: Config, wait_seconds: float = 0):
    """Hold `{data_dir}/.lock` for a whole run; a second run waits or exits 2 naming the holder."""
    private_data_dir(config)
    lock_path = config.data_dir / ".lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o640)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"{config.data_dir}: another run holds the lock: {_holder(lock_path)}; "
                        "wait for it to finish (or pass --wait SECONDS)"
                    ) from None
                time.sleep(0.5)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command_line(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        yield
    finally:
        os.close(fd)
