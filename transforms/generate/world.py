"""The generated world, one day at a time.

Each day has `orders` platform orders drawn in bulk as numpy columns (a chunk of at most
`CHUNK_ORDERS` rows at a time, each chunk from its own seeded stream), plus a few dozen
hand-made rows as Python objects: noise that looks odd but is fine, and the injected
differences listed in the answer key. Every id is a per-day sequence number behind the date
(`PO20261101000000042`), so ids never collide at any scale. A day's bank statements need only
the day before's totals, so nothing but those totals outlives a day.

`Generator.run(sink)` hands each day's rows to a sink: `generate()` streams them into files,
`Generator.build()` collects them as objects (`World`) for tests.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.generate.columns import OrderCols, TxnCols, channel_txns, int_text, join
from transforms.generate.model import (
    ALIPAY,
    ALLINPAY,
    CHANNELS,
    COLLECTION_ACCOUNT,
    COLLECTION_NAME,
    COUNTERPARTY,
    FEE_ACCOUNT,
    LENDER_ACCOUNTS,
    LENDERS,
    WECHAT,
    BankLine,
    Order,
    Txn,
    World,
    seconds,
)

CHUNK_ORDERS = 1_000_000  # part of the seed: changing it changes the generated data
FAILED_SHARE = 0.03


class Sink(Protocol):
    def begin_day(self, day: dt.date, legacy: bool, orders: int) -> None: ...
    def orders(self, day: dt.date, cols: OrderCols) -> None: ...
    def txns(self, day: dt.date, cols: TxnCols) -> None: ...  # listed in that day's files
    def bank(self, day: dt.date, lines: list[BankLine]) -> None: ...
    def end_day(self, day: dt.date) -> None: ...


class ObjectSink:
    """Collects everything as objects (small sizes only)."""

    def __init__(self, world: World):
        self.world = world

    def begin_day(self, day: dt.date, legacy: bool, orders: int) -> None:
        self.world.orders[day] = []

    def orders(self, day: dt.date, cols: OrderCols) -> None:
        self.world.orders[day].extend(cols.to_orders())

    def txns(self, day: dt.date, cols: TxnCols) -> None:
        self.world.txns.extend(cols.to_txns(day))

    def bank(self, day: dt.date, lines: list[BankLine]) -> None:
        self.world.bank.extend(lines)

    def end_day(self, day: dt.date) -> None:
        pass


class Generator:
    def __init__(self, start: dt.date, days: int, orders: int, seed: int):
        if days < 3:
            raise ValueError(
                "--days must be at least 3 so injected differences age past their pending window"
            )
        if orders < 0:
            raise ValueError("--orders must not be negative")
        self.world = World(start, days)
        self.per_day = orders
        self.seed = seed
        # Settlement differences go on the first and the last settle date old enough to age past
        # the settle window; those channels have debits every day (the noise below).
        self.last_anomaly = self.world.last - dt.timedelta(days=2)
        first_settle = start + dt.timedelta(days=1)
        aged = first_settle <= self.last_anomaly
        self.missing = (ALLINPAY, first_settle) if aged else None
        self.short = (WECHAT, self.last_anomaly) if aged else None

    def build(self) -> World:
        """The whole world as objects (tests; small sizes)."""
        self.run(ObjectSink(self.world))
        return self.world

    # ---- the days -------------------------------------------------------------------------

    def run(self, sink: Sink) -> None:
        w = self.world
        net: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        shares: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        carried: list[Txn] = []  # hand-made debits listed in a later day's file
        for i, day in enumerate(w.dates):
            # Every third day the channel still sends its legacy 24-column layout.
            sink.begin_day(day, legacy=i % 3 == 1, orders=self.per_day)
            settle = day + dt.timedelta(days=1)  # every debit of the day is dated the day
            for orders, card4 in self.bulk(i, day):
                sink.orders(day, orders)
                ok = orders.status == 0
                for channel in CHANNELS:
                    txns = channel_txns(orders, channel, card4)
                    sink.txns(day, txns)
                    net[settle][channel] += int(txns.amount.sum() - txns.fee.sum())
                for code, lender in enumerate(LENDERS):
                    mine = ok & (orders.lender == code)
                    shares[settle][lender] += int(
                        (orders.principal + orders.interest + orders.penalty)[mine].sum()
                    )
                shares[settle]["FEE"] += int(orders.fee[ok].sum())
            hand = HandMade(self, i, day, first_seq=self.per_day)
            hand.noise()
            if day <= self.last_anomaly:
                hand.layer_a_anomalies(variant=i)
            sink.orders(day, OrderCols.from_orders(hand.orders))
            listed = carried + [t for t in hand.txns if t.file_day == day]
            carried = [t for t in hand.txns if t.file_day > day]
            for channel in CHANNELS:
                mine = [t for t in listed if t.channel == channel]
                sink.txns(day, TxnCols.from_txns(channel, mine))
            hand.add_totals(net, shares)
            sink.bank(day, hand.bank_lines(net.pop(day, {}), shares.pop(day, {})))
            sink.end_day(day)

    def bulk(self, index: int, day: dt.date) -> Iterator[tuple[OrderCols, np.ndarray]]:
        """The day's ordinary orders, chunk by chunk, with the last four digits of each card."""
        midnight = seconds(dt.datetime.combine(day, dt.time()))
        stamp = f"{day:%Y%m%d}"
        prefixes = pa.array(
            [
                f"42000{stamp}"
                if c == WECHAT
                else f"TL{day:%y%m%d}"
                if c == ALLINPAY
                else f"{stamp}22001"
                for c in CHANNELS
            ]  # fmt: skip
        )
        for chunk, lo in enumerate(range(0, self.per_day, CHUNK_ORDERS)):
            n = min(CHUNK_ORDERS, self.per_day - lo)
            rng = np.random.default_rng([self.seed & 0xFFFFFFFFFFFFFFFF, index, chunk])
            channel = rng.integers(0, len(CHANNELS), n, dtype=np.int8)
            principal = rng.integers(10000, 300000, n)
            interest = rng.integers(100, 5000, n)
            fee = rng.integers(0, 3000, n)
            penalty = np.where(rng.random(n) < 0.25, rng.integers(100, 2000, n), 0)
            installment = rng.integers(1, 13, n)
            borrower = rng.integers(10**8, 10**9, n)
            lender = rng.integers(0, len(LENDERS), n, dtype=np.int8)
            created = midnight + rng.integers(8 * 3600, 23 * 3600, n)
            paid = created + rng.integers(1, 30, n)
            failed = rng.random(n) < FAILED_SHARE
            card4 = rng.integers(0, 10000, n)
            seq = np.arange(lo + 1, lo + n + 1)  # from 1: an id of all zeros looks Excel-mangled
            seq9, seq15 = int_text(seq, 9), int_text(seq, 15)
            allinpay = channel == CHANNELS.index(ALLINPAY)
            txn_seq = (
                pc.if_else(pa.array(allinpay), int_text(seq, 12), seq15)
                if allinpay.any()
                else seq15
            )
            amount = principal + interest + fee + penalty
            yield (
                OrderCols(
                    order_no=join(f"PO{stamp}", seq9),
                    order_type="REPAY",
                    orig_order_no="",
                    loan_no=join(f"LN{stamp}", seq9),
                    installment_no=installment,
                    borrower_id=join("U", int_text(borrower)),
                    lender=lender,
                    channel=channel,
                    channel_txn_id=join(pc.take(prefixes, pa.array(channel)), txn_seq),
                    principal=principal,
                    interest=interest,
                    fee=fee,
                    penalty=penalty,
                    installment_due=amount,
                    status=failed.astype(np.int8),  # 0 SUCCESS, 1 FAILED
                    created=created,
                    paid=np.where(failed, -1, paid),
                ),
                card4,
            )


