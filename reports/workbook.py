"""Excel exception workbook of one report date, for the finance team (SPEC §7).

This module only renders what the pipeline already decided: it reads the day's Parquet outputs
with DuckDB and streams them into an XlsxWriter workbook in constant-memory mode. Every text
cell is an inline string (what `write_string` writes), so text from input files can never become
a formula or link; borrower data is masked; money stays `Decimal` until the moment a cell is
written. Data sheets are rendered a batch of rows at a time (see `_XmlRows`), not cell by cell.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name

from reports import labels
from transforms.lake import CANONICAL, LINEAGE

MAX_ROWS = 1_048_575  # data rows per sheet, header excluded (Excel: 1,048,576 rows in all)

SUMMARY = "Summary"
PENDING = "Pending 在途"
CLEARED = "Cleared today 今日已清"
SETTLEMENT = "Settlement 结算"
DISTRIBUTION = "Distribution 清分"
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
    distributions: Path | None = None


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
    """One sheet column: the value of source column `field`, passed through `fn` if given.

    With `field=None`, `fn` gets the whole row as a dict (for cells built from several fields).
    Cells are computed a column at a time over a batch of rows, not per cell.
    """

    header: str
    kind: str  # text | money | date | int
    width: float
    field: str | None = None
    fn: Callable[[Any], Any] | None = None

    def values(self, batch: _Batch) -> list[Any]:
        if self.field is None:
            assert self.fn is not None, self.header
            return list(map(self.fn, batch.rows()))
        values = batch.column(self.field)
        return values if self.fn is None else list(map(self.fn, values))


def _exception_cols(with_type: bool) -> list[Col]:
    cols = [
        Col("ref", "text", 28, "ref"),
        Col("类型", "text", 22, "exception_type", labels.label),
        Col("biz_date", "date", 11, "biz_date"),
        Col("first_seen", "date", 11, "first_seen"),
        Col("age_days", "int", 9, "age_days"),
        Col("channel", "text", 12, "channel"),
        Col("order_no", "text", 24, "order_no"),
        Col("channel_txn_id", "text", 30, "channel_txn_id"),
        Col("bank_txn_id", "text", 24, "bank_txn_id"),
        Col("expected", "money", 14, "expected_amount"),
        Col("actual", "money", 14, "actual_amount"),
        Col("diff", "money", 14, "diff_amount"),
        Col("borrower", "text", 12, "borrower_id", mask_borrower),
        Col("card", "text", 14, "card_no", mask_card),
        Col("detail", "text", 40, "detail"),
        Col("file", "text", 30, "file_name"),
        Col("line", "int", 7, "line_no"),
        Col("exception_id", "text", 20, "exception_id"),
        Col("suggested action", "text", 32, "exception_type", labels.action),
    ]
    return [Col("type", "text", 22, "exception_type"), *cols] if with_type else cols


SETTLEMENT_COLS = [
    Col("channel", "text", 12, "channel"),
    Col("settle_date", "date", 11, "settle_date"),
    Col("trade_date", "date", 11, "trade_date"),
    Col("txn_count", "int", 10, "txn_count"),
    Col("pay_amount", "money", 15, "pay_amount"),
    Col("refund_amount", "money", 15, "refund_amount"),
    Col("fee_amount", "money", 13, "fee_amount"),
    Col("expected_net", "money", 15, "expected_net"),
    Col("bank_txn_id", "text", 24, "bank_txn_id"),
    Col("bank_value_date", "date", 14, "bank_value_date"),
    Col("bank_amount", "money", 15, "bank_amount"),
    Col("diff_amount", "money", 14, "diff_amount"),
    Col("status", "text", 10, "status"),
    Col("状态", "text", 10, "status", labels.settlement_status),
    Col("group_expected", "money", 15, "group_expected"),
    Col("bank_txn_ids", "text", 30, "bank_txn_ids"),
    Col("group_id", "text", 30, "group_id"),
]

DISTRIBUTION_COLS = [
    Col("recipient", "text", 12, "recipient"),
    Col("account_no", "text", 24, "account_no"),
    Col("value_date", "date", 11, "value_date"),
    Col("expected_amount", "money", 15, "expected_amount"),
    Col("paid_amount", "money", 15, "paid_amount"),
    Col("paid_value_date", "date", 14, "paid_value_date"),
    Col("paid_bank_txn_ids", "text", 24, "paid_bank_txn_ids"),
    Col("received_amount", "money", 15, "received_amount"),
    Col("received_bank_txn_ids", "text", 24, "received_bank_txn_ids"),
    Col("diff_amount", "money", 14, "diff_amount"),
    Col("status", "text", 10, "status"),
    Col("状态", "text", 10, "status", labels.settlement_status),
    Col("settle_items", "text", 40, "settle_items"),
    Col("detail", "text", 50, "detail", mask_text),
]

REJECT_COLS = [
    Col("source", "text", 14, "source"),
    Col("file", "text", 30, "file_name"),
    Col("line", "int", 7, "line_no"),
    Col("reason", "text", 40, "reason"),
    Col("raw", "text", 60, "raw", mask_text),
    Col("file_sha256", "text", 20, "file_sha256"),
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
    Col("source", "text", 14, "source"),
    Col("file", "text", 30, "file_name"),
    Col("format", "text", 14, "format"),
    Col("status", "text", 9, "status"),
    Col("rows in", "int", 9, "rows_in"),
    Col("rows ok", "int", 9, "rows_ok"),
    Col("rows rejected", "int", 9, "rows_rejected"),
    Col("control totals", "text", 16, None, control_text),
    Col("stated vs computed", "text", 60, None, checks_text),
    Col("error", "text", 40, "error"),
]
INPUT_SHEET_COLS = [
    *INPUT_COLS,
    Col("amount_total", "money", 16, "amount_total"),
    Col("file_sha256", "text", 20, "file_sha256"),
]


# ---------------------------------------------------------------------------- reading

BATCH_ROWS = 20_000  # rows fetched from DuckDB (as Arrow) and rendered at a time
# Excel's day 0 is 1899-12-31 and it counts a 1900-02-29 that never was (serials > 59 are +1).
_EXCEL_EPOCH_TO_1970 = (dt.date(1970, 1, 1) - dt.date(1899, 12, 31)).days


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


class _Batch:
    """Some rows of a query as Arrow; each column becomes Python values once, when first asked.

    Arrow gives DECIMAL as `Decimal` and DATE as `datetime.date`: money stays exact until a cell.
    """

    def __init__(self, batch: pa.RecordBatch):
        self.arrow = batch
        self.size = batch.num_rows
        self._columns: dict[str, list[Any]] = {}

    def column(self, name: str) -> list[Any]:
        if name not in self._columns:
            self._columns[name] = self.arrow.column(name).to_pylist()
        return self._columns[name]

    def excel_dates(self, name: str) -> list[int | None]:
        """A DATE column as Excel serial numbers, computed in Arrow (no date objects)."""
        days = pc.add(self.arrow.column(name).cast(pa.int32()), _EXCEL_EPOCH_TO_1970)
        return pc.if_else(pc.greater(days, 59), pc.add(days, 1), days).to_pylist()

    def rows(self) -> list[dict[str, Any]]:
        return self.arrow.to_pylist()

    def slice(self, start: int, length: int) -> _Batch:
        if start == 0 and length == self.size:
            return self
        return _Batch(self.arrow.slice(start, length))


def _batches(con: duckdb.DuckDBPyConnection, sql: str, params=()) -> Iterator[_Batch]:
    """The query's rows in large batches, fetched as Arrow (not row by row)."""
    for batch in con.sql(sql, params=list(params) or None).to_arrow_reader(BATCH_ROWS):
        if batch.num_rows:
            yield _Batch(batch)


