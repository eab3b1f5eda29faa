"""Ingest one inbox day: find each source's files, normalize them, stage Parquet, swap in.

Every data row of every file ends up in its canonical table or in `rejects`;
`files` keeps one row per file with its counts and control totals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms import lake
from transforms.config import Config, Source
from transforms.duck import connect, sql_path
from transforms.errors import InputFileError, ReconError
from transforms.sources import get_format
from transforms.sources.base import FileContext

FINGERPRINT = "_inbox_fingerprint.json"
DAY_TABLES = ("platform_orders", "channel_txns", "bank_lines", "rejects", "files")

FILES_SCHEMA = lake.arrow_schema("files")


@dataclass
class FileResult:
    source: str
    file_name: str
    file_sha256: str | None
    format: str
    status: str
    error: str | None = None
    rows_in: int = 0
    rows_ok: int = 0
    rows_rejected: int = 0
    checks: list[dict] = field(default_factory=list)
    amount_total: str | None = None

    @property
    def control_ok(self) -> bool:
        return all(c["ok"] for c in self.checks)


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


def new_stage(config: Config, day: dt.date) -> Path:
    stage = config.lake / f".staging-ingest-{day.isoformat()}-{uuid.uuid4().hex[:12]}"
    for table in DAY_TABLES:
        (stage / table).mkdir(parents=True)
    return stage


def ingest_file(config: Config, source: Source, path: Path, stage: Path) -> FileResult:
    """Normalize one file into the staging folder. Never raises for bad content:
    an unreadable file is returned with status ERROR and recorded as a reject."""
    sha = sha256_of(path)
    fmt = get_format(source.format, config.mapped_formats)
    result = FileResult(source.name, path.name, sha, fmt.name, "OK")
    workdir = stage / "_work" / sha[:16]
    workdir.mkdir(parents=True, exist_ok=True)
    con = connect(threads=2)
    try:
        verdict = fmt.identify(path, path.open("rb").read(16384))
        if not verdict:
            raise InputFileError(
                path, None, f"source {source.name!r} expects format {fmt.name}: {verdict.reason}"
            )
        ctx = FileContext(path, source, con, workdir, config.timezone, "f", config.mapped_formats)
        normalized = fmt.normalize(ctx)
        _write_outputs(con, normalized.table, normalized.relation, source, path, sha, stage)
        ok, rejected, total = con.execute(
            f"""SELECT count(*) FILTER (WHERE reject_reason IS NULL),
                       count(*) FILTER (WHERE reject_reason IS NOT NULL),
                       sum(amount) FILTER (WHERE reject_reason IS NULL)
                FROM {normalized.relation}"""
        ).fetchall()[0]
        result.rows_in, result.rows_ok, result.rows_rejected = normalized.rows_in, ok, rejected
        result.amount_total = str(total) if total is not None else None
        result.checks = [
            {"name": c.name, "stated": _s(c.stated), "computed": _s(c.computed), "ok": c.ok}
            for c in normalized.checks
        ]
    except ReconError as exc:
        result.status, result.error = "ERROR", str(exc)
        line = getattr(exc, "line", None) or 0
        _write_file_reject(source, path, sha, line, str(exc), stage)
        result.rows_rejected = 1
    finally:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _s(value) -> str | None:
    return None if value is None else str(value)


def _write_outputs(
    con, table: str, relation: str, source: Source, path: Path, sha: str, stage: Path
) -> None:
    lineage = {"source": source.name, "file_name": path.name, "file_sha256": sha}
    available = {d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description}
    part = stage / table / f"source={source.name}"
    part.mkdir(parents=True, exist_ok=True)
    ok_rows = f"(SELECT * FROM {relation} WHERE reject_reason IS NULL ORDER BY line_no)"
    con.execute(
        f"COPY ({lake.canonical_select_sql(table, ok_rows, lineage, available)}) TO {sql_path(part / (sha[:16] + '.parquet'))} "
        "(FORMAT parquet)"
    )
    rej_part = stage / "rejects" / f"source={source.name}"
    rej_part.mkdir(parents=True, exist_ok=True)
    bad_rows = f"(SELECT line_no, reject_reason AS reason, raw FROM {relation} WHERE reject_reason IS NOT NULL ORDER BY line_no)"
    con.execute(
        f"COPY ({lake.canonical_select_sql('rejects', bad_rows, lineage, {'line_no', 'reason', 'raw'})}) TO "
        f"{sql_path(rej_part / (sha[:16] + '.parquet'))} (FORMAT parquet)"
    )


def _write_file_reject(
    source: Source, path: Path, sha: str, line: int, reason: str, stage: Path
) -> None:
    rej_part = stage / "rejects" / f"source={source.name}"
    rej_part.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "reason": [reason],
            "raw": [None],
            "source": [source.name],
            "file_name": [path.name],
            "file_sha256": [sha],
            "line_no": [line],
        },
        schema=pa.schema(
            [
                ("reason", pa.string()),
                ("raw", pa.string()),
                ("source", pa.string()),
                ("file_name", pa.string()),
                ("file_sha256", pa.string()),
                ("line_no", pa.int64()),
            ]
        ),
    )
    pq.write_table(table, rej_part / f"{sha[:16]}.parquet")


def missing_file_result(source: Source) -> FileResult:
    return FileResult(
        source.name, "", None, source.format, "MISSING", "no file matched " + source.glob
    )


def write_manifest(results: list[FileResult], stage: Path) -> None:
    rows = {name: [] for name in FILES_SCHEMA.names}
    for r in sorted(results, key=lambda r: (r.source, r.file_name)):
        d = asdict(r)
        d["control_ok"] = r.control_ok
        d["checks"] = json.dumps(r.checks, ensure_ascii=False)
        from decimal import Decimal

        d["amount_total"] = Decimal(r.amount_total) if r.amount_total is not None else None
        for name in FILES_SCHEMA.names:
            rows[name].append(d[name])
    pq.write_table(pa.table(rows, schema=FILES_SCHEMA), stage / "files" / "manifest.parquet")


def publish_day(config: Config, day: dt.date, stage: Path) -> None:
    shutil.rmtree(stage / "_work", ignore_errors=True)
    for table in DAY_TABLES:
        lake.swap_dir(stage / table, config.lake / table / f"inbox_date={day.isoformat()}")
    shutil.rmtree(stage, ignore_errors=True)


def planned_files(config: Config, day: dt.date) -> list[tuple[Source, Path | None]]:
    """Every (source, file) of one inbox day; (source, None) for a source that delivered nothing."""
    plan: list[tuple[Source, Path | None]] = []
    for source in config.sources:
        files = source_files(config, source, day)
        plan.extend((source, path) for path in files) if files else plan.append((source, None))
    return plan


def finish_day(
    config: Config, day: dt.date, stage: Path, results: list[FileResult], fingerprint: str
) -> None:
    """Write the day's manifest and swap all of its partitions in."""
    write_manifest(results, stage)
    (stage / "files" / FINGERPRINT).write_text(json.dumps({"fingerprint": fingerprint}))
    publish_day(config, day, stage)


