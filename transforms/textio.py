"""Reading untrusted text files: encodings, BOMs, line numbers, staged CSV for DuckDB.

GBK/GB18030 is decoded here in Python (DuckDB has no encoding extension offline);
every line keeps its physical line number so a reject can name it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from transforms.errors import InputFileError

HEAD_BYTES = 16384


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def guess_encoding(head: bytes) -> str:
    """utf-8 when the head decodes as UTF-8 (a cut multi-byte tail is allowed), else gb18030."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) >= HEAD_BYTES:
            return "utf-8"
        return "gb18030"


def head_text(head: bytes, encoding: str | None = None) -> str:
    return head.decode(encoding or guess_encoding(head), errors="replace").lstrip("\ufeff")


def iter_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (line_no, text) with line terminators and a leading BOM removed.

    A line that does not decode raises InputFileError naming the line: a wrong
    encoding is a file-level problem, not something to guess around.
    """
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    path,
                    line_no,
                    f"bytes at column {exc.start + 1} are not valid {codec}; expected a {codec} text file",
                ) from None
            if line_no == 1:
                text = text.lstrip("\ufeff")
            yield line_no, text.rstrip("\r\n")


def stage_delimited(
    con,
    workdir: Path,
    name: str,
    lines: Iterable[tuple[int, str]],
    columns: list[str],
    delim: str = ",",
    quote: str = '"',
) -> str:
    """Load numbered text lines into DuckDB table `name` with VARCHAR columns.

    The lines are written to a UTF-8 staging file, each prefixed by its original
    line number, and read with explicit options (no sniffing). Lines with the
    wrong number of fields land in the same table with `reject_reason` set;
    `raw` holds each line's text. Returns `name`.
    """
    staged = workdir / f"{name}.csv"
    with open(staged, "w", encoding="utf-8", newline="\n") as out:
        for line_no, text in lines:
            out.write(f"{line_no}{delim}{text}\n")
    col_spec = {"line_no": "BIGINT", **{c: "VARCHAR" for c in columns}}
    spec_sql = "{" + ", ".join(f"'{c}': '{t}'" for c, t in col_spec.items()) + "}"
    q = quote.replace("'", "''")  # '' turns quoting off
    d = delim.replace("'", "''")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {name}_read AS
        SELECT * FROM read_csv('{_sql_path(staged)}', delim='{d}', quote='{q}', escape='{q}',
            header=false, auto_detect=false, columns={spec_sql}, strict_mode=true,
            store_rejects=true, rejects_table='{name}_rejerr', rejects_scan='{name}_rejscan')
        """
    )
    field_list = ", ".join(f"coalesce({c}, '')" for c in columns)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT *, NULL::VARCHAR AS reject_reason,
               concat_ws('{d}', {field_list}) AS raw
        FROM {name}_read
        UNION ALL BY NAME
        SELECT TRY_CAST(split_part(csv_line, '{d}', 1) AS BIGINT) AS line_no,
               'expected {len(columns)} fields: ' || first(error_type ORDER BY column_idx) || ' ('
                   || first(error_message ORDER BY column_idx) || ')' AS reject_reason,
               substr(trim(first(csv_line), E'\\n'), length(split_part(trim(first(csv_line), E'\\n'), '{d}', 1)) + 2) AS raw
        FROM {name}_rejerr
        GROUP BY csv_line
        """
    )
    return name


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"
