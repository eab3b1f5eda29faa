"""Run the matching steps in order in one DuckDB connection.

Each `NN_name.sql` file is one named step that creates tables you can query
while debugging (`steps()` lists them). Inputs are the rows that arrived for the
report date (`new_*`), the previous date's state (`prev_*` and the history catalog, see
transforms/state.py) and the settings tables; outputs are the report tables
(`report_exceptions`, `settlements`, `match_orders`) and the next state (`next_*`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from transforms import lake, resolutions
from transforms.config import Config
from transforms.duck import connect, sql_path
from transforms.match.groups import settlement_groups
from transforms.state import history_sql
from transforms.textio import sql_str
from transforms.timing import phase

NEW_TABLES = ("platform_orders", "channel_txns", "bank_lines", "rejects")


# Steps that are a search rather than set work run as Python between the SQL steps.
PY_STEPS: dict[str, Callable] = {"32_settlement_groups": settlement_groups}


def steps() -> list[tuple[str, str | Callable]]:
    """(name, SQL text or a function of the connection), in name order."""
    folder = resources.files("transforms.match")
    files = [f for f in folder.iterdir() if f.name.endswith(".sql")]
    found = [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]
    return sorted(found + list(PY_STEPS.items()), key=lambda step: step[0])


def load_new_inputs(con, stage: Path, day: dt.date) -> None:
    """Tables new_<table> of the rows that arrived in the date's inbox (already
    normalized into the staged version), and new_files, its file manifest."""
    inbox = f"DATE '{day.isoformat()}'"
    for table in NEW_TABLES:
        files = sorted((stage / table).glob("source=*/*.parquet"))
        cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.columns(table))
        if files:
            listed = ", ".join(sql_path(f) for f in files)
            body = (
                f"SELECT {cols}, {inbox} AS inbox_date "
                f"FROM read_parquet([{listed}], hive_partitioning = false)"
            )
        else:
            empty = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.columns(table))
            body = f"SELECT {empty}, {inbox} AS inbox_date WHERE false"
        con.execute(f"CREATE OR REPLACE VIEW new_{table} AS {body}")
    manifest = stage / "files" / "manifest.parquet"
    con.execute(
        f"CREATE OR REPLACE TABLE new_files AS SELECT *, {inbox} AS inbox_date "
        f"FROM read_parquet({sql_path(manifest)})"
    )


def load_settings(con, config: Config, as_of: dt.date) -> None:
    recent_from = as_of - dt.timedelta(days=config.rematch_days)
    con.execute(
        f"CREATE OR REPLACE TABLE params AS SELECT DATE '{as_of.isoformat()}' AS as_of, "
        f"DATE '{recent_from.isoformat()}' AS recent_from"
    )
    con.execute(
        "CREATE OR REPLACE TABLE source_settings (source VARCHAR, role VARCHAR, channel VARCHAR, "
        "pending_days INTEGER, settle_lag_days INTEGER, settle_window_days INTEGER, required BOOLEAN, "
        "account_role VARCHAR, recipient VARCHAR)"
    )
    con.executemany(
        "INSERT INTO source_settings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.name,
                s.role,
                s.channel,
                s.pending_days,
                s.settle_lag_days,
                s.settle_window_days,
                s.required,
                s.account_role if s.role == "bank" else None,
                s.recipient,
            )
            for s in config.sources
        ],
    )
    con.execute(
        "CREATE OR REPLACE VIEW source_pending AS "
        "SELECT source, pending_days, required, account_role, recipient FROM source_settings"
    )
    # One row per channel: if several sources feed one channel, the first one's settings apply.
    con.execute(
        """CREATE OR REPLACE TABLE channel_settings AS
           SELECT channel, first(pending_days ORDER BY source) AS pending_days,
                  first(settle_lag_days ORDER BY source) AS settle_lag_days,
                  first(settle_window_days ORDER BY source) AS settle_window_days
           FROM source_settings WHERE role = 'channel' GROUP BY channel"""
    )
    con.execute(
        "CREATE OR REPLACE TABLE channel_counterparties (channel VARCHAR, counterparty VARCHAR)"
    )
    pairs = sorted({(s.channel, c) for s in config.by_role("channel") for c in s.bank_counterparty})
    if pairs:
        con.executemany("INSERT INTO channel_counterparties VALUES (?, ?)", pairs)
    load_recipients(con, config)
    # Finance decisions are inputs too: all of them (a small, append-only store); the step
    # keeps those in force on the report date.
    con.execute(f"CREATE OR REPLACE TABLE resolutions AS {resolutions.load_sql(config)}")


def load_recipients(con, config: Config) -> None:
    """Layer C settings: each 清分 recipient (lender code or FEE) with its account, lag and
    window, and the identifiers (account number, names) a collection debit to it carries."""
    con.execute(
        "CREATE OR REPLACE TABLE recipients (recipient VARCHAR, source VARCHAR, account_no VARCHAR, "
        "lag_days INTEGER, window_days INTEGER)"
    )
    con.execute("CREATE OR REPLACE TABLE recipient_ids (recipient VARCHAR, identifier VARCHAR)")
    rows, ids = {}, set()
    for s in sorted(config.by_role("bank"), key=lambda s: s.name):
        if s.recipient is None:
            continue
        rows.setdefault(
            s.recipient,
            (
                s.recipient,
                s.name,
                s.account_no,
                s.distribution_lag_days,
                s.distribution_window_days,
            ),
        )
        ids.update((s.recipient, i) for i in (s.account_no, *s.bank_counterparty) if i)
    if rows:
        con.executemany("INSERT INTO recipients VALUES (?, ?, ?, ?, ?)", sorted(rows.values()))
    if ids:
        con.executemany("INSERT INTO recipient_ids VALUES (?, ?)", sorted(ids))


# `{{history:KIND:table.column}}` in a step becomes the rows of the KIND deltas (order_keys,
# txn_keys, ...) whose key is one of the column's values, read from only the delta files the
# history catalog says can hold them (state.history_sql); `{{recent:...}}` the same within
# the re-match window. `{{keys:table.column}}` becomes the column's values as a literal list.
HISTORY = re.compile(r"\{\{(history|recent):(\w+):(\w+\.\w+)\}\}")
KEYS = re.compile(r"\{\{keys:(\w+)\.(\w+)\}\}")
MAX_LITERAL_KEYS = 20_000


def expand_keys(con, sql: str) -> str:
    def literal(m: re.Match) -> str:
        table, column = m.group(1), m.group(2)
        values = con.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL "
            f"ORDER BY 1 LIMIT {MAX_LITERAL_KEYS + 1}"
        ).fetchall()
        if len(values) > MAX_LITERAL_KEYS:
            return f"(SELECT {column} FROM {table})"
        return "(" + ", ".join(["NULL"] + [sql_str(v) for (v,) in values]) + ")"

    def history(m: re.Match) -> str:
        since = None
        if m.group(1) == "recent":
            (since,) = con.execute("SELECT recent_from FROM params").fetchone()
        return history_sql(con, m.group(2), m.group(3), since)

    return KEYS.sub(literal, HISTORY.sub(history, sql))


def run_steps(
    con,
    buckets: int = 1,
    work: Path | None = None,
    history=(),
    run_buckets=None,
    memory_limit: str | None = None,
    spill: Path | None = None,
) -> None:
    """Run every step on the new_*, prev_*/hist_* and settings tables, in order. With
    `buckets` > 1 the layer-A steps run once per bucket of related rows (`match_buckets`),
    each on its own connection (`run_buckets` maps `match_bucket` over the jobs; default:
    one after the other here), and their outputs are united before the later steps."""
    if buckets <= 1:
        for name, step in steps():
            _run_step(con, name, step)
        return
    for name, step in steps():
        if name < LAYER_A[0]:
            _run_step(con, name, step)
    with phase("  match layer A in buckets"):
        jobs = export_buckets(con, buckets, work, history, memory_limit, spill)
        outputs = (run_buckets or _one_by_one)(jobs)
        for table in LAYER_A_OUT:
            listed = ", ".join(sql_path(Path(o) / f"{table}.parquet") for o in outputs)
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet([{listed}])"
            )
    for name, step in steps():
        if name >= LAYER_A[0] and name not in LAYER_A:
            _run_step(con, name, step)


def _run_step(con, name: str, step) -> None:
    try:
        with phase(f"  match step {name}"):
            if callable(step):
                step(con)
            elif "{{" not in step:
                con.execute(step)
            else:  # a statement's lookups may read what an earlier statement made
                for statement in re.split(r";[ \t]*\n", step):
                    if statement.strip():
                        con.execute(expand_keys(con, statement))
    except Exception as exc:
        exc.add_note(f"in matching step {name}.sql")
        raise


# ---------------------------------------------------------------------------- layer A in buckets

# The steps of layer A (pairing, history look-ups, refund netting, layer-A findings) and the
# tables the later steps read from them.
LAYER_A = (
    "20_match_orders",
    "21_match_refunds",
    "22_wanted_orders",
    "23_known_orders",
    "24_refund_claims",
    "25_installments",
    "26_refund_netting",
    "40_findings_orders",
    "41_findings_refunds",
)
LAYER_A_OUT = (
    "match_orders",
    "match_refunds",
    "matched_pairs",
    "findings_orders",
    "findings_refunds",
)
BUCKET_INPUTS = (
    "stg_platform_orders",
    "stg_channel_txns",
    "params",
    "source_pending",
    "history_catalog",
    "history_files",
    "reopened_collections",
)

# Every key by which two rows of layer A can meet: an order's own number and the original it
# refunds, the channel transaction it names, its loan (installments add up per loan); a
# transaction's merchant order number, its own id and the debit it refunds. Rows and keys are
# hashed to integers: a collision can only join two components, never split one, so it costs
# balance, not correctness.
ORDER_ROW = "hash('o', o.order_no)"
TXN_ROW = "hash('t', t.channel, t.channel_txn_id, t.txn_type)"
LINKS_SQL = f"""
CREATE OR REPLACE TEMP TABLE bucket_links AS
SELECT {ORDER_ROW} AS row, hash('O', o.order_no) AS key FROM stg_platform_orders o
UNION ALL
SELECT {ORDER_ROW}, hash('O', o.orig_order_no) FROM stg_platform_orders o
WHERE o.orig_order_no IS NOT NULL
UNION ALL
SELECT {ORDER_ROW}, hash('T', o.channel, o.channel_txn_id) FROM stg_platform_orders o
WHERE o.channel_txn_id IS NOT NULL AND o.channel IS NOT NULL
UNION ALL
SELECT {ORDER_ROW}, hash('L', o.loan_no) FROM stg_platform_orders o WHERE o.loan_no IS NOT NULL
UNION ALL
SELECT {TXN_ROW}, hash('O', t.merchant_order_no) FROM stg_channel_txns t
WHERE t.merchant_order_no IS NOT NULL
UNION ALL
SELECT {TXN_ROW}, hash('T', t.channel, t.channel_txn_id) FROM stg_channel_txns t
UNION ALL
SELECT {TXN_ROW}, hash('T', t.channel, t.orig_channel_txn_id) FROM stg_channel_txns t
WHERE t.orig_channel_txn_id IS NOT NULL
"""


def assign_buckets(con, buckets: int) -> None:
    """`bucket_of(row, bucket)`: every row of the staged orders and transactions (by its
    hash, ORDER_ROW / TXN_ROW) with the bucket of its connected component (rows joined by any
    shared key, transitively), so all the rows one layer-A result depends on are matched
    together. Label propagation: each row takes the smallest key reachable from it; a
    component of diameter d takes d rounds (components here are a few rows)."""
    con.execute(LINKS_SQL)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bucket_label AS "
        "SELECT row, min(key) AS label FROM bucket_links GROUP BY row"
    )
    # Semi-naive rounds: only the keys of rows whose label changed can lower another label.
    con.execute("CREATE OR REPLACE TEMP TABLE bucket_changed AS SELECT row FROM bucket_label")
    while True:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE bucket_next AS
               WITH touched AS (
                   SELECT DISTINCT l.key FROM bucket_links l SEMI JOIN bucket_changed c USING (row)),
               key_label AS (
                   SELECT l.key, min(b.label) AS label
                   FROM bucket_links l SEMI JOIN touched t USING (key)
                   JOIN bucket_label b USING (row) GROUP BY l.key)
               SELECT l.row, min(k.label) AS label
               FROM bucket_links l JOIN key_label k USING (key) GROUP BY l.row"""
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bucket_changed AS SELECT n.row FROM bucket_next n "
            "JOIN bucket_label b USING (row) WHERE n.label < b.label"
        )
        (changed,) = con.execute("SELECT count(*) FROM bucket_changed").fetchone()
        if not changed:
            break
        con.execute(
            """CREATE OR REPLACE TEMP TABLE bucket_label AS
               SELECT b.row, least(b.label, n.label) AS label
               FROM bucket_label b LEFT JOIN bucket_next n USING (row)"""
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bucket_of AS "
        f"SELECT row, CAST(hash(label) % {buckets} AS INTEGER) AS bucket FROM bucket_label"
    )


