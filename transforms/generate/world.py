"""The generated world, one day at a time.

Each day has `orders` platform orders drawn in bulk as numpy columns (a chunk of at most
`CHUNK_ORDERS` rows at a time, each chunk from its own seeded stream), plus a few dozen
hand-made rows as Python objects: noise that looks odd but is fine, and the injected
differences listed in the answer key. Every id is a per-day sequence number behind the date
(`PO20261101000000042`), so ids never collide at any scale. A day's bank statements need only
the totals of the settlement items still unpaid, so little but those totals outlives a day.

Where each injected difference and each piece of noise goes is fixed in `Generator.__init__`
by day offset: a run of 7 days or more holds every exception code of SPEC §6, each dated no
later than the last day but two so it ages past its pending window (the missing file is the
last day's); shorter runs skip what does not fit.

Settlement and 清分 are generated as the matching expects them:

- A channel settles, per settle date (the trade date + 1), the net of its successful
  transactions (payments - refunds - fees): one credit on the settle date, except the injected
  missing and short credits, a holiday batch (three settle dates paid by one credit on the
  third) and a split settlement (one settle date paid by two credits).
- 清分 shares are per (channel, settle date, recipient): a successful repayment matched to the
  channel's first successful debit of it gives principal + interest + penalty to its lender
  and fee to FEE; a successful refund matched to a channel refund takes its own split back.
  A settlement item's shares are paid out on the value date of its credit (the last credit of
  its group), lag 0, one debit per recipient a day; an item never credited is never paid out.

`Generator.run(sink)` hands each day's rows to a sink: `generate()` streams them into files,
`Generator.build()` collects them as objects (`World`) for tests.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    FEE,
    FEE_ACCOUNT,
    LENDER_ACCOUNTS,
    LENDER_B_SOURCE,
    LENDERS,
    WECHAT,
    BankLine,
    Order,
    Txn,
    World,
    allinpay_file,
    platform_file,
    seconds,
)

CHUNK_ORDERS = 1_000_000  # part of the seed: changing it changes the generated data
FAILED_SHARE = 0.03
SHORT_SETTLEMENT = 1234  # fen missing from the short settlement credit
DAY = dt.timedelta(days=1)


@dataclass
class Extras:
    """A day's irregular deliveries."""

    bad_lines: list[str] = field(default_factory=list)  # appended to the day's platform export
    amend: tuple[dt.date, OrderCols] | None = None  # an earlier day's orders, delivered again
    unlisted: list[Txn] = field(default_factory=list)  # Allinpay debits its trailer counts
    undelivered: list[str] = field(default_factory=list)  # statement file prefixes not delivered


