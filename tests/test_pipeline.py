"""Day-by-day behaviour of the published outputs: clearing, pending, re-delivery."""

from __future__ import annotations

import datetime as dt

import duckdb

from transforms.config import load_config
from transforms.generate import ALLINPAY, Order, Txn, write_allinpay, write_platform
from transforms.pipeline import run_range

D1 = dt.date(2026, 11, 1)

CONFIG = """
inbox = "inbox"
data_dir = "data"
[[sources]]
name = "platform"
role = "platform"
format = "platform_export"
glob = "platform_orders_*.csv"
[[sources]]
name = "allinpay"
role = "channel"
format = "withholding"
glob = "allinpay_*.txt"
channel = "ALLINPAY"
"""


def an_order() -> Order:
    paid = dt.datetime(2026, 11, 1, 10, 0, 0)
    return Order("PO1", "REPAY", "", "LN1", 1, "U1", "LENDER_A", ALLINPAY, "TL1", 10000, 100, 0, 0, 10100, "SUCCESS",
                  paid, paid)  # fmt: skip


def statuses(lake, ref: str) -> dict[str, str]:
    rows = duckdb.sql(
        f"SELECT report_date, status FROM read_parquet('{lake}/exceptions/*/*.parquet') WHERE ref = '{ref}' "
        "AND exception_type = 'MISSING_ON_CHANNEL' ORDER BY report_date"
    ).fetchall()
    return {d.isoformat(): s for d, s in rows}


def test_a_late_counterpart_clears_the_exception_on_the_day_it_arrives(tmp_path):
    order = an_order()
    late = Txn(
        ALLINPAY, "TL1", "PO1", "PAY", order.amount, order.paid_at, D1 + dt.timedelta(days=3)
    )
    for i in range(4):
        day = D1 + dt.timedelta(days=i)
        folder = tmp_path / "inbox" / day.isoformat()
        folder.mkdir(parents=True)
        write_platform(folder / f"platform_orders_{day:%Y%m%d}.csv", [order] if i == 0 else [])
        write_allinpay(folder / f"allinpay_{day:%Y%m%d}.txt", [late] if i == 3 else [])
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "recon.toml")
    run_range(config, D1, D1 + dt.timedelta(days=3))
    assert statuses(config.lake, "PO1") == {
        "2026-11-01": "PENDING",
        "2026-11-02": "PENDING",
        "2026-11-03": "OPEN",
        "2026-11-04": "CLEARED",
    }
    first_seen = duckdb.sql(
        f"SELECT DISTINCT first_seen FROM read_parquet('{config.lake}/exceptions/*/*.parquet') "
        "WHERE ref = 'PO1' AND status <> 'PENDING'"
    ).fetchall()
    assert first_seen == [(dt.date(2026, 11, 3),)]
