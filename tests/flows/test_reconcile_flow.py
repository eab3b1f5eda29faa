"""The Prefect flow over the same plain functions gives the same answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from tests.conftest import DEMO_DAYS, DEMO_START
from transforms.config import load_config
from transforms.generate import generate


def test_flow_reconciles_a_date(prefect_harness, tmp_path, demo_run):
    from flows.reconcile import reconcile

    config_path = generate(tmp_path, DEMO_START, DEMO_DAYS, 40, seed=11)  # the demo_run inbox
    day = dt.date(2026, 11, 4)
    workbooks = [r.workbook for r in reconcile(str(config_path), day, day)]
    # The earlier dates had no published state: the flow computed them first, in order.
    assert [Path(w).name for w in workbooks] == [f"recon_2026-11-0{d}.xlsx" for d in (1, 2, 3, 4)]
    rel = f"exceptions/report_date={day.isoformat()}/exceptions.parquet"
    ours = load_config(config_path).lake / rel
    plain = demo_run.config.lake / rel
    q = "SELECT * FROM read_parquet('{}') ORDER BY ALL"
    assert duckdb.sql(q.format(ours)).fetchall() == duckdb.sql(q.format(plain)).fetchall()
