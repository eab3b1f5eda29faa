"""Conservation, on small random days: every fen of every input ends up in a match, in an
exception or pending, on every layer; nothing vanishes and nothing is counted twice."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from tests.match.test_layers import FEE_ACCOUNT, LAYER_C_CONFIG, LENDER_ACCOUNT, bank_line, run
from tests.match.test_steps import D1, credit, order, txn  # noqa: F401

DAYS = [D1 + dt.timedelta(days=i) for i in range(4)]


def money(r: random.Random) -> str:
    return f"{r.randrange(100, 50000) / 100:.2f}"


def random_inputs(con, seed: int) -> None:
    r = random.Random(seed)
    nets: list[Decimal] = []
    for day in DAYS:
        for i in range(r.randrange(3, 12)):
            no = f"PO{day:%d}{i:02d}"
            amount = money(r)
            fee = f"{Decimal(amount) * Decimal('0.006'):.2f}"
            has_order, has_txn = r.random() > 0.1, r.random() > 0.1
            if has_order:
                order(con, no, amount=amount, day=day, lender_code=r.choice(["LENDER_A", "LENDER_B"]),
                      principal=amount, interest="0", fee="0", penalty="0",
                      status=r.choice(["SUCCESS"] * 8 + ["PROCESSING", "FAILED"]))  # fmt: skip
            if has_txn:
                paid = amount if r.random() > 0.1 else money(r)
                txn(con, "T" + no, no, amount=paid, fee=fee, day=day,
                    status="SUCCESS" if r.random() > 0.05 else "FAILED")  # fmt: skip
                nets.append(Decimal(paid) - Decimal(fee))
                if r.random() < 0.1:
                    txn(con, "U" + no, no, amount=paid, fee=fee, day=day)  # a second debit
                if r.random() < 0.1:  # a refund on both sides, or on one
                    rf = "RF" + no
                    order(con, rf, amount="1.00", order_type="REFUND", orig_order_no=no, day=day,
                          installment_due=None, lender_code="LENDER_A", principal="1.00",
                          interest="0", fee="0", penalty="0")  # fmt: skip
                    if r.random() > 0.3:
                        txn(con, "C" + rf, rf, amount="1.00", txn_type="REFUND", day=day,
                            orig_channel_txn_id="T" + no, fee="0")  # fmt: skip
        settle = day + dt.timedelta(days=1)
        # Bank credits: some exact, some sums of nothing in particular, some missing.
        for k in range(r.randrange(0, 4)):
            credit(
                con,
                f"B{day:%d}{k}",
                money(r) if r.random() < 0.5 else f"{sum(nets[-3:]):.2f}",
                settle,
            )
        for k in range(r.randrange(0, 3)):
            to = r.choice([LENDER_ACCOUNT, FEE_ACCOUNT, "6228480000000009"])
            amount = money(r)
            bank_line(con, f"D{day:%d}{k}", amount, settle, "DEBIT", counterparty_account=to)
            if to == LENDER_ACCOUNT and r.random() > 0.3:
                bank_line(
                    con, f"R{day:%d}{k}", amount, settle, "CREDIT", account=to, source="lender_a"
                )


def one(con, sql: str):
    return con.execute(sql).fetchall()[0][0] or Decimal(0)


@pytest.mark.parametrize("seed", range(8))
def test_every_fen_is_matched_flagged_or_pending(con, seed):
    random_inputs(con, seed)
    run(con, DAYS[-1] + dt.timedelta(days=2), LAYER_C_CONFIG)
    # Layer A: each successful channel debit is in one pair, or named by one exception, or
    # refunded in full.
    debits = one(
        con,
        "SELECT sum(amount) FROM stg_channel_txns WHERE txn_type = 'PAY' AND status = 'SUCCESS'",
    )
    paired = one(
        con,
        """SELECT sum(t.amount) FROM match_orders m JOIN stg_channel_txns t
                         USING (channel, channel_txn_id) WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS'""",
    )
    flagged = one(
        con,
        """SELECT sum(t.amount) FROM stg_channel_txns t
                          WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS'
                            AND NOT EXISTS (SELECT 1 FROM match_orders m WHERE m.channel = t.channel
                                            AND m.channel_txn_id = t.channel_txn_id)
                            AND EXISTS (SELECT 1 FROM exceptions e WHERE e.channel_txn_id = t.channel_txn_id)""",
    )
    refunded = one(
        con,
        """SELECT sum(t.amount) FROM stg_channel_txns t
                           WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS'
                             AND NOT EXISTS (SELECT 1 FROM match_orders m WHERE m.channel = t.channel
                                             AND m.channel_txn_id = t.channel_txn_id)
                             AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.channel_txn_id = t.channel_txn_id)
                             AND (SELECT sum(amount) FROM stg_channel_txns f WHERE f.txn_type = 'REFUND'
                                  AND f.orig_channel_txn_id = t.channel_txn_id) >= t.amount""",
    )
    assert debits == paired + flagged + refunded
    assert (
        one(con, "SELECT count(*) - count(DISTINCT (channel, channel_txn_id)) FROM match_orders")
        == 0
    )
    assert one(con, "SELECT count(*) - count(DISTINCT order_no) FROM match_orders") == 0
    # Every successful platform repayment is paired or named by an exception.
    assert (
        one(
            con,
            """SELECT count(*) FROM stg_platform_orders o
                       WHERE o.status = 'SUCCESS' AND o.order_type = 'REPAY'
                         AND o.order_no NOT IN (SELECT order_no FROM match_orders)
                         AND o.order_no NOT IN (SELECT order_no FROM exceptions WHERE order_no IS NOT NULL)""",
        )
        == 0
    )
    # Layer B: every collection credit is in exactly one settlement group or unexplained.
    credits = one(
        con, "SELECT sum(amount) FROM stg_bank_lines WHERE direction = 'CREDIT' AND source = 'bank'"
    )
    grouped = one(
        con,
        """SELECT sum(bank_amount) FROM (SELECT DISTINCT account_no, bank_txn_id, bank_amount
                          FROM match_settlement)""",
    )
    loose = one(
        con,
        "SELECT sum(actual_amount) FROM exceptions WHERE exception_type = 'BANK_UNEXPLAINED' AND actual_amount > 0",
    )
    assert credits == grouped + loose
    assert (
        one(
            con,
            """SELECT count(*) FROM (SELECT account_no, bank_txn_id FROM match_settlement
                       GROUP BY ALL HAVING count(DISTINCT group_id) > 1)""",
        )
        == 0
    )
    # Each expected settlement is matched, differs, or is pending/missing: its net is accounted once.
    expected = one(con, "SELECT sum(expected_net) FROM settlement_expected")
    judged = one(con, "SELECT sum(expected_net) FROM settlements")
    assert expected == judged
    assert one(con, "SELECT count(*) FROM settlements WHERE status <> 'MATCHED'") == one(
        con, "SELECT count(*) FROM exceptions WHERE exception_type LIKE 'SETTLEMENT_%'"
    )
    # Layer C: every collection debit is one distribution payment or unexplained.
    debits_out = one(
        con, "SELECT sum(amount) FROM stg_bank_lines WHERE direction = 'DEBIT' AND source = 'bank'"
    )
    distributed = one(con, "SELECT sum(paid_amount) FROM match_distribution")
    leaving = one(
        con,
        "SELECT -sum(actual_amount) FROM exceptions WHERE exception_type = 'BANK_UNEXPLAINED' AND actual_amount < 0",
    )
    assert debits_out == distributed + leaving
    assert (
        one(
            con,
            "SELECT count(*) - count(DISTINCT (account_no, bank_txn_id)) FROM match_distribution",
        )
        == 0
    )
    # The shares owed equal the expected distributions plus what is not yet due or settled.
    owed = one(
        con,
        """SELECT sum(sh.amount) FROM total_shares sh JOIN settlements s USING (channel, trade_date)
                       WHERE s.group_id IS NOT NULL AND sh.recipient IN (SELECT recipient FROM recipients)""",
    )
    assert owed == one(con, "SELECT sum(expected_amount) FROM distribution_expected")
    assert one(con, "SELECT count(*) FROM distributions WHERE status <> 'MATCHED'") == one(
        con, "SELECT count(*) FROM exceptions WHERE exception_type = 'DISTRIBUTION_MISMATCH'"
    )
