"""The lending platform's daily order export (UTF-8 CSV, LF)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from transforms.generate.columns import (
    _CHANNEL_TEXT,
    _LENDER_TEXT,
    _STATUS_TEXT,
    OrderCols,
    choose,
    int_text,
    time_text,
    write_lines,
    yuan_text,
)
from transforms.generate.model import Order

PLATFORM_HEADER = (
    "order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,"
    "channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at"
)
FAILED = 1


class PlatformWriter:
    def __init__(self, path: Path):
        self.out = open(path, "wb")
        self.out.write((PLATFORM_HEADER + "\n").encode())

    def write(self, o: OrderCols) -> None:
        if not len(o):
            return
        cols = [
            o.order_no,
            o.order_type,
            o.orig_order_no,
            o.loan_no,
            int_text(o.installment_no),
            o.borrower_id,
            pc.take(_LENDER_TEXT, pa.array(o.lender)),
            pc.take(_CHANNEL_TEXT, pa.array(o.channel)),
            choose(o.status == FAILED, "", o.channel_txn_id),
            yuan_text(o.amount),
            yuan_text(o.principal),
            yuan_text(o.interest),
            yuan_text(o.fee),
            yuan_text(o.penalty),
            yuan_text(o.installment_due),
            pc.take(_STATUS_TEXT, pa.array(o.status)),
            time_text(o.created),
            time_text(o.paid),
        ]
        write_lines(self.out, cols, ",", "\n")

    def write_raw(self, lines: list[str]) -> None:
        """Lines as they are (an unreadable row, for the reader to reject)."""
        self.out.write("".join(line + "\n" for line in lines).encode())

    def close(self) -> None:
        self.out.close()


def write_platform(path: Path, orders: list[Order]) -> None:
    w = PlatformWriter(path)
    w.write(OrderCols.from_orders(orders))
    w.close()
