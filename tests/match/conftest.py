"""A DuckDB connection with empty new_* inputs and no previous state, for step tests.
Every step test runs three times: layer A in one piece, and in 3 and in 8 buckets of related
rows (`match_buckets`), with the same expected exceptions."""

from __future__ import annotations

import functools

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


@pytest.fixture(autouse=True, params=[1, 3, 8], ids=lambda n: f"buckets={n}")
def buckets(request, monkeypatch, tmp_path):
    """The step tests' run_steps, with layer A in `n` buckets (each on its own connection)."""
    from tests.match import test_layers, test_steps
    from transforms.match.runner import run_steps

    n = request.param
    bucketed = functools.partial(run_steps, buckets=n, work=tmp_path / "buckets")
    for module in (test_steps, test_layers):
        monkeypatch.setattr(module, "run_steps", bucketed)
    return n
