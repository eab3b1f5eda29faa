"""Alipay 业务明细 in GBK, zipped with a GBK entry name (no UTF-8 flag), as downloaded.

The entry is compressed while it is written, so a bill of millions of rows never sits in memory.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from transforms.generate.columns import TxnCols, choose, join, time_text, write_lines, yuan_text
from transforms.generate.model import ALIPAY, Txn, yuan

ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)
ALIPAY_ACCOUNT = "20880123456789010156"
ENCODING = "gb18030"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed: same seed, same bytes
ZIP64_ABOVE_ROWS = 4_000_000  # ~0.25 KB a row: past this an entry may pass the 2 GiB zip limit


class _GbkName(zipfile.ZipInfo):
    def _encodeFilenameFlags(self):  # raw GBK name bytes, no UTF-8 flag: as Alipay writes them
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


def _gbk(col):
    """A text column as GBK bytes (every generated value but the Chinese constants is ASCII)."""
    if isinstance(col, str):
        return col.encode(ENCODING)
    if isinstance(col, bytes):
        return col
    if pa.types.is_binary(col.type):
        return col
    return pc.cast(col, pa.binary())


class AlipayWriter:
    def __init__(self, path: Path, day: dt.date, expected_rows: int = 0):
        self.day = day
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        name = f"{ALIPAY_ACCOUNT}_{day:%Y%m%d}_业务明细.csv"
        info = _GbkName(name.encode(ENCODING).decode("cp437"), date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self.out = self.zip.open(info, "w", force_zip64=expected_rows > ZIP64_ABOVE_ROWS)
        bar = "-" * 41
        head = [
            "#支付宝业务明细查询",
            f"#账号：[{ALIPAY_ACCOUNT}]",
            f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + dt.timedelta(days=1):%Y年%m月%d日} 00:00:00]",
            f"#{bar}业务明细列表{bar}",
            ALIPAY_HEADER,
        ]
        self.out.write(("\r\n".join(head) + "\r\n").encode(ENCODING))
        self.totals = {
            "PAY": [0, 0, 0],
            "REFUND": [0, 0, 0],
        }  # count, 商家实收, 服务费 (signed, fen)

    def write(self, t: TxnCols) -> None:
        if not len(t):
            return
        assert t.channel == ALIPAY and t.failed is None
        r = t.refund
        signed = t.amount.copy()
        signed[r] = -signed[r]
        service = -t.fee
        for key, rows in (("PAY", ~r), ("REFUND", r)):
            total = self.totals[key]
            total[0] += int(rows.sum())
            total[1] += int(signed[rows].sum())
            total[2] += int(service[rows].sum())
        signed_text = yuan_text(signed)
        cols = [
            join(choose(r, t.orig_txn_id, t.channel_txn_id), "\t"),
            join(choose(r, t.orig_order_no, t.merchant_order_no), "\t"),
            choose(r, "退款".encode(ENCODING), "交易".encode(ENCODING)),
            "贷款还款",
            time_text(t.time - 2),
            time_text(t.time),
            "", "", "", "",
            "138****0001",
            signed_text,
            signed_text,
            "0.00", "0.00", "0.00", "0.00", "0.00",
            "",
            "0.00", "0.00",
            choose(r, join(t.merchant_order_no, "\t"), ""),
            yuan_text(service),
            "0.00",
            "",
        ]  # fmt: skip
        write_lines(self.out, [_gbk(c) for c in cols], b",", b"\r\n")

    def close(self) -> None:
        bar = "-" * 41
        lines = [f"#{bar}业务明细列表结束{bar}"]
        for label, key in (("交易合计", "PAY"), ("退款合计", "REFUND")):
            n, received, service = self.totals[key]
            lines.append(
                f"#{label}：{n}笔，商家实收共{yuan(received)}元，商家优惠共0.00元，支付宝优惠共0.00元，"
                f"服务费共{yuan(service)}元，分润共0.00元"
            )
        lines.append(f"#导出时间：[{self.day + dt.timedelta(days=1):%Y年%m月%d日} 06:10:00]")
        self.out.write(("\r\n".join(lines) + "\r\n").encode(ENCODING))
        self.out.close()
        self.zip.close()


def write_alipay(path: Path, day: dt.date, txns: list[Txn]) -> None:
    w = AlipayWriter(path, day)
    w.write(TxnCols.from_txns(ALIPAY, txns))
    w.close()
