"""Finance decisions on exceptions (SPEC §6 Resolutions): an append-only store in the lake.

A decision (REFUNDED, CREDITED, WRITTEN_OFF, FALSE_POSITIVE, MATCHED_MANUALLY with the
counterpart's ref) names an exception by its stable id and comes in two ways: `recon resolve`
and the decision columns of a workbook (or a CSV) dropped into the `resolutions` folder, imported
at the start of the next run. Each accepted decision is one row of a new Parquet file under
`{data_dir}/lake/resolutions/`; nothing is rewritten. Every imported line gets a verdict
(accepted, unchanged, or rejected with the reason) in `{data_dir}/reports/resolutions_import_*.csv`.

Decisions are inputs of the report dates: each applies to reports dated on or after its
`effective_date` (by default the latest published report date when it was recorded), and is part
of that date's lineage, so the next run recomputes that date and the later ones. A decision holds
while the exception's amounts are the ones it was taken on; if they change, the exception is OPEN
again and says why (transforms/match/91_resolutions.sql).

A decision recorded in error is corrected, never edited: `recon resolve ID --action A
--supersede` appends a decision that replaces the one in force, and `recon resolve ID --revoke`
appends a REVOKED record that withdraws it. Both name the record they correct (`supersedes`)
and take effect from that record's effective date; `load_sql` leaves out what was superseded
or revoked, so the next run recomputes those dates with the corrected decision.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import os
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import csvsafe, lake, publish
from transforms.config import Config
from transforms.duck import sql_path
from transforms.errors import UsageError

ACTIONS = ("REFUNDED", "CREDITED", "WRITTEN_OFF", "FALSE_POSITIVE", "MATCHED_MANUALLY")
REVOKED = "REVOKED"  # the action of a record that withdraws the decision it names
LOGGED_REJECTS = 10  # an import logs this many rejected lines; the rest are in its report
RESOLVABLE = ("OPEN", "PENDING", "RESOLVED")
HEADERS = {
    "id": "异常编号",
    "action": "处理结果",
    "note": "处理说明",
    "by": "处理人",
    "ref": "对方单号",
}
ENGLISH_HEADERS = {
    "id": "exception_id",
    "action": "action",
    "note": "note",
    "by": "by",
    "ref": "counterpart_ref",
}

SCHEMA = pa.schema(
    [
        ("resolution_id", pa.string()),
        ("exception_id", pa.string()),
        ("exception_type", pa.string()),
        ("ref", pa.string()),
        ("action", pa.string()),
        ("counterpart_ref", pa.string()),
        ("note", pa.string()),
        ("resolved_by", pa.string()),
        ("resolved_at", pa.timestamp("us", tz="UTC")),
        ("effective_date", pa.date32()),
        ("origin", pa.string()),  # "recon resolve", or file name and row of an import
        # what the exception looked like when decided: a change reopens it
        ("snapshot_status", pa.string()),
        ("snapshot_expected", pa.decimal128(18, 2)),
        ("snapshot_actual", pa.decimal128(18, 2)),
        # the resolution_id this record supersedes (a correction) or revokes (action REVOKED)
        ("supersedes", pa.string()),
    ]
)
IN_FORCE = [f for f in SCHEMA if f.name != "supersedes"]  # the columns matching reads


def store(config: Config) -> Path:
    return config.lake / "resolutions"


def _files(config: Config) -> list[Path]:
    return sorted(store(config).glob("*.parquet"))


_TYPES = {
    pa.string(): "VARCHAR",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): lake.INSTANT,
    pa.decimal128(18, 2): lake.MONEY,
}


def records_sql(config: Config) -> str:
    """A SELECT of every record of the store, corrections and revocations too (typed)."""
    files = _files(config)
    if not files:
        cols = ", ".join(f"CAST(NULL AS {_TYPES[f.type]}) AS {f.name}" for f in SCHEMA)
        return f"SELECT {cols} WHERE false"
    cols = ", ".join(f"CAST({f.name} AS {_TYPES[f.type]}) AS {f.name}" for f in SCHEMA)
    listed = ", ".join(sql_path(f) for f in files)
    # union_by_name: files written before `supersedes` existed read it as NULL
    return f"SELECT {cols} FROM read_parquet([{listed}], union_by_name = true)"


def load_sql(config: Config) -> str:
    """A SELECT of the decisions in force (typed; empty if none): every decision that no later
    record superseded or revoked."""
    cols = ", ".join(f.name for f in IN_FORCE)
    return (
        f"WITH r AS ({records_sql(config)}) SELECT {cols} FROM r WHERE action <> '{REVOKED}' "
        "AND resolution_id NOT IN (SELECT supersedes FROM r WHERE supersedes IS NOT NULL)"
    )


def digests(config: Config) -> dict[dt.date, str]:
    """Per effective date, a digest of its decisions: part of that date's lineage."""
    files = _files(config)
    if not files:
        return {}
    rows = duckdb.sql(
        f"SELECT effective_date, string_agg(resolution_id, ',' ORDER BY resolution_id) "
        f"FROM ({load_sql(config)}) GROUP BY 1"
    ).fetchall()
    return {day: hashlib.sha256(ids.encode()).hexdigest() for day, ids in rows}


