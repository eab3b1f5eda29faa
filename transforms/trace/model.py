"""What a trace returns: hops with a status, grouped per repayment, and their labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from transforms.errors import ReconError, UsageError

DONE, PENDING, MISSING, DIFFERS = "done", "pending", "missing", "differs"
NA = "n/a"  # nothing to follow on this hop (e.g. an order that failed moves no money)
UNAVAILABLE = "not available"  # the table or column this hop needs is not published

STATUS_LABEL = {
    DONE: "done 完成",
    PENDING: "pending 在途",
    MISSING: "missing 缺失",
    DIFFERS: "differs 不符",
    NA: "n/a 不适用",
    UNAVAILABLE: "not available 暂无数据",
}
HOP_LABEL = {
    "order": "platform order 平台订单",
    "refund": "refund 退款",
    "channel_debit": "channel debit 渠道扣款",
    "installment_debit": "same installment 同期扣款",
    "settlement": "settlement 渠道结算",
    "bank_credit": "bank credit 银行入账",
    "distribution": "distribution 清分",
}
FEE = "FEE"  # the 清分 recipient of the platform's fee share


class KeyNotFound(UsageError):
    """The key names no order, channel transaction or borrower in the published lake."""


class NothingPublished(UsageError):
    """The data_dir has no published report date yet."""


class DateNotPublished(UsageError):
    """The report date asked for is not (or not yet) published."""


class LakeBusy(ReconError):
    """The dates a lookup read were re-published under it again and again: try again."""


@dataclass
class Hop:
    kind: str  # a key of HOP_LABEL
    status: str
    date: dt.date | None = None
    amount: Decimal | None = None
    ref: str | None = None
    detail: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # {source, file_name, line_no, inbox_date}
    exceptions: list[str] = field(default_factory=list)
    label: str = ""
    ids: set[str] = field(default_factory=set, repr=False)  # keys exceptions are matched on
    row: dict | None = field(
        default=None, repr=False
    )  # its platform, channel, settlements or 清分 row

    def __post_init__(self):
        self.label = self.label or HOP_LABEL[self.kind]


@dataclass
class OrderTrace:
    order_no: str | None
    found_in: str
    facts: dict[str, str | None]
    hops: list[Hop]
    exceptions: list[dict]
    where: str  # one line: where the borrower's money is
    window: tuple[dt.date, dt.date] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TraceResult:
    key: str
    kind: str  # order_no | channel_txn_id | borrower_id
    report_date: dt.date
    traces: list[OrderTrace]
    lookup: dict[str, object]


@dataclass
class Anchor:
    """Where the lookup found the key: the order to trace and the rows already read."""

    order_no: str | None  # the platform order (merchant order no.) the trace is about
    found_in: str
    txn_id: str | None = None  # the channel transaction the key named
    keys_row: dict | None = None  # its order_keys delta row, when it left play
    txn_row: dict | None = None  # the channel transaction row or txn_keys row the key named
    seen: dict | None = None  # a platform row already read (borrower lookup)
    notes: list[str] = field(default_factory=list)


def money(value) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"
