"""Reading untrusted text files: encodings, BOMs, line numbers, staged CSV for DuckDB.

GBK/GB18030 is decoded here in Python (DuckDB has no encoding extension offline);
every line keeps its physical line number so a reject can name it.

The Python side does as little per line as it can (decode, strip the line
terminator, prefix the line number); splitting fields and typing them is
DuckDB's job.

Nothing here holds a whole file, or a whole huge line, in memory: a line over
MAX_LINE_BYTES is counted, not kept, and handed on as an `Unreadable` stand-in
(so is a line holding a NUL byte); the formats reject it, naming the line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import count, islice
from pathlib import Path

from transforms.errors import InputFileError

HEAD_BYTES = 16384
EOL_MARK = "\x1e"  # closes every staged line (see stage_delimited)
BOM = b"\xef\xbb\xbf"


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def guess_encoding(head: bytes) -> str:
    """utf-8 when the head decodes as UTF-8 (a cut multi-byte tail is allowed), else gb18030."""
    if head.startswith(BOM):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) >= HEAD_BYTES:
            return "utf-8"
        return "gb18030"


def first_line_encoding(head: bytes) -> str:
    """The encoding of a file judged by its first line only: utf-8(-sig) if it decodes, else gb18030.

    Unlike `guess_encoding`, a stray GBK byte further down does not flip the
    whole file to gb18030; reading then stops at that line with an error naming it.
    """
    if head.startswith(BOM):
        return "utf-8-sig"
    first = head.split(b"\n", 1)[0]
    try:
        first.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if b"\n" not in head and exc.start >= len(first) - 3 and len(head) >= HEAD_BYTES:
            return "utf-8"  # a very long first line cut inside a character
        return "gb18030"


def head_text(head: bytes, encoding: str | None = None) -> str:
    return head.decode(encoding or guess_encoding(head), errors="replace").lstrip("\ufeff")


def first_line(head: bytes, encoding: str | None = None) -> str:
    """The first line of `head` as text (BOM and line terminator removed)."""
    enc = encoding or first_line_encoding(head)
    line = head.split(b"\n", 1)[0]
    return line.decode(enc, errors="replace").lstrip("\ufeff").rstrip("\r")


def iter_lines(path: Path, encoding: str, fallback: str | None = None) -> Iterator[tuple[int, str]]:
    """Yield (line_no, text) with line terminators and a leading BOM removed.

    A line that does not decode raises InputFileError naming the line: a wrong
    encoding is a file-level problem, not something to guess around (unless a
    `fallback` encoding is given: such a line is decoded with it instead). The one
    exception is a last line, without a line terminator, that stops inside a
    multi-byte character: that is a truncated file, so the line is yielded with
    U+FFFD in place of the cut character and ends up rejected by the format.

    A line that is not text a format could read (longer than MAX_LINE_BYTES, or
    holding a NUL byte) is yielded as an `Unreadable` stand-in (see there); it is
    never read whole into memory. On line 1, where every format expects its header
    or title, it is an InputFileError instead.
    """
    for first, texts in iter_line_blocks(path, encoding, fallback=fallback):
        yield from zip(count(first), texts)


BLOCK_BYTES = 1 << 22
MAX_LINE_BYTES = 1 << 20  # no record of any statement format comes near 1 MiB
PREVIEW_CHARS = 200  # what an Unreadable line keeps of the line, for `raw`
NUL = "\x00"


class Unreadable(str):
    """Stands in for a line that is not text a format could read: a line longer than
    MAX_LINE_BYTES (of which only the first bytes were kept) or one holding a NUL byte
    (binary content). Its text is a NUL then a preview of the line, so no format takes
    it for a header, a comment, a footer or a blank line: it travels as a data line and
    is rejected with `reason` (stage_delimited and csv_rows do it) and `raw` as its text."""

    reason: str = ""

    def __new__(cls, preview: str, reason: str) -> Unreadable:
        line = super().__new__(cls, NUL + preview)
        line.reason = reason
        return line

    @property
    def raw(self) -> str:
        return self[1:]


def _long_line(path: Path, line_no: int, head: bytes, size: int | None, codec: str) -> Unreadable:
    """The stand-in for a line of `size` bytes (None: more than MAX_LINE_BYTES, on line 1)."""
    length = f"{size:,} bytes" if size else f"more than {MAX_LINE_BYTES:,} bytes"
    reason = (
        f"line too long to be a record: {length} without a line break; expected "
        f"at most {MAX_LINE_BYTES:,}"
    )
    if line_no == 1:
        raise InputFileError(path, 1, f"{reason} (a header or title line)")
    preview = head.decode(codec, errors="replace")[:PREVIEW_CHARS]
    return Unreadable(preview.replace(NUL, "\u2400") + " ...", reason)


def _binary_line(path: Path, line_no: int, text: str) -> Unreadable:
    reason = f"a NUL byte at character {text.index(NUL) + 1}: binary content, not a line of text"
    if line_no == 1:
        hint = ""
        if text.count(NUL) * 3 >= len(text):
            hint = " (NUL bytes throughout: is the file UTF-16? expected UTF-8 or GBK)"
        raise InputFileError(path, 1, f"{reason}; expected a header or title line{hint}")
    preview = text[:PREVIEW_CHARS].replace(NUL, "\u2400")
    return Unreadable(preview + (" ..." if len(text) > PREVIEW_CHARS else ""), reason)


def iter_line_blocks(
    path: Path, encoding: str, block_bytes: int = BLOCK_BYTES, fallback: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """The lines of `path` as blocks (number of the block's first line, texts), decoded
    a block at a time: the per-line work in Python is a split, not a decode.

    At most one block plus MAX_LINE_BYTES is held at once: the bytes of a longer line
    are counted, not kept, and it comes out as an `Unreadable` stand-in."""
    codec = "utf-8" if encoding in ("utf-8-sig", "utf8") else encoding
    line_no, rest = 1, b""
    long_head, long_size = None, 0  # the start and length of a line over the limit
    with open(path, "rb") as f:
        while chunk := f.read(block_bytes):
            if long_head is not None:
                end = chunk.find(b"\n")
                if end < 0:
                    long_size += len(chunk)
                    continue
                long_size += end
                yield line_no, [_long_line(path, line_no, long_head, long_size, codec)]
                line_no, long_head, chunk = line_no + 1, None, chunk[end + 1 :]
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                texts, error = _decode_block(path, data[:cut], codec, line_no, fallback)
                yield line_no, texts
                if error:
                    raise error
                line_no += len(texts)
            if len(rest) > MAX_LINE_BYTES:
                if line_no == 1:  # raises at once, before reading on
                    _long_line(path, 1, rest, None, codec)
                long_head, long_size, rest = rest[: PREVIEW_CHARS * 4], len(rest), b""
        if long_head is not None:
            yield line_no, [_long_line(path, line_no, long_head, long_size, codec)]
        elif rest:
            texts, error = _decode_block(path, rest, codec, line_no, fallback)
            yield line_no, texts
            if error:
                raise error


def _decode_block(
    path: Path, block: bytes, codec: str, first: int, fallback: str | None = None
) -> tuple[list[str], InputFileError | None]:
    """Lines of a block that ends at a line end (or at the end of the file). A line that
    does not decode ends the block: the lines before it, then the error naming it."""
    error = None
    try:
        text = block.decode(codec)
    except UnicodeDecodeError:
        texts = []
        parts = block.split(b"\n")
        ends = [True] * (len(parts) - 1) + [False]
        if block.endswith(b"\n"):
            parts.pop()
            ends.pop()
        for i, (part, ended) in enumerate(zip(parts, ends, strict=True)):
            raw = part + b"\n" if ended else part
            try:
                try:
                    line = raw.decode(codec)
                except UnicodeDecodeError as exc:
                    if fallback:
                        line = raw.decode(fallback, errors="replace")
                    else:
                        line = _undecodable(path, first + i, raw, codec, exc)
            except InputFileError as exc:
                error = exc
                break
            texts.append(line.rstrip("\r\n"))
        text = "\n".join(texts)
    else:
        texts = text.split("\n")
        if block.endswith(b"\n"):
            texts.pop()
        if "\r" in text:
            texts = [t.rstrip("\r") for t in texts]
    if first == 1 and texts:
        texts[0] = texts[0].lstrip("\ufeff")
        if "\r" in texts[0]:
            raise InputFileError(
                path,
                1,
                "a CR (carriage return) inside the first line: expected lines ending in LF or "
                "CRLF (is this a file with CR-only line breaks?)",
            )
    if NUL in text:
        texts = [_binary_line(path, first + i, t) if NUL in t else t for i, t in enumerate(texts)]
    # a line of more than MAX_LINE_BYTES / 4 characters may be over MAX_LINE_BYTES bytes
    if len(block) > MAX_LINE_BYTES and texts and max(map(len, texts)) * 4 > MAX_LINE_BYTES:
        texts = [_checked_length(path, first + i, t, codec) for i, t in enumerate(texts)]
    return texts, error


def _checked_length(path: Path, line_no: int, text: str, codec: str) -> str:
    """`text`, or an Unreadable stand-in when the line is over MAX_LINE_BYTES."""
    if len(text) * 4 <= MAX_LINE_BYTES or isinstance(text, Unreadable):
        return text
    size = len(text.encode(codec, errors="replace"))
    if size <= MAX_LINE_BYTES:
        return text
    head = text[:PREVIEW_CHARS].encode(codec, errors="replace")
    return _long_line(path, line_no, head, size, codec)


def _undecodable(path: Path, line_no: int, raw: bytes, codec: str, exc: UnicodeDecodeError) -> str:
    if not raw.endswith(b"\n") and exc.reason == "unexpected end of data":
        return raw.decode(codec, errors="replace")  # the file was cut inside a character
    hint = ""
    if codec.startswith("utf"):
        try:
            raw.decode("gb18030")
            hint = " (the line decodes as GBK/GB18030: is the file GBK-encoded?)"
        except UnicodeDecodeError:
            pass
    raise InputFileError(
        path,
        line_no,
        f"byte {exc.start + 1} of the line ({raw[exc.start : exc.start + 4]!r}) is not valid "
        f"{codec}; expected a {codec} text file{hint}",
    )


MAX_COLUMNS = 1000  # statement layouts have 10 to 40; DuckDB needs gigabytes for 100,000


def check_width(path: Path | str, line_no: int | None, columns: int) -> None:
    """InputFileError when a header has more columns than any statement layout could."""
    if columns > MAX_COLUMNS:
        raise InputFileError(
            path,
            line_no,
            f"a header of {columns:,} columns; expected at most {MAX_COLUMNS:,} (a statement "
            "layout has a few dozen: is a line of delimiters the header?)",
        )


class BadRow(list):
    """A line `csv_rows` could not make a row of: no cells; `raw` and `reason` say why."""

    def __init__(self, raw: str, reason: str):
        super().__init__()
        self.raw, self.reason = raw, reason


def csv_rows(path: Path, encoding: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line_no, cells) of every non-blank line, each split as one CSV record (a field does
    not span lines; a lone CR reads as a space). A line that cannot be a row comes as a
    `BadRow`, for the format to reject: an `Unreadable` line (too long, binary) or one the
    CSV reader refuses (a field over its limit of 131,072 characters)."""
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
            more = " ..." if len(text) > PREVIEW_CHARS else ""
            reason = (
                f"cannot be split into fields ({exc}); expected a row whose cells hold at "
                f"most {csv.field_size_limit():,} characters"
            )
            yield line_no, BadRow(text[:PREVIEW_CHARS] + more, reason)
            continue
        yield line_no, cells


def is_blank(text: str) -> bool:
    """True for an empty or whitespace-only line (not a data line)."""
    return not text or text.isspace()


class Staged(str):
    """The name of a staged relation; `.lines` is how many lines were staged into it."""

    lines: int = 0
    route: str = ""  # how the file was read: optimistic / exact (transforms/fastcsv.py), careful


# The longest staged line DuckDB reads: iter_lines hands on no line over MAX_LINE_BYTES, and
# re-encoded as UTF-8 (GB18030 takes 2 bytes where UTF-8 takes 3) it is at most twice that.
# Set explicitly: with its default, DuckDB was seen to drop a 33 MB line without a reject.
STAGED_LINE_BYTES = 2 * MAX_LINE_BYTES + 64


def stage_delimited(
    con,
    workdir: Path,
    name: str,
    lines: Iterable[tuple[int, str]],
    columns: list[str],
    delim: str = ",",
    quote: str = '"',
    materialize: bool = True,
    skip_blank: bool = False,
) -> str:
    """Load numbered text lines into DuckDB relation `name` with VARCHAR columns.

    The lines are written to a UTF-8 staging file, each prefixed by its original
    line number, and read with explicit options (no sniffing). Every staged line
    comes back exactly once: lines with the wrong number of fields or broken
    quoting are in the same relation with `reject_reason` set and the field
    columns NULL; `line_no` is always the line number given with the line.

    `raw` holds each line's text (for good lines re-joined from its fields, so
    quoting is not kept). With `materialize=False`, `name` is a view that parses
    the staging file when it is read (read it once, e.g. by one CREATE TABLE AS),
    and `raw` is only filled on rejected lines: build it for other lines with
    `joined_fields(columns, delim)`. Returns `name` (a `Staged` str with `.lines`).

    With `skip_blank`, empty and whitespace-only lines are not data lines and are left out.

    Fields may not span lines: a line with an odd number of quote characters is
    rejected as it stands rather than swallowing the lines after it. A lone CR
    inside a line is read as a space. An `Unreadable` stand-in from `iter_lines` (a
    line too long, or binary) is rejected with its reason and preview.
    """
    staged = workdir / f"{name}.csv"
    # A last field that is always there: DuckDB drops empty fields past the last column,
    # so without it a line with one delimiter too many could pass as a good row.
    end = delim + EOL_MARK
    refused: list[tuple[int, str, str]] = []  # (line_no, raw, reason) of lines not staged
    staged_lines = 0
    with open(staged, "w", encoding="utf-8", newline="\n") as out:
        it = iter(lines)
        # A batch at a time: per line, only a filter and one format; rare cases are
        # found by one scan of the batch's text.
        while batch := list(islice(it, 65536)):
            if skip_blank:
                batch = [p for p in batch if p[1] and not p[1].isspace()]
            text = "\n".join([t for _, t in batch])
            if NUL in text:  # Unreadable stand-ins (too long, binary) from iter_lines
                unreadable = [p for p in batch if isinstance(p[1], Unreadable)]
                if unreadable:
                    refused.extend((n, t.raw, t.reason) for n, t in unreadable)
                    batch = [p for p in batch if not isinstance(p[1], Unreadable)]
            if "\r" in text:
                batch = [(n, t.replace("\r", " ")) for n, t in batch]
            if quote and quote in text:
                odd = [p for p in batch if p[1].count(quote) % 2]
                if odd:
                    why = f"malformed quoting: an unclosed {quote} (a field cannot span lines)"
                    refused.extend((n, t, why) for n, t in odd)
                    bad = {n for n, _ in odd}
                    batch = [p for p in batch if p[0] not in bad]
            out.write("".join([f"{n}{delim}{t}{end}\n" for n, t in batch]))
            staged_lines += len(batch)
    col_spec = {"line_no": "BIGINT", **{c: "VARCHAR" for c in columns}, "_eol": "VARCHAR"}
    spec_sql = "{" + ", ".join(f"{sql_str(c)}: '{t}'" for c, t in col_spec.items()) + "}"
    q = quote.replace("'", "''")  # '' turns quoting off
    d = delim.replace("'", "''")
    reader = (
        f"read_csv('{_sql_path(staged)}', delim='{d}', quote='{q}', escape='{q}', "
        f"header=false, auto_detect=false, columns={spec_sql}, strict_mode=true, "
        f"max_line_size={STAGED_LINE_BYTES}"
    )

    # Pass 1 (no materialization): find the lines the CSV reader refuses.
    for t in ("rejerr", "rejscan", "rejerr_v", "rejscan_v"):
        con.execute(f"DROP TABLE IF EXISTS {name}_{t}")
    good = con.execute(
        f"SELECT count(*) FROM {reader}, store_rejects=true, "
        f"rejects_table='{name}_rejerr', rejects_scan='{name}_rejscan')"
    ).fetchall()[0][0]
    nfields = len(columns)
    dl = len(delim)
    e = end.replace("'", "''")
    # Fields on the line, counted from the text: exact when the line has no quotes.
    found = f"((length(raw) - length(replace(raw, '{d}', ''))) // {dl} + 1)"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {name}_rej AS
        WITH err AS (
            SELECT line, first(csv_line) AS csv_line,
                   list(DISTINCT CAST(error_type AS VARCHAR)) AS kinds,
                   first(error_message ORDER BY column_idx) AS message,
                   -- the reader counts the line-number and end-mark columns too
                   max(TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT))
                       - 2 AS reader_found
            FROM {name}_rejerr GROUP BY line
        ), texts AS (
            SELECT TRY_CAST(split_part(csv_line, '{d}', 1) AS BIGINT) AS line_no,
                   substr(csv_line, length(split_part(csv_line, '{d}', 1)) + {dl + 1}) AS text,
                   kinds, message, reader_found
            FROM (SELECT * REPLACE (rtrim(csv_line, E'\\r\\n') AS csv_line) FROM err)
        ), lines AS (
            SELECT line_no, kinds, message, reader_found,
                   CASE WHEN suffix(text, '{e}') THEN text[:-{len(end) + 1}] ELSE text END AS raw
            FROM texts
        )
        SELECT line_no, raw,
            CASE
                WHEN list_contains(kinds, 'LINE SIZE OVER MAXIMUM')
                    THEN 'line too long to be a record: ' || message
                WHEN list_contains(kinds, 'UNQUOTED VALUE') OR list_contains(kinds, 'INVALID STATE')
                    THEN 'malformed quoting: ' || message
                WHEN {"false" if quote else "true"} OR strpos(raw, '{q or d}') = 0
                    THEN 'expected {nfields} fields, found ' || {found}
                WHEN reader_found IS NOT NULL
                    THEN 'expected {nfields} fields, found ' || reader_found
                ELSE 'expected {nfields} fields: ' || message
            END AS reject_reason
        FROM lines
        """
    )
    if refused:
        con.executemany(f"INSERT INTO {name}_rej VALUES (?, ?, ?)", refused)
    rejected = con.execute(f"SELECT count(*) FROM {name}_rej").fetchall()[0][0]
    if good + rejected != staged_lines + len(refused):
        raise RuntimeError(
            f"staging {staged.name}: {staged_lines + len(refused)} lines written, but the CSV "
            f"reader returned {good} rows and {rejected} rejects"
        )

    field_names = ", ".join(_q(c) for c in columns)
    raw_good = joined_fields(columns, delim) if materialize else "NULL::VARCHAR"
    kind = "TABLE" if materialize else "VIEW"
    _drop(con, name)
    # store_rejects (not ignore_errors, which stops at the first malformed quote) makes the
    # reader skip exactly the lines pass 1 found; their rows come from {name}_rej.
    con.execute(
        f"""
        CREATE {kind} {name} AS
        SELECT line_no, {field_names}, NULL::VARCHAR AS reject_reason, {raw_good} AS raw
        FROM {reader}, store_rejects=true,
            rejects_table='{name}_rejerr_v', rejects_scan='{name}_rejscan_v')
        UNION ALL BY NAME
        SELECT line_no, reject_reason, raw FROM {name}_rej
        """
    )
    result = Staged(name)
    result.lines = staged_lines + len(refused)
    return result


def _drop(con, name: str) -> None:
    found = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ?",
        [name, name],
    ).fetchall()
    for (kind,) in found:
        con.execute(f"DROP {kind} IF EXISTS {name}")


def joined_fields(columns: list[str], delim: str = ",") -> str:
    """SQL re-joining a staged line's fields with `delim` (its text, quoting aside)."""
    d = delim.replace("'", "''")
    return f"concat_ws('{d}', {', '.join(f'coalesce({_q(c)}, {chr(39) * 2})' for c in columns)})"


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"
