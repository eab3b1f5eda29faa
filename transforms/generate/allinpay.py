"""Allinpay-style withholding file: pipe-separated, amounts in fen, a TRAILER line with totals."""

from __future__ import annotations

from pathlib import Path

from transforms.generate.columns import TxnCols, choose, int_text, time_text, write_lines
from transforms.generate.model import ALLINPAY, Txn

ALLINPAY_HEADER = (
    "通联订单号|订单类型|交易金额(分)|平台抽佣金额(分)|交易时间|商户订单号|原商户订单号|原通联订单号|"
    "支付模式|扩展参数|结算金额(分)|渠道手续费(分)|卡号"
)


class AllinpayWriter:
    def __init__(self, path: Path):
        self.out = open(path, "wb")
        self.out.write((ALLINPAY_HEADER + "\n").encode())
        self.count = self.amount = self.fees = 0

    def write(self, t: TxnCols) -> None:
        if not len(t):
            return
        assert t.channel == ALLINPAY and t.failed is None
        fee = t.fee
        self.count += len(t)
        self.amount += int(t.amount.sum())
        self.fees += int(fee.sum())
        cols = [
            t.channel_txn_id,
            choose(t.refund, "退货", "代扣"),
            int_text(t.amount),
            "0",
            time_text(t.time, "%Y%m%d", "", compact=True),
            t.merchant_order_no,
            t.orig_order_no,
            t.orig_txn_id,
            "DK",
            "",
            int_text(t.amount - fee),
            int_text(fee),
            t.card,
        ]
        write_lines(self.out, cols, "|", "\n")

    def unlisted(self, t: TxnCols) -> None:
        """Rows the trailer counts that the file lacks (a file cut short by the channel)."""
        self.count += len(t)
        self.amount += int(t.amount.sum())
        self.fees += int(t.fee.sum())

    def close(self) -> None:
        self.out.write(f"TRAILER|{self.count}|{self.amount}|{self.fees}\n".encode())
        self.out.close()


def write_allinpay(path: Path, txns: list[Txn]) -> None:
    w = AllinpayWriter(path)
    w.write(TxnCols.from_txns(ALLINPAY, txns))
    w.close()
