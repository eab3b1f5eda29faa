"""WeChat Pay merchant trade bill (ALL / SUCCESS / REFUND; current and legacy layouts).

Columns are mapped by header name, never by position. Every field carries a
leading backtick. The last two lines are a summary header and its values,
checked against the rows read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.textio import head_text, iter_lines, stage_delimited

REQUIRED = ["交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "手续费"]
SUMMARY_FIRST = "总交易单数"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _fields(line: str) -> list[str]:
    return [f.strip().lstrip("`") for f in line.split(",")]


class WeChatPayBill(Format):
    name = "wechatpay_bill"
    table = "channel_txns"
    description = "WeChat Pay merchant trade bill (交易时间,公众账号ID,商户号,...)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() not in (".csv", ".txt"):
            return no("file name does not end in .csv or .txt")
        text = head_text(head)
        first = text.splitlines()[0] if text else ""
        header = _fields(first)
        if header[:1] != ["交易时间"] or "微信订单号" not in header:
            return no("first line is not a WeChat Pay bill header (交易时间,...,微信订单号,...)")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            return no(f"WeChat-like header lacks {missing}")
        return yes("WeChat Pay trade bill header")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = iter_lines(ctx.path, "utf-8-sig")
        _, first = next(lines, (0, ""))
        header = _fields(first)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputFileError(
                ctx.path, 1, f"expected WeChat bill columns {missing}; header has {header}"
            )
        data, summary = [], None
        pending_summary = False
        for line_no, text in lines:
            if not text.strip():
                continue
            if pending_summary:
                summary = (line_no, _fields(text))
                pending_summary = False
            elif text.lstrip("`").startswith(SUMMARY_FIRST):
                summary_header = _fields(text)
                pending_summary = True
            elif summary is None:
                data.append((line_no, text))
            else:
                data.append(
                    (line_no, text)
                )  # rows after the summary are still rows: never drop them
        cols = [f"c{i}" for i in range(len(header))]
        staged = stage_delimited(ctx.con, ctx.workdir, ctx.t("lines"), data, cols, quote="")
        col = {name: sql.clean(f"c{i}") for i, name in enumerate(header)}

        def get(*names: str) -> str:
            for n in names:
                if n in col:
                    return col[n]
            return "NULL::VARCHAR"

        status = f"upper({get('交易状态')})"
        is_refund = f"({status} = 'REFUND')"
        settle_amount = sql.money(get("应结订单金额"))
        refund_amount = sql.money(get("退款金额"))
        fee = sql.money_rounded(get("手续费"))
        trade_time = sql.local_time(get("交易时间"), TIME_FORMAT)
        refund_time = sql.local_time(get("退款成功时间"), TIME_FORMAT)
        txn_time = f"CASE WHEN {is_refund} THEN coalesce({refund_time}, {trade_time}) ELSE {trade_time} END"
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            SELECT line_no, replace(raw, '`', '') AS raw,
                '{ctx.source.channel}' AS channel,
                CASE WHEN {is_refund} THEN {get("微信退款单号")} ELSE {
                get("微信订单号")
            } END AS channel_txn_id,
                CASE WHEN {is_refund} THEN {get("商户退款单号")} ELSE {
                get("商户订单号")
            } END AS merchant_order_no,
                CASE WHEN {is_refund} THEN {get("微信订单号")} END AS orig_channel_txn_id,
                CASE WHEN {is_refund} THEN {get("商户订单号")} END AS orig_merchant_order_no,
                CASE WHEN {is_refund} THEN 'REFUND' ELSE 'PAY' END AS txn_type,
                CASE WHEN {is_refund} THEN {refund_amount} ELSE {settle_amount} END AS amount,
                {fee} AS fee,
                CASE WHEN {status} = 'SUCCESS' THEN 'SUCCESS'
                     WHEN {is_refund} AND coalesce(upper({
                get("退款状态")
            }), 'SUCCESS') = 'SUCCESS' THEN 'SUCCESS'
                     ELSE 'FAILED' END AS status,
                {sql.instant(txn_time, ctx.timezone)} AS txn_time,
                CAST({txn_time} AS DATE) AS biz_date,
                {get("用户标识")} AS payer_name,
                coalesce(reject_reason, {
                sql.first_reason(
                    sql.required(
                        [
                            ("交易时间", get("交易时间")),
                            ("微信订单号", get("微信订单号")),
                            ("交易状态", get("交易状态")),
                        ]
                    ),
                    sql.field_checks(
                        [
                            ("交易时间", get("交易时间"), trade_time),
                            ("应结订单金额", get("应结订单金额"), settle_amount),
                            ("退款金额", get("退款金额"), refund_amount),
                            ("手续费", get("手续费"), fee),
                        ]
                    ),
                )
            }) AS reject_reason,
                {settle_amount} AS _settle_amount, {refund_amount} AS _refund_amount,
                {sql.money_rounded(get("手续费"), 6)} AS _fee_exact
            FROM {staged}
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchone()[0]
        checks = self._checks(ctx, typed, summary_header if summary else None, summary)
        return Normalized(self.table, typed, rows_in, checks)

    def _checks(self, ctx, typed, summary_header, summary) -> list[ControlCheck]:
        if summary is None:
            raise InputFileError(
                ctx.path,
                None,
                f"expected the summary lines ({SUMMARY_FIRST},...) at the end of the bill; none found",
            )
        line_no, values = summary
        stated = dict(zip(summary_header, values, strict=False))
        count, settle, refund, fee = ctx.con.execute(
            f"""SELECT count(*), coalesce(sum(_settle_amount), 0), coalesce(sum(_refund_amount), 0),
                       coalesce(sum(_fee_exact), 0)
                FROM {typed} WHERE reject_reason IS NULL"""
        ).fetchone()

        def dec(key):
            try:
                return Decimal(stated[key].replace(",", "")).quantize(Decimal("0.01"))
            except Exception:
                return None

        checks = [
            ControlCheck(
                "row count (总交易单数)", int(stated.get(SUMMARY_FIRST, "-1") or -1), count
            )
        ]
        if "应结订单总金额" in stated:
            checks.append(ControlCheck("应结订单总金额", dec("应结订单总金额"), settle))
        if "退款总金额" in stated:
            checks.append(ControlCheck("退款总金额", dec("退款总金额"), refund))
        if "手续费总金额" in stated:
            checks.append(
                ControlCheck(
                    "手续费总金额", dec("手续费总金额"), Decimal(fee).quantize(Decimal("0.01"))
                )
            )
        return checks