# ---------------------------------------------------------------------------- recording


@dataclass
class Decision:
    exception_id: str
    action: str
    note: str
    by: str
    counterpart_ref: str | None = None
    origin: str = "recon resolve"
    supersede: bool = False  # replaces the decision in force (action REVOKED: withdraws it)


@dataclass
class Verdict:
    origin: str
    exception_id: str
    outcome: str  # accepted | unchanged | rejected
    reason: str = ""


def parse_action(text: str | None) -> str | None:
    """An action from a cell: its code ("REFUNDED" or "REFUNDED 已退款") or its Chinese label."""
    if not text or not str(text).strip():
        return None
    head = str(text).strip().split()[0].upper()
    if head in ACTIONS:
        return head
    try:
        from reports.labels import RESOLUTION_ACTIONS
    except ImportError:
        return None
    label = str(text).strip()
    return next((code for code, zh in RESOLUTION_ACTIONS.items() if label in (zh, code)), None)


class _Book:
    """The exceptions of the latest published report, and the decisions already recorded."""

    def __init__(self, config: Config, day: dt.date | None):
        published = publish.published_days(config)
        if not published:
            raise UsageError("nothing published yet: run `recon run` before recording decisions")
        self.day = day or published[-1]
        if self.day not in published:
            raise UsageError(
                f"no published report for {self.day}; expected one of {published[-1]} or earlier"
            )
        path = config.lake / "exceptions" / f"report_date={self.day}" / "exceptions.parquet"
        con = duckdb.connect()
        rows = con.execute(
            "SELECT exception_id, exception_type, ref, status, expected_amount, actual_amount, "
            f"resolution_action FROM read_parquet({sql_path(path)})"
        ).fetchall()
        self.exceptions = {r[0]: r for r in rows}
        latest = con.execute(
            "SELECT exception_id, action, resolved_by, resolved_at, snapshot_expected, "
            "snapshot_actual, resolution_id, effective_date, exception_type, ref, snapshot_status "
            f"FROM ({load_sql(config)}) "
            "QUALIFY row_number() OVER (PARTITION BY exception_id ORDER BY resolved_at DESC, resolution_id DESC) = 1"
        ).fetchall()
        con.close()
        self.decided = {r[0]: r for r in latest}

    def check_correction(self, d: Decision) -> tuple[str, str]:
        """A --supersede or --revoke: the decision in force is the one corrected."""
        earlier = self.decided.get(d.exception_id)
        verb = "revoke" if d.action == REVOKED else "supersede"
        if earlier is None:
            known = d.exception_id in self.exceptions
            return "rejected", (
                f"no decision in force on {d.exception_id} to {verb}"
                + ("" if known else f" (and no such exception in the report of {self.day})")
            )
        if d.action != REVOKED and d.action not in ACTIONS:
            return "rejected", f"unknown action; expected one of {', '.join(ACTIONS)}"
        if d.action == "MATCHED_MANUALLY" and not d.counterpart_ref:
            return "rejected", "MATCHED_MANUALLY needs the counterpart's ref (对方单号)"
        if not d.by.strip():
            return "rejected", "who decided? (处理人 / --by is empty)"
        if not d.note.strip():
            return "rejected", f"why? a {verb} needs --note (the reason is kept in the audit trail)"
        return "accepted", (
            f"{earlier[1]} by {earlier[2]} at {earlier[3]:%Y-%m-%d %H:%M} UTC "
            f"(resolution {earlier[6]}, in force from {earlier[7]})"
        )

    def check(self, d: Decision) -> tuple[str, str]:
        if d.supersede or d.action == REVOKED:
            return self.check_correction(d)
        found = self.exceptions.get(d.exception_id)
        if found is None:
            return (
                "rejected",
                f"unknown exception id {d.exception_id!r} in the report of {self.day}",
            )
        if found[3] not in RESOLVABLE:
            return (
                "rejected",
                f"{found[1]} {found[2]} is {found[3]} on {self.day}: nothing to resolve",
            )
        if d.action not in ACTIONS:
            return "rejected", f"unknown action; expected one of {', '.join(ACTIONS)}"
        if d.action == "MATCHED_MANUALLY" and not d.counterpart_ref:
            return "rejected", "MATCHED_MANUALLY needs the counterpart's ref (对方单号)"
        if not d.by.strip():
            return "rejected", "who decided? (处理人 / --by is empty)"
        earlier = self.decided.get(d.exception_id)
        if earlier and (earlier[4], earlier[5]) == (found[4], found[5]):
            if earlier[1] == d.action:
                return "unchanged", f"already resolved as {d.action} by {earlier[2]}"
            return "rejected", (
                f"already resolved differently: {earlier[1]} by {earlier[2]} at "
                f"{earlier[3]:%Y-%m-%d %H:%M} UTC; to correct a decision recorded in error: "
                f"recon resolve {d.exception_id} --action {d.action} --supersede --by WHO "
                "--note WHY (or --revoke --by WHO --note WHY)"
            )
        return "accepted", ""

    def row(self, d: Decision, now: dt.datetime) -> dict:
        key = f"{d.exception_id}|{d.action}|{d.by}|{d.note}|{now.isoformat()}|{d.origin}"
        if d.supersede or d.action == REVOKED:
            return self._correction(d, now, hashlib.sha256(key.encode()).hexdigest()[:16])
        found = self.exceptions[d.exception_id]
        return {
            "resolution_id": hashlib.sha256(key.encode()).hexdigest()[:16],
            "exception_id": d.exception_id,
            "exception_type": found[1],
            "ref": found[2],
            "action": d.action,
            "counterpart_ref": d.counterpart_ref or None,
            "note": d.note,
            "resolved_by": d.by.strip(),
            "resolved_at": now,
            "effective_date": self.day,
            "origin": d.origin,
            "snapshot_status": "OPEN" if found[3] == "RESOLVED" else found[3],
            "snapshot_expected": found[4],
            "snapshot_actual": found[5],
            "supersedes": None,
        }

    def _correction(self, d: Decision, now: dt.datetime, resolution_id: str) -> dict:
        """Takes effect where the corrected decision did, on the amounts it was taken on: the
        decision was wrong from the start."""
        earlier = self.decided[d.exception_id]
        return {
            "resolution_id": resolution_id,
            "exception_id": d.exception_id,
            "exception_type": earlier[8],
            "ref": earlier[9],
            "action": d.action,
            "counterpart_ref": d.counterpart_ref or None,
            "note": d.note,
            "resolved_by": d.by.strip(),
            "resolved_at": now,
            "effective_date": earlier[7],
            "origin": d.origin,
            "snapshot_status": earlier[10],
            "snapshot_expected": earlier[4],
            "snapshot_actual": earlier[5],
            "supersedes": earlier[6],
        }