class Sink(Protocol):
    def begin_day(self, day: dt.date, legacy: bool, orders: int) -> None: ...
    def orders(self, day: dt.date, cols: OrderCols) -> None: ...
    def txns(self, day: dt.date, cols: TxnCols) -> None: ...  # listed in that day's files
    def extras(self, day: dt.date, extras: Extras) -> None: ...  # after orders and txns
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

    def extras(self, day: dt.date, extras: Extras) -> None:
        w = self.world
        if extras.bad_lines:
            w.bad_lines[day] = list(extras.bad_lines)
        if extras.amend is not None:
            of_day, cols = extras.amend
            w.amendments.append((day, of_day, cols.to_orders()))
        w.unlisted.extend(extras.unlisted)
        w.undelivered.extend((prefix, day) for prefix in extras.undelivered)

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
        self.last_anomaly = self.world.last - 2 * DAY
        last = days - 1  # day offsets from start
        aged = last - 2  # the last day whose differences age past their pending window

        def on(offset: int) -> dt.date:
            return start + offset * DAY

        # Settlement differences go on the first and the last settle date old enough to age past
        # the settle window; those channels have debits every day (the noise below).
        fits = aged >= 1
        self.missing = (ALLINPAY, on(1)) if fits else None
        self.short = (WECHAT, on(aged)) if fits else None
        # LENDER_A's 清分 of one value date is one fen short.
        self.short_share = ("LENDER_A", on(aged)) if fits else None
        # The first day's Allinpay file lacks a debit its trailer counts. Its settlement item
        # (settle date start + 1) is the missing one: no settlement or 清分 difference besides.
        self.cut_file = on(0) if self.missing else None
        self.unexplained_debit = on(min(1, aged))
        self.refund_alone = on(min(1, aged))  # a platform refund the channel never made
        self.failed = on(min(2, aged))  # a debit the channel failed
        self.conflict = on(min(2, aged))  # three of its orders are delivered again the next day
        self.bad_row = on(min(3, aged))  # an unreadable line in the platform export
        self.over_refund = on(min(3, aged - 1)) if fits else None  # refunded past the amount
        self.missing_file = ("lender_b", self.world.last)
        # Noise. A holiday batch on a channel with no settlement difference; a split credit.
        self.holiday = (ALIPAY, (on(2), on(3), on(4))) if last >= 4 else None
        self.split = (ALLINPAY, on(min(3, last)))
        self.late_fee = on(1)  # FEE 清分 of this value date is paid the next day
        self.partial_refunds = on(max(0, min(5, aged - 1)))  # refunded in part, twice
        self.early_refund = on(max(0, min(4, aged - 2)))  # refunded two days later
        # Carried from day to day by bank_lines():
        self.held: list[tuple[int, dict[str, int]]] = []  # the holiday batch's items until paid
        self.due: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.overdue: dict[dt.date, list[tuple[str, int]]] = defaultdict(list)

    def build(self) -> World:
        """The whole world as objects (tests; small sizes)."""
        self.run(ObjectSink(self.world))
        return self.world

    # ---- the days -------------------------------------------------------------------------

    def run(self, sink: Sink) -> None:
        w = self.world
        # Per settle date: each channel's expected net, and its 清分 shares per recipient.
        net: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        shares: dict[dt.date, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        later_orders: list[Order] = []  # hand-made orders of a later day (made with their original)
        later_txns: list[Txn] = []  # hand-made transactions listed in a later day's file
        amend: tuple[dt.date, OrderCols] | None = None
        for i, day in enumerate(w.dates):
            # Every third day the channel still sends its legacy 24-column layout.
            sink.begin_day(day, legacy=i % 3 == 1, orders=self.per_day)
            extras = Extras(amend=amend)
            amend = None
            settle = day + DAY  # every debit of the day is dated the day
            written = 0  # platform rows
            for chunk, (orders, card4) in enumerate(self.bulk(i, day)):
                sink.orders(day, orders)
                written += len(orders)
                if chunk == 0 and day == self.conflict:
                    amend = self.amendment(day, orders)
                kept, fees = self.shares(orders)
                for code, channel in enumerate(CHANNELS):
                    txns = channel_txns(orders, channel, card4)
                    sink.txns(day, txns)
                    net[settle][channel] += int(txns.amount.sum() - txns.fee.sum())
                    item = shares[settle][channel]
                    for k, name in enumerate(LENDERS):
                        item[name] += int(kept[code, k])
                        item[FEE] += int(fees[code, k])
            hand = HandMade(self, i, day, first_seq=self.per_day)
            hand.noise()
            if day <= self.last_anomaly:
                hand.layer_a_anomalies(variant=i)
            hand.injections()
            made = later_orders + hand.orders
            listed = [o for o in made if o.created_at.date() <= day]
            later_orders = [o for o in made if o.created_at.date() > day]
            sink.orders(day, OrderCols.from_orders(listed))
            written += len(listed)
            made_txns = later_txns + hand.txns
            listed_txns = [t for t in made_txns if t.file_day <= day]
            later_txns = [t for t in made_txns if t.file_day > day]
            for channel in CHANNELS:
                mine_txns = [t for t in listed_txns if t.channel == channel]
                sink.txns(day, TxnCols.from_txns(channel, mine_txns))
            if day == self.bad_row:
                extras.bad_lines.append(hand.unreadable_order())
                # line 1 is the header: the appended line is the one after the last row
                hand.answer("REJECTED_ROW", f"{platform_file(day)}:{written + 2}", day)
            extras.unlisted = hand.unlisted
            prefix, undelivered = self.missing_file
            if day == undelivered:
                extras.undelivered.append(prefix)
                hand.answer("MISSING_FILE", f"{LENDER_B_SOURCE}:{day.isoformat()}", day)
            sink.extras(day, extras)
            hand.add_totals(net, shares)
            sink.bank(day, hand.bank_lines(net.pop(day, {}), shares.pop(day, {})))
            sink.end_day(day)

    @staticmethod
    def shares(orders: OrderCols) -> tuple[np.ndarray, np.ndarray]:
        """清分 of a bulk chunk's successful orders (each has one debit, on its own channel), per
        [channel, lender]: principal + interest + penalty, and fee, summed in int64 fen."""
        cells = len(CHANNELS) * len(LENDERS)
        cell = orders.channel.astype(np.intp) * len(LENDERS) + orders.lender
        cell = np.where(orders.status == 0, cell, cells)  # failed orders: a cell of their own
        kept = orders.principal + orders.interest + orders.penalty
        out = []
        for amounts in (kept, orders.fee):
            sums = np.zeros(cells + 1, dtype=np.int64)
            np.add.at(sums, cell, amounts.astype(np.int64))
            out.append(sums[:cells].reshape(len(CHANNELS), -1))
        return tuple(out)

    def amendment(self, day: dt.date, orders: OrderCols) -> tuple[dt.date, OrderCols] | None:
        """Three of the day's ordinary orders, delivered again the next day: two byte-for-byte
        as before (counted once), one with 1.00 moved from principal to interest (amount
        unchanged): a DATA_CONFLICT."""
        rows = np.flatnonzero(orders.status == 0)[:3]
        if len(rows) < 3:
            return None
        again = orders.take(rows)
        again.principal[2] -= 100
        again.interest[2] += 100
        order_no = again.order_no.to_pylist()
        self.world.answers.append(("DATA_CONFLICT", order_no[2], day.isoformat()))
        self.world.noise_refs.extend(order_no[:2])
        return day, again

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
        self.orders: list[Order] = []  # may include orders of a later day (refunds)
        self.txns: list[Txn] = []  # may include transactions listed in a later day's file
        self.unlisted: list[Txn] = []  # counted by a channel file's trailer, not listed

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

    def moment(self, lo: int = 8 * 3600, hi: int = 23 * 3600, later: int = 0) -> dt.datetime:
        """A random time of the day (or of `later` days after it) between `lo` and `hi` seconds."""
        return dt.datetime.combine(self.day + later * DAY, dt.time()) + dt.timedelta(
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

    def paid_order(self, channel: str) -> Order:
        """An ordinary repayment, debited by the channel."""
        order = self.new_order(channel=channel)
        self.orders.append(order)
        self.settle(order)
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

    def refund(
        self, paid: Order, at: dt.datetime, amount: int | None = None, on_channel: bool = True
    ) -> Order:
        """A successful refund of `paid` requested at `at` (on its day's platform export): in
        full, its split mirroring the repayment's, or `amount` of principal only. The channel
        lists it too, in the file of its day, unless `on_channel` is false."""
        channel = paid.channel
        full = amount is None
        refund = Order(
            order_no=self.next_id("RF"),
            order_type="REFUND",
            orig_order_no=paid.order_no,
            loan_no=paid.loan_no,
            installment_no=paid.installment_no,
            borrower_id=paid.borrower_id,
            lender_code=paid.lender_code,
            channel=channel,
            channel_txn_id="",
            principal=paid.principal if full else amount,
            interest=paid.interest if full else 0,
            fee=paid.fee if full else 0,
            penalty=paid.penalty if full else 0,
            installment_due=0,
            status="SUCCESS",
            created_at=at,
            paid_at=at + dt.timedelta(minutes=1),
        )
        # Alipay names a refund by the payment's id and the refund request no.
        refund.channel_txn_id = (
            f"{paid.channel_txn_id}_{refund.order_no}"
            if channel == ALIPAY
            else self.txn_id(channel)
        )
        self.orders.append(refund)
        if on_channel:
            # WeChat's ALL bill dates a refund row by the original payment's time: so its refunds
            # here are made on the payment's day (a later one would settle on a past date).
            when = paid.paid_at if channel == WECHAT else refund.paid_at
            assert when.date() == refund.paid_at.date(), "a WeChat refund on a later day"
            self.txns.append(
                Txn(
                    channel,
                    refund.channel_txn_id,
                    refund.order_no,
                    "REFUND",
                    refund.amount,
                    when,
                    refund.paid_at.date(),
                    orig_txn_id=paid.channel_txn_id,
                    orig_order_no=paid.order_no,
                )
            )
        return refund

    def noise(self) -> None:
        g, w, day, orders = self.gen, self.world, self.day, self.orders
        # A payment at 23:59:58 whose channel record is in the next day's file.
        late = self.new_order(channel=ALLINPAY)
        late.created_at = dt.datetime.combine(day, dt.time(23, 59, 57))
        late.paid_at = dt.datetime.combine(day, dt.time(23, 59, 58))
        orders.append(late)
        w.noise_refs.append(late.order_no)
        if day < w.last:
            self.settle(late, file_day=day + DAY)
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
        paid = self.paid_order((WECHAT, ALIPAY)[self.index % 2])
        refund = self.refund(paid, paid.paid_at + dt.timedelta(minutes=10))
        w.noise_refs.extend([paid.order_no, refund.order_no])
        if day == g.partial_refunds:
            # Two partial refunds of one repayment (30% and 20% of its principal), on both
            # sides, the second the next day.
            paid = self.paid_order(ALLINPAY)
            part = paid.principal // 10
            one = self.refund(paid, paid.paid_at + dt.timedelta(minutes=10), amount=3 * part)
            two = self.refund(paid, self.moment(later=1), amount=2 * part)
            w.noise_refs.extend([paid.order_no, one.order_no, two.order_no])
        if day == g.early_refund:
            # A full refund, on both sides, two days after the repayment.
            paid = self.paid_order(ALLINPAY)
            refund = self.refund(paid, self.moment(later=2))
            w.noise_refs.extend([paid.order_no, refund.order_no])

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

    def injections(self) -> None:
        """The differences injected once a run, each on its day (see `Generator.__init__`)."""
        g, day = self.gen, self.day
        ten_minutes = dt.timedelta(minutes=10)
        if day == g.cut_file:
            # The Allinpay file lost an ordinary debit its trailer still counts: the file fails
            # its control totals, and the platform's repayment has no channel debit.
            lost = self.new_order(channel=ALLINPAY)
            self.orders.append(lost)
            self.unlisted.append(
                Txn(
                    ALLINPAY,
                    lost.channel_txn_id,
                    lost.order_no,
                    "PAY",
                    lost.amount,
                    lost.paid_at,
                    day,
                    card_no=self.card(),
                )  # fmt: skip
            )
            self.answer("REJECTED_ROW", f"{allinpay_file(day)}:0", day)
            self.answer("MISSING_ON_CHANNEL", lost.order_no, day)
        if day == g.refund_alone:
            # REFUND_UNMATCHED: the platform refunded a repayment; the channel has no refund.
            paid = self.paid_order(WECHAT)
            refund = self.refund(paid, paid.paid_at + ten_minutes, on_channel=False)
            self.answer("REFUND_UNMATCHED", refund.order_no, day)
        if day == g.failed:
            # CHANNEL_FAILED: the platform says paid; the channel's bill says PAYERROR.
            order = self.new_order(channel=WECHAT)
            self.orders.append(order)
            self.settle(order).status = "FAILED"
            self.answer("CHANNEL_FAILED", order.order_no, day)
        if day == g.over_refund:
            # REFUND_UNMATCHED: two partial refunds (60% of the amount each), today and
            # tomorrow, on both sides: the second refunds more than was paid.
            paid = self.paid_order(ALIPAY)
            part = paid.amount * 6 // 10
            self.refund(paid, paid.paid_at + ten_minutes, amount=part)
            second = self.refund(paid, self.moment(later=1), amount=part)
            self.answer("REFUND_UNMATCHED", second.order_no, day + DAY)

    def unreadable_order(self) -> str:
        """A platform export line that cannot be read: its amount is `12.3.4`."""
        created = self.moment()
        paid = created + dt.timedelta(seconds=5)
        return ",".join(
            [self.next_id("PO"), "REPAY", "", self.next_id("LN"), "1",
             f"U{self.rng.randrange(10**8, 10**9)}", "LENDER_A", WECHAT, "", "12.3.4", "12.34",
             "0.00", "0.00", "0.00", "12.34", "SUCCESS", f"{created:%Y-%m-%d %H:%M:%S}",
             f"{paid:%Y-%m-%d %H:%M:%S}"]
        )  # fmt: skip

    # ---- settlement and the bank ---------------------------------------------------------

    def add_totals(self, net: dict, shares: dict) -> None:
        """Add the hand-made rows to the expected net settlement per (settle date, channel) and
        to the 清分 shares per (settle date, channel, recipient): a successful repayment matched
        to the channel's first successful debit of it gives principal + interest + penalty to
        its lender and fee to FEE; a successful refund matched to a successful channel refund
        takes its own split back; both on the channel transaction's trade date + 1."""
        ok = [t for t in self.txns if t.status == "SUCCESS"]
        for t in ok:
            signed = t.amount if t.txn_type == "PAY" else -t.amount
            net[t.time.date() + DAY][t.channel] += signed - t.fee
        first: dict[tuple[str, str], Txn] = {}
        for t in ok:
            first.setdefault((t.txn_type, t.merchant_order_no), t)
        for o in self.orders:
            kind, sign = ("PAY", 1) if o.order_type == "REPAY" else ("REFUND", -1)
            t = first.get((kind, o.order_no))
            if o.status != "SUCCESS" or t is None:
                continue
            item = shares[t.time.date() + DAY][t.channel]
            item[o.lender_code] += sign * (o.principal + o.interest + o.penalty)
            item[FEE] += sign * o.fee

    def bank_lines(self, net: dict[str, int], shares: dict[str, dict[str, int]]) -> list[BankLine]:
        """The day's bank lines: each channel's settlement of its item of the day (one missing,
        one short, a holiday batch, a split credit), 清分 of the items credited today (one
        short, one late), and unexplained lines."""
        g, w, day, lines = self.gen, self.world, self.day, []
        channels = set(net)
        if g.holiday and day == g.holiday[1][-1]:
            channels.add(g.holiday[0])
        for channel in sorted(channels):
            ref = f"{channel}:{day.isoformat()}"
            amount, items = net.get(channel, 0), [shares.get(channel, {})]
            if (channel, day) == g.missing:
                self.answer("SETTLEMENT_MISSING", ref, day)
                continue  # never credited, so never distributed
            if g.holiday and channel == g.holiday[0] and day in g.holiday[1]:
                # A holiday batch: one credit on the third of three settle dates pays all three.
                g.held.append((amount, items[0]))
                if day != g.holiday[1][-1]:
                    continue
                amount, items = sum(a for a, _ in g.held), [s for _, s in g.held]
                g.held = []
                w.noise_refs.extend(f"{channel}:{d.isoformat()}" for d in g.holiday[1])
                credits = [amount]
            elif (channel, day) == g.split:
                # One settle date paid by two credits (60% and 40%).
                credits = [amount * 6 // 10, amount - amount * 6 // 10]
                w.noise_refs.append(ref)
            elif (channel, day) == g.short:
                credits = [amount - SHORT_SETTLEMENT]
                self.answer("SETTLEMENT_MISMATCH", ref, day)
            else:
                credits = [amount]
            for fen in credits:
                lines.append(
                    BankLine(
                        day,
                        self.moment(9 * 3600, 11 * 3600),
                        fen,
                        COUNTERPARTY[channel],
                        "结算款",
                        self.next_id("CCB", 10),
                    )  # fmt: skip
                )
            for item in items:  # credited today: distributed today (lag 0)
                for who, fen in item.items():
                    g.due[day][who] += fen
        payouts = []
        due = g.due.pop(day, {})
        for who in sorted(due):
            fen = due[who]
            if fen <= 0:
                continue
            if who == FEE and day == g.late_fee and day < w.last:
                g.overdue[day + DAY].append((who, fen))  # paid a day late: within the window
                w.noise_refs.append(f"{who}:{day.isoformat()}")
                continue
            if (who, day) == g.short_share and fen > 1:
                fen -= 1
                self.answer("DISTRIBUTION_MISMATCH", f"{who}:{day.isoformat()}", day)
            payouts.append((who, fen))
        payouts += g.overdue.pop(day, [])
        collection = (COLLECTION_NAME, COLLECTION_ACCOUNT)
        for who, fen in payouts:
            account, name = FEE_ACCOUNT if who == FEE else LENDER_ACCOUNTS[who]
            when = self.moment(15 * 3600, 17 * 3600)
            ref = self.next_id("DST", 10)
            lines.append(BankLine(day, when, -fen, (name, account), "清分划款", ref))
            lines.append(BankLine(day, when, fen, collection, "清分入账", ref + "R", account))
        if self.index == 0:
            line = BankLine(day, self.moment(14 * 3600, 15 * 3600), 88800,
                            ("某某贸易有限公司", "6228480011223344"), "往来款",
                            self.next_id("CCB", 10))  # fmt: skip
            lines.append(line)
            self.answer("BANK_UNEXPLAINED", line.txn_id, day)
        if day == g.unexplained_debit:
            line = BankLine(day, self.moment(13 * 3600, 14 * 3600),
                            -self.rng.randrange(100000, 2000000),
                            ("某某装修工程有限公司", "6222600910087654"), "往来款",
                            self.next_id("CCB", 10))  # fmt: skip
            lines.append(line)
            self.answer("BANK_UNEXPLAINED", line.txn_id, day)
        return lines