# ---------------------------------------------------------------------------- writing


def _sheet_name(base: str, part: int) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", base)
    suffix = f" ({part})" if part > 1 else ""
    return base[: 31 - len(suffix)] + suffix


# Data rows are rendered to worksheet XML a batch at a time (see _XmlRows); set False to write
# every cell through XlsxWriter's public API instead (the same file, several times slower).
FAST_ROWS = True

_STR_MAX = 32_767  # Excel's limit on a cell's text, in UTF-16 code units
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]")  # escaped in a <t> element
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # looks like Excel's _xHHHH_ escape
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _truncate_utf16(text: str) -> str:
    """`text` cut to Excel's 32,767 UTF-16 code units, as XlsxWriter's write_string does."""
    if len(text) <= _STR_MAX // 2 or len(text.encode("utf-16-le")) <= 2 * _STR_MAX:
        return text
    units = text.encode("utf-16-le")[: 2 * _STR_MAX]
    return units.decode("utf-16-le", errors="ignore")  # never half a surrogate pair


def _t_element(text: str) -> str:
    """The <t> element of an inline string cell, escaped exactly as XlsxWriter does.

    Unlike XlsxWriter, text that looks like rich-text XML (`<r>...</r>`) is escaped too: text
    from input files is always shown literally.
    """
    text = _truncate_utf16(text)
    if (
        "_x" not in text
        and not _XML_SPECIAL.search(text)
        and not (text[:1].isspace() or text[-1:].isspace())
    ):
        return f"<t>{text}</t>"
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)  # a literal _xHHHH_ stays literal
    text = _CONTROL_CHAR.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def _plain_texts(texts: list[Any]) -> bool:
    """True if every value is None or a str that goes between <t> and </t> unchanged.

    Checked over the whole column at once (C loops, one regex scan), not cell by cell.
    """
    strs = [t for t in texts if t is not None]
    if not all(t.__class__ is str for t in strs):
        return False
    if strs and max(map(len, strs)) > _STR_MAX // 2:
        return False
    if any(map(str.__ne__, strs, map(str.strip, strs))):  # leading/trailing whitespace
        return False
    joined = "".join(strs)
    return "_x" not in joined and not _XML_SPECIAL.search(joined)


