"""DuckDB connections configured the one way the pipeline uses them."""

from __future__ import annotations

import os

import duckdb


def connect(
    memory_limit: str | None = None, threads: int | None = None, temp_directory=None
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {threads or min(os.cpu_count() or 2, 4)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_directory:
        os.makedirs(temp_directory, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_path(temp_directory)}")
    con.execute("SET preserve_insertion_order = true")
    return con


def connect_for(config) -> duckdb.DuckDBPyConnection:
    """A connection bounded by the config's memory limit, spilling under data_dir."""
    return connect(config.memory_limit, config.threads, config.spill_dir)


def sql_path(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
