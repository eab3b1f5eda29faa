"""DuckDB connections configured the one way the pipeline uses them."""

from __future__ import annotations

import os
import re

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
    con.execute("SET enable_progress_bar = false")
    return con


_UNITS = {
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def split_memory(limit: str, parts: int) -> str:
    """One of `parts` equal shares of a DuckDB memory limit such as '1GB', in MB."""
    if parts <= 1:
        return limit
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", limit).groups()
    return f"{int(float(number) * _UNITS[unit.upper()] / parts / 1e6)}MB"


def connect_for(config) -> duckdb.DuckDBPyConnection:
    """A connection bounded by the config's memory limit, spilling under data_dir."""
    return connect(config.memory_limit, config.threads, config.spill_dir)


def sql_path(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