class _XmlRows:
    """Writes a data sheet's rows as worksheet XML, a whole batch at a time.

    XlsxWriter's per-cell API costs several microseconds a cell (argument checks, a row table,
    an XML writer call); at 100k exceptions x 19 columns that alone used most of the 10 s
    budget. In constant_memory mode XlsxWriter streams each sheet's <row> elements to a
    temporary file and copies it into the sheet at close. This writes the same <row> elements
    (byte for byte what write_string / write_number / write_datetime produce; the tests compare
    both) straight to that file, then tells the worksheet how far its data goes. XlsxWriter
    still writes everything else: the header row, widths, panes, filters, styles, the package.
    """

    REQUIRED = ("row_data_fh", "previous_row", "table", "_write_single_row", "_check_dimensions")

    @classmethod
    def supported(cls, ws) -> bool:
        return bool(getattr(ws, "constant_memory", False)) and all(
            hasattr(ws, a) for a in cls.REQUIRED
        )

    def __init__(self, ws, cols: list[Col], money, date):
        self.ws = ws
        self.cols = cols
        self.letters = [xl_col_to_name(c) for c in range(len(cols))]
        self.formats = {"money": money, "date": date}
        self.last_row = 0  # 0-based index of the last data row written (0: none yet)
        self.last_cells = 0  # ... and of the last one that had any cell

    def write(self, batch: _Batch) -> None:
        """The batch's rows as rows last_row+1, last_row+2, ..."""
        if not self.last_row:
            self.ws._write_single_row(1)  # flush the header row, as writing row 1 would
        values = [self._values(col, batch) for col in self.cols]
        self._index_formats(values)
        first = self.last_row + 2  # 1-based row number of the batch's first row
        numbers = range(first, first + batch.size)
        cells = [
            self._cells(col.kind, letter, numbers, vals)
            for col, letter, vals in zip(self.cols, self.letters, values, strict=True)
        ]
        rows = []
        for n, body in zip(numbers, map("".join, zip(*cells, strict=True)), strict=True):
            if body:  # a row without any cell is not written, as in XlsxWriter
                rows.append(f'<row r="{n}">{body}</row>')
                self.last_cells = n - 1
        self.ws.row_data_fh.write("".join(rows))
        self.last_row += batch.size

    @staticmethod
    def _values(col: Col, batch: _Batch) -> list[Any]:
        if col.kind == "date" and col.fn is None and col.field is not None:
            return batch.excel_dates(col.field)  # serial numbers straight from Arrow
        return col.values(batch)

    def _index_formats(self, values: list[list[Any]]) -> None:
        """Number the cell formats in the order XlsxWriter would: by their first cell."""
        unnumbered = {k for k, f in self.formats.items() if f.xf_index is None}
        if not unnumbered:
            return
        first_use = []
        for c, (col, vals) in enumerate(zip(self.cols, values, strict=True)):
            if col.kind in unnumbered:
                i = next((i for i, v in enumerate(vals) if v is not None), None)
                if i is not None:
                    first_use.append((i, c, col.kind))
        for _, _, kind in sorted(first_use):
            self.formats[kind]._get_xf_index()

    def _cells(self, kind: str, letter: str, numbers: range, values: list[Any]) -> list[str]:
        if kind == "text":
            if _plain_texts(values):
                return [
                    "" if v is None else f'<c r="{letter}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for n, v in zip(numbers, values, strict=True)
                ]
            return [
                ""
                if v is None
                else f'<c r="{letter}{n}" t="inlineStr"><is>{_t_element(str(v))}</is></c>'
                for n, v in zip(numbers, values, strict=True)
            ]
        if kind == "money":  # Decimal -> float only here, at the cell (Excel stores doubles)
            s = self.formats["money"]._get_xf_index()
            return [
                "" if v is None else f'<c r="{letter}{n}" s="{s}"><v>{float(v):.16G}</v></c>'
                for n, v in zip(numbers, values, strict=True)
            ]
        if kind == "date":  # Excel serial numbers (see _Batch.excel_dates)
            s = self.formats["date"]._get_xf_index()
            return [
                "" if v is None else f'<c r="{letter}{n}" s="{s}"><v>{v:.16G}</v></c>'
                for n, v in zip(numbers, values, strict=True)
            ]
        if kind == "int":
            return [
                "" if v is None else f'<c r="{letter}{n}"><v>{v:.16G}</v></c>'
                for n, v in zip(numbers, values, strict=True)
            ]
        raise ValueError(f"no fast path for column kind {kind!r}")

    def finish(self) -> None:
        if self.last_row:
            self.ws._check_dimensions(self.last_cells, len(self.cols) - 1)
            self.ws.previous_row = self.last_row + 1  # rows up to last_row are on disk already


