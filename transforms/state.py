"""The state one report date hands to the next: named tables in, named tables out.

The matching steps read the previous date's state as `prev_*` tables (items still in
play) and look keys up in the history (what left play on earlier dates: keys and sums, one
delta file per date and kind) through `{{history:...}}` / `{{recent:...}}` (see
`history_sql`); they write the next state as `next_*` tables. A date's state lives in its
published version folder under `state/`.

The history catalog. Each date's state holds `catalog.parquet`: one row per delta file of
that date and every earlier one (kind, date, rows, and the smallest and largest value of the
column it is looked up by). A lookup asks the catalog which files can hold its keys and
reads only those: looking a key up costs the files whose range holds it, not the number of
days of history (each delta file is sorted by that column, so within a file DuckDB skips the
row groups whose min/max cannot hold it). The catalog itself is a row per file and date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from transforms import lake
from transforms.duck import sql_path
from transforms.timing import phase


@dataclass(frozen=True)
class Carried:
    name: str  # file name under state/ and key of lake.STATE
    prev: str  # table the steps read
    next: str  # table the steps write
    order: str  # a unique sort key: the same state gives the same bytes


@dataclass(frozen=True)
class Delta:
    name: str
    key: str  # the column lookups go by (the file is sorted by it, first or after a prefix)
    next: str
    order: str


CARRIED = (
    Carried("orders", "prev_orders", "next_orders", "order_no"),
    Carried("txns", "prev_txns", "next_txns", "channel, channel_txn_id, txn_type"),
    Carried("bank", "prev_bank", "next_bank", "account_no, bank_txn_id"),
    Carried("settle_frozen", "prev_settle_frozen", "next_settle_frozen", "channel, trade_date"),
    Carried(
        "settle_match",
        "prev_settle_match",
        "next_settle_match",
        "channel, settle_date, account_no, bank_txn_id",
    ),
    Carried(
        "share_frozen", "prev_share_frozen", "next_share_frozen", "channel, trade_date, recipient"
    ),
    Carried(
        "dist_match", "prev_dist_match", "next_dist_match", "recipient, value_date, bank_txn_id"
    ),
    Carried(
        "input_findings",
        "prev_input_findings",
        "next_input_findings",
        "exception_type, ref, biz_date, file_name, line_no, detail, channel_txn_id",
    ),
)
DELTAS = (
    Delta("order_keys", "order_no", "next_order_keys", "order_no"),
    Delta("txn_keys", "channel_txn_id", "next_txn_keys", "channel, channel_txn_id, txn_type"),
    Delta("bank_keys", "bank_txn_id", "next_bank_keys", "account_no, bank_txn_id"),
    Delta("refunds", "orig_order_no", "next_refunds", "orig_order_no, order_no"),
    Delta(
        "installments",
        "loan_no",
        "next_installments",
        "loan_no, installment_no, settled_on, owed, collected",  # every column: rows may repeat
    ),
)
DELTA = {d.name: d for d in DELTAS}
CATALOG = "catalog"


def _typed_empty(name: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.STATE[name])
    return f"SELECT {cols} WHERE false"


def _typed_read(name: str, files: list[Path]) -> str:
    if not files:
        return _typed_empty(name)
    cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.STATE[name])
    listed = ", ".join(sql_path(f) for f in files)
    return f"SELECT {cols} FROM read_parquet([{listed}])"


def state_file(version: Path, name: str) -> Path:
    return version / "state" / f"{name}.parquet"


def load_state(con, prev: Path | None, history: list[tuple[dt.date, Path]], recent_from) -> None:
    """Create the prev_* tables and the history catalog the steps read.

    `prev` is the previous date's published version (None on the first date);
    `history` lists (date, version) of every earlier date, oldest first.
    """
    for c in CARRIED:
        files = [state_file(prev, c.name)] if prev else []
        con.execute(f"CREATE OR REPLACE TABLE {c.prev} AS {_typed_read(c.name, files)}")
    load_catalog(con, prev, history)
    typed = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.CANONICAL["exceptions"])
    body = (
        f"SELECT {typed} FROM read_parquet({sql_path(prev / 'exceptions' / 'exceptions.parquet')})"
        if prev
        else "SELECT "
        + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.CANONICAL["exceptions"])
        + " WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TABLE prev_exceptions AS {body}")


def load_catalog(con, prev: Path | None, history: list[tuple[dt.date, Path]]) -> None:
    """`history_catalog` (the previous date's catalog) and `history_files` (the delta file of
    every catalogued (kind, date): the date's published version). A previous date published
    before catalogs existed gets one built from the files' own statistics."""
    paths = {day: version for day, version in history}
    con.execute(f"CREATE OR REPLACE TABLE history_catalog AS {_typed_empty(CATALOG)}")
    if prev is not None and state_file(prev, CATALOG).exists():
        con.execute(
            f"INSERT INTO history_catalog {_typed_read(CATALOG, [state_file(prev, CATALOG)])}"
        )
    else:
        for day, version in history:
            for d in DELTAS:
                rows = catalog_rows(con, state_file(version, d.name), d, day)
                if rows:
                    con.executemany("INSERT INTO history_catalog VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TABLE history_files (kind VARCHAR, day DATE, path VARCHAR)")
    files = con.execute("SELECT DISTINCT kind, day FROM history_catalog").fetchall()
    known = [(k, day, str(state_file(paths[day], k))) for k, day in files if day in paths]
    if known:
        con.executemany("INSERT INTO history_files VALUES (?, ?, ?)", known)


# The letters a key starts with and its first digit: one file's ids of several series (order
# numbers PO..., refund numbers RF..., channel ids TL..., and the all-digit ids of WeChat
# 4200... and Alipay 2026...) get a range each, so a range holds no keys of another series
# between them (one range from 2026... to 4200... held every WeChat id of any date).
SERIES = "regexp_extract({k}, '^[^0-9]*[0-9]?')"


def catalog_rows(con, path: Path, d: Delta, day: dt.date) -> list[tuple]:
    """The catalog rows of one delta file: (kind, date, rows, min key, max key) per row group
    and key series. Not one range per file: a file sorted by its key still holds ranges of
    other keys between its series (PO... and RF...), and a row group per range lets a lookup
    narrow to the row groups too."""
    if not path.exists():
        return []
    groups = con.execute(
        f"SELECT row_group_num_rows FROM parquet_metadata({sql_path(path)}) "
        "WHERE path_in_schema = ? ORDER BY row_group_id",
        [d.key],
    ).fetchall()
    starts, at = [], 0
    for (n,) in groups:
        starts.append(at)
        at += n
    if not starts:
        return []
    bounds = "(VALUES " + ", ".join(f"({s})" for s in starts) + ") b(start)"
    rows = con.execute(
        f"""SELECT count(*), min(k), max(k) FROM (
                SELECT r.k, {SERIES.format(k="r.k")} AS series, b.start
                FROM (SELECT {d.key} AS k, file_row_number AS i
                      FROM read_parquet({sql_path(path)}, file_row_number = true)) r
                ASOF JOIN {bounds} ON r.i >= b.start
                WHERE r.k IS NOT NULL)
            GROUP BY start, series ORDER BY start, series"""
    ).fetchall()
    return [(d.name, day, n, lo, hi) for n, lo, hi in rows]


MAX_LITERAL_KEYS = 20_000
PER_RANGE_COUNTS = 16  # candidate ranges counted one by one; more: one interval join


def history_sql(con, kind: str, keys: str, since=None) -> str:
    """The rows of the `kind` deltas whose key is one of `keys` ("table.column"), read from
    only the row-group ranges of the delta files that hold one of them (and dated `since` or
    later). A range that holds few of the keys is read with them as a literal list, one that
    holds many by a semi join, each bounded by literals so DuckDB skips the row groups outside."""
    d = DELTA[kind]
    table, column = keys.split(".")
    lo, hi = con.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
    if lo is None:
        return f"({_typed_empty(kind)})"
    candidates = con.execute(
        f"""SELECT f.path, c.min_key, c.max_key FROM history_catalog c
            JOIN history_files f ON f.kind = c.kind AND f.day = c.day
            WHERE c.kind = ? AND c.max_key >= ? AND c.min_key <= ? {"AND c.day >= ?" if since else ""}
            ORDER BY f.path, c.min_key""",
        [kind, lo, hi, since] if since else [kind, lo, hi],
    ).fetchall()
    if len(candidates) <= PER_RANGE_COUNTS:  # a range filter each: cheap on a few ranges
        hits = []
        for path, a, b in candidates:
            (n,) = con.execute(
                f"SELECT count(*) FROM {table} WHERE {column} BETWEEN ? AND ?", [a, b]
            ).fetchone()
            if n:
                hits.append((path, a, b))
    else:  # per range, the smallest key at or above its start: a hit when it is within the end
        # (an ASOF join sorts the keys and can spill; a range join held all 10M keys in memory)
        hits = con.execute(
            f"""SELECT DISTINCT f.path, c.min_key, c.max_key
                FROM history_catalog c
                JOIN history_files f ON f.kind = c.kind AND f.day = c.day
                ASOF JOIN (SELECT {column} AS k FROM {table} WHERE {column} IS NOT NULL) x
                  ON c.min_key <= x.k
                WHERE c.kind = ? AND x.k <= c.max_key {"AND c.day >= ?" if since else ""}
                ORDER BY 1, 2""",
            [kind, since] if since else [kind],
        ).fetchall()
    cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.STATE[kind])
    parts = []
    for path, a, b in _merged(hits):
        # the wanted keys in the range: their count, and their smallest and largest
        n, first, last = con.execute(
            f"SELECT count(DISTINCT {column}), min({column}), max({column}) FROM {table} "
            f"WHERE {column} BETWEEN ? AND ?",
            [a, b],
        ).fetchone()
        if not n:
            continue
        if n > MAX_LITERAL_KEYS:
            wanted = f"IN (SELECT {column} FROM {table})"
        else:
            values = con.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} BETWEEN ? AND ? ORDER BY 1",
                [a, b],
            ).fetchall()
            wanted = "IN (" + ", ".join(_literal(v) for (v,) in values) + ")"
        parts.append(
            f"SELECT {cols} FROM read_parquet({sql_path(path)}) "
            f"WHERE {d.key} BETWEEN {_literal(first)} AND {_literal(last)} AND {d.key} {wanted}"
        )
    return "(" + (" UNION ALL ".join(parts) if parts else _typed_empty(kind)) + ")"


