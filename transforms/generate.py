"""Seeded, deterministic demo/test data: a multi-day inbox in every generated format,
a recon.toml for it, and answer_key.csv listing each injected difference.

Amounts are integer fen throughout; only the writers format them as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

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
FEE_PER_MILLE = {WECHAT: 6, ALLINPAY: 3, ALIPAY: 6}

PLATFORM_HEADER = (
    "order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,"
    "channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at"
)
WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
).split(",")
WECHAT_LEGACY_HEADER = (
    "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,总金额,代金券或立减优惠金额,微信退款单号,商户退款单号,退款金额,代金券或立减优惠退款金额,退款类型,"
    "退款状态,商品名称,商户数据包,手续费,费率"
).split(",")
WECHAT_LEGACY_SUMMARY = "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额"
WECHAT_SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
ALLINPAY_HEADER = (
    "通联订单号|订单类型|交易金额(分)|平台抽佣金额(分)|交易时间|商户订单号|原商户订单号|原通联订单号|"
    "支付模式|扩展参数|结算金额(分)|渠道手续费(分)|卡号"
)
BANK_HEADER = (
    "账号,账户名称,交易时间,借方发生额（支取）,贷方发生额（收入）,余额,币种,对方户名,对方账号,对方开户机构,"
    "记账日期,摘要,备注,账户明细编号-交易流水号"
)


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

    @property
    def fee(self) -> int:
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
    start: dt.date
    days: int
    orders: dict[dt.date, list[Order]] = field(default_factory=dict)
    txns: list[Txn] = field(default_factory=list)
    bank: list[BankLine] = field(default_factory=list)
    answers: list[tuple[str, str, str]] = field(default_factory=list)
    noise_refs: list[str] = field(default_factory=list)  # orders that look odd but are fine

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def last(self) -> dt.date:
        return self.dates[-1]


class Generator:
    def __init__(self, start: dt.date, days: int, orders: int, seed: int):
        if days < 3:
            raise ValueError(
                "--days must be at least 3 so injected differences age past their pending window"
            )
        self.rng = random.Random(seed)
        self.world = World(start, days)
        self.per_day = orders
        self.seq = 0

    def next_id(self, prefix: str, day: dt.date, width: int = 8) -> str:
        self.seq += 1
        return f"{prefix}{day:%Y%m%d}{self.seq:0{width}d}"

    def txn_id(self, channel: str, day: dt.date) -> str:
        self.seq += 1
        if channel == WECHAT:
            return f"42000{day:%Y%m%d}{self.seq:015d}"
        if channel == ALIPAY:
            return f"{day:%Y%m%d}22001{self.seq:015d}"
        return f"TL{day:%y%m%d}{self.seq:012d}"

    def moment(self, day: dt.date, lo: int = 8 * 3600, hi: int = 23 * 3600) -> dt.datetime:
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(
            seconds=self.rng.randrange(lo, hi)
        )

    def new_order(
        self,
        day: dt.date,
        channel: str | None = None,
        due: int | None = None,
        split: int | None = None,
    ) -> Order:
        r = self.rng
        channel = channel or r.choice(CHANNELS)
        principal = r.randrange(10000, 300000)
        interest = r.randrange(100, 5000)
        fee = r.randrange(0, 3000)
        penalty = r.choice((0, 0, 0, r.randrange(100, 2000)))
        created = self.moment(day)
        order = Order(
            order_no=self.next_id("PO", day),
            order_type="REPAY",
            orig_order_no="",
            loan_no=f"LN{r.randrange(10**9, 10**10)}",
            installment_no=r.randrange(1, 13),
            borrower_id=f"U{r.randrange(10**8, 10**9)}",
            lender_code=r.choice(LENDERS),
            channel=channel,
            channel_txn_id=self.txn_id(channel, day),
            principal=principal,
            interest=interest,
            fee=fee,
            penalty=penalty,
            installment_due=0,
            status="SUCCESS",
            created_at=created,
            paid_at=created + dt.timedelta(seconds=r.randrange(1, 30)),
        )
        order.installment_due = due if due is not None else order.amount
        return order

    def card(self) -> str:
        return f"622202{self.rng.randrange(10**9, 10**10)}{self.rng.randrange(100, 1000)}"

    def settle(
        self,
        order: Order,
        file_day: dt.date | None = None,
        amount: int | None = None,
        txn_id: str | None = None,
    ) -> Txn:
        txn = Txn(
            channel=order.channel,
            channel_txn_id=txn_id or order.channel_txn_id,
            merchant_order_no=order.order_no,
            txn_type="PAY",
            amount=order.amount if amount is None else amount,
            time=order.paid_at or order.created_at,
            file_day=file_day or order.created_at.date(),
            card_no=self.card(),
        )
        self.world.txns.append(txn)
        return txn

    def answer(self, code: str, ref: str, day: dt.date) -> None:
        self.world.answers.append((code, ref, day.isoformat()))

    # ---- the days -------------------------------------------------------------------------

    def build(self) -> World:
        w = self.world
        anomaly_days = [d for d in w.dates if d <= w.last - dt.timedelta(days=2)]
        for day in w.dates:
            orders = []
            for _ in range(self.per_day):
                o = self.new_order(day)
                if self.rng.random() < 0.03:
                    o.status, o.paid_at = "FAILED", None
                else:
                    self.settle(o)
                orders.append(o)
            w.orders[day] = orders
            self.noise(day)
        for i, day in enumerate(anomaly_days):
            self.layer_a_anomalies(day, variant=i)
        self.bank_statements(anomaly_days)
        return w

    def noise(self, day: dt.date) -> None:
        w, orders = self.world, self.world.orders[day]
        # A payment at 23:59:58 whose channel record is in the next day's file.
        late = self.new_order(day, channel=ALLINPAY)
        late.created_at = dt.datetime.combine(day, dt.time(23, 59, 57))
        late.paid_at = dt.datetime.combine(day, dt.time(23, 59, 58))
        orders.append(late)
        w.noise_refs.append(late.order_no)
        if day < w.last:
            self.settle(late, file_day=day + dt.timedelta(days=1))
        # An installment repaid in two partial orders.
        first = self.new_order(day, channel=WECHAT)
        owed = first.amount
        first.principal -= first.principal // 2
        first.installment_due = owed
        second = self.new_order(day, channel=WECHAT)
        second.loan_no, second.installment_no, second.lender_code = (
            first.loan_no,
            first.installment_no,
            first.lender_code,
        )
        second.borrower_id = first.borrower_id
        second.principal, second.interest, second.fee, second.penalty = owed - first.amount, 0, 0, 0
        second.installment_due = owed - first.amount
        second.created_at = first.paid_at + dt.timedelta(minutes=30)
        second.paid_at = second.created_at + dt.timedelta(seconds=5)
        for o in (first, second):
            orders.append(o)
            self.settle(o)
            w.noise_refs.append(o.order_no)
        # A full refund of a repayment, on both sides (WeChat and Alipay on alternate days).
        channel = (WECHAT, ALIPAY)[(day - w.start).days % 2]
        paid = self.new_order(day, channel=channel)
        orders.append(paid)
        self.settle(paid)
        refund = Order(
            order_no=self.next_id("RF", day),
            order_type="REFUND",
            orig_order_no=paid.order_no,
            loan_no=paid.loan_no,
            installment_no=paid.installment_no,
            borrower_id=paid.borrower_id,
            lender_code=paid.lender_code,
            channel=channel,
            channel_txn_id=self.txn_id(channel, day),
            principal=paid.amount,
            interest=0,
            fee=0,
            penalty=0,
            installment_due=0,
            status="SUCCESS",
            created_at=paid.paid_at + dt.timedelta(minutes=10),
            paid_at=paid.paid_at + dt.timedelta(minutes=11),
        )
        orders.append(refund)
        w.noise_refs.extend([paid.order_no, refund.order_no])
        if channel == ALIPAY:  # Alipay names a refund by the payment's id and the refund request no
            refund.channel_txn_id = f"{paid.channel_txn_id}_{refund.order_no}"
        # WeChat's ALL bill dates a refund row by the original payment's time.
        when = paid.paid_at if channel == WECHAT else refund.paid_at
        w.txns.append(
            Txn(
                channel,
                refund.channel_txn_id,
                refund.order_no,
                "REFUND",
                paid.amount,
                when,
                day,
                orig_txn_id=paid.channel_txn_id,
                orig_order_no=paid.order_no,
            )
        )

    def layer_a_anomalies(self, day: dt.date, variant: int) -> None:
        _w, orders = self.world, self.world.orders[day]
        channel = CHANNELS[variant % len(CHANNELS)]
        # MISSING_ON_PLATFORM: the channel debited an order the platform never recorded.
        ghost = self.new_order(day, channel=channel)
        self.settle(ghost)
        self.answer("MISSING_ON_PLATFORM", ghost.order_no, day)
        # PLATFORM_NOT_PAID: the channel debit succeeded, the platform still says PROCESSING.
        stuck = self.new_order(day, channel=channel)
        self.settle(stuck)
        stuck.status, stuck.paid_at = "PROCESSING", None
        orders.append(stuck)
        self.answer("PLATFORM_NOT_PAID", stuck.order_no, day)
        # MISSING_ON_CHANNEL: the platform credited a repayment the channel never debited.
        phantom = self.new_order(day, channel=channel)
        orders.append(phantom)
        self.answer("MISSING_ON_CHANNEL", phantom.order_no, day)
        # AMOUNT_MISMATCH: matched, but the channel debited another amount.
        odd = self.new_order(day, channel=channel)
        orders.append(odd)
        self.settle(odd, amount=odd.amount - self.rng.randrange(1, 5000))
        self.answer("AMOUNT_MISMATCH", odd.order_no, day)
        # DUPLICATE_DEBIT: one order debited twice by the channel.
        twice = self.new_order(day, channel=channel)
        orders.append(twice)
        self.settle(twice)
        again = self.settle(twice, txn_id=self.txn_id(channel, day))
        again.time += dt.timedelta(minutes=2)
        self.answer("DUPLICATE_DEBIT", twice.order_no, day)
        # DUPLICATE_DEBIT: two orders for one installment, each for the whole amount owed.
        owed = self.new_order(day, channel=channel)
        extra = self.new_order(day, channel=channel)
        extra.loan_no, extra.installment_no, extra.borrower_id = (
            owed.loan_no,
            owed.installment_no,
            owed.borrower_id,
        )
        extra.lender_code = owed.lender_code
        extra.principal, extra.interest, extra.fee, extra.penalty = (
            owed.principal,
            owed.interest,
            owed.fee,
            owed.penalty,
        )
        extra.installment_due = owed.installment_due
        extra.created_at = owed.created_at + dt.timedelta(seconds=3)
        extra.paid_at = owed.paid_at + dt.timedelta(seconds=40)
        for o in (owed, extra):
            orders.append(o)
            self.settle(o)
        self.answer("DUPLICATE_DEBIT", extra.order_no, day)

    # ---- settlement and the bank ---------------------------------------------------------

    def distributions(self, settle_days: set[dt.date]) -> None:
        """清分: on each settle day the collection account pays each lender its share
        (principal + interest + penalty) and the fee account the platform's fee, for the
        repayments whose channel debit settled that day."""
        w = self.world
        by_no = {o.order_no: o for orders in w.orders.values() for o in orders}
        seen: set[str] = set()
        shares: dict[tuple[dt.date, str], int] = {}
        for t in w.txns:
            o = by_no.get(t.merchant_order_no)
            if t.txn_type != "PAY" or o is None or o.status != "SUCCESS" or o.order_no in seen:
                continue
            seen.add(o.order_no)
            day = t.time.date() + dt.timedelta(days=1)
            if day in settle_days:
                lender = (day, o.lender_code)
                shares[lender] = shares.get(lender, 0) + o.principal + o.interest + o.penalty
                shares[(day, "FEE")] = shares.get((day, "FEE"), 0) + o.fee
        collection = (COLLECTION_NAME, COLLECTION_ACCOUNT)
        for (day, who), amount in sorted(shares.items()):
            if amount <= 0:
                continue
            account, name = FEE_ACCOUNT if who == "FEE" else LENDER_ACCOUNTS[who]
            when = self.moment(day, 15 * 3600, 17 * 3600)
            ref = self.next_id("DST", day, 10)
            w.bank.append(BankLine(day, when, -amount, (name, account), "清分划款", ref))
            w.bank.append(BankLine(day, when, amount, collection, "清分入账", ref + "R", account))

    def expected_settlements(self) -> dict[tuple[str, dt.date], int]:
        net: dict[tuple[str, dt.date], int] = {}
        for t in self.world.txns:
            key = (t.channel, t.time.date() + dt.timedelta(days=1))
            signed = t.amount if t.txn_type == "PAY" else -t.amount
            net[key] = net.get(key, 0) + signed - t.fee
        return net

    def bank_statements(self, anomaly_days: list[dt.date]) -> None:
        w = self.world
        net = self.expected_settlements()
        in_range = sorted(k for k in net if w.start <= k[1] <= w.last)
        eligible = [k for k in in_range if k[1] <= w.last - dt.timedelta(days=2)]
        missing = eligible[0] if eligible else None
        short = eligible[-1] if len(eligible) > 1 else None
        for channel, settle_day in in_range:
            ref = f"{channel}:{settle_day.isoformat()}"
            if (channel, settle_day) == missing:
                self.answer("SETTLEMENT_MISSING", ref, settle_day)
                continue
            amount = net[(channel, settle_day)]
            if (channel, settle_day) == short:
                amount -= 1234
                self.answer("SETTLEMENT_MISMATCH", ref, settle_day)
            w.bank.append(
                BankLine(
                    settle_day,
                    self.moment(settle_day, 9 * 3600, 11 * 3600),
                    amount,
                    COUNTERPARTY[channel],
                    "结算款",
                    self.next_id("CCB", settle_day, 10),
                )
            )
        self.distributions({d for _, d in in_range})
        if anomaly_days:
            day = anomaly_days[0]
            line = BankLine(
                day,
                self.moment(day, 14 * 3600, 15 * 3600),
                88800,
                ("某某贸易有限公司", "6228480011223344"),
                "往来款",
                self.next_id("CCB", day, 10),
            )
            w.bank.append(line)
            self.answer("BANK_UNEXPLAINED", line.txn_id, day)


# ---- writers ------------------------------------------------------------------------------


def _ts(t: dt.datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def write_platform(path: Path, orders: list[Order]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(PLATFORM_HEADER + "\n")
        for o in orders:
            f.write(
                ",".join(
                    [
                        o.order_no,
                        o.order_type,
                        o.orig_order_no,
                        o.loan_no,
                        str(o.installment_no),
                        o.borrower_id,
                        o.lender_code,
                        o.channel,
                        o.channel_txn_id if o.status != "FAILED" else "",
                        yuan(o.amount),
                        yuan(o.principal),
                        yuan(o.interest),
                        yuan(o.fee),
                        yuan(o.penalty),
                        yuan(o.installment_due),
                        o.status,
                        _ts(o.created_at),
                        _ts(o.paid_at),
                    ]
                )
                + "\n"
            )


def _e5(fen_e5: int) -> str:
    return ("-" if fen_e5 < 0 else "") + f"{abs(fen_e5) // 100000}.{abs(fen_e5) % 100000:05d}"


def write_wechat(path: Path, txns: list[Txn], legacy: bool = False) -> None:
    """ALL layout, current 27 columns (or the legacy 24): BOM, CRLF, backtick-prefixed
    fields, 5-decimal fees, summary header and values as the last two lines."""
    header = WECHAT_LEGACY_HEADER if legacy else WECHAT_HEADER
    lines = [",".join(header)]
    settle = refund = fees_e5 = 0
    for t in txns:
        fee_e5 = t.fee * 1000  # the bill states fees to 1e-5 yuan; ours are whole fen
        fees_e5 += fee_e5
        is_refund = t.txn_type == "REFUND"
        settle += 0 if is_refund else t.amount
        refund += t.amount if is_refund else 0
        row = {
            "交易时间": _ts(t.time),
            "公众账号ID": "wx2421b1c4370ec43b",
            "商户号": "10000100",
            "特约商户号": "0",
            "子商户号": "0",
            "微信订单号": t.orig_txn_id if is_refund else t.channel_txn_id,
            "商户订单号": t.orig_order_no if is_refund else t.merchant_order_no,
            "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "交易类型": "JSAPI",
            "交易状态": "REFUND" if is_refund else "SUCCESS",
            "付款银行": "CMB_DEBIT",
            "货币种类": "CNY",
            "应结订单金额": "0.00" if is_refund else yuan(t.amount),
            "总金额": "0.00" if is_refund else yuan(t.amount),
            "微信退款单号": t.channel_txn_id if is_refund else "0",
            "商户退款单号": t.merchant_order_no if is_refund else "0",
            "退款金额": yuan(t.amount) if is_refund else "0.00",
            "退款类型": "ORIGINAL" if is_refund else "",
            "退款状态": "SUCCESS" if is_refund else "",
            "商品名称": "贷款还款",
            "手续费": _e5(fee_e5),
            "费率": "0.60%",
            "订单金额": yuan(t.amount),
            "申请退款金额": yuan(t.amount) if is_refund else "0.00",
        }
        lines.append(
            ",".join("`" + row.get(name, "0.00" if "金额" in name else "") for name in header)
        )
    if legacy:
        lines.append(WECHAT_LEGACY_SUMMARY)
        totals = [str(len(txns)), yuan(settle), yuan(refund), "0.00", _e5(fees_e5)]
    else:
        lines.append(WECHAT_SUMMARY)
        order_total = sum(t.amount for t in txns if t.txn_type == "PAY")
        totals = [
            str(len(txns)),
            yuan(settle),
            yuan(refund),
            "0.00",
            _e5(fees_e5),
            yuan(order_total),
            yuan(refund),
        ]
    lines.append(",".join("`" + v for v in totals))
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")


ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)
ALIPAY_ACCOUNT = "20880123456789010156"


def write_alipay(path: Path, day: dt.date, txns: list[Txn]) -> None:
    """Alipay 业务明细 in GBK, zipped with a GBK entry name (no UTF-8 flag), as downloaded."""
    from transforms.zipfiles import write_gbk_zip

    bar = "-" * 41
    lines = [
        "#支付宝业务明细查询",
        f"#账号：[{ALIPAY_ACCOUNT}]",
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + dt.timedelta(days=1):%Y年%m月%d日} 00:00:00]",
        f"#{bar}业务明细列表{bar}",
        ALIPAY_HEADER,
    ]
    totals = {"PAY": [0, 0, 0], "REFUND": [0, 0, 0]}  # count, 商家实收, 服务费 (signed, fen)
    for t in txns:
        refund = t.txn_type == "REFUND"
        signed, service = (-t.amount if refund else t.amount), -t.fee
        total = totals[t.txn_type]
        total[0] += 1
        total[1] += signed
        total[2] += service
        created = t.time - dt.timedelta(seconds=2)
        trade_no = t.orig_txn_id if refund else t.channel_txn_id
        order_no = t.orig_order_no if refund else t.merchant_order_no
        lines.append(
            ",".join(
                [
                    f"{trade_no}\t",
                    f"{order_no}\t",
                    "退款" if refund else "交易",
                    "贷款还款",
                    _ts(created),
                    _ts(t.time),
                    "",
                    "",
                    "",
                    "",
                    "138****0001",
                    yuan(signed),
                    yuan(signed),
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "",
                    "0.00",
                    "0.00",
                    f"{t.merchant_order_no}\t" if refund else "",
                    yuan(service),
                    "0.00",
                    "",
                ]
            )  # fmt: skip
        )
    lines.append(f"#{bar}业务明细列表结束{bar}")
    for label, key in (("交易合计", "PAY"), ("退款合计", "REFUND")):
        n, received, service = totals[key]
        lines.append(
            f"#{label}：{n}笔，商家实收共{yuan(received)}元，商家优惠共0.00元，支付宝优惠共0.00元，"
            f"服务费共{yuan(service)}元，分润共0.00元"
        )
    lines.append(f"#导出时间：[{day + dt.timedelta(days=1):%Y年%m月%d日} 06:10:00]")
    content = ("\r\n".join(lines) + "\r\n").encode("gb18030")
    write_gbk_zip(path, {f"{ALIPAY_ACCOUNT}_{day:%Y%m%d}_业务明细.csv": content})


def write_allinpay(path: Path, txns: list[Txn]) -> None:
    lines = [ALLINPAY_HEADER]
    for t in txns:
        lines.append(
            "|".join(
                [
                    t.channel_txn_id,
                    "代扣" if t.txn_type == "PAY" else "退货",
                    str(t.amount),
                    "0",
                    t.time.strftime("%Y%m%d%H%M%S"),
                    t.merchant_order_no,
                    t.orig_order_no,
                    t.orig_txn_id,
                    "DK",
                    "",
                    str(t.amount - t.fee),
                    str(t.fee),
                    t.card_no[:6] + "******" + t.card_no[-4:],
                ]
            )
        )
    lines.append(f"TRAILER|{len(txns)}|{sum(t.amount for t in txns)}|{sum(t.fee for t in txns)}")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines) + "\n")


def ccb_rows(account: tuple[str, str], day: dt.date, lines: list[BankLine], opening: int):
    """CCB corporate statement rows: title rows, header, one row per line, 合计 footer."""
    rows = [
        ["中国建设银行单位客户账户交易明细"],
        [f"账号:{account[0]}", f"起始日期:{day:%Y%m%d}", f"截止日期:{day:%Y%m%d}"],
        BANK_HEADER.split(","),
    ]
    balance, debits, credits = opening, 0, 0
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        debits += max(-b.amount, 0)
        credits += max(b.amount, 0)
        rows.append(
            [account[0], account[1], b.time.strftime("%Y%m%d %H:%M:%S"),
             yuan_thousands(-b.amount) if b.amount < 0 else "",
             yuan_thousands(b.amount) if b.amount > 0 else "",
             yuan_thousands(balance), "人民币", b.counterparty[0], b.counterparty[1], "",
             f"{day:%Y%m%d}", b.narrative, "", b.txn_id]
        )  # fmt: skip
    rows.append(["合计", "", "", yuan_thousands(debits), yuan_thousands(credits)] + [""] * 9)
    return rows, balance


def write_bank_csv(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """CCB-style corporate export in GBK: title rows, 借方/贷方, thousands separators, 合计 footer."""
    rows, balance = ccb_rows(account, day, lines, opening)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    with open(path, "w", encoding="gb18030", newline="") as f:
        f.write(out.getvalue())
    return balance


def write_bank_xlsx(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """The same CCB corporate layout as an XLSX download (all cells text, as the bank writes them)."""
    import xlsxwriter

    rows, balance = ccb_rows(account, day, lines, opening)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    book.set_properties({"created": dt.datetime(2026, 1, 1)})  # fixed: same seed, same bytes
    sheet = book.add_worksheet("交易明细")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return balance


def _mt940_amount(fen: int) -> str:
    return f"{abs(fen) // 100},{abs(fen) % 100:02d}"


def write_mt940(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """SWIFT MT940, one statement: :60F: opening, one :61:/:86: pair per line, :62F: closing."""
    d = f"{day:%y%m%d}"
    out = [":20:STMT" + f"{day:%Y%m%d}", f":25:{account[0]}", f":28C:{day:%j}/1",
           f":60F:{'C' if opening >= 0 else 'D'}{d}CNY{_mt940_amount(opening)}"]  # fmt: skip
    balance = opening
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        mark = "C" if b.amount > 0 else "D"
        out.append(
            f":61:{d}{day:%m%d}{mark}{_mt940_amount(b.amount)}NTRF{b.txn_id[-16:]}//{b.txn_id}"
        )
        out.append(f":86:{b.narrative} {b.counterparty[0]} {b.counterparty[1]}")
    out.append(f":62F:{'C' if balance >= 0 else 'D'}{d}CNY{_mt940_amount(balance)}")
    out.append("-")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(out) + "\r\n")
    return balance


def write_camt053(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """ISO 20022 camt.053.001.08 with one statement: OPBD and CLBD balances, one Ntry per line."""
    from xml.sax.saxutils import escape

    def bal(code: str, fen: int) -> str:
        ind = "CRDT" if fen >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"CNY\">{yuan(abs(fen))}</Amt>"
                f"<CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")  # fmt: skip

    entries, balance = [], opening
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        ind = "CRDT" if b.amount > 0 else "DBIT"
        party = "Dbtr" if b.amount > 0 else "Cdtr"
        entries.append(
            f'<Ntry><Amt Ccy="CNY">{yuan(abs(b.amount))}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>{b.time.isoformat()}+08:00</DtTm></BookgDt>"
            f"<ValDt><Dt>{day.isoformat()}</Dt></ValDt><AcctSvcrRef>{b.txn_id}</AcctSvcrRef>"
            f"<BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><RltdPties>"
            f"<{party}><Pty><Nm>{escape(b.counterparty[0])}</Nm></Pty></{party}>"
            f"<{party}Acct><Id><Othr><Id>{b.counterparty[1]}</Id></Othr></Id></{party}Acct>"
            f"</RltdPties></TxDtls></NtryDtls><AddtlNtryInf>{escape(b.narrative)}</AddtlNtryInf></Ntry>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>CAMT{day:%Y%m%d}</MsgId><CreDtTm>{day.isoformat()}T23:59:59+08:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>STMT{day:%Y%m%d}</Id><CreDtTm>{day.isoformat()}T23:59:59+08:00</CreDtTm>"
        f"<Acct><Id><Othr><Id>{account[0]}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
        + bal("OPBD", opening)
        + bal("CLBD", balance)
        + "\n".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    )
    path.write_text(xml, encoding="utf-8")
    return balance


def config_text() -> str:
    return f"""# Generated by `recon generate`. Paths are relative to this file.
