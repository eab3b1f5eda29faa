"""The sheet engine of the workbook: columns, Arrow batches, and fast streamed data sheets.

Data sheets are written in XlsxWriter's constant-memory mode a batch of rows at a time
(`_XmlRows`), byte for byte what XlsxWriter's per-cell API writes (`_CellRows`, the reference
and the fallback). Every text cell is an inline string, so text can never become a formula or a
link. Money stays `Decimal` until the moment a cell is written.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name

MAX_ROWS = 1_048_575  # data rows per sheet, header excluded (Excel: 1,048,576 rows in all)
BATCH_ROWS = 20_000  # rows fetched from DuckDB (as Arrow) and rendered at a time
# Data rows are rendered to worksheet XML a batch at a time (see _XmlRows); set False to write
# every cell through XlsxWriter's public API instead (the same file, several times slower).
FAST_ROWS = True

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
EDITABLE_FILL = "#FFF2CC"  # the decision columns: header and cells, for finance to fill in
FIT_MAX = 50  # the widest a column grows to show its longest value (Excel width units)
FILTER_BUTTON = 3  # room for the autofilter arrow beside a header
A4 = 9  # XlsxWriter's paper code

# Excel's day 0 is 1899-12-31 and it counts a 1900-02-29 that never was (serials > 59 are +1).
_EXCEL_EPOCH_TO_1970 = (dt.date(1970, 1, 1) - dt.date(1899, 12, 31)).days


# ---------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Col:
    """One sheet column: the value of source column `field`, passed through `fn` if given.

    `bulk` maps a whole batch's column at once (e.g. masking, one regex pass for the column);
    with `field=None`, `fn` gets the whole row as a dict (for cells built from several fields).
    A "blank" column has a header and no cells (the decision columns to fill in); `choices`
    puts a dropdown list on it; `editable` shades it. A text column widens (up to FIT_MAX) to
    show its longest value whole, codes and file names above all; `fit=False` keeps the width
    of a column of free text (details, raw lines), which may be cut.
    """

    header: str
    kind: str  # text | money | date | datetime | int | blank
    width: float
    field: str | None = None
    fn: Callable[[Any], Any] | None = None
    bulk: Callable[[list[Any]], list[Any]] | None = None
    choices: tuple[str, ...] = ()
    editable: bool = False
    prompt: tuple[str, str] | None = None  # (title, message) shown when a cell is selected
    fit: bool = True

    def values(self, batch: _Batch) -> list[Any]:
        if self.kind == "blank":
            return [None] * batch.size
        if self.field is None:
            assert self.fn is not None, self.header
            return list(map(self.fn, batch.rows()))
        values = batch.column(self.field)
        if self.bulk is not None:
            values = self.bulk(values)
        return values if self.fn is None else list(map(self.fn, values))


# ---------------------------------------------------------------------------- widths


def display_width(text: str) -> float:
    """The width of `text` in Excel's units (the width of a digit): CJK characters count two,
    and a little is added for letters wider than digits (MISSING_ON_PLATFORM)."""
    wide = 0 if text.isascii() else sum(1 for ch in text if ord(ch) >= 0x2E80)
    return round((len(text) - wide) * 1.1 + 2 * wide + 1, 1)


def longest_width(values: list[Any]) -> float:
    """The display width of the widest text of a column's values (0 if none)."""
    strs = [v for v in values if v.__class__ is str]
    if not strs:
        return 0
    if "".join(strs).isascii():
        return display_width(max(strs, key=len))
    return max(map(display_width, set(strs)))


class _Widths:
    """The width of each column of a data sheet: its own, or more to show header and values."""

    def __init__(self, cols: list[Col]):
        self.cols = cols
        self.widths = [
            max(col.width, min(FIT_MAX, display_width(col.header) + FILTER_BUTTON)) for col in cols
        ]

    def see(self, values: list[list[Any]]) -> None:
        for c, (col, vals) in enumerate(zip(self.cols, values, strict=True)):
            if col.fit and col.kind == "text":
                self.widths[c] = max(self.widths[c], min(FIT_MAX, longest_width(vals)))


