"""Excel exception workbook of one report date, for the finance team (SPEC §7).

This module only renders what the pipeline already decided: it reads the day's Parquet outputs
with DuckDB and streams them into an XlsxWriter workbook in constant-memory mode. Every text
cell is written with `write_string`, so text from input files can never become a formula or
link; borrower data is masked; money stays `Decimal` until the moment a cell is written.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from xlsxwriter import Workbook

from reports import labels
from transforms.lake import CANONICAL, LINEAGE

MAX_ROWS = 1_048_575  # data rows per sheet, header excluded (Excel: 1,048,576 rows in all)

SUMMARY = "Summary"
PENDING = "Pending 在途"
CLEARED = "Cleared today 今日已清"
SETTLEMENT = "Settlement 结算"
REJECTED = "Rejected rows 错误行"
INPUTS = "Inputs 文件"

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
AGE_BUCKETS = ["0-1", "2-3", "4-7", "8-30", ">30"]


@dataclass(frozen=True)
class ReportInputs:
    """Where the day's outputs are: each a Parquet file, a glob, a folder, or None."""

    exceptions: Path | None = None
    settlements: Path | None = None
    files: Path | None = None
    rejects: Path | None = None
    stats: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------- masking

_CJK_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·•]+")
_CARD_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{13,19}(?![0-9A-Za-z])")


def mask_card(card: str | None) -> str | None:
    """6222021234567890123 -> 6222****0123 (first 4, ****, last 4)."""
    if card is None:
        return None
    s = re.sub(r"[\s-]", "", str(card))
    if len(s) > 8:
        return f"{s[:4]}****{s[-4:]}"
    return "****" + s[-4:] if len(s) > 4 else "****"


def mask_name(name: str | None) -> str | None:
    """张三 -> 张*: the first character, then one *."""
    if not name:
        return name
    s = str(name).strip()
    return s[0] + "*" if s else s


def mask_id(value: str | None) -> str | None:
    """Keep the first 2 and last 2 characters, mask the middle: B123456789 -> B1******89."""
    if value is None:
        return None
    s = str(value)
    return s[:2] + "*" * (len(s) - 4) + s[-2:] if len(s) > 4 else "*" * len(s)


def mask_borrower(value: str | None) -> str | None:
    """A CJK name is masked as a name, anything else as an id."""
    if value is None:
        return None
    s = str(value).strip()
    return mask_name(s) if _CJK_NAME.fullmatch(s) else mask_id(s)


def mask_text(text: str | None) -> str | None:
    """Mask card-like runs of 13-19 digits inside free text (e.g. a rejected raw line)."""
    return None if text is None else _CARD_LIKE.sub(lambda m: mask_card(m.group()), str(text))


# ---------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Col:
    header: str
    kind: str  # text | money | date | int
    width: float
    get: Callable[[dict[str, Any]], Any]


