"""Rows as columns: numpy numbers and Arrow strings, turned into delimited text lines by Arrow
compute kernels (no Python per row). One `OrderCols`/`TxnCols` holds a chunk of rows; the
hand-made rows (noise, anomalies, tests) are converted from objects into the same columns, so
every row of a file goes through one formatting path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.generate.model import (
    CHANNELS,
    EPOCH,
    FEE_PER_MILLE,
    LENDERS,
    STATUSES,
    Order,
    Txn,
    moment_of,
    seconds,
)

Text = pa.Array | str | bytes  # a column: one value per row, or one value for every row

_CENTS = pa.array([f"{i:02d}" for i in range(100)])
_HMS = pa.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)])
_HMS_COMPACT = pa.array([f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}" for s in range(86400)])
_CHANNEL_TEXT = pa.array(list(CHANNELS))
_LENDER_TEXT = pa.array(list(LENDERS))
_STATUS_TEXT = pa.array(list(STATUSES))
_PERMILLE = np.array([FEE_PER_MILLE[c] for c in CHANNELS], dtype=np.int64)


def join(*cols: Text, sep: str | bytes = "") -> Text:
    """Row-wise concatenation with `sep`; binary (already encoded) if any column is."""
    if any(isinstance(c, bytes) or (isinstance(c, pa.Array) and pa.types.is_binary(c.type))
           for c in cols):  # fmt: skip
        cols = tuple(c.encode() if isinstance(c, str) else c for c in cols)
        sep = sep.encode() if isinstance(sep, str) else sep
    if all(isinstance(c, str | bytes) for c in cols):
        return sep.join(cols)  # type: ignore[arg-type]
    return pc.binary_join_element_wise(*cols, sep)


def choose(mask: np.ndarray, yes: Text, no: Text) -> Text:
    """Row-wise `yes if mask else no`."""
    if not mask.any():
        return no
    if mask.all():
        return yes
    return pc.if_else(pa.array(mask), yes, no)


def int_text(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def yuan_text(fen: np.ndarray) -> Text:
    """Signed fen as yuan text, as `model.yuan` does it."""
    whole = np.abs(fen)
    text = join(int_text(whole // 100), pc.take(_CENTS, pa.array(whole % 100)), sep=".")
    return join(choose(fen < 0, "-", ""), text)


def time_text(secs: np.ndarray, date_format: str = "%Y-%m-%d", sep: str = " ", compact=False):
    """Seconds since EPOCH as `date_format` + sep + HH:MM:SS (HHMMSS if compact); "" for -1."""
    missing = secs < 0
    secs = np.where(missing, 0, secs)
    days, clock = np.divmod(secs, 86400)
    hms = pc.take(_HMS_COMPACT if compact else _HMS, pa.array(clock))
    lo, hi = int(days.min()), int(days.max())
    if lo == hi:
        date = (EPOCH + dt.timedelta(days=lo)).strftime(date_format)
    else:
        table = pa.array(
            [(EPOCH + dt.timedelta(days=d)).strftime(date_format) for d in range(lo, hi + 1)]
        )
        date = pc.take(table, pa.array(days - lo))
    return choose(missing, "", join(date, hms, sep=sep))


def fee_of(channel: np.ndarray, amount: np.ndarray, refund: np.ndarray) -> np.ndarray:
    """`Txn.fee` per row: the channel's fee rounded half-up to the fen, negative for a refund."""
    fee = (amount * _PERMILLE[channel] * 2 + 1000) // 2000
    return np.where(refund, -fee, fee)


def write_lines(out: BinaryIO, cols: list[Text], sep: str | bytes, eol: str | bytes) -> int:
    """Write one line per row: the columns joined by `sep`, ended by `eol`. Returns bytes written."""
    cols = list(cols)
    cols[-1] = join(cols[-1], eol)
    lines = join(*cols, sep=sep)
    if isinstance(lines, str | bytes):  # no column varies: nothing to broadcast over
        raise ValueError("write_lines needs at least one column with a value per row")
    return out.write(text_bytes(lines))


