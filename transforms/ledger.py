"""The file ledger: every inbox file ever seen, known by the SHA-256 of its bytes.

A file's identity is its content. Size, mtime, ctime and inode are only a cache key
that says when the bytes must be hashed again: rewriting a file in place (even to the
same size and mtime) changes its ctime, so it is re-hashed and a changed past date is
found on the next run. `lineage(d)` digests everything a report date depends on (the
configuration, every file of every inbox day up to d), so a published date whose
lineage differs is stale and is recomputed, with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.config import Config, Source

# Bump when matching or state logic changes: every published date becomes stale.
STATE_VERSION = "7"

LEDGER_SCHEMA = pa.schema(
    [
        ("inbox_date", pa.date32()),
        ("source", pa.string()),
        ("file_name", pa.string()),
        ("file_sha256", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("ctime_ns", pa.int64()),
        ("inode", pa.int64()),
        ("first_seen", pa.date32()),  # inbox date of this content's first delivery
        ("first_file", pa.string()),
        ("redelivery", pa.bool_()),  # the same bytes were delivered before
        ("status", pa.string()),  # as last ingested: OK | ERROR | DUPLICATE (NULL: not yet)
        ("rows_in", pa.int64()),
        ("rows_ok", pa.int64()),
        ("rows_rejected", pa.int64()),
    ]
)
RESULT_FIELDS = ("status", "rows_in", "rows_ok", "rows_rejected")


@dataclass(frozen=True)
class Delivery:
    inbox_date: dt.date
    source: str
    file_name: str
    file_sha256: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    first_seen: dt.date
    first_file: str
    redelivery: bool


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def day_folder(config: Config, day: dt.date) -> Path:
    return config.inbox / day.isoformat()


def source_files(config: Config, source: Source, day: dt.date) -> list[Path]:
    folder = day_folder(config, day)
    return sorted(p for p in folder.glob(source.glob) if p.is_file()) if folder.is_dir() else []


def planned_files(config: Config, day: dt.date) -> list[tuple[Source, Path | None]]:
    """Every (source, file) of one inbox day; (source, None) for a source that delivered nothing."""
    plan: list[tuple[Source, Path | None]] = []
    for source in config.sources:
        files = source_files(config, source, day)
        plan.extend((source, path) for path in files) if files else plan.append((source, None))
    return plan


# Names a file manager or an editor leaves in a folder: never a delivery, never listed.
NOT_DELIVERIES = ("Thumbs.db", "desktop.ini", ".DS_Store")


@dataclass(frozen=True)
class Unclaimed:
    """A file of a day folder that no source's glob matches: its rows are not read."""

    file_name: str
    size: int
    format: str | None  # the format it was identified as, if any
    looks_like: str  # what `recon inspect` would say about it

    @property
    def detail(self) -> str:
        return (
            f"matches no source's glob: not read ({self.size:,} bytes; {self.looks_like}); "
            "name it in a source's glob, or move it out of the day folder"
        )


def unclaimed_files(config: Config, day: dt.date) -> list[Unclaimed]:
    """Every file of the day folder that no source claims (hidden files and a file manager's
    own files aside), with its size and identification."""
    folder = day_folder(config, day)
    if not folder.is_dir():
        return []
    claimed = {p.name for source in config.sources for p in source_files(config, source, day)}
    found = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name in claimed or name in NOT_DELIVERIES or name.startswith((".", "~$")):
            continue
        if not path.is_file():
            continue
        fmt, looks_like = identify_unclaimed(config, path)
        found.append(Unclaimed(name, path.stat().st_size, fmt, looks_like))
    return found


def identify_unclaimed(config: Config, path: Path) -> tuple[str | None, str]:
    """(format, sentence): the identification `recon inspect` prints, and which source has
    that format (its glob is the likely thing to fix)."""
    from transforms.errors import UnrecognizedFormat
    from transforms.sources import FORMATS, get_format, identify

    mapped = [get_format(name, config.mapped_formats) for name in config.mapped_formats]
    try:
        fmt, verdict = identify(path, [*FORMATS, *mapped])
    except UnrecognizedFormat as exc:
        hint = getattr(exc, "hint", None)
        table = f"; {hint.split('; if it is')[0]}" if hint else ""
        return None, f"no known format{table}"
    except Exception as exc:  # a description only: a format's identify must not fail the run
        return None, f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
    sources = [f"{s.name} ({s.glob})" for s in config.sources if s.format == fmt.name]
    owner = f"; the format of source {', '.join(sources)}" if sources else ""
    return fmt.name, f"looks like {fmt.name}: {verdict.reason}{owner}"


