"""Run the matching steps in order in one DuckDB connection.

Each `NN_name.sql` file is one named step that creates tables you can query
while debugging (`steps()` lists them). Inputs are the lake's Parquet tables as
known on the report date (inbox folders up to and including it).
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

from transforms import lake
from transforms.config import Config
from transforms.duck import connect, sql_path
from transforms.ingest import FILES_SCHEMA

RAW_TABLES = ("platform_orders", "channel_txns", "bank_lines", "rejects")


def steps() -> list[tuple[str, str]]:
    folder = resources.files("transforms.match")
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def _empty_select(table: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.columns(table))
    return f"SELECT {cols}, CAST(NULL AS DATE) AS inbox_date WHERE false"


def load_inputs(con, config: Config, as_of: dt.date) -> None:
    """Views raw_<table> over the lake, restricted to inbox folders up to `as_of`."""
    cutoff = f"DATE '{as_of.isoformat()}'"
    for table in RAW_TABLES:
        pattern = lake.glob_parquet(config.lake, table, "inbox_date", "source")
        if list(Path(config.lake / table).glob("inbox_date=*/source=*/*.parquet")):
            cols = ", ".join(n for n, _ in lake.columns(table))
            body = (
                f"SELECT {cols}, CAST(inbox_date AS DATE) AS inbox_date FROM read_parquet({sql_path(pattern)}, "
                f"hive_partitioning = true, union_by_name = true) WHERE CAST(inbox_date AS DATE) <= {cutoff}"
            )
        else:
            body = _empty_select(table)
        con.execute(f"CREATE OR REPLACE VIEW raw_{table} AS {body}")
    files_glob = config.lake / "files" / "inbox_date=*" / "*.parquet"
    if list(config.lake.glob("files/inbox_date=*/*.parquet")):
        con.execute(
            f"CREATE OR REPLACE VIEW raw_files AS SELECT * EXCLUDE (inbox_date), CAST(inbox_date AS DATE) AS inbox_date "
            f"FROM read_parquet({sql_path(files_glob)}, hive_partitioning = true) "
            f"WHERE CAST(inbox_date AS DATE) <= {cutoff}"
        )
    else:
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {n}" for n in FILES_SCHEMA.names)
        con.execute(
            f"CREATE OR REPLACE VIEW raw_files AS SELECT {cols}, CAST(NULL AS DATE) AS inbox_date WHERE false"
        )


def load_settings(con, config: Config, as_of: dt.date) -> None:
    con.execute(f"CREATE OR REPLACE TABLE params AS SELECT DATE '{as_of.isoformat()}' AS as_of")
    con.execute(
        "CREATE OR REPLACE TABLE source_settings (source VARCHAR, role VARCHAR, channel VARCHAR, "
        "pending_days INTEGER, settle_lag_days INTEGER, settle_window_days INTEGER, required BOOLEAN, "
        "account_role VARCHAR)"
    )
    con.executemany(
        "INSERT INTO source_settings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            )
            for s in config.sources
        ],
    )
    con.execute(
        "CREATE OR REPLACE VIEW source_pending AS "
        "SELECT source, pending_days, required, account_role FROM source_settings"
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


def run_matching(config: Config, as_of: dt.date, con=None):
    """Build every step's table for report date `as_of`; returns the connection."""
    con = con or connect()
    load_inputs(con, config, as_of)
    load_settings(con, config, as_of)
    run_steps(con)
    return con


def run_steps(con) -> None:
    """Run every step on inputs already present as raw_* relations plus the settings tables."""
    for _name, sql in steps():
        con.execute(sql)