def page_setup(ws, title_rows: int = 1) -> None:
    """Printable: landscape A4, one page wide, the first `title_rows` rows on every page, the
    sheet's name and the page number in the footer."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
    ws.repeat_rows(0, title_rows - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&R&P / &N")


# ---------------------------------------------------------------------------- reading


def parquet_files(path: Path | None) -> list[str]:
    if path is None:
        return []
    p = Path(path)
    if p.is_file():
        return [str(p)]
    pattern = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
    return sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    path: Path | None,
    cols: list[tuple[str, str]],
    report_date: dt.date | None = None,
) -> None:
    """A view with exactly `cols`, typed; absent input -> empty, absent column -> NULL."""
    files = parquet_files(path)
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


def batches(con: duckdb.DuckDBPyConnection, sql: str, params=()) -> Iterator[_Batch]:
    """The query's rows in large batches, fetched as Arrow (not row by row)."""
    for batch in con.sql(sql, params=list(params) or None).to_arrow_reader(BATCH_ROWS):
        if batch.num_rows:
            yield _Batch(batch)


# ---------------------------------------------------------------------------- fast rows

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

    REQUIRED = (
        "row_data_fh",
        "previous_row",
        "table",
        "_write_single_row",
        "_check_dimensions",
        "_convert_date_time",
    )

    @classmethod
    def supported(cls, ws) -> bool:
        return bool(getattr(ws, "constant_memory", False)) and all(
            hasattr(ws, a) for a in cls.REQUIRED
        )

    def __init__(self, ws, cols: list[Col], formats: dict[str, Any]):
        self.ws = ws
        self.cols = cols
        self.letters = [xl_col_to_name(c) for c in range(len(cols))]
        self.formats = formats  # kind -> cell format: money, date, datetime
        self.last_row = 0  # 0-based index of the last data row written (0: none yet)
        self.last_cells = 0  # ... and of the last one that had any cell
        self.widths = _Widths(cols)

    def write(self, batch: _Batch) -> None:
        """The batch's rows as rows last_row+1, last_row+2, ..."""
        if not self.last_row:
            self.ws._write_single_row(1)  # flush the header row, as writing row 1 would
        values = [self._values(col, batch) for col in self.cols]
        self.widths.see(values)
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
        if kind == "blank":
            return [""] * len(numbers)
        if kind == "datetime":  # converted as write_datetime converts (few cells: per cell)
            s, serial = self.formats["datetime"]._get_xf_index(), self.ws._convert_date_time
            return [
                "" if v is None else f'<c r="{letter}{n}" s="{s}"><v>{serial(v):.16G}</v></c>'
                for n, v in zip(numbers, values, strict=True)
            ]
        raise ValueError(f"no fast path for column kind {kind!r}")

    def finish(self) -> None:
        if self.last_row:
            self.ws._check_dimensions(self.last_cells, len(self.cols) - 1)
            self.ws.previous_row = self.last_row + 1  # rows up to last_row are on disk already


class _CellRows:
    """The same rows through XlsxWriter's public per-cell API (the reference, and a fallback)."""

    def __init__(self, writer: Writer, ws, cols: list[Col]):
        self.writer, self.ws, self.cols, self.last_row = writer, ws, cols, 0
        self.widths = _Widths(cols)

    def write(self, batch: _Batch) -> None:
        cell, ws = self.writer.cell, self.ws
        values = [col.values(batch) for col in self.cols]
        self.widths.see(values)
        for i, row in enumerate(zip(*values, strict=True), start=self.last_row + 1):
            for c, (col, value) in enumerate(zip(self.cols, row, strict=True)):
                cell(ws, i, c, value, col.kind)
        self.last_row += batch.size

    def finish(self) -> None:
        pass


# ---------------------------------------------------------------------------- writing


def new_workbook(path: Path) -> Workbook:
    return Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )


