from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections import Counter
from decimal import Decimal

import pytest

from transforms.generate import (
    ALIPAY,
    ALLINPAY,
    COLLECTION_ACCOUNT,
    COUNTERPARTY,
    FEE,
    FEE_ACCOUNT,
    LENDER_ACCOUNTS,
    WECHAT,
    Generator,
    Order,
    Txn,
    fee_fen,
    generate,
    write_allinpay,
    write_platform,
    yuan,
    yuan_thousands,
)
from transforms.generate import world as world_module
from transforms.zipfiles import UTF8_FLAG, real_name

D1 = dt.date(2026, 11, 1)
DAY = dt.timedelta(days=1)
EVERY_CODE = {
    "MISSING_ON_PLATFORM",
    "PLATFORM_NOT_PAID",
    "MISSING_ON_CHANNEL",
    "CHANNEL_FAILED",
    "AMOUNT_MISMATCH",
    "DUPLICATE_DEBIT",
    "REFUND_UNMATCHED",
    "SETTLEMENT_MISMATCH",
    "SETTLEMENT_MISSING",
    "BANK_UNEXPLAINED",
    "DISTRIBUTION_MISMATCH",
    "DATA_CONFLICT",
    "REJECTED_ROW",
    "MISSING_FILE",
}  # fmt: skip (SPEC §6)


def test_same_seed_same_bytes(tmp_path):
    a = generate(tmp_path / "a", D1, 7, 15, seed=5).parent  # 7 days: every injection
    b = generate(tmp_path / "b", D1, 7, 15, seed=5).parent
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    c = generate(tmp_path / "c", D1, 3, 15, seed=6).parent
    rel = "inbox/2026-11-01/platform_orders_20261101.csv"
    assert (a / rel).read_bytes() != (c / rel).read_bytes()


def test_scales_with_orders(tmp_path):
    small = generate(tmp_path / "s", D1, 3, 10, seed=1).parent
    large = generate(tmp_path / "l", D1, 3, 100, seed=1).parent

    def count(root):
        return len(
            (root / "inbox/2026-11-01/platform_orders_20261101.csv").read_text().splitlines()
        )

    assert count(large) - count(small) == 90


def test_money_text():
    assert yuan(12345) == "123.45"
    assert yuan(-5) == "-0.05"
    assert yuan_thousands(123456789) == "1,234,567.89"
    assert fee_fen("WECHAT", 600) == 4  # 0.036 yuan rounds half-up to 0.04


def test_ids_are_unique_at_every_scale(monkeypatch):
    """Ids are per-day sequence numbers, never random: no collision across chunks or days, so the
    only shared installments and repeated debits are the injected ones."""
    monkeypatch.setattr(world_module, "CHUNK_ORDERS", 700)  # several chunks a day
    world = Generator(D1, 4, 2000, seed=3).build()
    orders = [o for day in world.dates for o in world.orders[day]]
    assert len(orders) > 4 * 2000
    assert len({o.order_no for o in orders}) == len(orders)
    txn_ids = Counter(t.channel_txn_id for t in world.txns)
    assert max(txn_ids.values()) == 1
    repays = Counter((o.loan_no, o.installment_no) for o in orders if o.order_type == "REPAY")
    shared = {k for k, n in repays.items() if n > 1}
    injected = [r for code, r, _ in world.answers if code == "DUPLICATE_DEBIT"]
    # Per day the partial repayment (noise), and per anomaly day one injected double order.
    assert len(shared) == 4 + len(injected) // 2
    debits = Counter(t.merchant_order_no for t in world.txns if t.txn_type == "PAY")
    assert {o for o, n in debits.items() if n > 1} <= set(injected)


def test_channel_volume_matches_the_platform():
    world = Generator(D1, 3, 3000, seed=4).build()
    day = world.dates[1]
    paid = [o for o in world.orders[day] if o.status == "SUCCESS" and o.order_type == "REPAY"]
    listed = [t for t in world.txns if t.file_day == day]
    assert abs(len(listed) - len(paid)) < 20
    per_channel = Counter(t.channel for t in listed)
    assert set(per_channel) == {WECHAT, ALIPAY, ALLINPAY}
    assert min(per_channel.values()) > len(listed) / 4
    assert 0.02 < sum(o.status == "FAILED" for o in world.orders[day]) / len(paid) < 0.04


