from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reports import labels
from reports.masking import (
    legacy_id_ok,
    looks_like_person_name,
    luhn_ok,
    mask_borrower,
    mask_card,
    mask_detail,
    mask_id,
    mask_name,
    mask_raw,
    mask_text,
    mask_texts,
    resident_id_ok,
)
from reports.workbook import write_workbook
from tests.reports.helpers import DAY, every_cell, exc, inputs, luhn_complete

CARD = luhn_complete("622202123456789012")  # 19 digits, Luhn-valid
CARD16 = luhn_complete("436742123456789")  # 16 digits, Luhn-valid
NOT_CARD = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)  # 16 digits failing the check
RESIDENT_ID = "11010519491231002X"  # GB 11643 example: valid check character
RESIDENT_ID_DIGIT = "440524188001010014"
LEGACY_ID = "110105491231002"
MOBILE = "13812345678"
TIMESTAMP = "20261101100000"
ORDER_ID = "PO20261101000000042"
TXN_ID = "4200001234202611031234567890"
ACCOUNT = "3100123456789012"  # a corporate account: no card check digit
BORROWER = "U123456789"


def test_checks():
    assert luhn_ok(CARD) and luhn_ok(CARD16) and not luhn_ok(NOT_CARD)
    assert resident_id_ok(RESIDENT_ID) and resident_id_ok(RESIDENT_ID_DIGIT)
    assert not resident_id_ok("110105194912310021")
    assert legacy_id_ok(LEGACY_ID) and not legacy_id_ok("110105491331002")
    assert not luhn_ok(ACCOUNT)


def test_field_masks():
    assert mask_card("6222021234567890123") == "6222****0123"
    assert mask_card("6222 0212 3456 7890") == "6222****7890"
    assert mask_card("6222****0123") == "6222****0123"
    assert mask_card("12345") == "****2345"
    assert mask_card(None) is None
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧*"
    assert mask_id("B123456789") == "B1******89"
    assert mask_id("abcd") == "****"
    assert mask_borrower("张三") == "张*"
    assert mask_borrower("买买提·艾力") == "买*"
    assert mask_borrower(BORROWER) == "U1******89"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"card {CARD} ok", f"card 6222****{CARD[-4:]} ok"),
        (f"x,{CARD16},y", f"x,4367****{CARD16[-4:]},y"),
        (f"还款{CARD16}代收", f"还款4367****{CARD16[-4:]}代收"),  # CJK around it is a boundary
        ("card 4111 1111 1111 1111 x", "card 4111****1111 x"),
        (f"id {RESIDENT_ID}.", "id 110105********002X."),
        (f"id {RESIDENT_ID_DIGIT}", "id 440524********0014"),
        (f"legacy {LEGACY_ID}", "legacy 110105*****1002"),
        (f"tel {MOBILE}", "tel 138****5678"),
        (f"手机:{MOBILE}。", "手机:138****5678。"),
        (f"borrower {BORROWER} paid", "borrower U1******89 paid"),
        (f"counterparty account {ACCOUNT}", "counterparty account 3100****9012"),
        (f"对方账号：{ACCOUNT}", "对方账号：3100****9012"),
        ("户名:张三丰 payer 李四", "户名:张* payer 李*"),
        # none of these is personal data: they stay as they are
        (f"at {TIMESTAMP}", f"at {TIMESTAMP}"),
        (f"order {ORDER_ID}", f"order {ORDER_ID}"),
        (f"txn {TXN_ID}", f"txn {TXN_ID}"),
        (f"no {NOT_CARD}", f"no {NOT_CARD}"),
        (f"{MOBILE}0", f"{MOBILE}0"),  # 12 digits: not a mobile
        (f"amount {MOBILE}.00", f"amount {MOBILE}.00"),
        ("total 1234567.89 of 12 orders", "total 1234567.89 of 12 orders"),
        ("卡号: 1234****9876", "卡号: 1234****9876"),
    ],
)
def test_mask_text(text: str, masked: str):
    assert mask_text(text) == masked
    assert mask_texts([None, text, "", text]) == [None, masked, "", masked]


def test_mask_detail_reads_a_bank_line():
    detail = f"CREDIT 5000.00 from 张三 {ACCOUNT}: 还款 {CARD16} 代收"
    assert (
        mask_detail(detail)
        == f"CREDIT 5000.00 from 张* 3100****9012: 还款 4367****{CARD16[-4:]} 代收"
    )
    company = f"DEBIT 1.00 to 财付通支付科技有限公司 {ACCOUNT}: fee"
    assert mask_detail(company) == "DEBIT 1.00 to 财付通支付科技有限公司 3100****9012: fee"
    assert mask_detail("CREDIT 1.00 from ? : x") == "CREDIT 1.00 from ? : x"


def test_mask_raw_masks_name_fields_only():
    raw = f'2026-11-01,张三,"欧阳娜娜",支付成功,余额,{BORROWER},{MOBILE}|工商银行|成功'
    assert (
        mask_raw(raw) == '2026-11-01,张*,"欧*",支付成功,余额,U1******89,138****5678|工商银行|成功'
    )
    assert looks_like_person_name("王小明") and looks_like_person_name("买买提·艾力")
    for word in ["支付成功", "余额", "还款", "工商银行", "成功", "人民币", "金额", "退款"]:
        assert not looks_like_person_name(word), word


