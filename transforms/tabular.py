"""Row sources for tabular statements: CSV text (any encoding) or Excel (XLSX/XLS), as
(line_no, [cells]) with the physical line or sheet row number, all cells as text.

A cell over MAX_CELL_CHARS (transforms/limits.py) makes its row a reject naming the row,
the column and the limit (`stage_rows`), whether it comes from a CSV line or a sheet:
`delimited_rows` still splits a CSV line the CSV reader refuses for such a cell, so the
column can be named.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from transforms.errors import InputFileError
from transforms.limits import MAX_CELL_CHARS, too_long
from transforms.textio import (
    PREVIEW_CHARS,
    BadRow,
    Unreadable,
    guess_encoding,
    iter_lines,
    read_head,
)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy BIFF .xls (a compound document)


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(8)
    except OSError:
        return b""


def _is_xlsx_zip(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def is_excel(path: Path) -> bool:
    """An Excel workbook by name, or (for a name that says nothing, e.g. `.dat`) by content."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return True
    from transforms.sources.base import generic_name  # late: sources import this module

    if not generic_name(path):
        return False
    magic = _magic(path)
    return magic == OLE2 or (magic[:4] == b"PK\x03\x04" and _is_xlsx_zip(path))


def _is_xls(path: Path) -> bool:
    return path.suffix.lower() == ".xls" or (
        path.suffix.lower() not in EXCEL_SUFFIXES and _magic(path) == OLE2
    )


def normalize_header(cell: str) -> str:
    """A header cell as a name: spaces, TABs and U+3000 removed, full-width ()：normalized."""
    return (
        "".join(str(cell).split())
        .replace("\ufeff", "")
        .replace("（", "(")
        .replace("）", ")")
        .replace("：", ":")
    )