def folder_fingerprint(folder: Path) -> str:
    """Names, sizes and mtimes of a day folder: cheap, and changes when a file is re-delivered."""
    h = hashlib.sha256()
    if folder.is_dir():
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def is_current(config: Config, day: dt.date) -> bool:
    marker = config.lake / "files" / f"inbox_date={day.isoformat()}" / FINGERPRINT
    if not marker.exists():
        return False
    return json.loads(marker.read_text())["fingerprint"] == folder_fingerprint(
        day_folder(config, day)
    )


def ingest_day(config: Config, day: dt.date) -> list[FileResult]:
    """Normalize every file of one inbox day and swap the day's partitions in."""
    fingerprint = folder_fingerprint(day_folder(config, day))
    stage = new_stage(config, day)
    try:
        results = [
            ingest_file(config, source, path, stage) if path else missing_file_result(source)
            for source, path in planned_files(config, day)
        ]
        finish_day(config, day, stage, results, fingerprint)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return results


def inbox_days(config: Config, until: dt.date) -> list[dt.date]:
    days = []
    if config.inbox.is_dir():
        for p in config.inbox.iterdir():
            try:
                day = dt.date.fromisoformat(p.name)
            except ValueError:
                continue
            if p.is_dir() and day <= until:
                days.append(day)
    return sorted(days)


def ingest_missing_days(config: Config, until: dt.date) -> dict[dt.date, list[FileResult]]:
    """Ingest every inbox day up to `until` that is new or changed since it was last ingested."""
    return {
        day: ingest_day(config, day)
        for day in inbox_days(config, until)
        if not is_current(config, day)
    }