class Writer:
    """Cell formats, unique sheet names, and data sheets that continue past the row limit."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.money = wb.add_format({"num_format": MONEY_FORMAT})
        self.date = wb.add_format({"num_format": DATE_FORMAT})
        self.datetime = wb.add_format({"num_format": DATETIME_FORMAT})
        self.percent = wb.add_format({"num_format": PERCENT_FORMAT})
        self.bold = wb.add_format({"bold": True})
        self.bold_money = wb.add_format({"bold": True, "num_format": MONEY_FORMAT})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
        self.header_edit = wb.add_format({"bold": True, "bg_color": "#FFD966", "bottom": 1})
        self.editable = wb.add_format({"bg_color": EDITABLE_FILL})
        self.splits: dict[str, list[str]] = {}  # sheet -> its continuation sheets
        self._names: set[str] = set()  # sheet names taken, lower case (Excel ignores case)

    def add_sheet(self, name: str, title_rows: int = 1):
        """A new sheet named `name`, or a variant of it if a sheet already has that name, set
        up for printing with its first `title_rows` rows on every page."""
        unique, k = name, 1
        while unique.lower() in self._names:
            k += 1
            unique = f"{name[: 31 - len(str(k)) - 1]}~{k}"
        self._names.add(unique.lower())
        ws = self.wb.add_worksheet(unique)
        page_setup(ws, title_rows)
        return ws

    def cell(self, ws, row: int, col: int, value: Any, kind: str = "auto", fmt=None) -> None:
        if value is None:
            return
        if kind == "auto":
            kind = _kind_of(value)
        if kind == "money":
            ws.write_number(row, col, float(value), fmt or self.money)  # Decimal -> float here
        elif kind == "date":
            ws.write_datetime(row, col, value, fmt or self.date)
        elif kind == "datetime":
            ws.write_datetime(row, col, value, fmt or self.datetime)
        elif kind == "percent":
            ws.write_number(row, col, value, fmt or self.percent)
        elif kind == "int":
            ws.write_number(row, col, value, fmt)
        elif fmt is not None:
            ws.write_string(row, col, str(value), fmt)
        else:
            ws.write_string(row, col, str(value))

    def header_row(self, ws, row: int, headers: list[str]) -> None:
        for c, text in enumerate(headers):
            ws.write_string(row, c, text, self.header)

    def table(
        self,
        name: Callable[[int], str],
        cols: list[Col],
        rows: Iterable[_Batch],
        freeze_cols: int = 0,
    ) -> tuple[str, int]:
        """A data sheet named name(1): frozen header, filter, widths; it continues on name(2),
        name(3)... past MAX_ROWS. Returns the first sheet's name and the rows written."""
        sheet = self._data_sheet(name(1), cols, freeze_cols)
        names, total = [sheet.ws.name], 0
        for batch in rows:
            start = 0
            while start < batch.size:
                if sheet.last_row >= MAX_ROWS:
                    self._close_sheet(sheet)
                    sheet = self._data_sheet(name(len(names) + 1), cols, freeze_cols)
                    names.append(sheet.ws.name)
                take = min(batch.size - start, MAX_ROWS - sheet.last_row)
                sheet.write(batch.slice(start, take))
                start += take
            total += batch.size
        self._close_sheet(sheet)
        if len(names) > 1:
            self.splits[names[0]] = names[1:]
        return names[0], total

    def _data_sheet(self, name: str, cols: list[Col], freeze_cols: int) -> _XmlRows | _CellRows:
        ws = self.add_sheet(name)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width, self.editable if col.editable else None)
        ws.freeze_panes(1, freeze_cols)
        for c, col in enumerate(cols):
            ws.write_string(0, c, col.header, self.header_edit if col.editable else self.header)
        if FAST_ROWS and _XmlRows.supported(ws):
            formats = {"money": self.money, "date": self.date, "datetime": self.datetime}
            return _XmlRows(ws, cols, formats)
        return _CellRows(self, ws, cols)

    def _close_sheet(self, sheet: _XmlRows | _CellRows) -> None:
        sheet.finish()
        last = sheet.last_row
        for c, (col, width) in enumerate(zip(sheet.cols, sheet.widths.widths, strict=True)):
            if width != col.width:
                sheet.ws.set_column(c, c, width, self.editable if col.editable else None)
        sheet.ws.autofilter(0, 0, last, len(sheet.cols) - 1)
        for c, col in enumerate(sheet.cols):
            if col.choices:
                rule = {"validate": "list", "source": list(col.choices), "error_type": "warning"}
                if col.prompt:
                    rule |= {"input_title": col.prompt[0], "input_message": col.prompt[1]}
                sheet.ws.data_validation(1, c, max(last, 1), c, rule)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "text"
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, int | float):
        return "int"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "text"