def test_labels():
    assert len(labels.EXCEPTION_TYPES) == 14
    assert list(labels.EXCEPTION_TYPES)[0] == "MISSING_ON_PLATFORM"
    assert labels.label("MISSING_ON_PLATFORM") == "平台漏单/掉单"
    assert labels.action("MISSING_ON_PLATFORM") == "补单或退款 / credit the loan or refund"
    assert labels.action_in("MISSING_ON_PLATFORM", "zh") == "补单或退款"
    assert labels.action_in("MISSING_ON_PLATFORM", "en") == "credit the loan or refund"
    assert labels.label("SOMETHING_NEW") == "SOMETHING_NEW"
    assert set(labels.SETTLEMENT_STATUS) == {"MATCHED", "MISMATCH", "MISSING", "PENDING"}
    assert labels.severity(1) == "1 借款人受损" and labels.severity(3, "en") == "3 bookkeeping"
    assert labels.RESOLUTION_ACTIONS == {
        "REFUNDED": "已退款",
        "CREDITED": "补单已处理",
        "WRITTEN_OFF": "核销",
        "FALSE_POSITIVE": "误报",
        "MATCHED_MANUALLY": "手工匹配",
    }
    assert labels.resolution_choices() == [
        "REFUNDED 已退款",
        "CREDITED 补单已处理",
        "WRITTEN_OFF 核销",
        "FALSE_POSITIVE 误报",
        "MATCHED_MANUALLY 手工匹配",
    ]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("REFUNDED 已退款", "REFUNDED"),
        (" matched_manually 手工匹配 ", "MATCHED_MANUALLY"),
        ("WRITTEN_OFF", "WRITTEN_OFF"),
        ("CREDITED补单已处理", "CREDITED"),
        ("FALSE_POSITIVE written off by mistake", "FALSE_POSITIVE"),
        ("REFUNDED refunded to the borrower", "REFUNDED"),
        ("误报", "FALSE_POSITIVE"),
        ("written off", "WRITTEN_OFF"),
        ("REFUNDEDX", None),
        ("", None),
        (None, None),
        ("退款", None),
    ],
)
def test_parse_resolution_action(cell, code):
    assert labels.parse_resolution_action(cell) == code


def test_no_personal_data_in_any_cell(tmp_path: Path):
    """Personal data in every place input text reaches the workbook; scan every cell."""
    detail = (
        f"ts {TIMESTAMP} order {ORDER_ID} card {CARD16} id {RESIDENT_ID} tel {MOBILE} no {NOT_CARD}"
    )
    bank = f"CREDIT 5000.00 from 张三 {ACCOUNT}: 还款 {CARD} 代收"
    raw = f"{ORDER_ID},{BORROWER},{CARD},{MOBILE},{TIMESTAMP},{NOT_CARD},{RESIDENT_ID},张三"
    statuses = ["OPEN", "PENDING", "CLEARED", "RESOLVED"]
    rows = [
        exc(
            "PLATFORM_NOT_PAID",
            status,
            n=i,
            order_no=ORDER_ID,
            channel_txn_id=TXN_ID,
            borrower_id=BORROWER,
            card_no=CARD,
            detail=detail,
            file_name=f"bill_{TIMESTAMP}.csv",
            resolution_action="REFUNDED" if status == "RESOLVED" else None,
            resolution_note=f"called {MOBILE}, refunded to {CARD16}",
            resolved_at=dt.datetime(2026, 11, 3, 2, tzinfo=dt.UTC),
        )
        for i, status in enumerate(statuses)
    ]
    rows.append(exc("BANK_UNEXPLAINED", n=9, ref="BK1", bank_txn_id="BK1", detail=bank))
    data = inputs(
        tmp_path,
        exceptions=rows,
        rejects=[
            {
                "reason": f"bad card {CARD}",
                "raw": raw,
                "source": "bank",
                "line_no": 3,
                "file_name": "ccb.csv",
            },
        ],  # fmt: skip
        files=[
            {
                "source": "bank",
                "file_name": "ccb.csv",
                "status": "ERROR",
                "error": f"line 3: account {ACCOUNT} unknown",
                "checks": "[]",
            }
        ],  # fmt: skip
        distributions=[
            {
                "recipient": "L1",
                "value_date": DAY,
                "detail": f"to {CARD16}",
                "expected_amount": Decimal("1.00"),
                "status": "MATCHED",
            }
        ],  # fmt: skip
    )
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    cells = [(sheet, ref, str(value)) for sheet, ref, value in every_cell(path)]
    secrets = [CARD, CARD16, RESIDENT_ID, MOBILE, ACCOUNT, BORROWER, "张三"]
    leaks = [(s, ref, v) for s, ref, v in cells for secret in secrets if secret in v]
    assert not leaks
    everything = "\n".join(v for _, _, v in cells)
    for kept in [TIMESTAMP, ORDER_ID, TXN_ID, NOT_CARD, f"bill_{TIMESTAMP}.csv"]:
        assert kept in everything, kept
    assert "3100****9012" in everything and "张*" in everything and "U1******89" in everything
    assert "110105********002X" in everything and "138****5678" in everything
