"""WeChat Pay ALL bill: BOM, CRLF, backtick-prefixed fields, 5-decimal fees, the summary header
and its values as the last two lines; the current 27-column layout or the legacy 24."""

from __future__ import annotations

from pathlib import Path

from transforms.generate.columns import TxnCols, choose, join, time_text, write_lines, yuan_text
from transforms.generate.model import WECHAT, Txn, yuan

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


def _e5(fen_e5: int) -> str:
    return ("-" if fen_e5 < 0 else "") + f"{abs(fen_e5) // 100000}.{abs(fen_e5) % 100000:05d}"


class WechatWriter:
    def __init__(self, path: Path, legacy: bool = False):
        self.legacy = legacy
        self.header = WECHAT_LEGACY_HEADER if legacy else WECHAT_HEADER
        self.out = open(path, "wb")
        self.out.write(("\ufeff" + ",".join(self.header) + "\r\n").encode())
        self.count = self.settle = self.refund = self.fees = self.order_total = 0

    def write(self, t: TxnCols) -> None:
        if not len(t):
            return
        assert t.channel == WECHAT
        fee = t.fee
        r = t.refund
        self.count += len(t)
        self.settle += int(t.amount[~r].sum())
        self.refund += int(t.amount[r].sum())
        self.order_total += int(t.amount[~r].sum())
        self.fees += int(fee.sum())
        amount = yuan_text(t.amount)
        # A failed payment (PAYERROR) is listed with its amount and no fee.
        status = "SUCCESS" if t.failed is None else choose(t.failed, "PAYERROR", "SUCCESS")
        fee_text = yuan_text(fee)  # the bill states fees to 1e-5 yuan; ours are whole fen
        values = {
            "交易时间": time_text(t.time),
            "公众账号ID": "wx2421b1c4370ec43b",
            "商户号": "10000100",
            "特约商户号": "0",
            "子商户号": "0",
            "微信订单号": choose(r, t.orig_txn_id, t.channel_txn_id),
            "商户订单号": choose(r, t.orig_order_no, t.merchant_order_no),
            "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "交易类型": "JSAPI",
            "交易状态": choose(r, "REFUND", status),
            "付款银行": "CMB_DEBIT",
            "货币种类": "CNY",
            "应结订单金额": choose(r, "0.00", amount),
            "总金额": choose(r, "0.00", amount),
            "微信退款单号": choose(r, t.channel_txn_id, "0"),
            "商户退款单号": choose(r, t.merchant_order_no, "0"),
            "退款金额": choose(r, amount, "0.00"),
            "退款类型": choose(r, "ORIGINAL", ""),
            "退款状态": choose(r, "SUCCESS", ""),
            "商品名称": "贷款还款",
            "手续费": join(fee_text, "000"),
            "费率": "0.60%",
            "订单金额": amount,
            "申请退款金额": choose(r, amount, "0.00"),
        }
        cols = [values.get(name, "0.00" if "金额" in name else "") for name in self.header]
        cols[0] = join("`", cols[0])
        write_lines(self.out, cols, ",`", "\r\n")

    def close(self) -> None:
        if self.legacy:
            summary = WECHAT_LEGACY_SUMMARY
            totals = [
                str(self.count),
                yuan(self.settle),
                yuan(self.refund),
                "0.00",
                _e5(self.fees * 1000),
            ]
        else:
            summary = WECHAT_SUMMARY
            totals = [str(self.count), yuan(self.settle), yuan(self.refund), "0.00",
                      _e5(self.fees * 1000), yuan(self.order_total), yuan(self.refund)]  # fmt: skip
        tail = summary + "\r\n" + ",".join("`" + v for v in totals) + "\r\n"
        self.out.write(tail.encode())
        self.out.close()


def write_wechat(path: Path, txns: list[Txn], legacy: bool = False) -> None:
    w = WechatWriter(path, legacy)
    w.write(TxnCols.from_txns(WECHAT, txns))
    w.close()
