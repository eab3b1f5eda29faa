"""What the generator produces: constants of the generated world, money text, and the row objects
(`Order`, `Txn`, `BankLine`, `World`) used for the few hand-made rows and by tests.

Amounts are integer fen throughout; only the writers format them as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WECHAT, ALLINPAY, ALIPAY = "WECHAT", "ALLINPAY", "ALIPAY"
CHANNELS = (WECHAT, ALLINPAY, ALIPAY)
COUNTERPARTY = {
    ALIPAY: ("支付宝（中国）网络技术有限公司", "1001210109001068999"),
    WECHAT: ("财付通支付科技有限公司", "110060477010101"),
    ALLINPAY: ("通联支付网络服务股份有限公司", "310066865018010"),
}
COLLECTION_ACCOUNT = "44050110020200000888"
COLLECTION_NAME = "某某科技有限公司还款归集户"
LENDER_ACCOUNTS = {
    "LENDER_A": ("6217000010001234567", "甲银行股份有限公司"),
    "LENDER_B": ("310000000000088880001", "乙消费金融有限公司"),
}
FEE_ACCOUNT = ("11050162640000000321", "某某科技有限公司服务费户")
LENDERS = ("LENDER_A", "LENDER_B")
FEE = "FEE"  # the platform's share (fee) in 清分, paid to FEE_ACCOUNT
RECIPIENTS = (*LENDERS, FEE)
FEE_PER_MILLE = {WECHAT: 6, ALLINPAY: 3, ALIPAY: 6}
STATUSES = ("SUCCESS", "FAILED", "PROCESSING")
LENDER_B_SOURCE = "lender_b_account"  # the config's source name of the lender_b_* statements


def platform_file(day: dt.date) -> str:
    return f"platform_orders_{day:%Y%m%d}.csv"


def amend_file(day: dt.date) -> str:
    """A re-delivery of `day`'s platform orders (in a later day's folder)."""
    return f"platform_orders_{day:%Y%m%d}_amend.csv"


def allinpay_file(day: dt.date) -> str:
    return f"allinpay_{day:%Y%m%d}.txt"


EPOCH = dt.datetime(1970, 1, 1)  # times are naive local wall clock; held as seconds since EPOCH


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_thousands(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def fee_fen(channel: str, amount_fen: int) -> int:
    """Per-transaction fee, rounded half-up to the fen (what the channel deducts)."""
    return (amount_fen * FEE_PER_MILLE[channel] * 2 + 1000) // 2000


def seconds(t: dt.datetime | None) -> int:
    """Seconds since EPOCH of a naive local time; -1 for none."""
    return -1 if t is None else int((t - EPOCH).total_seconds())


def moment_of(s: int) -> dt.datetime | None:
    return None if s < 0 else EPOCH + dt.timedelta(seconds=int(s))


@dataclass
class Order:
    order_no: str
    order_type: str
    orig_order_no: str
    loan_no: str
    installment_no: int
    borrower_id: str
    lender_code: str
    channel: str
    channel_txn_id: str
    principal: int
    interest: int
    fee: int
    penalty: int
    installment_due: int
    status: str
    created_at: dt.datetime
    paid_at: dt.datetime | None

    @property
    def amount(self) -> int:
        return self.principal + self.interest + self.fee + self.penalty


@dataclass
class Txn:
    channel: str
    channel_txn_id: str
    merchant_order_no: str
    txn_type: str  # PAY | REFUND
    amount: int
    time: dt.datetime
    file_day: dt.date  # the inbox day whose channel file lists it
    orig_txn_id: str = ""
    orig_order_no: str = ""
    card_no: str = ""
    status: str = "SUCCESS"  # or FAILED (a failed debit: no fee, not settled)

    @property
    def fee(self) -> int:
        if self.status != "SUCCESS":
            return 0
        f = fee_fen(self.channel, self.amount)
        return -f if self.txn_type == "REFUND" else f


@dataclass
class BankLine:
    day: dt.date
    time: dt.datetime
    amount: int  # signed: positive = money in (贷方), negative = money out (借方)
    counterparty: tuple[str, str]
    narrative: str
    txn_id: str
    account: str = COLLECTION_ACCOUNT


@dataclass
class World:
    """Everything generated, as objects (`Generator.build()`; small sizes, for tests)."""

    start: dt.date
    days: int
    orders: dict[dt.date, list[Order]] = field(default_factory=dict)
    txns: list[Txn] = field(default_factory=list)
    bank: list[BankLine] = field(default_factory=list)
    answers: list[tuple[str, str, str]] = field(default_factory=list)
    noise_refs: list[str] = field(default_factory=list)  # refs that look odd but are fine
    # The irregular deliveries (`Extras`), per inbox day:
    bad_lines: dict[dt.date, list[str]] = field(default_factory=dict)  # end of platform export
    amendments: list[tuple[dt.date, dt.date, list[Order]]] = field(default_factory=list)
    unlisted: list[Txn] = field(default_factory=list)  # in a trailer's totals, not in the file
    undelivered: list[tuple[str, dt.date]] = field(default_factory=list)  # (file prefix, day)

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def last(self) -> dt.date:
        return self.dates[-1]
