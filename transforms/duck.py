"""DuckDB connections configured the one way the pipeline uses them."""

from __future__ import annotations

import os

import duckdb


def connect(
    memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {threads or min(os.cpu_count() or 2, 4)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def sql_path(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