def _f(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[name]


def _exception_cols(with_type: bool) -> list[Col]:
    cols = [
        Col("ref", "text", 28, _f("ref")),
        Col("类型", "text", 22, lambda r: labels.label(r["exception_type"])),
        Col("biz_date", "date", 11, _f("biz_date")),
        Col("first_seen", "date", 11, _f("first_seen")),
        Col("age_days", "int", 9, _f("age_days")),
        Col("channel", "text", 12, _f("channel")),
        Col("order_no", "text", 24, _f("order_no")),
        Col("channel_txn_id", "text", 30, _f("channel_txn_id")),
        Col("bank_txn_id", "text", 24, _f("bank_txn_id")),
        Col("expected", "money", 14, _f("expected_amount")),
        Col("actual", "money", 14, _f("actual_amount")),
        Col("diff", "money", 14, _f("diff_amount")),
        Col("borrower", "text", 12, lambda r: mask_borrower(r["borrower_id"])),
        Col("card", "text", 14, lambda r: mask_card(r["card_no"])),
        Col("detail", "text", 40, _f("detail")),
        Col("file", "text", 30, _f("file_name")),
        Col("line", "int", 7, _f("line_no")),
        Col("exception_id", "text", 20, _f("exception_id")),
        Col("suggested action", "text", 32, lambda r: labels.action(r["exception_type"])),
    ]
    return [Col("type", "text", 22, _f("exception_type")), *cols] if with_type else cols


SETTLEMENT_COLS = [
    Col("channel", "text", 12, _f("channel")),
    Col("settle_date", "date", 11, _f("settle_date")),
    Col("trade_date", "date", 11, _f("trade_date")),
    Col("txn_count", "int", 10, _f("txn_count")),
    Col("pay_amount", "money", 15, _f("pay_amount")),
    Col("refund_amount", "money", 15, _f("refund_amount")),
    Col("fee_amount", "money", 13, _f("fee_amount")),
    Col("expected_net", "money", 15, _f("expected_net")),
    Col("bank_txn_id", "text", 24, _f("bank_txn_id")),
    Col("bank_value_date", "date", 14, _f("bank_value_date")),
    Col("bank_amount", "money", 15, _f("bank_amount")),
    Col("diff_amount", "money", 14, _f("diff_amount")),
    Col("status", "text", 10, _f("status")),
    Col("状态", "text", 10, lambda r: labels.settlement_status(r["status"])),
]

REJECT_COLS = [
    Col("source", "text", 14, _f("source")),
    Col("file", "text", 30, _f("file_name")),
    Col("line", "int", 7, _f("line_no")),
    Col("reason", "text", 40, _f("reason")),
    Col("raw", "text", 60, lambda r: mask_text(r["raw"])),
    Col("file_sha256", "text", 20, _f("file_sha256")),
]


def _checks(row: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        checks = json.loads(row["checks"] or "[]")
    except (TypeError, ValueError):
        return [{"name": str(row["checks"]), "stated": None, "computed": None, "ok": None}]
    return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []


def control_text(row: dict[str, Any]) -> str:
    checks = _checks(row)
    if not checks:
        return "n/a 无校验"
    ok = row["control_ok"] if row["control_ok"] is not None else all(c.get("ok") for c in checks)
    return "ok 一致" if ok else "different 不符"


def checks_text(row: dict[str, Any]) -> str:
    return "; ".join(
        f"{c.get('name')}: stated {c.get('stated')} vs computed {c.get('computed')}"
        f" ({'ok' if c.get('ok') else 'DIFF'})"
        for c in _checks(row)
    )


INPUT_COLS = [
    Col("source", "text", 14, _f("source")),
    Col("file", "text", 30, _f("file_name")),
    Col("format", "text", 14, _f("format")),
    Col("status", "text", 9, _f("status")),
    Col("rows in", "int", 9, _f("rows_in")),
    Col("rows ok", "int", 9, _f("rows_ok")),
    Col("rows rejected", "int", 9, _f("rows_rejected")),
    Col("control totals", "text", 16, control_text),
    Col("stated vs computed", "text", 60, checks_text),
    Col("error", "text", 40, _f("error")),
]
INPUT_SHEET_COLS = [
    *INPUT_COLS,
    Col("amount_total", "money", 16, _f("amount_total")),
    Col("file_sha256", "text", 20, _f("file_sha256")),
]


# ---------------------------------------------------------------------------- reading


def _parquet_files(path: Path | None) -> list[str]:
    if path is None:
        return []
    p = Path(path)
    if p.is_file():
        return [str(p)]
    pattern = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
    return sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _create_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    path: Path | None,
    cols: list[tuple[str, str]],
    report_date: dt.date | None = None,
) -> None:
    """A view with exactly `cols`, typed; absent input -> empty, absent column -> NULL."""
    files = _parquet_files(path)
    available: set[str] = set()
    source, where = "(SELECT 1)", "WHERE false"
    if files:
        source = f"read_parquet([{', '.join(map(_sql_str, files))}], union_by_name = true)"
        available = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        where = ""
        if report_date is not None and "report_date" in available:
            where = f"WHERE report_date IS NULL OR CAST(report_date AS DATE) = DATE '{report_date}'"
    select = ", ".join(
        f'CAST("{c}" AS {t}) AS "{c}"' if c in available else f'CAST(NULL AS {t}) AS "{c}"'
        for c, t in cols
    )
    con.execute(f"CREATE VIEW {name} AS SELECT {select} FROM {source} AS src {where}")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params=()) -> Iterator[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    while batch := cur.fetchmany(10_000):
        for record in batch:
            yield dict(zip(names, record, strict=True))


# ---------------------------------------------------------------------------- writing


def _sheet_name(base: str, part: int) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", base)
    suffix = f" ({part})" if part > 1 else ""
    return base[: 31 - len(suffix)] + suffix


class _Writer:
    def __init__(self, wb: Workbook):
        self.wb = wb
        self.money = wb.add_format({"num_format": MONEY_FORMAT})
        self.date = wb.add_format({"num_format": DATE_FORMAT})
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
        self.splits: dict[str, list[str]] = {}  # sheet -> its continuation sheets

    def cell(self, ws, row: int, col: int, value: Any, kind: str = "auto") -> None:
        if value is None:
            return
        if kind == "auto":
            kind = _kind_of(value)
        if kind == "money":
            ws.write_number(row, col, float(value), self.money)  # Decimal -> float at the cell
        elif kind == "date":
            ws.write_datetime(row, col, value, self.date)
        elif kind == "int":
            ws.write_number(row, col, value)
        else:
            ws.write_string(row, col, str(value))

    def header_row(self, ws, row: int, headers: list[str]) -> None:
        for c, text in enumerate(headers):
            ws.write_string(row, c, text, self.header)

    def table(self, name: str, cols: list[Col], rows: Iterator[dict[str, Any]]) -> int:
        """A data sheet: frozen header, filter, widths; continues on 'NAME (2)' past MAX_ROWS."""
        names = [_sheet_name(name, 1)]
        ws, n, total = self._data_sheet(names[0], cols), 0, 0
        for row in rows:
            if n >= MAX_ROWS:
                ws.autofilter(0, 0, n, len(cols) - 1)
                names.append(_sheet_name(name, len(names) + 1))
                ws, n = self._data_sheet(names[-1], cols), 0
            n += 1
            total += 1
            for c, col in enumerate(cols):
                self.cell(ws, n, c, col.get(row), col.kind)
        ws.autofilter(0, 0, n, len(cols) - 1)
        if len(names) > 1:
            self.splits[names[0]] = names[1:]
        return total

    def _data_sheet(self, name: str, cols: list[Col]):
        ws = self.wb.add_worksheet(name)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
        ws.freeze_panes(1, 0)
        self.header_row(ws, 0, [col.header for col in cols])
        return ws


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "text"
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, int | float):
        return "int"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def write_workbook(report_date: dt.date, inputs: ReportInputs, out_path: Path) -> Path:
    """Render the day's workbook to `out_path` (written beside it, then renamed into place)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with duckdb.connect() as con:
            _create_view(con, "exc", inputs.exceptions, CANONICAL["exceptions"], report_date)
            _create_view(con, "stl", inputs.settlements, CANONICAL["settlements"], report_date)
            _create_view(con, "fls", inputs.files, CANONICAL["files"])
            _create_view(con, "rej", inputs.rejects, CANONICAL["rejects"] + LINEAGE)
            _render(con, report_date, inputs.stats, tmp)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out_path


def _render(con, report_date: dt.date, stats: dict[str, object], path: Path) -> None:
    wb = Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    w = _Writer(wb)
    summary = wb.add_worksheet(SUMMARY)  # first sheet; written last, once splits are known
    order = "age_days DESC NULLS LAST, biz_date, ref, exception_id"
    by_type = _open_by_type(con)
    for code, count, _amount in by_type:
        if count:
            sql = f"SELECT * FROM exc WHERE status = 'OPEN' AND exception_type = ? ORDER BY {order}"
            w.table(code, _exception_cols(False), _rows(con, sql, [code]))
    by_status = "SELECT * FROM exc WHERE status = ? ORDER BY exception_type, " + order
    pending = w.table(PENDING, _exception_cols(True), _rows(con, by_status, ["PENDING"]))
    cleared = w.table(CLEARED, _exception_cols(True), _rows(con, by_status, ["CLEARED"]))
    stl = "SELECT * FROM stl ORDER BY settle_date, channel, trade_date"
    w.table(SETTLEMENT, SETTLEMENT_COLS, _rows(con, stl))
    rej = "SELECT * FROM rej ORDER BY source, file_name, line_no"
    w.table(REJECTED, REJECT_COLS, _rows(con, rej))
    w.table(INPUTS, INPUT_SHEET_COLS, _rows(con, "SELECT * FROM fls ORDER BY source, file_name"))
    _write_summary(w, summary, con, report_date, stats, by_type, pending, cleared)
    wb.close()


def _open_by_type(con) -> list[tuple[str, int, Decimal | None]]:
    """(code, count, total |diff|) of OPEN exceptions: every known code, then unknown ones."""
    found = {
        code: (count, amount)
        for code, count, amount in con.execute(
            "SELECT exception_type, count(*), sum(abs(diff_amount)) FROM exc "
            "WHERE status = 'OPEN' GROUP BY 1"
        ).fetchall()
    }
    codes = list(labels.EXCEPTION_TYPES) + sorted(
        (c for c in found if c not in labels.EXCEPTION_TYPES), key=str
    )
    return [(code, *found.get(code, (0, None))) for code in codes]


def _ageing(con) -> dict[str, tuple[int, Decimal | None]]:
    bucket = (
        "CASE WHEN age_days <= 1 THEN '0-1' WHEN age_days <= 3 THEN '2-3' "
        "WHEN age_days <= 7 THEN '4-7' WHEN age_days <= 30 THEN '8-30' ELSE '>30' END"
    )
    rows = con.execute(
        f"SELECT {bucket}, count(*), sum(abs(diff_amount)) FROM exc "
        "WHERE status = 'OPEN' AND age_days IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {b: (n, amount) for b, n, amount in rows}


def _write_summary(w: _Writer, ws, con, report_date, stats, by_type, pending, cleared) -> None:
    for c, width in enumerate([34, 28, 12, 16, 12, 12, 14, 16, 60, 40]):
        ws.set_column(c, c, width)
    r = 0
    ws.write_string(r, 0, "对账报告 汇总 Reconciliation summary", w.title)
    r += 1
    ws.write_string(r, 0, "Report date 报告日期", w.bold)
    w.cell(ws, r, 1, report_date, "date")
    r += 2

    ws.write_string(r, 0, "Headline 概览", w.bold)
    r += 1
    for key, value in stats.items():
        ws.write_string(r, 0, str(key))
        w.cell(ws, r, 1, value)
        r += 1
    r += 1

    ws.write_string(r, 0, "Inputs 文件", w.bold)
    r += 1
    w.header_row(ws, r, [col.header for col in INPUT_COLS])
    for row in _rows(con, "SELECT * FROM fls ORDER BY source, file_name"):
        r += 1
        for c, col in enumerate(INPUT_COLS):
            w.cell(ws, r, c, col.get(row), col.kind)
    r += 2

    ws.write_string(r, 0, "Exceptions by type 差异分类 (OPEN)", w.bold)
    r += 1
    w.header_row(ws, r, ["code", "类型", "count", "total |diff|", "suggested action"])
    first = r + 1
    for code, count, amount in by_type:
        r += 1
        ws.write_string(r, 0, code)
        ws.write_string(r, 1, labels.label(code))
        w.cell(ws, r, 2, count, "int")
        w.cell(ws, r, 3, amount, "money")
        ws.write_string(r, 4, labels.action(code))
    last = r
    r += 1
    ws.write_string(r, 0, "Total 合计", w.bold)
    w.cell(ws, r, 2, sum(n for _, n, _ in by_type), "int")
    w.cell(ws, r, 3, sum((a for _, _, a in by_type if a is not None), Decimal(0)), "money")
    r += 2

    ws.write_string(r, 0, "Ageing 账龄 (OPEN, days 天)", w.bold)
    r += 1
    w.header_row(ws, r, ["age_days", "count", "total |diff|"])
    ageing = _ageing(con)
    for bucket in AGE_BUCKETS:
        r += 1
        count, amount = ageing.get(bucket, (0, None))
        ws.write_string(r, 0, bucket)
        w.cell(ws, r, 1, count, "int")
        w.cell(ws, r, 2, amount, "money")
    r += 2

    ws.write_string(r, 0, "Pending 在途", w.bold)
    w.cell(ws, r, 1, pending, "int")
    r += 1
    ws.write_string(r, 0, "Cleared today 今日已清", w.bold)
    w.cell(ws, r, 1, cleared, "int")
    r += 2

    ws.write_string(r, 0, "Sheets over the row limit 超行拆分", w.bold)
    if not w.splits:
        ws.write_string(r, 1, "none 无")
    for sheet, more in w.splits.items():
        ws.write_string(r, 1, f"{sheet} continues on {', '.join(more)}")
        r += 1

    chart = w.wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "OPEN exceptions 差异笔数",
            "categories": [SUMMARY, first, 1, last, 1],
            "values": [SUMMARY, first, 2, last, 2],
        }
    )
    chart.set_title({"name": "Exceptions by type 差异分类"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    ws.insert_chart(r + 2, 0, chart, {"x_scale": 1.6, "y_scale": 1.6})  # below all tables
