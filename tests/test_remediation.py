"""Remediation files: every item to fix is on its list with the right amount, and the totals
agree with the exception sheets."""

from __future__ import annotations

import csv
from decimal import Decimal

import duckdb
from openpyxl import load_workbook


def open_exceptions(demo_run, codes):
    day = demo_run.days[-1]
    return duckdb.sql(
        f"SELECT ref, channel_txn_id, money_at_stake, actual_amount "
        f"FROM read_parquet('{demo_run.config.lake}/exceptions/report_date={day}/*.parquet') "
        f"WHERE status = 'OPEN' AND exception_type IN ({', '.join(repr(c) for c in codes)})"
    ).fetchall()


def folder(demo_run):
    day = demo_run.days[-1]
    return demo_run.config.reports / f"remediation_{day}", day


def totals(ws) -> tuple[str, list]:
    rows = list(ws.iter_rows(values_only=True))
    return rows[-1][0], rows[1:-1]


def test_platform_list_has_every_uncredited_payment_in_the_export_columns(demo_run):
    out, day = folder(demo_run)
    expected = {
        (r[0], r[1]): r[3]
        for r in open_exceptions(demo_run, ["PLATFORM_NOT_PAID", "MISSING_ON_PLATFORM"])
    }
    with open(out / f"补单_platform_{day}.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["order_no", "order_type", "orig_order_no"]
    got = {(r["order_no"], r["channel_txn_id"]): Decimal(r["amount"]) for r in rows}
    assert got == expected and expected
    assert all(r["status"] == "SUCCESS" and r["paid_at"] for r in rows)
    wb = load_workbook(out / f"remediation_{day}.xlsx", read_only=True)
    label, body = totals(wb["补单 Platform"])
    assert label == f"合计 Total: {len(expected)}"
    assert len(body) == len(expected)


def test_refund_requests_per_channel_and_claims_total_like_the_exceptions(demo_run):
    out, day = folder(demo_run)
    wb = load_workbook(out / f"remediation_{day}.xlsx", read_only=True)
    dups = open_exceptions(demo_run, ["DUPLICATE_DEBIT"])
    refunds = [s for s in wb.sheetnames if s.startswith("退款")]
    listed = {}
    for name in refunds:
        rows = list(wb[name].iter_rows(values_only=True))
        for r in rows[1:-1]:
            listed[r[0]] = Decimal(str(r[2]))
        assert rows[-1][2] == float(sum(Decimal(str(r[2])) for r in rows[1:-1]))
    assert listed == {r[1]: r[2] for r in dups}
    claims = open_exceptions(demo_run, ["SETTLEMENT_MISMATCH", "SETTLEMENT_MISSING"])
    label, body = totals(wb["渠道索赔 Claims"])
    assert label == f"合计 Total: {len(claims)}" and len(body) == len(claims) > 0
    corrections = open_exceptions(demo_run, ["DISTRIBUTION_MISMATCH"])
    rows = list(wb["清分更正 Corrections"].iter_rows(values_only=True))
    assert len(rows) - 2 == len(corrections) > 0
    assert rows[-1][4] == float(sum(r[2] for r in corrections))
