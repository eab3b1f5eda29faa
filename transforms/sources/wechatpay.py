"""WeChat Pay merchant trade bill (ALL / SUCCESS / REFUND; current and legacy layouts).

Columns are mapped by header name, never by position. Every data field carries a
leading backtick, so fields are split on ",`" (a comma inside 商品名称 stays in
its field). The last two lines are a summary header and its values, checked
against the rows that normalized.

Layouts:
  current (27/20/29 columns): 应结订单金额, 代金券金额, ... 订单金额, 申请退款金额, 费率备注;
      summary 总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
  legacy (24/18/26 columns): 子商户号, 总金额, 代金券或立减优惠金额 (or 企业红包金额), ...;
      summary 总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额
In the legacy layout 总金额 plays the role of 应结订单金额; 总交易额 is checked
against the 总金额 of the payment rows (refund rows are netted in 总退款金额).

On a refund row 交易状态 is REFUND, the ids are the refund's (微信退款单号,
商户退款单号) with the payment's ids as orig_*, the amount is 退款金额 and the
time is 退款成功时间 when the bill has it (交易时间 is the original payment's).
手续费 has up to five decimals: the canonical fee is rounded half-up to the fen,
while 手续费总金额 is checked against the exact sum.

Amounts are unsigned in the bill (the row type gives the direction): a payment row
whose 应结订单金额/总金额 is negative or zero (`-0.00` included), or a refund row
whose 退款金额 is, is rejected naming the amount.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from transforms import fastcsv
from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import (
    ControlCheck,
    FileContext,
    Format,
    Normalized,
    Verdict,
    name_allows,
    no,
    yes,
)
from transforms.textio import (
    check_width,
    first_line,
    is_blank,
    iter_lines,
    joined_fields,
    stage_delimited,
)

AMOUNT_COLUMNS = ("应结订单金额", "总金额")  # current, legacy
REQUIRED = ["交易时间", "微信订单号", "商户订单号", "交易状态", "手续费"]
SUMMARY_FIRST = "总交易单数"
SUMMARY_STARTS = (SUMMARY_FIRST, "`" + SUMMARY_FIRST)
TIME_TEXT = "YYYY-MM-DD HH:MM:SS"
FEE_PLACES = Decimal("0.00001")
STATED_NUMBER = re.compile(r"[+-]?[0-9]{1,16}(?:\.[0-9]{1,6})?")
STATED_COUNT = re.compile(r"[0-9]{1,18}")
CENT = Decimal("0.01")


def _delimiter(line: str) -> str:
    """`,` as WeChat writes the bill; TAB for the tab-separated copy some downloads give."""
    return "\t" if line.count("\t") > line.count(",") else ","


def _fields(line: str, delim: str | None = None) -> list[str]:
    return [f.strip().lstrip("`").strip() for f in line.split(delim or _delimiter(line))]


# What Excel leaves of a 28-digit id it took for a number: `4.20000123E+27`, or 15
# significant digits and zeros (`4200001234567890000000000000`): the real id is lost.
EXCEL_NUMBER = "[0-9](\\.[0-9]+)?[eE][+]?[0-9]+"
EXCEL_ZEROS = "[1-9][0-9]{0,14}0{10,}"
ID_COLUMNS = ("微信订单号", "商户订单号", "微信退款单号", "商户退款单号")


def _missing(header: list[str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in AMOUNT_COLUMNS):
        missing.append("应结订单金额 (or 总金额)")
    return missing


def _decimal(text: str | None, places: Decimal = CENT) -> Decimal | None:
    """A stated total as a Decimal (shown to `places` when that loses nothing); None if unreadable."""
    text = text.replace(",", "").strip() if text is not None else ""
    if not STATED_NUMBER.fullmatch(text):  # ASCII digits only: Decimal() takes ０-９ and 1E+99
        return None
    value = Decimal(text)
    try:
        shown = value.quantize(places)
    except InvalidOperation:
        return value
    return shown if shown == value else value


def _count(text: str | None) -> int | None:
    text = text.strip() if text is not None else ""
    return int(text) if STATED_COUNT.fullmatch(text) else None


class WeChatPayBill(Format):
    name = "wechatpay_bill"
    table = "channel_txns"
    description = "WeChat Pay merchant trade bill (交易时间,公众账号ID,商户号,...)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if not name_allows(path, (".csv", ".txt")):
            return no("file name does not end in .csv or .txt (or a generic .dat)")
        header = _fields(first_line(head)) if head else []
        if header[:1] != ["交易时间"] or not {"微信订单号", "商户订单号"} <= set(header):
            return no(
                "first line is not a WeChat Pay bill header (交易时间,...,微信订单号,商户订单号,...)"
            )
        # Unmistakably a WeChat bill from here on: normalize() names any missing column.
        return yes("WeChat Pay trade bill header")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = iter_lines(ctx.path, "utf-8-sig")
        _, first = next(lines, (0, ""))
        base = _delimiter(first)
        header = _fields(first, base)
        missing = _missing(header)
        doubled = sorted({h for h in header if h and header.count(h) > 1})
        if missing or doubled:
            problem = f"missing {missing}" if missing else f"repeated columns {doubled}"
            raise InputFileError(
                ctx.path,
                1,
                f"expected a WeChat Pay bill header with {REQUIRED} and 应结订单金额 (or 总金额); "
                f"{problem}; found {header if first.strip() else 'an empty line'}",
            )
        check_width(ctx.path, 1, len(header))
        summary: dict = {}
        data = self._data_lines(lines, summary)
        # Peek at the first data line: backtick-prefixed fields are split on ",`".
        first_data = next(data, None)
        delim = base + "`" if first_data is not None and first_data[1].startswith("`") else base
        # Without backticks (a copy saved by Excel, some downloads) a field holding the
        # delimiter is quoted, as in any CSV; with them, a quote is just text.
        quote = "" if delim.endswith("`") else '"'
        cols = [f"c{i}" for i in range(len(header))]
        summary.clear()
        amount_col = next(c for c in AMOUNT_COLUMNS if c in header)
        names = ["交易时间", "微信订单号", "商户订单号", "交易状态", "手续费", amount_col]
        names += [
            "微信退款单号",
            "商户退款单号",
            "退款金额",
            "退款状态",
            "退款成功时间",
            "用户标识",
        ]
        text, f = sql.pick_fields(header, names, " \t`\u3000", lead="`")
        refund = "(upper(" + f("交易状态") + ") = 'REFUND')"
        parsed = ", ".join(
            [
                f"{refund} AS _refund",
                f"{sql.yuan_text(f(amount_col))} AS _settle",
                f"{sql.yuan_text(f('退款金额'))} AS _refund_amount",
                f"{sql.yuan_text(f('手续费'), 6, 'DECIMAL(24,6)')} AS _fee_exact",
                f"{sql.iso_local_ts(f('交易时间'))} AS _trade_time",
                f"{sql.iso_local_ts(f('退款成功时间'))} AS _refund_time",
            ]
        )
        checks = [
            sql.required(
                [
                    ("交易时间", f("交易时间")),
                    ("微信订单号", f("微信订单号")),
                    ("交易状态", f("交易状态")),
                ]
            ),
            sql.unreadable("交易时间", f("交易时间"), "_trade_time", f"a local time {TIME_TEXT}"),
            sql.unreadable(amount_col, f(amount_col), "_settle", "yuan like 12.34"),
            sql.unreadable("手续费", f("手续费"), "_fee_exact", "yuan like 0.01234"),
            f"CASE WHEN NOT _refund AND {f(amount_col)} IS NULL "
            f"THEN '{amount_col}: required, found empty' END",
            # a payment is money in: a sign (`-12.34`, even `-0.00`) or zero is not one
            f"CASE WHEN NOT _refund AND _settle <= 0 THEN '{amount_col}: expected a positive "
            f"amount on a payment row, found ' || {f(amount_col)} END",
        ]
        if "退款金额" in header:
            checks += [
                sql.unreadable("退款金额", f("退款金额"), "_refund_amount", "yuan like 12.34"),
                f"CASE WHEN _refund AND {f('退款金额')} IS NULL "
                "THEN '退款金额: required on a REFUND row, found empty' END",
                f"CASE WHEN _refund AND _refund_amount <= 0 THEN '退款金额: expected a positive "
                f"amount on a REFUND row (WeChat writes refunds unsigned), found ' "
                f"|| {f('退款金额')} END",
            ]
        else:
            checks.append(
                "CASE WHEN _refund THEN '交易状态: REFUND row in a bill without 退款金额' END"
            )
        if "微信退款单号" in header:
            checks.append(
                f"CASE WHEN _refund AND {f('微信退款单号')} IS NULL "
                "THEN '微信退款单号: required on a REFUND row, found empty' END"
            )
        if "退款成功时间" in header:
            checks.append(
                sql.unreadable(
                    "退款成功时间", f("退款成功时间"), "_refund_time", f"a local time {TIME_TEXT}"
                )
            )
        reason = sql.first_reason(*checks)
        # A header line again (bills concatenated): fields split like data, or, in a
        # backtick bill, a line of one field.
        is_header = (
            f"((ltrim({f('交易时间')}, '\ufeff') = '交易时间' AND {f('微信订单号')} = '微信订单号') "
            "OR regexp_matches(ltrim(raw, '\ufeff'), '^交易时间[,\t]'))"
        )
        txn_time = "CASE WHEN _refund THEN coalesce(_refund_time, _trade_time) ELSE _trade_time END"
        refund_ok = f"coalesce(upper({f('退款状态')}), 'SUCCESS') = 'SUCCESS'"
        typed = ctx.t("typed")

        def build(staged: str) -> str:
            ctx.con.execute(
                f"""
            CREATE OR REPLACE TABLE {typed} AS
            {sql.typed_rows_cte(staged, cols, text, parsed, is_header, reason, header, delim)}
            SELECT line_no,
                {sql.sql_literal(ctx.source.channel)} AS channel,
                CASE WHEN _refund THEN {f("微信退款单号")} ELSE {f("微信订单号")} END AS channel_txn_id,
                CASE WHEN _refund THEN {f("商户退款单号")} ELSE {f("商户订单号")} END
                    AS merchant_order_no,
                CASE WHEN _refund THEN {f("微信订单号")} END AS orig_channel_txn_id,
                CASE WHEN _refund THEN {f("商户订单号")} END AS orig_merchant_order_no,
                CASE WHEN _refund THEN 'REFUND' ELSE 'PAY' END AS txn_type,
                CASE WHEN _refund THEN _refund_amount ELSE _settle END AS amount,
                CAST(round(_fee_exact, 2) AS DECIMAL(18,2)) AS fee,
                CASE WHEN upper({f("交易状态")}) = 'SUCCESS' THEN 'SUCCESS'
                     WHEN _refund AND {refund_ok} THEN 'SUCCESS'
                     ELSE 'FAILED' END AS status,
                {sql.instant(txn_time, ctx.timezone)} AS txn_time,
                CAST({txn_time} AS DATE) AS biz_date,
                {f("用户标识")} AS payer_name,
                _reason AS reject_reason,
                CASE WHEN _reason IS NOT NULL
                     THEN coalesce(raw, {joined_fields(cols, delim)}) END AS raw,
                _refund, _settle, _refund_amount, _fee_exact
            FROM r
            """
            )
            return typed

        def careful() -> str:
            summary.clear()
            fresh = iter_lines(ctx.path, "utf-8-sig")
            next(fresh, None)
            return stage_delimited(
                ctx.con,
                ctx.workdir,
                ctx.t("lines"),
                self._data_lines(fresh, summary),
                cols,
                delim=delim,
                quote=quote,
                materialize=False,
            )

        markers = tuple(m.encode() for m in SUMMARY_STARTS)
        path, scan = fastcsv.prepare(ctx.path, ctx.workdir, "utf-8", markers, quote)
        skip = self._summary_at(path, scan, summary)
        layout = fastcsv.Layout(cols, delim, quote, data_start=2, skip_lines=skip)
        staged = fastcsv.stage_typed(ctx.con, ctx.t("lines"), path, layout, scan, build, careful)
        rows_in = sql.count_accounted(ctx.con, ctx.path, typed, staged)
        self._refuse_excel_ids(ctx, typed)
        return Normalized(self.table, typed, rows_in, self._checks(ctx, typed, summary))

    @staticmethod
    def _refuse_excel_ids(ctx: FileContext, typed: str) -> None:
        """A bill saved by Excel has ids turned into numbers (digits lost): refuse the file."""
        found = ctx.con.execute(
            f"""SELECT line_no, name, value FROM (
                    SELECT line_no, CASE WHEN _refund THEN '微信退款单号' ELSE '微信订单号' END AS name,
                           channel_txn_id AS value, true AS wx FROM {typed}
                    UNION ALL
                    SELECT line_no, CASE WHEN _refund THEN '商户退款单号' ELSE '商户订单号' END,
                           merchant_order_no, false FROM {typed}
                    UNION ALL SELECT line_no, '微信订单号', orig_channel_txn_id, true FROM {typed}
                    UNION ALL SELECT line_no, '商户订单号', orig_merchant_order_no, false FROM {typed})
                WHERE regexp_full_match(value, '{EXCEL_NUMBER}')
                   OR (wx AND regexp_full_match(value, '{EXCEL_ZEROS}'))
                ORDER BY line_no LIMIT 1"""
        ).fetchall()
        if found:
            line, name, value = found[0]
            raise InputFileError(
                ctx.path,
                line,
                f"{name} is {value!r}: this bill has been opened and saved in Excel, which "
                "turned the ids into numbers and kept only 15 digits, so the real ids are lost; "
                "expected the bill as downloaded from WeChat Pay (ids as text, each field "
                "starting with a backtick): download it again",
            )

    @staticmethod
    def _summary_at(path: Path, scan: fastcsv.Scan, summary: dict) -> frozenset[int]:
        """The summary block found by the scan (its first marker line and the next non-blank
        line, as `_data_lines` reads them), into `summary`; their line numbers."""
        if not scan.plain or not scan.markers:
            return frozenset()
        line_no, offset = scan.markers[0]
        lines = fastcsv.lines_from(path, offset, line_no)
        _, text = next(lines)
        summary["names"], summary["line"] = _fields(text), line_no
        for values_no, values in lines:
            if not is_blank(values):
                summary["values"], summary["values_line"] = _fields(values), values_no
                return frozenset({line_no, values_no})
        return frozenset({line_no})

    @staticmethod
    def _data_lines(lines: Iterator[tuple[int, str]], summary: dict) -> Iterator[tuple[int, str]]:
        """Data lines, minus blank lines and the summary block, which lands in `summary`."""
        for line_no, text in lines:
            if text.startswith(SUMMARY_STARTS) and "names" not in summary:
                summary["names"] = _fields(text)
                summary["line"] = line_no
                for values_no, values in lines:
                    if not is_blank(values):
                        summary["values"] = _fields(values)
                        summary["values_line"] = values_no
                        break
                continue
            if not is_blank(text):
                yield line_no, text

    def _checks(self, ctx: FileContext, typed: str, summary: dict) -> list[ControlCheck]:
        count, settle_all, settle_pay, refund, fee = ctx.con.execute(
            f"""SELECT count(*), coalesce(sum(_settle), 0),
                       coalesce(sum(_settle) FILTER (WHERE NOT _refund), 0),
                       coalesce(sum(_refund_amount) FILTER (WHERE _refund), 0),
                       coalesce(sum(_fee_exact), 0)
                FROM {typed} WHERE reject_reason IS NULL"""
        ).fetchall()[0]
        if "names" not in summary:
            return [
                ControlCheck(
                    f"summary lines ({SUMMARY_FIRST},...): none found, the bill may be truncated",
                    None,
                    count,
                )
            ]
        stated = dict(zip(summary["names"], summary.get("values", []), strict=False))
        fee_computed = fee.quantize(FEE_PLACES) if fee == fee.quantize(FEE_PLACES) else fee
        checks = [
            ControlCheck(f"row count ({SUMMARY_FIRST})", _count(stated.get(SUMMARY_FIRST)), count)
        ]
        totals = [
            ("应结订单总金额", settle_all),  # current layout: 应结订单金额 of every row
            ("总交易额", settle_pay),  # legacy layout: 总金额 of the payment rows
            ("退款总金额", refund),
            ("总退款金额", refund),
        ]
        for name, computed in totals:
            if name in summary["names"]:
                checks.append(ControlCheck(name, _decimal(stated.get(name)), computed))
        if "手续费总金额" in summary["names"]:
            checks.append(
                ControlCheck(
                    "手续费总金额", _decimal(stated.get("手续费总金额"), FEE_PLACES), fee_computed
                )
            )
        return checks
