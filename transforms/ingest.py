"""Ingest one inbox day: find each source's files, normalize them, stage Parquet, swap in.

Every data row of every file ends up in its canonical table or in `rejects`;
`files` keeps one row per file with its counts and control totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import lzma
import os
import shutil
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import lake
from transforms.config import Config, Source
from transforms.duck import connect, split_memory, sql_path
from transforms.errors import InputFileError, ReconError
from transforms.ledger import Delivery, Ledger, planned_files
from transforms.sources import get_format
from transforms.sources.base import FileContext
from transforms.timing import phase

FILES_SCHEMA = lake.arrow_schema("files")
log = logging.getLogger("recon")


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


def ingest_file(
    config: Config, source: Source, path: Path, stage: Path, delivery: Delivery, share: int = 1
) -> FileResult:
    """Normalize one file into the staging folder. Never raises for bad content:
    an unreadable file is returned with status ERROR and recorded as a reject.
    A byte-identical re-delivery is listed, not read again: it counts once. With `share`
    files normalized at once, each gets that share of the memory limit and threads."""
    sha = delivery.file_sha256
    fmt = get_format(source.format, config.mapped_formats)
    result = FileResult(source.name, path.name, sha, fmt.name, "OK")
    # An empty file is "identical" to every other empty file: it is an error, not a re-delivery.
    if delivery.redelivery and delivery.size:
        result.status = "DUPLICATE"
        result.error = (
            f"byte-identical to {delivery.first_file} delivered {delivery.first_seen.isoformat()}; "
            "counted once"
        )
        return result
    workdir = stage / "_work" / sha[:16]
    workdir.mkdir(parents=True, exist_ok=True)
    con = connect(
        split_memory(config.memory_limit, share),
        max(1, config.threads // share),
        config.spill_dir,
    )
    try:
        head = _read_head(path)
        verdict = fmt.identify(path, head)
        if not verdict:
            raise InputFileError(
                path,
                None,
                f"source {source.name!r} expects format {fmt.name}: {verdict.reason}"
                + _content_hint(head),
            )
        ctx = FileContext(path, source, con, workdir, config.timezone, "f", config.mapped_formats)
        normalized = fmt.normalize(ctx)
        ok, rejected, total = con.execute(
            f"""SELECT count(*) FILTER (WHERE reject_reason IS NULL),
                       count(*) FILTER (WHERE reject_reason IS NOT NULL),
                       sum(amount) FILTER (WHERE reject_reason IS NULL)
                FROM {normalized.relation}"""
        ).fetchall()[0]
        _write_outputs(
            con, normalized.table, normalized.relation, source, path, sha, stage, ok, rejected
        )
        result.rows_in, result.rows_ok, result.rows_rejected = normalized.rows_in, ok, rejected
        result.amount_total = str(total) if total is not None else None
        result.checks = [
            {"name": c.name, "stated": _s(c.stated), "computed": _s(c.computed), "ok": c.ok}
            for c in normalized.checks
        ]
    except (ReconError, *CONTENT_ERRORS) as exc:
        if not isinstance(exc, ReconError):  # a parser's own error that a format let through
            log.warning("%s: %s", path, exc, exc_info=True)
            kind, module = type(exc).__name__, type(exc).__module__.lstrip("_")
            kind = kind if module == "builtins" else f"{module}.{kind}"  # csv.Error, zlib.error
            exc = InputFileError(
                path,
                None,
                f"cannot be read as {fmt.name} ({kind}: {exc}); expected "
                f"{fmt.description or fmt.name}",
            )
        # Named from the inbox (not the absolute path): outputs stay the same wherever it lives.
        message = str(exc).replace(f"{config.inbox}{os.sep}", "")
        result.status, result.error = "ERROR", message
        line = getattr(exc, "line", None) or 0
        _write_file_reject(source, path, sha, line, message, stage)
        result.rows_rejected = 1
    finally:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


# Errors that only malformed content makes a parser raise. Each format is meant to turn
# them into rejects or an InputFileError with a better message; this is the safety net that
# keeps one file from failing its whole date (logged with its traceback, to be fixed there).
CONTENT_ERRORS = (
    csv.Error,
    UnicodeError,
    RecursionError,
    ParseError,
    expat.ExpatError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(16384)
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be opened: {exc.strerror or exc}") from None


def _content_hint(head: bytes) -> str:
    """What the first bytes say when a file is not its source's format at all."""
    if not head:
        return " (the file is empty: 0 bytes)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        bom = head[:2].hex(" ").upper()
        return f" (the file is UTF-16 text, byte-order mark {bom}; expected UTF-8 or GBK)"
    if b"\x00" in head and not head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return " (its first bytes hold NUL bytes: binary content, not a text file)"
    return ""


