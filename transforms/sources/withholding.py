"""Third-party withholding channel file (Allinpay-style): pipe or comma, amounts in fen,
successful orders only, a header line and a trailer line with record count and totals.

    通联订单号|订单类型|交易金额(分)|平台抽佣金额(分)|交易时间|商户订单号|原商户订单号|原通联订单号|支付模式|扩展参数|结算金额(分)|渠道手续费(分)|卡号
    ...
    TRAILER|<record count>|<sum of 交易金额(分)>|<sum of 渠道手续费(分)>
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.textio import guess_encoding, head_text, iter_lines, stage_delimited

REQUIRED = ["通联订单号", "订单类型", "交易金额(分)", "交易时间", "商户订单号"]
TRAILER_MARKERS = ("TRAILER", "合计", "汇总")
TIME_FORMATS = ["%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S"]
PAY_TYPES = ("代扣", "消费", "PAY", "支付")
REFUND_TYPES = ("退货", "退款", "REFUND")


def _split(line: str) -> tuple[str, list[str]]:
    delim = "|" if line.count("|") >= line.count(",") else ","
    return delim, [f.strip() for f in line.split(delim)]


class WithholdingFile(Format):
    name = "withholding"
    table = "channel_txns"
    description = "withholding channel file (通联订单号|订单类型|交易金额(分)|..., trailer)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() not in (".txt", ".csv", ".dat"):
            return no("file name does not end in .txt, .csv or .dat")
        text = head_text(head)
        first = text.splitlines()[0] if text else ""
        _, header = _split(first)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            return no(f"first line is not a withholding header; lacks {missing}")
        return yes("withholding channel header (fen amounts)")

    def normalize(self, ctx: FileContext) -> Normalized:
        from transforms.textio import read_head

        lines = iter_lines(ctx.path, guess_encoding(read_head(ctx.path)))
        _, first = next(lines, (0, ""))
        delim, header = _split(first)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputFileError(
                ctx.path, 1, f"expected withholding columns {missing}; header has {header}"
            )
        data, trailer = [], None
        for line_no, text in lines:
            if not text.strip():
                continue
            if text.split(delim, 1)[0].strip() in TRAILER_MARKERS:
                trailer = (line_no, [f.strip() for f in text.split(delim)])
            else:
                data.append((line_no, text))
        if trailer is None:
            raise InputFileError(
                ctx.path,
                None,
                "expected a trailer line (TRAILER|count|total fen|fee fen); none found",
            )
        cols = [f"c{i}" for i in range(len(header))]
        staged = stage_delimited(
            ctx.con, ctx.workdir, ctx.t("lines"), data, cols, delim=delim, quote=""
        )
        col = {name: sql.clean(f"c{i}") for i, name in enumerate(header)}

        def get(name: str) -> str:
            return col.get(name, "NULL::VARCHAR")

        kind = get("订单类型")
        in_list = lambda vals: ", ".join(f"'{v}'" for v in vals)  # noqa: E731
        is_refund = f"({kind} IN ({in_list(REFUND_TYPES)}))"
        amount = sql.fen(get("交易金额(分)"))
        fee = sql.fen(get("渠道手续费(分)"))
        when = sql.local_time(get("交易时间"), TIME_FORMATS)
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            SELECT line_no, raw,
                '{ctx.source.channel}' AS channel,
                {get("通联订单号")} AS channel_txn_id,
                {get("商户订单号")} AS merchant_order_no,
                {get("原通联订单号")} AS orig_channel_txn_id,
                {get("原商户订单号")} AS orig_merchant_order_no,
                CASE WHEN {is_refund} THEN 'REFUND' ELSE 'PAY' END AS txn_type,
                abs({amount}) AS amount,
                coalesce({fee}, 0) AS fee,
                'SUCCESS' AS status,
                {sql.instant(when, ctx.timezone)} AS txn_time,
                CAST({when} AS DATE) AS biz_date,
                {get("卡号")} AS card_no,
                coalesce(reject_reason, {
                sql.first_reason(
                    sql.required(
                        [
                            ("通联订单号", get("通联订单号")),
                            ("交易金额(分)", get("交易金额(分)")),
                            ("交易时间", get("交易时间")),
                        ]
                    ),
                    sql.field_checks(
                        [
                            ("交易金额(分)", get("交易金额(分)"), amount),
                            ("渠道手续费(分)", get("渠道手续费(分)"), fee),
                            ("交易时间", get("交易时间"), when),
                        ]
                    ),
                    f"CASE WHEN {kind} NOT IN ({in_list(PAY_TYPES + REFUND_TYPES)}) "
                    f"THEN '订单类型: expected one of {'/'.join(PAY_TYPES + REFUND_TYPES)}, found ' || coalesce({kind}, '') END",
                )
            }) AS reject_reason,
                {amount} AS _amount_signed, {fee} AS _fee
            FROM {staged}
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchone()[0]
        count, total, fees = ctx.con.execute(
            f"SELECT count(*), coalesce(sum(_amount_signed), 0), coalesce(sum(_fee), 0) FROM {typed} "
            "WHERE reject_reason IS NULL"
        ).fetchone()
        t_line, t = trailer

        def stated_fen(i: int):
            try:
                return (Decimal(t[i]) / 100).quantize(Decimal("0.01"))
            except Exception:
                return None

        def stated_int(i: int):
            try:
                return int(t[i])
            except Exception:
                return None

        checks = [
            ControlCheck("record count (trailer)", stated_int(1), count),
            ControlCheck("交易金额 total (trailer)", stated_fen(2), total),
        ]
        if len(t) > 3:
            checks.append(ControlCheck("渠道手续费 total (trailer)", stated_fen(3), fees))
        return Normalized(self.table, typed, rows_in, checks)