class HandMade:
    """The day's hand-made rows: noise, injected differences, and the bank statements."""

    def __init__(self, gen: Generator, index: int, day: dt.date, first_seq: int):
        self.gen, self.world, self.index, self.day = gen, gen.world, index, day
        self.rng = random.Random(f"recon-generate/{gen.seed}/{index}")
        self.seq = first_seq  # bulk rows use 1 .. first_seq
        self.orders: list[Order] = []
        self.txns: list[Txn] = []

    def next_id(self, prefix: str, width: int = 9) -> str:
        self.seq += 1
        return f"{prefix}{self.day:%Y%m%d}{self.seq:0{width}d}"

    def txn_id(self, channel: str) -> str:
        self.seq += 1
        day = self.day
        if channel == WECHAT:
            return f"42000{day:%Y%m%d}{self.seq:015d}"
        if channel == ALIPAY:
            return f"{day:%Y%m%d}22001{self.seq:015d}"
        return f"TL{day:%y%m%d}{self.seq:012d}"

    def moment(self, lo: int = 8 * 3600, hi: int = 23 * 3600) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time()) + dt.timedelta(
            seconds=self.rng.randrange(lo, hi)
        )

    def answer(self, code: str, ref: str, day: dt.date) -> None:
        self.world.answers.append((code, ref, day.isoformat()))

    def new_order(self, channel: str | None = None) -> Order:
        r = self.rng
        channel = channel or r.choice(CHANNELS)
        created = self.moment()
        order = Order(
            order_no=self.next_id("PO"),
            order_type="REPAY",
            orig_order_no="",
            loan_no=self.next_id("LN"),
            installment_no=r.randrange(1, 13),
            borrower_id=f"U{r.randrange(10**8, 10**9)}",
            lender_code=r.choice(LENDERS),
            channel=channel,
            channel_txn_id=self.txn_id(channel),
            principal=r.randrange(10000, 300000),
            interest=r.randrange(100, 5000),
            fee=r.randrange(0, 3000),
            penalty=r.choice((0, 0, 0, r.randrange(100, 2000))),
            installment_due=0,
            status="SUCCESS",
            created_at=created,
            paid_at=created + dt.timedelta(seconds=r.randrange(1, 30)),
        )
        order.installment_due = order.amount
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
        self.txns.append(txn)
        return txn

    def noise(self) -> None:
        w, day, orders = self.world, self.day, self.orders
        # A payment at 23:59:58 whose channel record is in the next day's file.
        late = self.new_order(channel=ALLINPAY)
        late.created_at = dt.datetime.combine(day, dt.time(23, 59, 57))
        late.paid_at = dt.datetime.combine(day, dt.time(23, 59, 58))
        orders.append(late)
        w.noise_refs.append(late.order_no)
        if day < w.last:
            self.settle(late, file_day=day + dt.timedelta(days=1))
        # An installment repaid in two partial orders.
        first = self.new_order(channel=WECHAT)
        owed = first.amount
        first.principal -= first.principal // 2
        first.installment_due = owed
        second = self.new_order(channel=WECHAT)
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
        channel = (WECHAT, ALIPAY)[self.index % 2]
        paid = self.new_order(channel=channel)
        orders.append(paid)
        self.settle(paid)
        refund = Order(
            order_no=self.next_id("RF"),
            order_type="REFUND",
            orig_order_no=paid.order_no,
            loan_no=paid.loan_no,
            installment_no=paid.installment_no,
            borrower_id=paid.borrower_id,
            lender_code=paid.lender_code,
            channel=channel,
            channel_txn_id=self.txn_id(channel),
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
        self.txns.append(
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

    def layer_a_anomalies(self, variant: int) -> None:
        day, orders = self.day, self.orders
        channel = CHANNELS[variant % len(CHANNELS)]
        # MISSING_ON_PLATFORM: the channel debited an order the platform never recorded.
        ghost = self.new_order(channel=channel)
        self.settle(ghost)
        self.answer("MISSING_ON_PLATFORM", ghost.order_no, day)
        # PLATFORM_NOT_PAID: the channel debit succeeded, the platform still says PROCESSING.
        stuck = self.new_order(channel=channel)
        self.settle(stuck)
        stuck.status, stuck.paid_at = "PROCESSING", None
        orders.append(stuck)
        self.answer("PLATFORM_NOT_PAID", stuck.order_no, day)
        # MISSING_ON_CHANNEL: the platform credited a repayment the channel never debited.
        phantom = self.new_order(channel=channel)
        orders.append(phantom)
        self.answer("MISSING_ON_CHANNEL", phantom.order_no, day)
        # AMOUNT_MISMATCH: matched, but the channel debited another amount.
        odd = self.new_order(channel=channel)
        orders.append(odd)
        self.settle(odd, amount=odd.amount - self.rng.randrange(1, 5000))
        self.answer("AMOUNT_MISMATCH", odd.order_no, day)
        # DUPLICATE_DEBIT: one order debited twice by the channel.
        twice = self.new_order(channel=channel)
        orders.append(twice)
        self.settle(twice)
        again = self.settle(twice, txn_id=self.txn_id(channel))
        again.time += dt.timedelta(minutes=2)
        self.answer("DUPLICATE_DEBIT", twice.order_no, day)
        # DUPLICATE_DEBIT: two orders for one installment, each for the whole amount owed.
        owed = self.new_order(channel=channel)
        extra = self.new_order(channel=channel)
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

    def add_totals(self, net: dict, shares: dict) -> None:
        """Add the hand-made rows to the expected net settlement per (settle day, channel) and to
        清分 (each lender's principal + interest + penalty, the platform's fee) per settle day,
        counting each successful platform order once, on its first debit."""
        for t in self.txns:
            settle = t.time.date() + dt.timedelta(days=1)
            signed = t.amount if t.txn_type == "PAY" else -t.amount
            net[settle][t.channel] += signed - t.fee
        first_debit: dict[str, Txn] = {}
        for t in self.txns:
            if t.txn_type == "PAY":
                first_debit.setdefault(t.merchant_order_no, t)
        for o in self.orders:
            t = first_debit.get(o.order_no)
            if o.status != "SUCCESS" or t is None:
                continue
            settle = t.time.date() + dt.timedelta(days=1)
            shares[settle][o.lender_code] += o.principal + o.interest + o.penalty
            shares[settle]["FEE"] += o.fee

    def bank_lines(self, net: dict[str, int], shares: dict[str, int]) -> list[BankLine]:
        """The day's bank lines: each channel's settlement of the day before's debits (one missing,
        one short), 清分 to the lender and fee accounts, and one unexplained credit."""
        day, lines = self.day, []
        for channel in sorted(net):
            ref = f"{channel}:{day.isoformat()}"
            if (channel, day) == self.gen.missing:
                self.answer("SETTLEMENT_MISSING", ref, day)
                continue
            amount = net[channel]
            if (channel, day) == self.gen.short:
                amount -= 1234
                self.answer("SETTLEMENT_MISMATCH", ref, day)
            lines.append(
                BankLine(
                    day,
                    self.moment(9 * 3600, 11 * 3600),
                    amount,
                    COUNTERPARTY[channel],
                    "结算款",
                    self.next_id("CCB", 10),
                )  # fmt: skip
            )
        collection = (COLLECTION_NAME, COLLECTION_ACCOUNT)
        for who in sorted(shares) if net else ():
            amount = shares[who]
            if amount <= 0:
                continue
            account, name = FEE_ACCOUNT if who == "FEE" else LENDER_ACCOUNTS[who]
            when = self.moment(15 * 3600, 17 * 3600)
            ref = self.next_id("DST", 10)
            lines.append(BankLine(day, when, -amount, (name, account), "清分划款", ref))
            lines.append(BankLine(day, when, amount, collection, "清分入账", ref + "R", account))
        if self.index == 0:
            line = BankLine(day, self.moment(14 * 3600, 15 * 3600), 88800,
                            ("某某贸易有限公司", "6228480011223344"), "往来款",
                            self.next_id("CCB", 10))  # fmt: skip
            lines.append(line)
            self.answer("BANK_UNEXPLAINED", line.txn_id, day)
        return lines