def iter_rows(
    path: Path,
    encoding: str | None = None,
    delimiter: str = ",",
    sheet: str | int | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """(line_no, cells) of every non-blank row. `sheet` (Excel only): a name or a 0-based index."""
    if is_excel(path):
        yield from _excel_rows(path, sheet)
        return
    enc = encoding or guess_encoding(read_head(path))
    for line_no, text in iter_lines(path, enc):
        if not text.strip():
            continue
        cells = next(csv.reader([text], delimiter=delimiter), [])
        yield line_no, cells


def delimited_rows(
    path: Path, encoding: str, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """(line_no, cells) of every non-blank line, each split as one CSV record, as
    textio.csv_rows gives them (a field does not span lines; a lone CR reads as a space; an
    `Unreadable` line, too long or binary, comes as a `BadRow`), except that a line holding
    a cell over the CSV reader's field limit is still split: `stage_rows` rejects it naming
    the column."""
    for line_no, text in iter_lines(path, encoding):
        if not text.strip():
            continue
        if isinstance(text, Unreadable):
            yield line_no, BadRow(text.raw, text.reason)
            continue
        if "\r" in text:
            text = text.replace("\r", " ")
        try:
            cells = next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                more = " ..." if len(text) > PREVIEW_CHARS else ""
                yield (
                    line_no,
                    BadRow(text[:PREVIEW_CHARS] + more, f"cannot be split into fields ({exc})"),
                )
                continue
            cells = split_line(text, delimiter)
        yield line_no, cells


def split_line(text: str, delimiter: str = ",") -> list[str]:
    """The cells of one CSV line (quotes `"`, doubled inside a quoted cell), as csv.reader
    splits it but without its field size limit: for a line it refused, to name the long cell."""
    cells, i, n = [], 0, len(text)
    while True:
        start = i
        quoted = []
        if i < n and text[i] == '"':
            j = i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    quoted.append(text[j:])
                    i = n
                    break
                quoted.append(text[j:k])
                if text.startswith('"', k + 1):
                    quoted.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            start = i
        end = text.find(delimiter, i)
        stop = n if end < 0 else end
        cells.append("".join(quoted) + text[start:stop])
        if end < 0:
            return cells
        i = end + len(delimiter)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != dt.time()
            else value.strftime("%Y-%m-%d")
        )
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        # Excel stores numbers as doubles; repr gives the shortest text that round-trips,
        # which is the decimal the bank typed (e.g. 1234.56), never 1234.5599999.
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    return str(value)


def _excel_rows(path: Path, sheet_ref: str | int | None = None) -> Iterator[tuple[int, list[str]]]:
    if _is_xls(path):
        import xlrd

        try:
            book = xlrd.open_workbook(file_contents=path.read_bytes())
        except Exception as exc:
            raise InputFileError(path, None, f"not a readable .xls workbook ({exc})") from None
        names = book.sheet_names()
        sheet = book.sheet_by_index(_sheet_index(path, names, sheet_ref))
        for r in range(sheet.nrows):
            cells = []
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    cells.append(
                        _cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                    )
                else:
                    cells.append(_cell_text(cell.value))
            if any(x.strip() for x in cells):
                yield r + 1, cells
        return
    import openpyxl

    try:
        # a file object: openpyxl refuses a path whose name does not end in .xlsx
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(
            path, None, f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        sheet = book.worksheets[_sheet_index(path, book.sheetnames, sheet_ref)]
        rows = sheet.iter_rows(values_only=True)
        r = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # a damaged sheet part: name the row it stopped at
                raise InputFileError(
                    path, r + 1, f"the .xlsx sheet cannot be read ({type(exc).__name__}: {exc})"
                ) from None
            r += 1
            cells = [_cell_text(v) for v in row]
            if any(x.strip() for x in cells):
                yield r, cells
    finally:
        book.close()


def _sheet_index(path: Path, names: list[str], ref: str | int | None) -> int:
    if ref is None:
        return 0
    if isinstance(ref, int) and 0 <= ref < len(names):
        return ref
    if isinstance(ref, str) and ref in names:
        return names.index(ref)
    raise InputFileError(path, None, f"expected a sheet {ref!r}; the workbook has {names}")


def stage_rows(
    con,
    name: str,
    rows: list[tuple[int, list[str]]],
    columns: list[str],
    delimiter: str = ",",
    labels: list[str] | None = None,
) -> str:
    """Load parsed rows into DuckDB table `name` (line_no, columns as VARCHAR, raw, reject_reason).

    A row with more non-empty cells than columns is rejected, never truncated.
    `raw` is the row's cells joined by `delimiter` (quoted where needed), trailing
    empty cells dropped. A row with a cell over MAX_CELL_CHARS is rejected naming the
    cell's column (`labels`: the header cells) and the limit; its cells are not staged
    and `raw` is a preview.
    """
    n = len(columns)
    data: dict[str, list] = {
        "line_no": [],
        **{c: [] for c in columns},
        "raw": [],
        "reject_reason": [],
    }
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="")
    for line_no, cells in rows:
        used = len(cells)
        while used and not str(cells[used - 1]).strip():
            used -= 1
        long = None
        if cells and max(map(len, cells)) > MAX_CELL_CHARS:
            long = next(i for i, v in enumerate(cells) if len(v) > MAX_CELL_CHARS)
        if long is not None:
            reason = f"{_column_label(labels, long)} holds {too_long(len(cells[long]))}"
            cells = [v[:PREVIEW_CHARS] + " ..." if len(v) > PREVIEW_CHARS else v for v in cells]
        elif used > n:
            reason = f"expected {n} columns, found {used}: cells beyond the header"
        else:
            reason = None
        padded = (list(cells) + [""] * n)[:n] if long is None else [""] * n
        data["line_no"].append(line_no)
        for c, v in zip(columns, padded, strict=True):
            data[c].append(v)
        buf.seek(0)
        buf.truncate()
        writer.writerow(cells[:used])
        data["raw"].append(
            buf.getvalue()[: 4 * PREVIEW_CHARS] if long is not None else buf.getvalue()
        )
        data["reject_reason"].append(reason)
    schema = pa.schema(
        [("line_no", pa.int64())] + [(c, pa.string()) for c in columns + ["raw", "reject_reason"]]
    )
    table = pa.table(data, schema=schema)
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
    return name


def _column_label(labels: list[str] | None, index: int) -> str:
    """`摘要 (column 6)`: a column by its header name and 1-based number."""
    name = normalize_header(labels[index]) if labels and index < len(labels) else ""
    return f"{name} (column {index + 1})" if name else f"column {index + 1}"


def stage_records(
    con, name: str, records: list[dict], columns: list[tuple[str, pa.DataType]]
) -> str:
    """Load already-parsed records (tree formats) into DuckDB table `name`.

    `columns` gives each canonical column's Arrow type (money as decimal128(18, 2));
    `line_no`, `raw` and `reject_reason` are added. Returns `name`.
    """
    fields = columns + [
        ("line_no", pa.int64()),
        ("raw", pa.string()),
        ("reject_reason", pa.string()),
    ]
    schema = pa.schema(fields)
    data = {f: [r.get(f) for r in records] for f, _ in fields}
    con.register(f"{name}_arrow", pa.table(data, schema=schema))
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
    return name