def _s(value) -> str | None:
    return None if value is None else str(value)


def _write_outputs(
    con,
    table: str,
    relation: str,
    source: Source,
    path: Path,
    sha: str,
    stage: Path,
    ok: int,
    rejected: int,
) -> None:
    """The file's rows into its partition and its rejects into theirs, each in line order.
    An empty part is still written through ORDER BY: without it DuckDB marks the lineage
    columns of an empty file OPTIONAL, and the same input would give other bytes."""
    lineage = {"source": source.name, "file_name": path.name, "file_sha256": sha}
    available = {d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description}
    part = stage / table / f"source={source.name}"
    part.mkdir(parents=True, exist_ok=True)
    stored_in_order = _in_line_order(con, relation)

    def order(rows: int) -> str:
        return "" if stored_in_order and rows else " ORDER BY line_no"

    ok_rows = f"(SELECT * FROM {relation} WHERE reject_reason IS NULL{order(ok)})"
    con.execute(
        f"COPY ({lake.canonical_select_sql(table, ok_rows, lineage, available)}) TO {sql_path(part / (sha[:16] + '.parquet'))} "
        f"({lake.PARQUET})"
    )
    rej_part = stage / "rejects" / f"source={source.name}"
    rej_part.mkdir(parents=True, exist_ok=True)
    bad_rows = f"(SELECT line_no, reject_reason AS reason, raw FROM {relation} WHERE reject_reason IS NOT NULL{order(rejected)})"
    con.execute(
        f"COPY ({lake.canonical_select_sql('rejects', bad_rows, lineage, {'line_no', 'reason', 'raw'})}) TO "
        f"{sql_path(rej_part / (sha[:16] + '.parquet'))} ({lake.PARQUET})"
    )


def _in_line_order(con, relation: str) -> bool:
    """Whether the rows of table `relation` are stored in line order: a file's rows usually
    are, and COPY then keeps that order (preserve_insertion_order) without sorting a million
    rows again. False for a view (no rowid), rows out of order or a row without a line number
    (ORDER BY puts those last)."""
    try:
        (out_of_order,) = con.execute(
            f"SELECT count(*) FILTER (WHERE line_no IS NULL OR line_no <= before) FROM "
            f"(SELECT line_no, lag(line_no) OVER (ORDER BY rowid) AS before FROM {relation})"
        ).fetchone()
    except duckdb.BinderException:
        return False
    return out_of_order == 0


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
        d["amount_total"] = Decimal(r.amount_total) if r.amount_total is not None else None
        for name in FILES_SCHEMA.names:
            rows[name].append(d[name])
    pq.write_table(pa.table(rows, schema=FILES_SCHEMA), stage / "files" / "manifest.parquet")


INGEST_WORKERS = 2  # two files at once: one's Python line work overlaps the other's DuckDB work


def ingest_day(config: Config, day: dt.date, stage: Path, ledger: Ledger) -> list[FileResult]:
    """Normalize every file of one inbox day into the date's staged version, largest first,
    two at a time (each with half the memory limit); results stay in plan order."""
    plan = planned_files(config, day)
    workers = max(1, min(INGEST_WORKERS, config.threads))

    def one(source: Source, path: Path) -> FileResult:
        delivery = ledger.delivery(day, source.name, path.name)
        with phase(f"  ingest {path.name}") as step:
            result = ingest_file(config, source, path, stage, delivery, share=workers)
            step.note = f"{result.rows_in:,} rows"  # for --verbose and the progress display
            return result

    files = [(s, p) for s, p in plan if p is not None]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            (s.name, p): pool.submit(one, s, p)
            for s, p in sorted(files, key=lambda sp: -sp[1].stat().st_size)
        }
        results = in_plan_order(plan, lambda s, p: futures[(s.name, p)].result())
    write_manifest(results, stage)
    return results


def in_plan_order(plan: list[tuple[Source, Path | None]], result_of) -> list[FileResult]:
    """The day's file results in plan order (the order of the summary and the date's
    manifest), a MISSING result for a source that delivered nothing."""
    return [result_of(s, p) if p is not None else missing_file_result(s) for s, p in plan]
