"""Reading untrusted text files: encodings, BOMs, line numbers, staged CSV for DuckDB.

GBK/GB18030 is decoded here in Python (DuckDB has no encoding extension offline);
every line keeps its physical line number so a reject can name it.

The Python side does as little per line as it can (decode, strip the line
terminator, prefix the line number); splitting fields and typing them is
DuckDB's job.
"""

from __future__ import annotations

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


def iter_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (line_no, text) with line terminators and a leading BOM removed.

    A line that does not decode raises InputFileError naming the line: a wrong
    encoding is a file-level problem, not something to guess around. The one
    exception is a last line, without a line terminator, that stops inside a
    multi-byte character: that is a truncated file, so the line is yielded with
    U+FFFD in place of the cut character and ends up rejected by the format.
    """
    for first, texts in iter_line_blocks(path, encoding):
        yield from zip(count(first), texts)


BLOCK_BYTES = 1 << 22


def iter_line_blocks(
    path: Path, encoding: str, block_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[int, list[str]]]:
    """The lines of `path` as blocks (number of the block's first line, texts), decoded
    a block at a time: the per-line work in Python is a split, not a decode."""
    codec = "utf-8" if encoding in ("utf-8-sig", "utf8") else encoding
    line_no, rest = 1, b""
    with open(path, "rb") as f:
        while chunk := f.read(block_bytes):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            texts, error = _decode_block(path, data[:cut], codec, line_no)
            rest = data[cut:]
            yield line_no, texts
            if error:
                raise error
            line_no += len(texts)
        if rest:
            texts, error = _decode_block(path, rest, codec, line_no)
            yield line_no, texts
            if error:
                raise error


def _decode_block(
    path: Path, block: bytes, codec: str, first: int
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
                    line = _undecodable(path, first + i, raw, codec, exc)
            except InputFileError as exc:
                error = exc
                break
            texts.append(line.rstrip("\r\n"))
    else:
        texts = text.split("\n")
        if block.endswith(b"\n"):
            texts.pop()
        if "\r" in text:
            texts = [t.rstrip("\r") for t in texts]
    if first == 1 and texts:
        texts[0] = texts[0].lstrip("\ufeff")
    return texts, error


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


def is_blank(text: str) -> bool:
    """True for an empty or whitespace-only line (not a data line)."""
    return not text or text.isspace()


class Staged(str):
    """The name of a staged relation; `.lines` is how many lines were staged into it."""

    lines: int = 0


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
    inside a line is read as a space.
    """
    staged = workdir / f"{name}.csv"
    # A last field that is always there: DuckDB drops empty fields past the last column,
    # so without it a line with one delimiter too many could pass as a good row.
    end = delim + EOL_MARK
    lone_quotes: list[tuple[int, str]] = []
    staged_lines = 0
    with open(staged, "w", encoding="utf-8", newline="\n") as out:
        it = iter(lines)
        # A batch at a time: per line, only a filter and one format; rare cases are
        # found by one scan of the batch's text.
        while batch := list(islice(it, 65536)):
            if skip_blank:
                batch = [p for p in batch if p[1] and not p[1].isspace()]
            text = "\n".join([t for _, t in batch])
            if "\r" in text:
                batch = [(n, t.replace("\r", " ")) for n, t in batch]
            if quote and quote in text:
                odd = [p for p in batch if p[1].count(quote) % 2]
                if odd:
                    lone_quotes.extend(odd)
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
        f"header=false, auto_detect=false, columns={spec_sql}, strict_mode=true"
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
    if lone_quotes:
        con.executemany(
            f"INSERT INTO {name}_rej VALUES (?, ?, ?)",
            [
                (n, t, f"malformed quoting: an unclosed {quote} (a field cannot span lines)")
                for n, t in lone_quotes
            ],
        )
    rejected = con.execute(f"SELECT count(*) FROM {name}_rej").fetchall()[0][0]
    if good + rejected != staged_lines + len(lone_quotes):
        raise RuntimeError(
            f"staging {staged.name}: {staged_lines + len(lone_quotes)} lines written, but the CSV "
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
    result.lines = staged_lines + len(lone_quotes)
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