def _append(config: Config, rows: list[dict], now: dt.datetime) -> Path | None:
    if not rows:
        return None
    folder = store(config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def record(config: Config, decisions: list[Decision], day: dt.date | None = None) -> list[Verdict]:
    """Check each decision against the report of `day` (default: the latest) and append the
    accepted ones to the store, all in one new file (private: 0640, folders 0750, as runs
    write)."""
    book = _Book(config, day)
    publish.private_data_dir(config)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    verdicts, rows, seen = [], [], set()
    for d in decisions:
        outcome, reason = book.check(d)
        if outcome == "accepted" and d.exception_id in seen:
            outcome, reason = "rejected", "the same exception twice in one import"
        if outcome == "accepted":
            rows.append(book.row(d, now))
            seen.add(d.exception_id)
        verdicts.append(Verdict(d.origin, d.exception_id, outcome, reason))
    _append(config, rows, now)
    return verdicts


# ---------------------------------------------------------------------------- importing


def inbox(config: Config) -> Path:
    return config.resolutions_dir


def _imported(config: Config) -> Path:
    return store(config) / "imported"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | float | int):
        return str(value)
    return str(value).strip()


def _header_map(header: list[str]) -> dict[str, int] | None:
    cells = [_cell(h) for h in header]
    where = {}
    for key in HEADERS:
        for name in (HEADERS[key], ENGLISH_HEADERS[key]):
            hit = next(
                (i for i, c in enumerate(cells) if c == name or c.startswith(name + " ")), None
            )
            if hit is not None:
                where[key] = hit
                break
    return where if "id" in where and "action" in where else None