def test_every_format_and_anomaly(tmp_path):
    generate(tmp_path, D1, 5, 30, seed=2)
    day2 = tmp_path / "inbox/2026-11-02"
    assert sorted(p.name for p in day2.iterdir()) == [
        "alipay_20261102.csv.zip",
        "allinpay_20261101_resend.txt",
        "allinpay_20261102.txt",
        "ccb_collection_20261102.csv",
        "fee_account_20261102.xlsx",
        "lender_a_20261102.sta",
        "lender_b_20261102.xml",
        "platform_orders_20261102.csv",
        "wechatpay_All_20261102.csv",
    ]
    assert (day2 / "allinpay_20261101_resend.txt").read_bytes() == (
        tmp_path / "inbox/2026-11-01/allinpay_20261101.txt"
    ).read_bytes()
    with zipfile.ZipFile(day2 / "alipay_20261102.csv.zip") as zf:
        (info,) = zf.infolist()
        assert not info.flag_bits & UTF8_FLAG
        assert real_name(info) == "20880123456789010156_20261102_业务明细.csv"
        text = zf.read(info).decode("gb18030")
    assert text.startswith("#支付宝业务明细查询\r\n") and "#退款合计：" in text
    wechat = (day2 / "wechatpay_All_20261102.csv").read_text(encoding="utf-8-sig")
    assert "总金额" in wechat.splitlines()[0]  # every third day: the legacy layout
    current = (tmp_path / "inbox/2026-11-03/wechatpay_All_20261103.csv").read_bytes()
    assert "应结订单金额".encode() in current.splitlines()[0] and current.endswith(b"\r\n")
    assert (day2 / "allinpay_20261102.txt").read_text().splitlines()[-1].startswith("TRAILER|")
    with open(tmp_path / "answer_key.csv", encoding="utf-8") as f:
        key = list(csv.DictReader(f))
    assert {r["exception_type"] for r in key} == EVERY_CODE


def test_writers_format_rows_exactly(tmp_path):
    paid = dt.datetime(2026, 11, 1, 9, 5, 7)
    orders = [
        Order("PO1", "REPAY", "", "LN1", 3, "U1", "LENDER_B", WECHAT, "4200001", 123456, 789, 10, 5,
              124260, "SUCCESS", paid, paid + dt.timedelta(seconds=2)),
        Order("PO2", "REPAY", "", "LN2", 1, "U2", "LENDER_A", ALLINPAY, "TL2", 100, 0, 0, 0, 100,
              "FAILED", paid, None),
    ]  # fmt: skip
    write_platform(tmp_path / "p.csv", orders)
    assert (tmp_path / "p.csv").read_text().splitlines()[1:] == [
        "PO1,REPAY,,LN1,3,U1,LENDER_B,WECHAT,4200001,1242.60,1234.56,7.89,0.10,0.05,1242.60,"
        "SUCCESS,2026-11-01 09:05:07,2026-11-01 09:05:09",
        "PO2,REPAY,,LN2,1,U2,LENDER_A,ALLINPAY,,1.00,1.00,0.00,0.00,0.00,1.00,FAILED,"
        "2026-11-01 09:05:07,",
    ]
    txns = [
        Txn(ALLINPAY, "TL9", "PO9", "PAY", 100000, paid, D1, card_no="6222021234567890123"),
        Txn(ALLINPAY, "TL8", "RF8", "REFUND", 5000, paid, D1, "TL7", "PO7", "6222020000009999"),
    ]
    write_allinpay(tmp_path / "a.txt", txns)
    assert (tmp_path / "a.txt").read_text().splitlines()[1:] == [
        "TL9|代扣|100000|0|20261101090507|PO9|||DK||99700|300|622202******0123",
        "TL8|退货|5000|0|20261101090507|RF8|PO7|TL7|DK||5015|-15|622202******9999",
        "TRAILER|2|105000|285",
    ]