inbox = "inbox"
data_dir = "data"
timezone = "Asia/Shanghai"

[[sources]]
name = "platform"
role = "platform"
format = "platform_export"
glob = "platform_orders_*.csv"
pending_days = 1

[[sources]]
name = "wechatpay"
role = "channel"
format = "wechatpay_bill"
glob = "wechatpay_*.csv"
channel = "{WECHAT}"
pending_days = 1
settle_lag_days = 1
settle_window_days = 2
bank_counterparty = ["{COUNTERPARTY[WECHAT][0]}", "{COUNTERPARTY[WECHAT][1]}"]

[[sources]]
name = "alipay"
role = "channel"
format = "alipay_bill"
glob = "alipay_*.csv.zip"
channel = "{ALIPAY}"
pending_days = 1
settle_lag_days = 1
settle_window_days = 2
bank_counterparty = ["{COUNTERPARTY[ALIPAY][0]}", "{COUNTERPARTY[ALIPAY][1]}"]

[[sources]]
name = "allinpay"
role = "channel"
format = "withholding"
glob = "allinpay_*.txt"
channel = "{ALLINPAY}"
pending_days = 1
settle_lag_days = 1
settle_window_days = 2
bank_counterparty = ["{COUNTERPARTY[ALLINPAY][0]}", "{COUNTERPARTY[ALLINPAY][1]}"]

