from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections import Counter

import pytest

from transforms.generate import (
    ALIPAY,
    ALLINPAY,
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


def test_same_seed_same_bytes(tmp_path):
    a = generate(tmp_path / "a", D1, 3, 15, seed=5).parent
    b = generate(tmp_path / "b", D1, 3, 15, seed=5).parent
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
    assert {r["exception_type"] for r in key} == {
        "MISSING_ON_PLATFORM", "PLATFORM_NOT_PAID", "MISSING_ON_CHANNEL", "AMOUNT_MISMATCH",
        "DUPLICATE_DEBIT", "SETTLEMENT_MISMATCH", "SETTLEMENT_MISSING", "BANK_UNEXPLAINED",
    }  # fmt: skip


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