def _merged(ranges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(path, lo, hi) ranges, sorted by path and lo, with the overlapping ones of each file
    joined: the disjoint ranges read no row twice."""
    out: list[list] = []
    for path, lo, hi in ranges:
        if out and out[-1][0] == path and lo <= out[-1][2]:
            out[-1][2] = max(out[-1][2], hi)
        else:
            out.append([path, lo, hi])
    return [tuple(r) for r in out]


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def write_state(con, version: Path) -> None:
    """COPY every next_* table into `version/state/`, typed and sorted, and the catalog: the
    previous date's plus a row per delta file of this date."""
    (version / "state").mkdir(parents=True, exist_ok=True)
    for name, table, order in [(c.name, c.next, c.order) for c in CARRIED] + [
        (d.name, d.next, d.order) for d in DELTAS
    ]:
        cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.STATE[name])
        with phase(f"    write state {name}"):
            con.execute(
                f"COPY (SELECT {cols} FROM {table} ORDER BY {order}) "
                f"TO {sql_path(state_file(version, name))} ({lake.PARQUET})"
            )
    as_of = con.execute("SELECT as_of FROM params").fetchone()[0]
    today = [r for d in DELTAS for r in catalog_rows(con, state_file(version, d.name), d, as_of)]
    con.execute("CREATE OR REPLACE TABLE next_catalog AS SELECT * FROM history_catalog")
    if today:
        con.executemany("INSERT INTO next_catalog VALUES (?, ?, ?, ?, ?)", today)
    con.execute(
        f"COPY (SELECT * FROM next_catalog ORDER BY kind, day) "
        f"TO {sql_path(state_file(version, CATALOG))} ({lake.PARQUET})"
    )


def rebuild_catalogs(con, versions: list[tuple[dt.date, Path]]) -> None:
    """Write every version's history catalog afresh from the delta files of its date and all
    earlier ones (`versions`: (date, version) of consecutive published dates). For lakes made
    by other means than runs (the lookup benchmark's synthesized year); a run writes its own."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE rebuilt_catalog AS {_typed_empty(CATALOG)}")
    for day, version in sorted(versions):
        rows = [r for d in DELTAS for r in catalog_rows(con, state_file(version, d.name), d, day)]
        if rows:
            con.executemany("INSERT INTO rebuilt_catalog VALUES (?, ?, ?, ?, ?)", rows)
        con.execute(
            f"COPY (SELECT * FROM rebuilt_catalog ORDER BY kind, day) "
            f"TO {sql_path(state_file(version, CATALOG))} ({lake.PARQUET})"
        )
