"""Inputs for workbook tests (day outputs as Parquet), and ways to read a workbook back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import load_workbook

from reports import xlsx
from reports.workbook import ReportInputs
from transforms.lake import CANONICAL, LINEAGE

DAY = dt.date(2026, 11, 3)
ARROW = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
}
FILES = CANONICAL["files"]


def write_parquet(path: Path, cols: list[tuple[str, str]], rows: list[dict]) -> Path:
    schema = pa.schema([(name, ARROW[typ]) for name, typ in cols])
    table = pa.table({n: [r.get(n) for r in rows] for n in schema.names}, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def exc(exception_type: str, status: str = "OPEN", **kw) -> dict:
    n = kw.pop("n", 1)
    row = {
        "exception_id": f"E{exception_type[:3]}{status[0]}{n:03d}",
        "report_date": DAY,
        "exception_type": exception_type,
        "ref": f"R{n:03d}",
        "status": status,
        "severity": 2,
        "money_at_stake": Decimal("100.00"),
        "biz_date": dt.date(2026, 11, 2),
        "first_seen": dt.date(2026, 11, 2),
        "age_days": 1,
        "channel": "wechatpay",
        "order_no": f"P{n:05d}",
        "expected_amount": Decimal("100.00"),
        "actual_amount": Decimal("0.00"),
        "diff_amount": Decimal("-100.00"),
    }
    return row | kw


def inputs(
    tmp_path: Path,
    exceptions=(),
    settlements=(),
    files=(),
    rejects=(),
    stats=None,
    distributions=(),
    bank_lines=None,
    **kw,
) -> ReportInputs:
    bank = None
    if bank_lines is not None:
        bank = write_parquet(
            tmp_path / "bank_lines" / "source=bank" / "b.parquet",
            CANONICAL["bank_lines"] + LINEAGE,
            bank_lines,
        )
    return ReportInputs(
        exceptions=write_parquet(tmp_path / "exc.parquet", CANONICAL["exceptions"], exceptions),
        settlements=write_parquet(tmp_path / "stl.parquet", CANONICAL["settlements"], settlements),
        files=write_parquet(tmp_path / "files" / "manifest.parquet", FILES, files),
        rejects=write_parquet(
            tmp_path / "rej" / "source=a" / "r.parquet", CANONICAL["rejects"] + LINEAGE, rejects
        ),
        distributions=write_parquet(
            tmp_path / "dst.parquet", CANONICAL["distributions"], distributions
        ),
        bank_lines=bank,
        stats=stats or {},
        **kw,
    )


def dump_workbook(path: Path) -> str:
    """Each sheet's name, then its rows as tab-separated text, values as Excel displays them."""
    lines = []
    for ws in load_workbook(path).worksheets:
        lines.append(f"## {ws.title}")
        for row in ws.iter_rows():
            lines.append("\t".join(map(text, row)).rstrip("\t"))
    return "\n".join(lines) + "\n"


def dump_sheet(path: Path, sheet: str) -> str:
    text_ = dump_workbook(path)
    start = text_.index(f"## {sheet}\n")
    end = text_.find("\n## ", start + 1)
    return text_[start : None if end < 0 else end + 1]


def text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    fmt = cell.number_format
    if isinstance(value, dt.datetime) and fmt == xlsx.DATE_FORMAT:
        return value.date().isoformat()
    if isinstance(value, dt.datetime) and fmt == xlsx.DATETIME_FORMAT:
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int | float) and fmt == xlsx.MONEY_FORMAT:
        return f"{value:,.2f}"
    if isinstance(value, int | float) and fmt == xlsx.PERCENT_FORMAT:
        return f"{value:.1%}"
    return str(value)


def header(ws) -> list:
    return [c.value for c in ws[1]]


def column(ws, name: str) -> list:
    idx = header(ws).index(name)
    return [row[idx] for row in ws.iter_rows(min_row=2, values_only=True)]


def every_cell(path: Path):
    """(sheet, coordinate, value) of every non-empty cell of the workbook."""
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws.title, cell.coordinate, cell.value


def luhn_complete(prefix: str) -> str:
    """`prefix` and the check digit that makes it pass the Luhn check."""
    for d in "0123456789":
        digits = prefix + d
        total = 0
        for i, ch in enumerate(reversed(digits)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")