def test_too_few_days_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 3"):
        generate(tmp_path, D1, 2, 10, seed=1)


# ---- the injected differences and the noise of a 10-day run -------------------------------

TEN = dict(start=D1, days=10, orders=40, seed=11)


@pytest.fixture(scope="module")
def ten_days(tmp_path_factory):
    out = tmp_path_factory.mktemp("ten")
    generate(out, **TEN)
    with open(out / "answer_key.csv", encoding="utf-8") as f:
        key = list(csv.DictReader(f))
    return out / "inbox", key


def test_ten_days_answer_every_code_old_enough(ten_days):
    _, key = ten_days
    assert {r["exception_type"] for r in key} == EVERY_CODE
    last = D1 + 9 * DAY
    for r in key:  # each ages past its pending window, but the last day's missing file
        limit = last if r["exception_type"] == "MISSING_FILE" else last - 2 * DAY
        assert D1 <= dt.date.fromisoformat(r["biz_date"]) <= limit, r
    world = Generator(**TEN).build()
    assert sorted(tuple(r.values()) for r in key) == sorted(world.answers)
    assert not {r["ref"] for r in key} & set(world.noise_refs)


def refs(key, code):
    return [(r["ref"], r["biz_date"]) for r in key if r["exception_type"] == code]


def test_rejected_rows_are_where_the_key_says(ten_days):
    inbox, key = ten_days
    (platform, day), (allinpay, start) = sorted(refs(key, "REJECTED_ROW"), reverse=True)
    name, line = platform.split(":")
    lines = (inbox / day / name).read_text(encoding="utf-8").split("\n")
    assert lines[int(line) - 1].split(",")[9] == "12.3.4" and lines[int(line)] == ""
    # The Allinpay file of the first day lacks a debit its trailer counts.
    assert start == D1.isoformat() and allinpay == "allinpay_20261101.txt:0"
    text = (inbox / start / "allinpay_20261101.txt").read_text(encoding="utf-8").splitlines()
    rows, trailer = text[1:-1], text[-1].split("|")
    assert int(trailer[1]) == len(rows) + 1
    assert int(trailer[2]) > sum(int(r.split("|")[2]) for r in rows)
    lost = {ref for ref, d in refs(key, "MISSING_ON_CHANNEL") if d == start}
    listed = {r.split("|")[5] for r in rows}
    platform_rows = (inbox / start / "platform_orders_20261101.csv").read_text().splitlines()
    (gone,) = [o for o in lost if any(r.startswith(o + ",") and ",ALLINPAY," in r
                                      for r in platform_rows)]  # fmt: skip
    assert gone not in listed
    # The re-send of that file, the next day, stays byte-identical.
    resend = inbox / "2026-11-02" / "allinpay_20261101_resend.txt"
    assert resend.read_bytes() == (inbox / start / "allinpay_20261101.txt").read_bytes()
    # Its settlement item (settle date start + 1) is the injected missing one anyway.
    assert refs(key, "SETTLEMENT_MISSING") == [("ALLINPAY:2026-11-02", "2026-11-02")]


def test_amended_orders_are_delivered_the_next_day(ten_days):
    inbox, key = ten_days
    ((conflict, day),) = refs(key, "DATA_CONFLICT")
    of_day = dt.date.fromisoformat(day)
    folder = inbox / (of_day + DAY).isoformat()
    amend = folder / f"platform_orders_{of_day:%Y%m%d}_amend.csv"
    header, *rows = amend.read_text(encoding="utf-8").splitlines()
    original = (inbox / day / f"platform_orders_{of_day:%Y%m%d}.csv").read_text().splitlines()
    assert header == original[0] and len(rows) == 3
    same = [r for r in rows if r in original]
    (changed,) = [r for r in rows if r not in original]
    assert len(same) == 2 and changed.startswith(conflict + ",")
    (before,) = [r for r in original if r.startswith(conflict + ",")]
    a, b = before.split(","), changed.split(",")
    assert [i for i in range(len(a)) if a[i] != b[i]] == [10, 11]  # principal, interest
    assert a[9] == b[9]  # the amount is unchanged
    assert Decimal(a[10]) - Decimal(b[10]) == Decimal(b[11]) - Decimal(a[11]) == 1


