"""SQL fragments shared by the formats: parse text fields exactly, explain failures.

Each parser returns NULL when the text does not parse; `field_checks` turns
"had text but did not parse" into a reject reason naming the column.
"""

from __future__ import annotations

from transforms.limits import MAX_CELL_CHARS
from transforms.textio import PREVIEW_CHARS

_STRIP = "[\\s,`¥￥\u3000]"


def clean(expr: str) -> str:
    """Trim spaces, TABs, full-width spaces and a leading backtick; empty becomes NULL."""
    return f"NULLIF(regexp_replace({expr}, '^[\\s\u3000`]+|[\\s\u3000]+$', '', 'g'), '')"


def money(expr: str) -> str:
    """Yuan text such as `1,234.56`, `-3.5` or `¥12` to DECIMAL(18,2); more than 2 decimals is NULL."""
    s = f"regexp_replace({expr}, '{_STRIP}', '', 'g')"
    return f"CASE WHEN regexp_full_match({s}, '[+-]?[0-9]+(\\.[0-9]{{0,2}})?') THEN TRY_CAST({s} AS DECIMAL(18,2)) END"


def money_rounded(expr: str, places: int = 6) -> str:
    """Yuan text with up to `places` decimals, rounded half-up to the fen (channel fees)."""
    s = f"regexp_replace({expr}, '{_STRIP}', '', 'g')"
    return (
        f"CASE WHEN regexp_full_match({s}, '[+-]?[0-9]+(\\.[0-9]{{0,{places}}})?') "
        f"THEN TRY_CAST(ROUND(TRY_CAST({s} AS DECIMAL(24,{places})), 2) AS DECIMAL(18,2)) END"
    )


def fen(expr: str) -> str:
    """Integer fen text (spaces around allowed) to DECIMAL(18,2) yuan, exactly."""
    return fen_text(f"trim({expr})")


def local_time(expr: str, fmt: str | list[str]) -> str:
    """Local wall-clock text to TIMESTAMP (still local); NULL if no format matches."""
    fmts = [fmt] if isinstance(fmt, str) else fmt
    fmt_sql = "[" + ", ".join("'" + f + "'" for f in fmts) + "]"
    return f"TRY_STRPTIME(trim({expr}), {fmt_sql})"


def instant(local_ts: str, tz: str) -> str:
    """Local TIMESTAMP to a UTC instant (TIMESTAMPTZ) in time zone `tz`."""
    return f"timezone('{tz}', {local_ts})"


def integer(expr: str) -> str:
    return f"TRY_CAST(trim({expr}) AS INTEGER)"


def field_checks(checks: list[tuple[str, str, str]]) -> str:
    """Reject reason from (column, raw_expr, parsed_expr, ...) triples: text present, parse failed.

    Each triple is (label, raw text expression, parsed expression). Yields NULL
    when every field parsed.
    """
    parts = [
        f"CASE WHEN {raw} IS NOT NULL AND {parsed} IS NULL "
        f"THEN '{label}: cannot read ' || chr(39) || {raw} || chr(39) END"
        for label, raw, parsed in checks
    ]
    return f"NULLIF(concat_ws('; ', {', '.join(parts)}), '')"


def required(checks: list[tuple[str, str]]) -> str:
    """Reject reason for required fields that are empty: (label, expr) pairs."""
    parts = [
        f"CASE WHEN {expr} IS NULL THEN '{label}: required, found empty' END"
        for label, expr in checks
    ]
    return f"NULLIF(concat_ws('; ', {', '.join(parts)}), '')"


def first_reason(*exprs: str) -> str:
    return f"NULLIF(concat_ws('; ', {', '.join(exprs)}), '')"


def sql_literal(value: str | None) -> str:
    return "NULL::VARCHAR" if value is None else "'" + str(value).replace("'", "''") + "'"


# ---- parsers for text that is already trimmed (the high-volume formats clean once, parse once)


def yuan_text(expr: str, places: int = 2, result: str = "DECIMAL(18,2)") -> str:
    """Yuan text with up to `places` decimals to `result`, exactly; anything else (or > 16 digits) NULL."""
    return (
        f"CASE WHEN regexp_full_match({expr}, '[+-]?[0-9]{{1,16}}(\\.[0-9]{{1,{places}}})?') "
        f"THEN TRY_CAST({expr} AS {result}) END"
    )


def fen_text(expr: str) -> str:
    """Whole fen text to DECIMAL(18,2) yuan exactly (multiplied, because DuckDB divides decimals as floating point)."""
    return (
        f"CASE WHEN regexp_full_match({expr}, '[+-]?[0-9]{{1,16}}') "
        f"THEN CAST(CAST({expr} AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(18,2)) END"
    )


def iso_local_ts(expr: str) -> str:
    """`YYYY-MM-DD HH:MM:SS` local wall-clock text to TIMESTAMP; NULL if it is not one."""
    return f"CASE WHEN length({expr}) = 19 THEN TRY_CAST({expr} AS TIMESTAMP) END"


def unreadable(label: str, text: str, parsed: str, expected: str) -> str:
    """Reject reason when `text` is present but did not parse."""
    return (
        f"CASE WHEN {text} IS NOT NULL AND {parsed} IS NULL THEN "
        f"'{label}: expected {expected}, found ' || chr(39) || {text} || chr(39) END"
    )