def export_buckets(
    con, buckets: int, work: Path, history, memory_limit=None, spill=None
) -> list[dict]:
    """Write each bucket's staged rows (and the settings layer A reads) under `work`; return
    one job per bucket for `match_bucket`, with the published versions of the earlier dates
    (`history`: (date, version) pairs) whose deltas it looks keys up in."""
    assign_buckets(con, buckets)
    for table, alias, row in (
        ("stg_platform_orders", "o", ORDER_ROW),
        ("stg_channel_txns", "t", TXN_ROW),
    ):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE bucketed_{table} AS SELECT {alias}.*, b.bucket "
            f"FROM {table} {alias} JOIN bucket_of b ON b.row = {row}"
        )
    jobs = []
    for b in range(buckets):
        folder = work / f"bucket={b}"
        folder.mkdir(parents=True, exist_ok=True)
        for table in BUCKET_INPUTS:
            relation = (
                f"(SELECT * EXCLUDE (bucket) FROM bucketed_{table} WHERE bucket = {b})"
                if table.startswith("stg_")
                else table
            )
            con.execute(
                f"COPY {relation} TO {sql_path(folder / (table + '.parquet'))} ({lake.PARQUET})"
            )
        jobs.append(
            {
                "folder": str(folder),
                "history": [str(v) for _, v in history],
                "memory_limit": memory_limit,
                "spill": str(spill) if spill else None,
            }
        )
    for table in ("stg_platform_orders", "stg_channel_txns"):
        con.execute(f"DROP TABLE bucketed_{table}")
    return jobs


def match_bucket(job: dict, memory_limit: str | None = None, threads: int = 1, spill=None) -> str:
    """Run the layer-A steps on one bucket's rows, on a connection of its own; write their
    outputs beside the inputs and return the folder (a plain function: a worker runs it)."""
    folder = Path(job["folder"])
    con = connect(memory_limit, threads, spill)
    try:
        for table in BUCKET_INPUTS:
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_parquet({sql_path(folder / (table + '.parquet'))})"
            )
        for name, step in steps():
            if name in LAYER_A:
                _run_step(con, name, step)
        for table in LAYER_A_OUT:
            con.execute(  # a table or a view (match_orders)
                f"COPY (SELECT * FROM {table}) TO {sql_path(folder / (table + '.parquet'))} "
                f"({lake.PARQUET})"
            )
    finally:
        con.close()
    return str(folder)


def _one_by_one(jobs: list[dict]) -> list[str]:
    return [match_bucket(job, job["memory_limit"], 1, job["spill"]) for job in jobs]
