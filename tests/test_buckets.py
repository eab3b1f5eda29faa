"""Layer A matched in buckets of related rows (`match_buckets`) gives the same outputs, byte
for byte, as layer A in one piece: every Parquet of every date of the demo, for N = 3 and 8."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from tests.conftest import DEMO_DAYS, DEMO_START
from transforms import publish
from transforms.config import load_config
from transforms.duck import connect
from transforms.match.runner import ORDER_ROW, TXN_ROW, assign_buckets
from transforms.pipeline import run_range


def published(config, days) -> dict[str, bytes]:
    found = {}
    for day in days:
        version = publish.current_version(config, day)
        for p in sorted(version.rglob("*.parquet")):
            found[f"{day}/{p.relative_to(version)}"] = p.read_bytes()
    return found


@pytest.mark.parametrize("n", [3, 8])
def test_the_demo_in_n_buckets_gives_the_outputs_of_one(demo_run, tmp_path, n):
    shutil.copytree(demo_run.config.inbox, tmp_path / "inbox")
    text = demo_run.config_path.read_text(encoding="utf-8")
    (tmp_path / "recon.toml").write_text(f"match_buckets = {n}\n{text}", encoding="utf-8")
    config = load_config(tmp_path / "recon.toml")
    assert config.match_buckets == n
    results = run_range(config, DEMO_START, DEMO_START + dt.timedelta(days=DEMO_DAYS - 1))
    assert [(r.counts, r.pending, r.cleared) for r in results] == [
        (r.counts, r.pending, r.cleared) for r in demo_run.results
    ]
    ours, one = published(config, demo_run.days), published(demo_run.config, demo_run.days)
    assert len(ours) > 10 * DEMO_DAYS and ours.keys() == one.keys()
    assert [k for k in ours if ours[k] != one[k]] == []


def test_rows_that_can_meet_share_a_bucket():
    """Rows are bucketed by connected component: an order, the debit naming it, a refund order
    of it and another installment of its loan meet; so do an order, a debit carrying its
    channel_txn_id under another merchant order no, a second debit naming the order and that
    debit's channel refund. Unrelated orders spread over the buckets."""
    con = connect(threads=1)
    con.execute(
        "CREATE TABLE stg_platform_orders (order_no VARCHAR, orig_order_no VARCHAR, "
        "channel VARCHAR, channel_txn_id VARCHAR, loan_no VARCHAR)"
    )
    con.execute(
        "CREATE TABLE stg_channel_txns (channel VARCHAR, channel_txn_id VARCHAR, "
        "txn_type VARCHAR, merchant_order_no VARCHAR, orig_channel_txn_id VARCHAR)"
    )
    others = [(f"Z{i}", None, "C", f"Y{i}", f"M{i}") for i in range(200)]
    con.executemany(
        "INSERT INTO stg_platform_orders VALUES (?, ?, ?, ?, ?)",
        [("A", None, "C", "X1", "L1"), ("A2", None, "C", "X9", "L1"), ("RA", "A", "C", "XR", None),
         ("B", None, "C", "X2", None), *others],
    )  # fmt: skip
    con.executemany(
        "INSERT INTO stg_channel_txns VALUES (?, ?, ?, ?, ?)",
        [("C", "X1", "PAY", "A", None), ("C", "X2", "PAY", "Q", None),
         ("C", "X3", "PAY", "B", None), ("C", "XR1", "REFUND", None, "X3"),
         *[("C", f"Y{i}", "PAY", f"Z{i}", None) for i in range(200)]],
    )  # fmt: skip
    assign_buckets(con, 8)

    def labels(orders=(), txns=()) -> set[int]:
        found = con.execute(
            f"""SELECT b.label FROM stg_platform_orders o JOIN bucket_label b ON b.row = {ORDER_ROW}
                WHERE list_contains(?, o.order_no)
                UNION ALL
                SELECT b.label FROM stg_channel_txns t JOIN bucket_label b ON b.row = {TXN_ROW}
                WHERE list_contains(?, t.channel_txn_id)""",
            [list(orders), list(txns)],
        ).fetchall()
        assert len(found) == len(orders) + len(txns)
        return {label for (label,) in found}

    a = labels(["A", "A2", "RA"], ["X1"])
    b = labels(["B"], ["X2", "X3", "XR1"])
    assert len(a) == 1 and len(b) == 1 and a != b
    assert labels(["Z1"], ["Y1"]) != labels(["Z2"], ["Y2"])
    spread = con.execute("SELECT count(DISTINCT bucket) FROM bucket_of").fetchone()[0]
    assert spread == 8
