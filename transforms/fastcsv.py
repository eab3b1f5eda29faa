"""The fast path for delimited statement files: DuckDB reads the file itself, in one pass.

`stage_delimited` (transforms/textio.py) is the careful path: Python numbers every line and
writes a staged copy for DuckDB. Here DuckDB's own CSV reader reads the bytes (a UTF-8 file
as delivered, a GB18030 one as a UTF-8 copy made in large blocks), and a line's number comes
from the row's position: every physical line of the data region is exactly one row, one
reader reject, or an empty line the reader skips. That holds when no quoted field spans
lines, which a cheap count proves per file: physical lines = rows + rejects + empty lines.

`stage_fast` hands the format the same relation the careful path does (line_no, c0..cN,
reject_reason, raw), so a format's typed SQL is the same on both paths, and it returns None
whenever anything in the file is not plain (a NUL byte, mixed line endings, a line the
reader refuses for another reason than its width, an unexpected count, an encoding error):
the format then takes the careful path, whose answer is the reference. Both paths give the
same rows, line numbers, reasons and raw text for every file.

The one pass over the bytes in Python (`Scanner`) only counts: newlines, CRs, NULs, quotes,
empty lines and the lines that start with a format's markers (footers, trailers).
"""

from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from transforms.duck import sql_path
from transforms.textio import MAX_LINE_BYTES, Staged, is_blank, sql_str

BLOCK = 8 << 20
MAX_MARKERS = 10_000  # marker lines a file may have before it is read the careful way
MAX_ODD_ROWS = 100_000  # rows of the wrong width before it is read the careful way
NULL_TEXT = "\x01\x02recon-null\x02\x01"  # no field holds it: an empty field reads as ''


@dataclass
class Scan:
    """What one pass over a file's bytes found."""

    lines: int = 0  # physical lines (a last line without a terminator counts)
    crlf: bool = False
    empty: list[int] = field(default_factory=list)  # line numbers of empty lines
    markers: list[tuple[int, int]] = field(default_factory=list)  # (line_no, byte offset)
    quotes: bool = False
    plain: bool = True  # False: read the file the careful way
    why: str = ""


class Scanner:
    """Counts, block by block (each block cut at its last line end), what `Scan` holds. Only
    single-byte searches and counts run over every block (memchr speed); empty lines are
    looked for by `find_empty_lines` only when the counts say there are some."""

    def __init__(self, markers: tuple[bytes, ...] = (), quote: bytes = b""):
        self.scan = Scan()
        self.markers = markers
        self.quote = quote
        self.rest = b""
        self.offset = 0  # byte offset of the start of `rest`
        self.lf = self.cr = self.crlf = 0

    def feed(self, chunk: bytes) -> None:
        # Blocks are ranges of `chunk`: slicing or joining 8 MB chunks cost more than counting.
        start = 0
        if self.rest:
            nl = chunk.find(b"\n")
            if nl < 0:
                self.rest += chunk
                self._check_rest()
                return
            head = self.rest + chunk[: nl + 1]
            self._block(head, 0, len(head))
            self.offset += len(head)
            start = nl + 1
        cut = chunk.rfind(b"\n", start) + 1
        if cut > start:
            self._block(chunk, start, cut)
            self.offset += cut - start
            start = cut
        self.rest = chunk[start:]
        self._check_rest()

    def _check_rest(self) -> None:
        if len(self.rest) > MAX_LINE_BYTES:
            self._refuse("a line over the size limit")

    def finish(self) -> Scan:
        if self.rest:
            self._block(self.rest, 0, len(self.rest))
        s = self.scan
        s.lines = self.lf + (1 if self.rest else 0)
        if self.cr and not (self.cr == self.crlf and self.crlf == self.lf):
            self._refuse("mixed or bare CR line endings")
        s.crlf = bool(self.crlf)
        s.markers.sort()
        return s

    def _refuse(self, why: str) -> None:
        if self.scan.plain:
            self.scan.plain, self.scan.why = False, why

    def _block(self, data: bytes, lo: int, hi: int) -> None:
        """Count what `data[lo:hi]` (whole lines) holds."""
        s = self.scan
        if not s.plain:
            return
        first_line = self.lf + 1
        if data.find(b"\x00", lo, hi) >= 0:
            self._refuse("a NUL byte")
            return
        self.lf += data.count(b"\n", lo, hi)
        if data.find(b"\r", lo, hi) >= 0:
            self.cr += data.count(b"\r", lo, hi)
            self.crlf += data.count(b"\r\n", lo, hi)
        if self.quote and not s.quotes and data.find(self.quote, lo, hi) >= 0:
            s.quotes = True
        for marker in self.markers:
            self._find(data, lo, hi, marker, first_line)

    def _find(self, data: bytes, lo: int, hi: int, marker: bytes, first_line: int) -> None:
        """Lines of `data[lo:hi]` that start with `marker` (a single byte is found by memchr)."""
        s = self.scan
        if len(marker) == 1:
            starts, at = [], data.find(marker, lo, hi)
            while at >= 0:
                if at == lo or data[at - 1] == 0x0A:
                    starts.append(at)
                at = data.find(marker, at + 1, hi)
        else:
            starts = [lo] if data.startswith(marker, lo, hi) else []
            at = data.find(b"\n" + marker, lo, hi)
            while at >= 0:
                starts.append(at + 1)
                at = data.find(b"\n" + marker, at + 1, hi)
        if len(s.markers) + len(starts) > MAX_MARKERS:
            self._refuse("too many marker lines")
            return
        for pos in starts:
            s.markers.append((first_line + data.count(b"\n", lo, pos), self.offset + pos - lo))