[[sources]]
name = "collection_bank"
role = "bank"
format = "cn_bank"
glob = "ccb_collection_*.csv"
account_no = "{COLLECTION_ACCOUNT}"
pending_days = 1

[[sources]]
name = "lender_a_account"
role = "bank"
format = "mt940"
glob = "lender_a_*.sta"
account_role = "lender"
lender_code = "LENDER_A"

[[sources]]
name = "lender_b_account"
role = "bank"
format = "camt053"
glob = "lender_b_*.xml"
account_role = "lender"
lender_code = "LENDER_B"

[[sources]]
name = "fee_account"
role = "bank"
format = "cn_bank"
glob = "fee_account_*.xlsx"
account_role = "fee"
account_no = "{FEE_ACCOUNT[0]}"
"""


def generate(out: Path, start: dt.date, days: int, orders: int, seed: int) -> Path:
    """Write out/inbox, out/recon.toml and out/answer_key.csv. Returns the config path."""
    out = Path(out)
    world = Generator(start, days, orders, seed).build()
    inbox = out / "inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    statements = [  # (file name prefix, writer, account, suffix)
        ("ccb_collection", write_bank_csv, (COLLECTION_ACCOUNT, COLLECTION_NAME), "csv"),
        ("lender_a", write_mt940, LENDER_ACCOUNTS["LENDER_A"], "sta"),
        ("lender_b", write_camt053, LENDER_ACCOUNTS["LENDER_B"], "xml"),
        ("fee_account", write_bank_xlsx, FEE_ACCOUNT, "xlsx"),
    ]
    balances = {prefix: 5_000_000_00 for prefix, *_ in statements}
    for day in world.dates:
        folder = inbox / day.isoformat()
        folder.mkdir(parents=True)
        stamp = f"{day:%Y%m%d}"
        write_platform(folder / f"platform_orders_{stamp}.csv", world.orders[day])
        listed = [t for t in world.txns if t.file_day == day]
        # Every third day the channel still sends its legacy 24-column layout.
        legacy = (day - world.start).days % 3 == 1
        write_wechat(
            folder / f"wechatpay_All_{stamp}.csv",
            [t for t in listed if t.channel == WECHAT],
            legacy,
        )
        write_alipay(
            folder / f"alipay_{stamp}.csv.zip", day, [t for t in listed if t.channel == ALIPAY]
        )
        write_allinpay(
            folder / f"allinpay_{stamp}.txt", [t for t in listed if t.channel == ALLINPAY]
        )
        for prefix, writer, account, suffix in statements:
            lines = [b for b in world.bank if b.day == day and b.account == account[0]]
            path = folder / f"{prefix}_{stamp}.{suffix}"
            balances[prefix] = writer(path, account, day, lines, balances[prefix])
        if day > world.start:
            # The channel re-sends yesterday's file unchanged: it must count once.
            prev = (
                inbox
                / (day - dt.timedelta(days=1)).isoformat()
                / f"allinpay_{day - dt.timedelta(days=1):%Y%m%d}.txt"
            )
            shutil.copyfile(
                prev, folder / f"allinpay_{day - dt.timedelta(days=1):%Y%m%d}_resend.txt"
            )
    config = out / "recon.toml"
    config.write_text(config_text(), encoding="utf-8")
    with open(out / "answer_key.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["exception_type", "ref", "biz_date"])
        w.writerows(sorted(world.answers))
    return config
