"""Matching steps on tiny inline inputs: one behaviour per test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from transforms.config import parse_config
from transforms.match.runner import load_settings, run_steps

D1 = dt.date(2026, 11, 1)

CONFIG = {
    "inbox": "inbox",
    "data_dir": "data",
    "sources": [
        {
            "name": "platform",
            "role": "platform",
            "format": "platform_export",
            "glob": "p*.csv",
            "pending_days": 1,
        },
        {
            "name": "wx",
            "role": "channel",
            "format": "wechatpay_bill",
            "glob": "w*.csv",
            "channel": "WECHAT",
            "pending_days": 1,
            "bank_counterparty": ["财付通"],
        },
        {"name": "bank", "role": "bank", "format": "cn_bank", "glob": "b*.csv", "pending_days": 1},
    ],
}


def order(con, order_no, amount="100.00", status="SUCCESS", day=D1, **extra):
    row = {
        "order_no": order_no,
        "order_type": "REPAY",
        "amount": amount,
        "status": status,
        "biz_date": day,
        "channel": "WECHAT",
        "source": "platform",
        "file_sha256": "p" + day.isoformat(),
        "file_name": "p.csv",
        "line_no": 2,
        "inbox_date": day,
        "loan_no": "L-" + order_no,
        "installment_no": 1,
        "installment_due": amount,
        "paid_at": dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
    } | extra
    insert(con, "new_platform_orders", row)


def txn(
    con, txn_id, merchant_order_no, amount="100.00", status="SUCCESS", day=D1, inbox=None, **extra
):
    row = {
        "channel": "WECHAT",
        "channel_txn_id": txn_id,
        "merchant_order_no": merchant_order_no,
        "txn_type": "PAY",
        "amount": amount,
        "fee": "0.60",
        "status": status,
        "biz_date": day,
        "source": "wx",
        "file_sha256": "w" + (inbox or day).isoformat(),
        "file_name": "w.csv",
        "line_no": 2,
        "inbox_date": inbox or day,
        "txn_time": dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
    } | extra
    insert(con, "new_channel_txns", row)


def credit(con, txn_id, amount, day, counterparty="财付通"):
    row = {
        "account_no": "A",
        "bank_txn_id": txn_id,
        "value_date": day,
        "direction": "CREDIT",
        "amount": amount,
        "counterparty_name": counterparty,
        "source": "bank",
        "file_sha256": "b" + day.isoformat(),
        "file_name": "b.csv",
        "line_no": 3,
        "inbox_date": day,
    }
    insert(con, "new_bank_lines", row)


def insert(con, table, row):
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))


LAYER_B = ("SETTLEMENT_MISSING", "SETTLEMENT_MISMATCH", "BANK_UNEXPLAINED")


def exceptions(con, as_of, status="OPEN", with_settlement=False):
    """(type, ref) of the report date; layer-A tests leave settlement findings out."""
    load_settings(con, parse_config(CONFIG, Path("/tmp/recon.toml")), as_of)
    run_steps(con)
    rows = con.execute(
        "SELECT exception_type, ref FROM exceptions WHERE status = ?", [status]
    ).fetchall()
    return sorted(r for r in rows if with_settlement or r[0] not in LAYER_B)


def test_matched_pair_with_equal_amounts_is_clean(con):
    order(con, "PO1")
    txn(con, "T1", "PO1")
    assert exceptions(con, D1 + dt.timedelta(days=5)) == []


def test_second_debit_of_a_matched_order_is_duplicate_not_missing(con):
    order(con, "PO1")
    txn(con, "T1", "PO1")
    txn(con, "T2", "PO1")
    assert exceptions(con, D1 + dt.timedelta(days=5)) == [("DUPLICATE_DEBIT", "PO1")]


def test_refunded_second_debit_is_not_a_duplicate(con):
    order(con, "PO1")
    txn(con, "T1", "PO1")
    txn(con, "T2", "PO1")
    txn(con, "R2", "RF1", txn_type="REFUND", orig_channel_txn_id="T2")
    found = exceptions(con, D1 + dt.timedelta(days=5))
    assert ("DUPLICATE_DEBIT", "PO1") not in found


def test_missing_counterpart_is_pending_then_open(con):
    order(con, "PO1")
    assert exceptions(con, D1 + dt.timedelta(days=1), "PENDING") == [("MISSING_ON_CHANNEL", "PO1")]
    assert exceptions(con, D1 + dt.timedelta(days=2)) == [("MISSING_ON_CHANNEL", "PO1")]


def test_match_by_channel_txn_id_when_merchant_no_is_absent(con):
    order(con, "PO1", channel_txn_id="T1")
    txn(con, "T1", None)
    assert exceptions(con, D1 + dt.timedelta(days=5)) == []


def test_status_and_amount_differences(con):
    order(con, "PO1", status="PROCESSING")
    txn(con, "T1", "PO1")
    order(con, "PO2")
    txn(con, "T2", "PO2", status="FAILED")
    order(con, "PO3", amount="100.00")
    txn(con, "T3", "PO3", amount="99.99")
    assert exceptions(con, D1 + dt.timedelta(days=5)) == [
        ("AMOUNT_MISMATCH", "PO3"),
        ("CHANNEL_FAILED", "PO2"),
        ("PLATFORM_NOT_PAID", "PO1"),
    ]


def test_installment_overpaid_by_a_second_order(con):
    order(con, "PO1", amount="50.00", installment_due="80.00", loan_no="L1")
    order(
        con,
        "PO2",
        amount="30.00",
        installment_due="30.00",
        loan_no="L1",
        paid_at=dt.datetime(2026, 11, 1, 11, tzinfo=dt.UTC),
    )
    order(
        con,
        "PO3",
        amount="30.00",
        installment_due="30.00",
        loan_no="L1",
        paid_at=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC),
    )
    for i in (1, 2, 3):
        txn(con, f"T{i}", f"PO{i}", amount="50.00" if i == 1 else "30.00")
    assert exceptions(con, D1 + dt.timedelta(days=5)) == [("DUPLICATE_DEBIT", "PO3")]


def test_settlement_net_of_fees_matches_one_credit_only(con):
    txn(con, "T1", "PO1", amount="100.00", fee="0.60")
    txn(con, "T2", "PO2", amount="50.00", fee="0.30")
    order(con, "PO1")
    order(con, "PO2", amount="50.00")
    settle = D1 + dt.timedelta(days=1)
    credit(con, "B1", "149.10", settle)
    credit(con, "B2", "149.10", settle)  # the same amount again: it explains nothing
    found = exceptions(con, settle + dt.timedelta(days=3), with_settlement=True)
    assert found == [("BANK_UNEXPLAINED", "B2")]


def test_settlement_mismatch_and_missing(con):
    txn(con, "T1", "PO1", amount="100.00", fee="0.60")
    order(con, "PO1")
    txn(con, "T2", "PO2", amount="100.00", fee="0.60", day=D1 + dt.timedelta(days=1))
    order(con, "PO2", day=D1 + dt.timedelta(days=1))
    credit(con, "B1", "99.00", D1 + dt.timedelta(days=1))
    found = exceptions(con, D1 + dt.timedelta(days=6), with_settlement=True)
    assert found == [
        ("SETTLEMENT_MISMATCH", "WECHAT:2026-11-02"),
        ("SETTLEMENT_MISSING", "WECHAT:2026-11-03"),
    ]


def test_byte_identical_redelivery_counts_once(con):
    order(con, "PO1")
    txn(con, "T1", "PO1", inbox=D1)
    txn(con, "T1", "PO1", inbox=D1 + dt.timedelta(days=1), file_sha256="w" + D1.isoformat())
    assert exceptions(con, D1 + dt.timedelta(days=5)) == []
    assert con.execute("SELECT count(*) FROM stg_channel_txns").fetchall()[0][0] == 1


def test_rejected_rows_and_missing_files_are_exceptions(con):
    insert(
        con,
        "new_rejects",
        {
            "reason": "bad",
            "source": "wx",
            "file_name": "w.csv",
            "file_sha256": "x",
            "line_no": 7,
            "inbox_date": D1,
        },
    )
    insert(
        con,
        "new_files",
        {"source": "bank", "file_name": "", "status": "MISSING", "error": "none", "inbox_date": D1},
    )
    assert exceptions(con, D1) == [("MISSING_FILE", "bank:2026-11-01"), ("REJECTED_ROW", "w.csv:7")]


def test_a_debit_naming_one_order_and_carrying_another_orders_id_pairs_with_the_first(con):
    """T names PO1 by merchant order no. and carries PO2's channel_txn_id: a candidate of
    both, it pairs with PO1 (a merchant order no. ranks first), and PO2, whose best candidate
    it was, stays unmatched rather than taking its failed debit T2. In buckets the four rows
    are one component (tests/match/conftest.py runs this with 1, 3 and 8 buckets)."""
    order(con, "PO1")
    order(con, "PO2", channel_txn_id="T")
    txn(con, "T", "PO1")
    txn(con, "T2", "PO2", status="FAILED")
    assert exceptions(con, D1 + dt.timedelta(days=5)) == [("MISSING_ON_CHANNEL", "PO2")]
    pairs = con.execute("SELECT order_no, channel_txn_id FROM match_orders").fetchall()
    assert pairs == [("PO1", "T")]
