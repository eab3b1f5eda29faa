"""A DuckDB connection with empty new_* inputs and no previous state, for step tests."""

from __future__ import annotations

import pytest

from tests.match.test_steps import D1
from transforms import lake
from transforms.duck import connect
from transforms.state import load_state


@pytest.fixture
def con():
    c = connect(threads=1)
    for table in ("platform_orders", "channel_txns", "bank_lines", "rejects"):
        cols = ", ".join(f"{n} {t}" for n, t in lake.columns(table))
        c.execute(f"CREATE TABLE new_{table} ({cols}, inbox_date DATE)")
    c.execute(
        "CREATE TABLE new_files (source VARCHAR, file_name VARCHAR, status VARCHAR, error VARCHAR, "
        "control_ok BOOLEAN, checks VARCHAR, inbox_date DATE)"
    )
    load_state(c, None, [], D1)
    yield c
    c.close()