def trimmed(expr: str, chars: str | None = None, lead: str = "", trail: str = "") -> str:
    """The field trimmed (of spaces, or of `chars`); empty becomes NULL. trim() is slow (with a
    list of characters it compares every character), so it only sees the values that start or
    end with one of them. A format whose fields usually carry one `lead` character (WeChat's
    backtick) or one `trail` character (Alipay's TAB after an id) has those cut directly when
    the rest is clean: the same result as trim(), without it."""
    if not chars:
        # trim() strips Unicode spaces too (U+00A0, U+3000, ...), so only a value all ASCII
        # (as many bytes as characters) that neither starts nor ends with a space is kept as is.
        return (
            f"NULLIF(CASE WHEN strlen({expr}) = length({expr}) AND NOT prefix({expr}, ' ') "
            f"AND NOT suffix({expr}, ' ') THEN {expr} ELSE trim({expr}) END, '')"
        )
    chars = "".join(dict.fromkeys(chars))

    def any_of(side: str, texts) -> str:
        return " OR ".join(f"{side}({expr}, {sql_literal(t)})" for t in texts)

    ends = f"{any_of('prefix', chars)} OR {any_of('suffix', chars)}"
    cases = []
    if lead:
        clean_rest = (
            f"NOT ({any_of('prefix', [lead + c for c in chars])} OR {any_of('suffix', chars)})"
        )
        cases.append(
            f"WHEN prefix({expr}, {sql_literal(lead)}) AND {clean_rest} THEN substr({expr}, 2)"
        )
    if trail:
        clean_rest = (
            f"NOT ({any_of('prefix', chars)} OR {any_of('suffix', [c + trail for c in chars])})"
        )
        cases.append(
            f"WHEN suffix({expr}, {sql_literal(trail)}) AND {clean_rest} THEN left({expr}, -1)"
        )
    return (
        f"NULLIF(CASE {' '.join(cases)} WHEN {ends} THEN trim({expr}, {sql_literal(chars)}) "
        f"ELSE {expr} END, '')"
    )


def pick_fields(
    header: list[str], names: list[str], trim: str | None = None, lead: str = "", trail: str = ""
):
    """Select the header's columns (staged as c0..cN) named in `names`, trimmed, as f0..fM.

    Returns the select list and an accessor: `f("交易时间")` is that field's alias,
    or a typed NULL when the file has no such column.
    """
    src = {name: f"c{i}" for i, name in enumerate(header) if name}
    present = [n for n in names if n in src]
    alias = {n: f"f{i}" for i, n in enumerate(present)}
    select = ", ".join(f"{trimmed(src[n], trim, lead, trail)} AS {alias[n]}" for n in present)

    def field(name: str) -> str:
        return alias.get(name, "NULL::VARCHAR")

    return select, field


def count_accounted(con, path, typed: str, staged) -> int:
    """Rows in `typed`; every staged line must be there, as a row or a reject."""
    rows_in = con.execute(f"SELECT count(*) FROM {typed}").fetchall()[0][0]
    if rows_in != staged.lines:
        raise RuntimeError(f"{path}: staged {staged.lines} lines but typed {rows_in}")
    return rows_in


def long_cell(cols: list[str], labels: list[str]) -> str:
    """Reject reason for a row with a cell over MAX_CELL_CHARS, naming the first such column
    (strlen is bytes, so it only lets the few candidates through to length())."""
    big = f"greatest({', '.join(f'strlen({c})' for c in cols)}) > {MAX_CELL_CHARS}"
    named = [
        f"WHEN length({c}) > {MAX_CELL_CHARS} THEN {sql_literal(f'{label} (column {i + 1}) holds ')} "
        f"|| format('{{:,}}', length({c})) || ' characters; expected at most {MAX_CELL_CHARS:,}'"
        for i, (c, label) in enumerate(zip(cols, labels, strict=True))
    ]
    return f"CASE WHEN {big} THEN CASE {' '.join(named)} END END"


def typed_rows_cte(
    staged: str,
    cols: list[str],
    fields: str,
    parsed: str,
    is_header: str,
    reason: str,
    labels: list[str] | None = None,
    delim: str = ",",
) -> str:
    """The three steps every delimited format shares, as CTEs: t (trimmed fields), p (parsed
    values), r (`_reason`: a cell over the size limit, a repeated header line, a structural
    reject, or a field reason). A row with an over-long cell keeps a preview as `raw`."""
    long = long_cell(cols, labels or cols)
    joined = ", ".join(f"coalesce({c}, '')" for c in cols)
    preview = f"left(concat_ws({sql_literal(delim)}, {joined}), {4 * PREVIEW_CHARS}) || ' ...'"
    return f"""
        WITH t AS (
            SELECT line_no, raw, reject_reason AS _stage_reason, {", ".join(cols)}, {fields},
                   {long} AS _long
            FROM {staged}
        ), p AS (
            SELECT *, {parsed} FROM t
        ), r AS (
            SELECT * REPLACE (CASE WHEN _long IS NOT NULL THEN {preview} ELSE raw END AS raw),
                CASE
                WHEN _long IS NOT NULL THEN _long
                WHEN {is_header} THEN 'a repeated header line, not a data row (files concatenated?)'
                ELSE coalesce(_stage_reason, {reason}) END AS _reason
            FROM p
        )"""


def add_rejects(con, staged: str, rejects: list[tuple[int, str, str]]) -> None:
    """Add (line_no, raw, reason) rows to a staged table: lines that never became cells
    (too long, binary, refused by the CSV reader); their cell columns stay NULL."""
    if rejects:
        con.executemany(
            f"INSERT INTO {staged} (line_no, raw, reject_reason) VALUES (?, ?, ?)", rejects
        )