def find_empty_lines(path: Path) -> list[int]:
    """Line numbers of the empty lines of `path` (the CSV reader skips them without a word)."""
    found, line, rest = [], 1, b""
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            block, rest = data[:cut], data[cut:]
            if block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block:
                for m in re.finditer(rb"(?m)^\r?\n", block):
                    found.append(line + block.count(b"\n", 0, m.start()))
            line += block.count(b"\n")
    return found


def scan_file(path: Path, markers: tuple[bytes, ...] = (), quote: bytes = b"") -> Scan:
    scanner = Scanner(markers, quote)
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            scanner.feed(chunk)
    return scanner.finish()


def utf8_copy(src, target: Path, encoding: str, scanner: Scanner) -> bool:
    """Decode file object `src` (GB18030 ...) into a UTF-8 copy at `target` in large blocks,
    feeding the scanner the UTF-8 bytes. False if a byte does not decode (the careful path
    then names the line)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    first = True
    try:
        with open(target, "wb") as out:
            while chunk := src.read(BLOCK):
                text = decoder.decode(chunk)
                if first and text.startswith("\ufeff"):
                    text = text[1:]
                first = first and not text
                data = text.encode("utf-8")
                out.write(data)
                scanner.feed(data)
            data = decoder.decode(b"", final=True).encode("utf-8")
            out.write(data)
            scanner.feed(data)
    except UnicodeDecodeError:
        return False
    return True


def line_texts(path: Path, wanted: list[int]) -> dict[int, str]:
    """The text of the physical lines `wanted` (line terminator removed), by one pass."""
    out: dict[int, str] = {}
    todo = sorted(set(wanted))
    if not todo:
        return out
    line = 1
    rest = b""
    with open(path, "rb") as f:
        while todo and (chunk := f.read(BLOCK)):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            block, rest = data[:cut], data[cut:]
            last = line + block.count(b"\n")
            if todo[0] < last:
                for i, text in enumerate(block.split(b"\n")[:-1]):
                    if line + i in todo:
                        out[line + i] = text.rstrip(b"\r").decode("utf-8", errors="replace")
                todo = [n for n in todo if n >= last]
            line = last
        if todo and rest and todo[0] == line:
            out[line] = rest.rstrip(b"\r").decode("utf-8", errors="replace")
    return out


@dataclass(frozen=True)
class Layout:
    """How the data region of a delimited file is laid out."""

    columns: list[str]
    delim: str
    quote: str  # '' : no quoting
    data_start: int  # line number of the first data line
    skip_lines: frozenset[int] = frozenset()  # footer/trailer lines, not data lines


def _reader(path: Path, layout: Layout, name: str, pass_no: int) -> str:
    cols = {c: "VARCHAR" for c in layout.columns} | {"_pad": "VARCHAR"}
    spec = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in cols) + "}"
    q = layout.quote.replace("'", "''")
    d = layout.delim.replace("'", "''")
    return (
        f"read_csv({sql_path(path)}, delim='{d}', quote='{q}', escape='{q}', header=false, "
        f"skip={layout.data_start - 1}, auto_detect=false, columns={spec}, strict_mode=true, "
        f"null_padding=true, nullstr={sql_str(NULL_TEXT)}, max_line_size={MAX_LINE_BYTES + 2}, "
        f"store_rejects=true, rejects_table='{name}_rej{pass_no}', "
        f"rejects_scan='{name}_scan{pass_no}')"
    )


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


ENABLED = True  # False: every file the careful way (tests compare the two paths)
MARK = "\x01wrong width\x01"  # the optimistic view's reason for a row of the wrong width


def _rows(path: Path, layout: Layout, name: str, pass_no: int) -> str:
    return f"(SELECT row_number() OVER () - 1 AS _i, * FROM {_reader(path, layout, name, pass_no)})"


def _drop(con, name: str) -> None:
    con.execute(f"DROP VIEW IF EXISTS {name}")
    for t in ("rej1", "scan1", "rej2", "scan2", "odd", "gaps"):
        con.execute(f"DROP TABLE IF EXISTS {name}_{t}")


def _rejects(con, table: str) -> list[tuple[int, list[str], int | None]]:
    return con.execute(
        f"SELECT line, list(DISTINCT CAST(error_type AS VARCHAR) ORDER BY 1), "
        f"max(TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT)) "
        f"FROM {table} GROUP BY line ORDER BY line"
    ).fetchall()


def optimistic_view(con, path: Path, name: str, layout: Layout) -> Staged:
    """The staged view assuming row i is on line data_start + i (one read, no first pass);
    a row of the wrong width has NULL cells and reason MARK. `confirm` checks the assumption
    once the format has read the view."""
    _drop(con, name)
    cols = layout.columns
    ok = f"(r.{_q(cols[-1])} IS NOT NULL AND r._pad IS NULL)"
    cells = ", ".join(f"CASE WHEN {ok} THEN r.{_q(c)} END AS {_q(c)}" for c in cols)
    con.execute(
        f"""CREATE VIEW {name} AS
            SELECT {layout.data_start} + r._i AS line_no, {cells},
                   CASE WHEN NOT {ok} THEN '{MARK}' END AS reject_reason, NULL::VARCHAR AS raw
            FROM {_rows(path, layout, name, 1)} r"""
    )
    return Staged(name)


def confirm(con, staged: Staged, typed: str, layout: Layout, scan: Scan) -> bool:
    """Whether the optimistic reading holds (every line of the data region a row, in order,
    the only rows of the wrong width footer lines); if so the footer rows leave `typed`."""
    try:
        rejects = _rejects(con, f"{staged}_rej1")
    except Exception:
        return False
    count, odd = con.execute(
        f"SELECT count(*), list(line_no) FILTER (WHERE reject_reason = '{MARK}') FROM {typed}"
    ).fetchall()[0]
    odd = odd or []
    last_row = layout.data_start + count - 1
    if (
        not scan.plain
        or count + len(rejects) != scan.lines - (layout.data_start - 1)
        or any(kinds != ["TOO MANY COLUMNS"] for _, kinds, _ in rejects)
        or any(line <= last_row or line not in layout.skip_lines for line, _, _ in rejects)
        or any(line not in layout.skip_lines for line in odd)
    ):
        return False
    skip = sorted(n for n in layout.skip_lines if layout.data_start <= n <= last_row)
    if skip:
        con.execute(f"DELETE FROM {typed} WHERE line_no IN ({', '.join(map(str, skip))})")
    staged.lines = count - len(skip)
    return True


def exact_view(con, path: Path, name: str, layout: Layout, scan: Scan) -> Staged | None:
    """The staged view by two reads: the first finds the rejects and the rows of the wrong
    width, so every row gets its line; None to take the careful path."""
    if not scan.plain:
        return None
    _drop(con, name)
    cols = layout.columns
    last = _q(cols[-1])
    fields = ", ".join(_q(c) for c in cols)
    try:
        count, odd = con.execute(
            f"SELECT count(*), list([_i::VARCHAR, {fields}, _pad]) "
            f"FILTER (WHERE {last} IS NULL OR _pad IS NOT NULL) FROM {_rows(path, layout, name, 1)}"
        ).fetchall()[0]  # fetched whole: the rejects table is only written at the end
        rejects = _rejects(con, f"{name}_rej1")
    except Exception:  # a file the reader cannot take as plain CSV: the careful path says why
        return None
    if any(kinds != ["TOO MANY COLUMNS"] for _, kinds, _ in rejects):
        return None
    odd = odd or []
    if len(odd) > MAX_ODD_ROWS:
        return None
    # Every physical line of the data region: a row, a reject or an empty line the reader skips.
    empty: list[int] = []
    if count + len(rejects) != scan.lines - (layout.data_start - 1):
        empty = find_empty_lines(path)
        if any(n < layout.data_start for n in empty):
            return None
    excluded = sorted({line for line, _, _ in rejects} | set(empty))
    if count + len(excluded) != scan.lines - (layout.data_start - 1):
        return None
    # The j-th excluded line comes after g_j rows: row i is on line data_start + i + #{g_j <= i}.
    gaps = [(e - layout.data_start) - j for j, e in enumerate(excluded)]

    def line_of(i: int) -> int:
        return layout.data_start + i + bisect.bisect_right(gaps, i)

    found: dict[int, int] = {line: n for line, _, n in rejects}
    for cells in odd:
        found[line_of(int(cells[0]))] = sum(c is not None for c in cells[1:])
    texts = line_texts(path, list(found))
    odd_rows = []
    for line, k in sorted(found.items()):
        text = texts.get(line)
        if text is None:
            return None
        if line in layout.skip_lines or is_blank(text):
            continue
        if not layout.quote or layout.quote not in text:
            k = text.count(layout.delim) + 1
        if k == len(cols):  # the reader and the text disagree: read it the careful way
            return None
        odd_rows.append((line, text, f"expected {len(cols)} fields, found {k}"))
    skip = [n for n in layout.skip_lines if n >= layout.data_start and n not in found]
    con.execute(f"CREATE TABLE {name}_odd (line_no BIGINT, raw VARCHAR, reject_reason VARCHAR)")
    if odd_rows:
        con.executemany(f"INSERT INTO {name}_odd VALUES (?, ?, ?)", odd_rows)
    con.execute(f"CREATE TABLE {name}_gaps (g BIGINT, n BIGINT)")
    if gaps:
        # (g, how many excluded lines come before row g and later rows): one row per g
        shifts = {g: j + 1 for j, g in enumerate(gaps)}
        con.executemany(f"INSERT INTO {name}_gaps VALUES (?, ?)", sorted(shifts.items()))
        shift = f"ASOF LEFT JOIN {name}_gaps s ON r._i >= s.g"
        line_no = f"{layout.data_start} + r._i + coalesce(s.n, 0)"
    else:
        shift, line_no = "", f"{layout.data_start} + r._i"
    kept = f"WHERE line_no NOT IN ({', '.join(map(str, sorted(skip)))})" if skip else ""
    con.execute(
        f"""
        CREATE VIEW {name} AS
        SELECT * FROM (
            SELECT {line_no} AS line_no, {", ".join(f"r.{_q(c)}" for c in cols)},
                   NULL::VARCHAR AS reject_reason, NULL::VARCHAR AS raw
            FROM {_rows(path, layout, name, 2)} r {shift}
            WHERE r.{last} IS NOT NULL AND r._pad IS NULL) {kept}
        UNION ALL BY NAME
        SELECT line_no, reject_reason, raw FROM {name}_odd
        """
    )
    staged = Staged(name)
    staged.lines = count - len(odd) - len(skip) + len(odd_rows)
    return staged


def stage_typed(con, name: str, path: Path, layout: Layout, scan: Scan, build, careful) -> Staged:
    """Stage the file and run `build(staged)` (the format's typed table, returned by name) on
    it: the optimistic view first, the exact view if it does not hold, else `careful()` (the
    careful path, transforms/textio.stage_delimited). Returns the relation it was built on."""
    if scan.plain and ENABLED:
        try:
            staged = optimistic_view(con, path, name, layout)
            typed = build(staged)
            if confirm(con, staged, typed, layout, scan):
                staged.route = "optimistic"
                return staged
            staged = exact_view(con, path, name, layout, scan)
            if staged is not None:
                build(staged)
                staged.route = "exact"
                return staged
        except duckdb.Error:  # the reader gave up on the file (a quote left open ...)
            pass
        _drop(con, name)
    staged = careful()
    build(staged)
    staged.route = "careful"
    return staged


def prepare(
    path: Path,
    workdir: Path,
    encoding: str,
    markers: tuple[bytes, ...] = (),
    quote: str = "",
    source=None,
) -> tuple[Path, Scan]:
    """The UTF-8 file DuckDB reads (`path` itself, or a UTF-8 copy of a GB18030 one, or of
    the open zip entry `source`) and what its bytes hold."""
    codec = codecs.lookup(encoding).name
    if source is None and codec == "utf-8":
        return path, scan_file(path, markers, quote.encode())
    scanner = Scanner(markers, quote.encode())
    target = workdir / f"{path.name}.utf8.csv"
    if source is not None:
        ok = utf8_copy(source, target, encoding, scanner)
    else:
        with open(path, "rb") as f:
            ok = utf8_copy(f, target, encoding, scanner)
    scan = scanner.finish()
    if not ok:
        scan.plain, scan.why = False, f"not {encoding} throughout"
    return target, scan


def lines_from(path: Path, offset: int, line_no: int, limit: int = 1000):
    """(line_no, text) of the lines from byte `offset` on (a marker line and what follows),
    decoded as UTF-8, terminators removed; at most `limit` lines."""
    with open(path, "rb") as f:
        f.seek(offset)
        for n in range(limit):
            raw = f.readline(MAX_LINE_BYTES + 2)
            if not raw:
                return
            yield line_no + n, raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
