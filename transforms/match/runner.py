"""Run the matching steps in order in one DuckDB connection.

Each `NN_name.sql` file is one named step that creates tables you can query
while debugging (`steps()` lists them). Inputs are the rows that arrived for the
report date (`new_*`), the previous date's state (`prev_*`, `hist_*`, `recent_*`,
see transforms/state.py) and the settings tables; outputs are the report tables
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
from transforms.duck import sql_path
from transforms.match.groups import settlement_groups
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


# `{{keys:table.column}}` in a step becomes the column's distinct values as a literal
# list: a filter on a history view with a literal list is checked against each Parquet
# row group's min/max, so looking up a few keys reads the row groups that can hold
# them, not the whole history (a join would scan it all).
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

    return KEYS.sub(literal, sql)


def run_steps(con) -> None:
    """Run every step on the new_*, prev_*/hist_* and settings tables, in order."""
    for name, step in steps():
        try:
            with phase(f"  match step {name}"):
                if callable(step):
                    step(con)
                else:
                    con.execute(expand_keys(con, step))
        except Exception as exc:
            exc.add_note(f"in matching step {name}.sql")
            raise