def test_lender_b_statement_missing_on_the_last_day(ten_days):
    inbox, key = ten_days
    assert refs(key, "MISSING_FILE") == [("lender_b_account:2026-11-10", "2026-11-10")]
    for day in (D1 + i * DAY for i in range(10)):
        present = (inbox / day.isoformat() / f"lender_b_{day:%Y%m%d}.xml").exists()
        assert present == (day != D1 + 9 * DAY), day
        assert (inbox / day.isoformat() / f"lender_a_{day:%Y%m%d}.sta").exists()


def test_channel_failed_and_refunds():
    world = Generator(**TEN).build()
    key = {(c, r) for c, r, _ in world.answers}
    orders = {o.order_no: o for day in world.dates for o in world.orders[day]}
    (failed,) = [r for c, r in key if c == "CHANNEL_FAILED"]
    (txn,) = [t for t in world.txns if t.merchant_order_no == failed]
    assert orders[failed].status == "SUCCESS" and txn.status == "FAILED" and txn.fee == 0
    refunds = {t.merchant_order_no: t for t in world.txns if t.txn_type == "REFUND"}
    alone, over = sorted(r for c, r in key if c == "REFUND_UNMATCHED")
    assert alone not in refunds  # a platform refund only
    # The over-refund: two partial refunds, on two days, on both sides, beyond the amount.
    paid = orders[orders[over].orig_order_no]
    both = [o for o in orders.values() if o.orig_order_no == paid.order_no]
    assert len(both) == 2 and over in refunds
    assert {o.created_at.date() for o in both} == {refunds[o.order_no].time.date() for o in both}
    assert len({o.created_at.date() for o in both}) == 2
    assert sum(o.amount for o in both) > paid.amount > max(o.amount for o in both)
    # Refunds split like their payment: in full mirrored, in part principal only.
    for o in orders.values():
        if o.order_type == "REFUND":
            orig = orders[o.orig_order_no]
            split = (o.principal, o.interest, o.fee, o.penalty)
            assert split in {(orig.principal, orig.interest, orig.fee, orig.penalty),
                             (o.amount, 0, 0, 0)}, o  # fmt: skip
            if o.order_no in refunds:
                assert refunds[o.order_no].orig_order_no == orig.order_no
    noise = set(world.noise_refs)
    refunded_twice = [p for p in noise if sum(o.orig_order_no == p for o in orders.values()) == 2]
    late_refund = [o for o in orders.values() if o.order_type == "REFUND" and o.order_no in noise
                   and (o.created_at.date() - orders[o.orig_order_no].created_at.date()).days == 2]  # fmt: skip
    assert refunded_twice and late_refund