def text_bytes(arr: pa.Array) -> memoryview:
    """The concatenated values of a string/binary array, without copying."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError("null in a text column")
    width = (
        np.int64
        if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        else np.int32
    )
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)
    start, end = offsets[arr.offset], offsets[arr.offset + len(arr)]
    data = arr.buffers()[2]
    return memoryview(data)[start:end] if data is not None else memoryview(b"")


def strings(values: list[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


@dataclass
class OrderCols:
    """Platform orders, one row per order. Text columns may be one value for all rows."""

    order_no: pa.Array
    order_type: Text
    orig_order_no: Text
    loan_no: pa.Array
    installment_no: np.ndarray
    borrower_id: pa.Array
    lender: np.ndarray  # index into LENDERS
    channel: np.ndarray  # index into CHANNELS
    channel_txn_id: pa.Array
    principal: np.ndarray
    interest: np.ndarray
    fee: np.ndarray
    penalty: np.ndarray
    installment_due: np.ndarray
    status: np.ndarray  # index into STATUSES
    created: np.ndarray  # seconds since EPOCH
    paid: np.ndarray  # seconds since EPOCH, -1 = not paid

    def __len__(self) -> int:
        return len(self.order_no)

    @property
    def amount(self) -> np.ndarray:
        return self.principal + self.interest + self.fee + self.penalty

    def take(self, rows: np.ndarray) -> OrderCols:
        """The given rows (positions), as a new `OrderCols` (copies)."""

        def pick(col):
            if isinstance(col, np.ndarray):
                return col[rows]
            if isinstance(col, pa.Array | pa.ChunkedArray):
                return pc.take(col, pa.array(rows))
            return col  # one value for every row

        return OrderCols(**{f.name: pick(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def from_orders(cls, orders: list[Order]) -> OrderCols:
        def ints(name: str) -> np.ndarray:
            return np.array([getattr(o, name) for o in orders], dtype=np.int64)

        return cls(
            order_no=strings([o.order_no for o in orders]),
            order_type=strings([o.order_type for o in orders]),
            orig_order_no=strings([o.orig_order_no for o in orders]),
            loan_no=strings([o.loan_no for o in orders]),
            installment_no=ints("installment_no"),
            borrower_id=strings([o.borrower_id for o in orders]),
            lender=np.array([LENDERS.index(o.lender_code) for o in orders], dtype=np.int8),
            channel=np.array([CHANNELS.index(o.channel) for o in orders], dtype=np.int8),
            channel_txn_id=strings([o.channel_txn_id for o in orders]),
            principal=ints("principal"),
            interest=ints("interest"),
            fee=ints("fee"),
            penalty=ints("penalty"),
            installment_due=ints("installment_due"),
            status=np.array([STATUSES.index(o.status) for o in orders], dtype=np.int8),
            created=np.array([seconds(o.created_at) for o in orders], dtype=np.int64),
            paid=np.array([seconds(o.paid_at) for o in orders], dtype=np.int64),
        )

    def to_orders(self) -> list[Order]:
        n = len(self)

        def texts(col: Text) -> list[str]:
            return [col] * n if isinstance(col, str) else col.to_pylist()

        cols = zip(
            texts(self.order_no), texts(self.order_type), texts(self.orig_order_no),
            texts(self.loan_no), self.installment_no.tolist(), texts(self.borrower_id),
            self.lender.tolist(), self.channel.tolist(), texts(self.channel_txn_id),
            self.principal.tolist(), self.interest.tolist(), self.fee.tolist(),
            self.penalty.tolist(), self.installment_due.tolist(), self.status.tolist(),
            self.created.tolist(), self.paid.tolist(), strict=True,
        )  # fmt: skip
        return [
            Order(
                no,
                kind,
                orig,
                loan,
                inst,
                who,
                LENDERS[lender],
                CHANNELS[ch],
                txn,
                p,
                i,
                f,
                pen,
                due,
                STATUSES[st],
                moment_of(c),
                moment_of(pd),
            )  # fmt: skip
            for (
                no,
                kind,
                orig,
                loan,
                inst,
                who,
                lender,
                ch,
                txn,
                p,
                i,
                f,
                pen,
                due,
                st,
                c,
                pd,
            ) in cols
        ]


@dataclass
class TxnCols:
    """Channel transactions of one channel, one row per transaction."""

    channel: str
    channel_txn_id: pa.Array
    merchant_order_no: pa.Array
    refund: np.ndarray  # bool: REFUND, else PAY
    amount: np.ndarray
    time: np.ndarray  # seconds since EPOCH
    card: Text  # the card number as the channel masks it: 622202******1234
    orig_txn_id: Text = ""
    orig_order_no: Text = ""
    failed: np.ndarray | None = None  # bool: a failed debit (no fee); None: every row succeeded

    def __len__(self) -> int:
        return len(self.channel_txn_id)

    @property
    def fee(self) -> np.ndarray:
        code = np.full(len(self), CHANNELS.index(self.channel), dtype=np.int8)
        fee = fee_of(code, self.amount, self.refund)
        return fee if self.failed is None else np.where(self.failed, 0, fee)

    @classmethod
    def from_txns(cls, channel: str, txns: list[Txn]) -> TxnCols:
        assert all(t.channel == channel for t in txns)
        return cls(
            channel=channel,
            channel_txn_id=strings([t.channel_txn_id for t in txns]),
            merchant_order_no=strings([t.merchant_order_no for t in txns]),
            refund=np.array([t.txn_type == "REFUND" for t in txns], dtype=bool),
            amount=np.array([t.amount for t in txns], dtype=np.int64),
            time=np.array([seconds(t.time) for t in txns], dtype=np.int64),
            card=strings([t.card_no[:6] + "******" + t.card_no[-4:] for t in txns]),
            orig_txn_id=strings([t.orig_txn_id for t in txns]),
            orig_order_no=strings([t.orig_order_no for t in txns]),
            failed=np.array([t.status != "SUCCESS" for t in txns], dtype=bool)
            if any(t.status != "SUCCESS" for t in txns)
            else None,
        )

    def to_txns(self, file_day: dt.date) -> list[Txn]:
        n = len(self)

        def texts(col: Text) -> list[str]:
            return [col] * n if isinstance(col, str) else col.to_pylist()

        failed = [False] * n if self.failed is None else self.failed.tolist()
        return [
            Txn(
                self.channel,
                tid,
                mo,
                "REFUND" if rf else "PAY",
                amt,
                moment_of(t),
                file_day,
                otid,
                ono,
                card,
                "FAILED" if bad else "SUCCESS",
            )  # fmt: skip
            for tid, mo, rf, amt, t, otid, ono, card, bad in zip(
                texts(self.channel_txn_id),
                texts(self.merchant_order_no),
                self.refund.tolist(),
                self.amount.tolist(),
                self.time.tolist(),
                texts(self.orig_txn_id),
                texts(self.orig_order_no),
                texts(self.card),
                failed,
                strict=True,
            )  # fmt: skip
        ]


def channel_txns(orders: OrderCols, channel: str, card4: np.ndarray) -> TxnCols:
    """The channel's debits of the successful orders of a bulk chunk (one per order), paid with
    cards ending in `card4` (one per order)."""
    keep = (orders.status == 0) & (orders.channel == CHANNELS.index(channel))
    mask = pa.array(keep)
    n = int(keep.sum())
    return TxnCols(
        channel=channel,
        channel_txn_id=pc.filter(orders.channel_txn_id, mask),
        merchant_order_no=pc.filter(orders.order_no, mask),
        refund=np.zeros(n, dtype=bool),
        amount=orders.amount[keep],
        time=orders.paid[keep],
        card=join("622202******", int_text(card4[keep], 4)),
    )