class _CellRows:
    """The same rows through XlsxWriter's public per-cell API (the reference, and a fallback)."""

    def __init__(self, writer: _Writer, ws, cols: list[Col]):
        self.writer, self.ws, self.cols, self.last_row = writer, ws, cols, 0

    def write(self, batch: _Batch) -> None:
        cell, ws = self.writer.cell, self.ws
        values = [col.values(batch) for col in self.cols]
        for i, row in enumerate(zip(*values, strict=True), start=self.last_row + 1):
            for c, (col, value) in enumerate(zip(self.cols, row, strict=True)):
                cell(ws, i, c, value, col.kind)
        self.last_row += batch.size

    def finish(self) -> None:
        pass


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

    def table(self, name: str, cols: list[Col], batches: Iterable[_Batch]) -> int:
        """A data sheet: frozen header, filter, widths; continues on 'NAME (2)' past MAX_ROWS."""
        names = [_sheet_name(name, 1)]
        sheet, total = self._data_sheet(names[0], cols), 0
        for batch in batches:
            start = 0
            while start < batch.size:
                if sheet.last_row >= MAX_ROWS:
                    self._close_sheet(sheet)
                    names.append(_sheet_name(name, len(names) + 1))
                    sheet = self._data_sheet(names[-1], cols)
                take = min(batch.size - start, MAX_ROWS - sheet.last_row)
                sheet.write(batch.slice(start, take))
                start += take
            total += batch.size
        self._close_sheet(sheet)
        if len(names) > 1:
            self.splits[names[0]] = names[1:]
        return total

    def _data_sheet(self, name: str, cols: list[Col]) -> _XmlRows | _CellRows:
        ws = self.wb.add_worksheet(name)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
        ws.freeze_panes(1, 0)
        self.header_row(ws, 0, [col.header for col in cols])
        if FAST_ROWS and _XmlRows.supported(ws):
            return _XmlRows(ws, cols, self.money, self.date)
        return _CellRows(self, ws, cols)

    @staticmethod
    def _close_sheet(sheet: _XmlRows | _CellRows) -> None:
        sheet.finish()
        sheet.ws.autofilter(0, 0, sheet.last_row, len(sheet.cols) - 1)


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
            _create_view(con, "exc_in", inputs.exceptions, CANONICAL["exceptions"], report_date)
            # Read once: the sheets query the day's exceptions ~20 times (each type, summary).
            con.execute("CREATE TEMP TABLE exc AS SELECT * FROM exc_in")
            _create_view(con, "stl", inputs.settlements, CANONICAL["settlements"], report_date)
            dist = CANONICAL["distributions"]
            _create_view(con, "dst", inputs.distributions, dist, report_date)
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
            w.table(code, _exception_cols(False), _batches(con, sql, [code]))
    by_status = "SELECT * FROM exc WHERE status = ? ORDER BY exception_type, " + order
    pending = w.table(PENDING, _exception_cols(True), _batches(con, by_status, ["PENDING"]))
    cleared = w.table(CLEARED, _exception_cols(True), _batches(con, by_status, ["CLEARED"]))
    stl = "SELECT * FROM stl ORDER BY settle_date, channel, trade_date"
    w.table(SETTLEMENT, SETTLEMENT_COLS, _batches(con, stl))
    dst = "SELECT * FROM dst ORDER BY value_date, recipient"
    w.table(DISTRIBUTION, DISTRIBUTION_COLS, _batches(con, dst))
    rej = "SELECT * FROM rej ORDER BY source, file_name, line_no"
    w.table(REJECTED, REJECT_COLS, _batches(con, rej))
    files = "SELECT * FROM fls ORDER BY source, file_name"
    w.table(INPUTS, INPUT_SHEET_COLS, _batches(con, files))
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
    for batch in _batches(con, "SELECT * FROM fls ORDER BY source, file_name"):
        for row in zip(*(col.values(batch) for col in INPUT_COLS), strict=True):
            r += 1
            for c, (col, value) in enumerate(zip(INPUT_COLS, row, strict=True)):
                w.cell(ws, r, c, value, col.kind)
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