def test_settlement_and_distribution_follow_the_credits():
    """Recompute, from the orders and transactions alone, each settlement item's net and 清分
    shares, and check the credits and the 清分 debits of the bank against them."""
    world = Generator(**TEN).build()
    last = world.last
    answers = {(c, r) for c, r, _ in world.answers}
    noise = set(world.noise_refs)
    ok = sorted((t for t in world.txns if t.status == "SUCCESS"), key=lambda t: t.time)
    net: dict = Counter()
    for t in ok:
        net[t.channel, t.time.date() + DAY] += (
            t.amount if t.txn_type == "PAY" else -t.amount
        ) - t.fee
    first = {}
    for t in ok:
        first.setdefault((t.txn_type, t.merchant_order_no), t)
    shares: dict = Counter()
    for o in (o for day in world.dates for o in world.orders[day]):
        kind, sign = ("PAY", 1) if o.order_type == "REPAY" else ("REFUND", -1)
        t = first.get((kind, o.order_no))
        if o.status == "SUCCESS" and t is not None:
            item = (t.channel, t.time.date() + DAY)
            shares[(*item, o.lender_code)] += sign * (o.principal + o.interest + o.penalty)
            shares[(*item, FEE)] += sign * o.fee
    channel_of = {cp: ch for ch, cp in COUNTERPARTY.items()}
    credits: dict = {}
    for b in world.bank:
        if b.account == COLLECTION_ACCOUNT and b.narrative == "结算款":
            credits.setdefault((channel_of[b.counterparty], b.day), []).append(b.amount)
    # Settlement: one credit per item on its settle date, but for the injected and noise cases.
    noisy = [item for item in net if f"{item[0]}:{item[1].isoformat()}" in noise]
    split = [item for item in noisy if len(credits.get(item, [])) == 2]
    batch = sorted(item for item in noisy if item not in split)  # paid on its last date
    assert len(split) == 1 and len(batch) == 3 and len({c for c, _ in batch}) == 1
    assert batch[-1][1] - batch[0][1] == 2 * DAY
    paid_on = {}  # item -> value date of its (last) credit
    for item, amount in sorted(net.items()):
        channel, settle = item
        if settle > last:
            continue
        ref = f"{channel}:{settle.isoformat()}"
        got = credits.pop(item, [])
        if ("SETTLEMENT_MISSING", ref) in answers:
            assert got == []
            continue
        if item in batch:
            assert got == ([sum(net[i] for i in batch)] if item == batch[-1] else [])
            paid_on[item] = batch[-1][1]
            continue
        if item in split:  # 60% and 40%
            assert sorted(got) == sorted([amount * 6 // 10, amount - amount * 6 // 10])
        elif ("SETTLEMENT_MISMATCH", ref) in answers:
            assert got == [amount - 1234]
        else:
            assert got == [amount], ref
        paid_on[item] = settle
    assert credits == {}
    for item, value in paid_on.items():
        assert item[1] <= value <= item[1] + 2 * DAY
    # 清分: per recipient and value date the shares of the items credited that day.
    expected: dict = Counter()
    for (channel, settle, who), fen in shares.items():
        if (channel, settle) in paid_on:
            expected[who, paid_on[channel, settle]] += fen
    want = Counter()
    for (who, value), fen in expected.items():
        if fen <= 0:
            continue
        if ("DISTRIBUTION_MISMATCH", f"{who}:{value.isoformat()}") in answers:
            fen -= 1
        if f"{who}:{value.isoformat()}" in noise:  # paid a day late
            value += DAY
        want[who, value, fen] += 1
    recipient = {FEE_ACCOUNT[0]: FEE, **{acct: who for who, (acct, _) in LENDER_ACCOUNTS.items()}}
    got = Counter()
    credited = Counter()
    for b in world.bank:
        if b.account == COLLECTION_ACCOUNT and b.narrative == "清分划款":
            got[recipient[b.counterparty[1]], b.day, -b.amount] += 1
        elif b.account != COLLECTION_ACCOUNT:
            credited[recipient[b.account], b.day, b.amount] += 1
    assert got == want
    assert credited == got  # each recipient's statement shows the same transfers
    codes = {c for c, _ in answers}
    assert {"DISTRIBUTION_MISMATCH", "SETTLEMENT_MISSING", "SETTLEMENT_MISMATCH"} <= codes
    # The late FEE transfer does not look like the next day's own (a different amount).
    (late,) = [dt.date.fromisoformat(r[4:]) + DAY for r in noise if r.startswith("FEE:")]
    fee_debits = [fen for (who, day, fen), n in got.items() if who == FEE and day == late]
    assert len(fee_debits) == 2


@pytest.mark.parametrize("days", [3, 4, 7])
def test_short_runs_skip_what_does_not_fit(days):
    world = Generator(D1, days, 12, seed=days).build()
    codes = {c for c, _, _ in world.answers}
    if days >= 4:
        assert codes == EVERY_CODE
    else:  # no settlement item ages past its window: no settlement or 清分 difference
        assert EVERY_CODE - codes == {
            "SETTLEMENT_MISSING", "SETTLEMENT_MISMATCH", "DISTRIBUTION_MISMATCH"
        }  # fmt: skip
    for _, _, biz in world.answers:
        assert D1 <= dt.date.fromisoformat(biz) <= world.last
    assert {o.created_at.date() for day in world.dates for o in world.orders[day]} <= set(
        world.dates
    )
    for day in world.dates:
        assert all(o.created_at.date() == day for o in world.orders[day])