def _decisions_from_rows(rows, origin: str) -> list[Decision]:
    out, where = [], None
    for n, row in enumerate(rows, start=1):
        cells = list(row)
        if where is None:
            where = _header_map(cells)
            continue

        got = {k: _cell(cells[i]) if i < len(cells) else "" for k, i in where.items()}
        if not got.get("action"):
            continue  # an undecided row
        action = parse_action(got["action"]) or got["action"]
        out.append(Decision(got["id"], action, got.get("note", ""), got.get("by", ""),
                            got.get("ref") or None, f"{origin} row {n}"))  # fmt: skip
    return out


def read_file(path: Path) -> list[Decision]:
    """Decisions filled into a workbook's decision columns (every sheet that has them), or a CSV
    with the same headers."""
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return _decisions_from_rows(csv.reader(f), path.name)
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for ws in wb.worksheets:
            out += _decisions_from_rows(ws.iter_rows(values_only=True), f"{path.name} [{ws.title}]")
        return out
    finally:
        wb.close()


def import_folder(config: Config) -> list[Verdict]:
    """Import every workbook or CSV in the resolutions folder not imported before (by SHA-256);
    write the verdict of every line beside the reports. A no-op without the folder."""
    folder = inbox(config)
    if not folder.is_dir() or not publish.published_days(config):
        return []
    done = _imported(config)
    verdicts: list[Verdict] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xlsx", ".csv")):
        if path.name.startswith(("~$", ".")):
            continue  # Excel's lock file, hidden files
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        marker = done / f"{sha}.csv"
        if marker.exists():
            continue
        try:
            decisions = read_file(path)
        except Exception as exc:  # a file that is not a workbook: say so, import the rest
            found = [Verdict(path.name, "", "rejected", f"unreadable: {exc}")]
        else:
            found = record(config, decisions) if decisions else []
        verdicts += found
        done.mkdir(parents=True, exist_ok=True)
        _write_verdicts(marker, found)
    if verdicts:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        report = config.reports / f"resolutions_import_{stamp}.csv"
        _write_verdicts(report, verdicts)
        log_verdicts(verdicts, folder, report, logging.getLogger("recon"))
    return verdicts


def _write_verdicts(path: Path, verdicts: list[Verdict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csvsafe.writer(f)  # ids and origins come from the imported file
            w.writerow(["origin", "exception_id", "outcome", "reason"])
            w.writerows([v.origin, v.exception_id, v.outcome, v.reason] for v in verdicts)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def log_verdicts(verdicts: list[Verdict], folder: Path, report: Path, log) -> None:
    """One summary line and the first rejected lines on the run's log; every line's verdict is
    in the import report (a 10 MB file must not print one line per decision)."""
    if not verdicts:
        return
    counts = {
        o: sum(v.outcome == o for v in verdicts) for o in ("accepted", "unchanged", "rejected")
    }
    log.warning(
        "finance decisions imported from %s: %s (each line's verdict in %s)",
        folder,
        ", ".join(f"{n} {o}" for o, n in counts.items() if n),
        report,
    )
    rejected = [v for v in verdicts if v.outcome == "rejected"]
    for v in rejected[:LOGGED_REJECTS]:
        log.warning("  %s %s: rejected: %s", v.origin, v.exception_id, v.reason)
    if len(rejected) > LOGGED_REJECTS:
        log.warning(
            "  ... and %d more rejected lines (in %s)", len(rejected) - LOGGED_REJECTS, report
        )
