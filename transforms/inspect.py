"""Normalize one file on its own, for `recon inspect` and the golden tests."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from transforms import lake
from transforms.config import Config, Source
from transforms.duck import connect
from transforms.sources import FORMATS, get_format, identify
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized

ROLE_OF_TABLE = {v: k for k, v in lake.ROLE_TABLE.items()}


@dataclass
class Inspection:
    path: Path
    format: str
    table: str
    rows_in: int
    rows: list[dict] = field(default_factory=list)  # canonical columns, normalized rows
    rejects: list[dict] = field(default_factory=list)  # line_no, reason, raw
    checks: list[ControlCheck] = field(default_factory=list)

    @property
    def rows_ok(self) -> int:
        return len(self.rows)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)


def default_source(fmt: Format, path: Path) -> Source:
    role = ROLE_OF_TABLE[fmt.table]
    return Source(
        name=path.stem,
        role=role,
        format=fmt.name,
        glob=path.name,
        channel=fmt.name.upper() if role == "channel" else None,
    )


def inspect_file(
    path: Path, config: Config | None = None, source: Source | None = None
) -> Inspection:
    """Identify (unless `source` names the format) and normalize `path`; nothing is written."""
    path = Path(path)
    mapped = config.mapped_formats if config else {}
    timezone = config.timezone if config else "Asia/Shanghai"
    if source is not None:
        fmt = get_format(source.format, mapped)
    else:
        candidates = list(FORMATS)
        if config:
            candidates += [get_format(name, mapped) for name in mapped]
            matching = [s for s in config.sources if path.match(s.glob)]
            if matching:
                source = matching[0]
                first = get_format(source.format, mapped)
                candidates = [first] + [f for f in candidates if f.name != first.name]
        fmt, _ = identify(path, candidates)
        if source is None or source.format != fmt.name:
            source = default_source(fmt, path)
    con = connect(threads=2)
    with tempfile.TemporaryDirectory(prefix="recon-inspect-") as tmp:
        ctx = FileContext(path, source, con, Path(tmp), timezone, "f", mapped)
        normalized = fmt.normalize(ctx)
        return _collect(con, path, fmt, normalized)


def _collect(con, path: Path, fmt: Format, n: Normalized) -> Inspection:
    available = {d[0] for d in con.execute(f"SELECT * FROM {n.relation} LIMIT 0").description}
    select = lake.canonical_select_sql(
        n.table,
        f"(SELECT * FROM {n.relation} WHERE reject_reason IS NULL ORDER BY line_no)",
        {"source": "", "file_name": path.name, "file_sha256": ""},
        available,
    )
    cur = con.execute(select)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    rejects = [
        {"line_no": r[0], "reason": r[1], "raw": r[2]}
        for r in con.execute(
            f"SELECT line_no, reject_reason, raw FROM {n.relation} WHERE reject_reason IS NOT NULL ORDER BY line_no"
        ).fetchall()
    ]
    return Inspection(path, fmt.name, n.table, n.rows_in, rows, rejects, n.checks)


def golden_text(result: Inspection) -> str:
    """A stable text rendering of one file's normalization: the golden-file format."""
    out = io.StringIO()
    out.write(f"# format: {result.format}\n# table: {result.table}\n")
    out.write(
        f"# rows_in: {result.rows_in} ok: {result.rows_ok} rejected: {result.rows_rejected}\n"
    )
    columns = [c for c, _ in lake.CANONICAL[result.table]] + ["line_no"]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for row in result.rows:
        w.writerow(["" if row[c] is None else _text(row[c]) for c in columns])
    out.write("# rejects\n")
    for r in result.rejects:
        w.writerow([r["line_no"], r["reason"], r["raw"]])
    out.write("# checks\n")
    for c in result.checks:
        w.writerow([c.name, c.stated, c.computed, "ok" if c.ok else "DIFFERENT"])
    return out.getvalue()


def _text(value) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def report_text(result: Inspection, max_rejects: int = 10) -> str:
    lines = [
        f"file:     {result.path}",
        f"format:   {result.format} -> {result.table}",
        f"rows:     read {result.rows_in}, ok {result.rows_ok}, rejected {result.rows_rejected}",
    ]
    if result.checks:
        lines.append("control totals (stated vs computed):")
        for c in result.checks:
            lines.append(
                f"  {'ok  ' if c.ok else 'DIFF'} {c.name}: stated {c.stated}, computed {c.computed}"
            )
    else:
        lines.append("control totals: the file states none")
    if result.rejects:
        lines.append(f"first rejects (of {result.rows_rejected}):")
        for r in result.rejects[:max_rejects]:
            lines.append(f"  line {r['line_no']}: {r['reason']}  | {(r['raw'] or '')[:120]}")
    return "\n".join(lines)
