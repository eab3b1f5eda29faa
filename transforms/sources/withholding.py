"""Third-party withholding channel file (Allinpay-style): pipe or comma, amounts in fen,
successful orders only, a header line and a trailer line with record count and totals.

    通联订单号|订单类型|交易金额(分)|平台抽佣金额(分)|交易时间|商户订单号|原商户订单号|原通联订单号|支付模式|扩展参数|结算金额(分)|渠道手续费(分)|卡号
    ...
    TRAILER|<record count>|<sum of 交易金额(分)>|<sum of 渠道手续费(分)>

Columns are mapped by header name. The encoding (UTF-8 or GB18030) is judged by
the header line; a line in another encoding further down is a file error naming
that line. 订单类型 代扣/消费/支付/PAY is a payment, 退货/退款/REFUND a refund;
交易金额 is written positive (txn_type carries the direction) and keeps its sign: a
negative or zero amount is a rejected row naming it, never read as its absolute
value. The trailer total is checked against the amounts as written.

The trailer is expected: a file without one (cut short?) keeps its rows and
gets a failing control check, unless the source sets `options.trailer = false`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from transforms import fastcsv
from transforms.config import Option
from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.textio import (
    check_width,
    first_line,
    first_line_encoding,
    is_blank,
    iter_lines,
    joined_fields,
    read_head,
    stage_delimited,
)

REQUIRED = ["通联订单号", "订单类型", "交易金额(分)", "交易时间", "商户订单号"]
OPTIONAL = ["原商户订单号", "原通联订单号", "渠道手续费(分)", "卡号"]
TRAILER_MARKERS = ("TRAILER", "合计", "汇总")
TIME_FORMATS = ["%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S"]
PAY_TYPES = ("代扣", "消费", "PAY", "支付")
REFUND_TYPES = ("退货", "退款", "REFUND")
STATED_INT = re.compile(r"[+-]?[0-9]{1,18}")


def _split(line: str) -> tuple[str, list[str]]:
    delim = "|" if line.count("|") >= line.count(",") else ","
    return delim, [f.strip() for f in line.split(delim)]


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _stated_int(text: str | None) -> int | None:
    """A whole number as the trailer states it: ASCII digits (int() also takes ０-９ and 1_000)."""
    text = text.strip() if text is not None else ""
    return int(text) if STATED_INT.fullmatch(text) else None


def _stated_fen(text: str | None) -> Decimal | None:
    fen = _stated_int(text)
    return None if fen is None else Decimal(fen).scaleb(-2)


class WithholdingFile(Format):
    name = "withholding"
    table = "channel_txns"
    description = "withholding channel file (通联订单号|订单类型|交易金额(分)|..., trailer)"
    OPTIONS = {
        "trailer": Option(
            bool,
            True,
            help="a TRAILER line is expected; false: a file without one gets no failing check",
        ),
    }

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() not in (".txt", ".csv", ".dat"):
            return no("file name does not end in .txt, .csv or .dat")
        _, header = _split(first_line(head)) if head else ("|", [])
        missing = [c for c in REQUIRED if c not in header]
        if "通联订单号" not in header or len(missing) > 2:
            return no(f"first line is not a withholding header; lacks {missing}")
        # Unmistakably a withholding file from here on: normalize() names any missing column.
        return yes("withholding channel header (fen amounts)")

    def normalize(self, ctx: FileContext) -> Normalized:
        encoding = first_line_encoding(read_head(ctx.path))
        lines = iter_lines(ctx.path, encoding)
        _, first = next(lines, (0, ""))
        delim, header = _split(first)
        missing = [c for c in REQUIRED if c not in header]
        doubled = sorted({h for h in header if h and header.count(h) > 1})
        if missing or doubled:
            problem = f"missing {missing}" if missing else f"repeated columns {doubled}"
            raise InputFileError(
                ctx.path,
                1,
                f"expected a withholding header with the columns {REQUIRED} "
                f"(and optionally {OPTIONAL}); {problem}; "
                f"found {header if first.strip() else 'an empty line'}",
            )
        check_width(ctx.path, 1, len(header))
        trailer: dict = {}
        cols = [f"c{i}" for i in range(len(header))]
        text, f = sql.pick_fields(header, REQUIRED + OPTIONAL)
        kind = f("订单类型")
        parsed = ", ".join(
            [
                f"({kind} IN {_in(REFUND_TYPES)}) AS _refund",
                f"{sql.fen_text(f('交易金额(分)'))} AS _amount",
                f"{sql.fen_text(f('渠道手续费(分)'))} AS _fee",
                f"{sql.local_time(f('交易时间'), TIME_FORMATS)} AS _time",
            ]
        )
        reason = sql.first_reason(
            sql.required(
                [
                    (n, f(n))
                    for n in ("通联订单号", "订单类型", "交易金额(分)", "交易时间", "商户订单号")
                ]
            ),
            sql.unreadable("交易金额(分)", f("交易金额(分)"), "_amount", "whole fen like 12345"),
            sql.unreadable("渠道手续费(分)", f("渠道手续费(分)"), "_fee", "whole fen like 37"),
            sql.unreadable("交易时间", f("交易时间"), "_time", "yyyyMMddHHmmss"),
            f"CASE WHEN {kind} NOT IN {_in(PAY_TYPES + REFUND_TYPES)} "
            f"THEN '订单类型: expected one of {'/'.join(PAY_TYPES + REFUND_TYPES)}, found ' || {kind} END",
            # the amount keeps its sign: a negative (or zero) amount is not a payment or refund
            f"CASE WHEN _amount <= 0 THEN '交易金额(分): expected a positive whole fen amount "
            f"(订单类型 ' || {kind} || ' gives the direction), found ' || {f('交易金额(分)')} END",
        )
        is_header = f"(ltrim({f('通联订单号')}, '\ufeff') = '通联订单号' AND {kind} = '订单类型')"
        typed = ctx.t("typed")

        def build(staged: str) -> str:
            ctx.con.execute(
                f"""
            CREATE OR REPLACE TABLE {typed} AS
            {sql.typed_rows_cte(staged, cols, text, parsed, is_header, reason, header, delim)}
            SELECT line_no,
                {sql.sql_literal(ctx.source.channel)} AS channel,
                {f("通联订单号")} AS channel_txn_id,
                {f("商户订单号")} AS merchant_order_no,
                {f("原通联订单号")} AS orig_channel_txn_id,
                {f("原商户订单号")} AS orig_merchant_order_no,
                CASE WHEN _refund THEN 'REFUND' ELSE 'PAY' END AS txn_type,
                _amount AS amount,
                coalesce(_fee, 0) AS fee,
                'SUCCESS' AS status,
                {sql.instant("_time", ctx.timezone)} AS txn_time,
                CAST(_time AS DATE) AS biz_date,
                {f("卡号")} AS card_no,
                _reason AS reject_reason,
                CASE WHEN _reason IS NOT NULL
                     THEN coalesce(raw, {joined_fields(cols, delim)}) END AS raw,
                _amount AS _amount_signed, _fee
            FROM r
            """
            )
            return typed

        def careful() -> str:
            trailer.clear()
            fresh = iter_lines(ctx.path, encoding)
            next(fresh, None)
            return stage_delimited(
                ctx.con,
                ctx.workdir,
                ctx.t("lines"),
                self._data_lines(fresh, delim, trailer),
                cols,
                delim=delim,
                quote="",
                materialize=False,
            )

        markers = tuple(m.encode() for m in TRAILER_MARKERS)
        path, scan = fastcsv.prepare(ctx.path, ctx.workdir, encoding, markers)
        skip = self._trailer_at(path, scan, delim, trailer)
        layout = fastcsv.Layout(cols, delim, "", data_start=2, skip_lines=skip)
        staged = fastcsv.stage_typed(ctx.con, ctx.t("lines"), path, layout, scan, build, careful)
        rows_in = sql.count_accounted(ctx.con, ctx.path, typed, staged)
        return Normalized(self.table, typed, rows_in, self._checks(ctx, typed, trailer))

    @classmethod
    def _trailer_at(cls, path: Path, scan: fastcsv.Scan, delim: str, trailer: dict):
        """The first trailer line found by the scan, read into `trailer` as `_data_lines`
        does; its line number."""
        if not scan.plain or not scan.markers:
            return frozenset()
        first = next(fastcsv.lines_from(path, scan.markers[0][1], scan.markers[0][0]))
        if is_blank(first[1]):
            return frozenset()
        list(cls._data_lines(iter([first]), delim, trailer))
        return frozenset({first[0]})

    @staticmethod
    def _data_lines(
        lines: Iterator[tuple[int, str]], delim: str, trailer: dict
    ) -> Iterator[tuple[int, str]]:
        """Data lines, minus blank lines and the (first) trailer line, which lands in `trailer`."""
        for line_no, text in lines:
            if is_blank(text):
                continue
            if "fields" not in trailer and text.startswith(TRAILER_MARKERS):
                trailer["fields"] = [x.strip() for x in text.split(delim)]
                trailer["line"] = line_no
                continue
            yield line_no, text

    def _checks(self, ctx: FileContext, typed: str, trailer: dict) -> list[ControlCheck]:
        count, total, fees = ctx.con.execute(
            f"SELECT count(*), coalesce(sum(_amount_signed), 0), coalesce(sum(_fee), 0) "
            f"FROM {typed} WHERE reject_reason IS NULL"
        ).fetchall()[0]
        if "fields" not in trailer:
            if ctx.source.options.get("trailer", True) is False:
                return []
            return [
                ControlCheck(
                    "trailer line (TRAILER|count|total fen|fee fen): none found, "
                    "the file may be truncated",
                    None,
                    count,
                )
            ]
        t = trailer["fields"] + [None] * 4
        checks = [
            ControlCheck("record count (trailer)", _stated_int(t[1]), count),
            ControlCheck("交易金额 total (trailer)", _stated_fen(t[2]), total),
        ]
        if len(trailer["fields"]) > 3:
            checks.append(ControlCheck("渠道手续费 total (trailer)", _stated_fen(t[3]), fees))
        return checks