def inbox_days(config: Config) -> list[dt.date]:
    days = []
    if config.inbox.is_dir():
        for p in config.inbox.iterdir():
            try:
                day = dt.date.fromisoformat(p.name)
            except ValueError:
                continue
            if p.is_dir():
                days.append(day)
    return sorted(days)


def config_digest(config: Config) -> str:
    described = {
        "state_version": STATE_VERSION,
        "timezone": config.timezone,
        "rematch_days": config.rematch_days,
        "locale": config.locale,
        # how a file is fetched does not change what it says
        "sources": [
            {**asdict(s), "bank_counterparty": list(s.bank_counterparty)}
            | {"fetch": None, "fetch_retries": None}
            for s in config.sources
        ],
        "formats": config.mapped_formats,
    }
    text = json.dumps(described, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Ledger:
    """Hashes inbox files (only when their stat changed) and says what each date depends on."""

    def __init__(self, config: Config):
        self.config = config
        self.path = config.data_dir / "ledger" / "files.parquet"
        self._cache: dict[tuple[dt.date, str, str], dict] = {}
        if self.path.exists():
            # ParquetFile, not read_table: that imports pyarrow's dataset module, 0.17 s a run
            for row in pq.ParquetFile(self.path).read().to_pylist():
                self._cache[(row["inbox_date"], row["source"], row["file_name"])] = row
        self.deliveries: dict[dt.date, list[Delivery]] = {}
        self.hashed = 0  # files whose bytes were read this run

    def record(self, day: dt.date, results) -> None:
        """Keep what ingesting the day's files gave (status and row counts) in the ledger."""
        for r in results:
            row = self._cache.setdefault((day, r.source, r.file_name), {})
            row.update({name: getattr(r, name) for name in RESULT_FIELDS})
            row["file_sha256"] = r.file_sha256

    def scan(self, until: dt.date) -> None:
        """Know every delivery of every inbox day up to `until`, in delivery order."""
        first: dict[str, tuple[dt.date, str]] = {}
        for day in [d for d in inbox_days(self.config) if d <= until]:
            found = []
            for source, path in planned_files(self.config, day):
                if path is None:
                    continue
                st = path.stat()
                cached = self._cache.get((day, source.name, path.name))
                stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                if (
                    cached
                    and (
                        cached["size"],
                        cached["mtime_ns"],
                        cached["ctime_ns"],
                        cached["inode"],
                    )
                    == stat
                ):
                    sha = cached["file_sha256"]
                else:
                    sha = sha256_of(path)
                    self.hashed += 1
                seen = first.setdefault(sha, (day, path.name))
                found.append(
                    Delivery(day, source.name, path.name, sha, *stat, seen[0], seen[1],
                             redelivery=seen != (day, path.name) or _earlier_twin(found, sha))
                )  # fmt: skip
            self.deliveries[day] = found

    def delivery(self, day: dt.date, source: str, file_name: str) -> Delivery | None:
        for d in self.deliveries.get(day, []):
            if d.source == source and d.file_name == file_name:
                return d
        return None

    def inputs_digest(self, day: dt.date) -> str:
        lines = sorted(
            f"{d.source}\t{d.file_name}\t{d.file_sha256}" for d in self.deliveries.get(day, [])
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def save(self) -> None:
        """Write the ledger: this run's deliveries, plus cached days it did not scan."""
        rows = []
        for day in sorted(self.deliveries):
            for d in self.deliveries[day]:
                known = self._cache.get((day, d.source, d.file_name), {})
                same = known.get("file_sha256") in (None, d.file_sha256)
                rows.append(asdict(d) | {f: known.get(f) if same else None for f in RESULT_FIELDS})
        rows += [
            r
            for k, r in sorted(self._cache.items(), key=lambda kv: kv[0])
            if k[0] not in self.deliveries and "size" in r
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA), tmp)
            os.replace(tmp, self.path)
        finally:  # a full disk leaves the old ledger, not a half-written file beside it
            tmp.unlink(missing_ok=True)


def _earlier_twin(found: list[Delivery], sha: str) -> bool:
    """The same bytes under another name (or another source's glob) earlier the same day."""
    return any(d.file_sha256 == sha for d in found)


def lineage(config_hash: str, inputs_hash: str, previous: str) -> str:
    return hashlib.sha256(f"{config_hash}|{inputs_hash}|{previous}".encode()).hexdigest()
