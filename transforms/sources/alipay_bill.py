"""Alipay merchant bill, 业务明细 (bill download API), as a `.csv` or zipped (`.zip`, `.csv.zip`).

Accepted layout (GBK bytes, CRLF or LF; `<TAB>` stands for one TAB character):

    #支付宝业务明细查询
    #账号：[20880123456789010156]
    #起始日期：[2026年11月01日 00:00:00]   终止日期：[2026年11月02日 00:00:00]
    #-----------------------------------------业务明细列表----------------------------------------
    支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注
    2026110122001412345678901234<TAB>,R202611010001<TAB>,交易,还款,2026-11-01 09:15:02,2026-11-01 09:15:04,,,,,138****0001,100.00,100.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.60,0.00,
    2026110122001412345678901234<TAB>,R202611010001<TAB>,退款,还款,2026-11-01 09:15:02,2026-11-01 15:00:00,,,,,138****0001,-30.00,-30.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,RF202611010001<TAB>,0.18,0.00,
    #-----------------------------------------业务明细列表结束------------------------------------
    #交易合计：1笔，商家实收共100.00元，商家优惠共0.00元，支付宝优惠共0.00元，服务费共-0.60元，分润共0.00元
    #退款合计：1笔，商家实收共-30.00元，商家优惠共0.00元，支付宝优惠共0.00元，服务费共0.18元，分润共0.00元
    #导出时间：[2026年11月02日 08:10:00]

Reading rules:
- Encoding: judged by the first line: UTF-8 (with or without BOM) if it decodes
  as UTF-8, else GB18030 (a superset of GBK). A UTF-8 copy of a bill is read the
  same as the GBK original; a line in another encoding further down is a file
  error naming that line. Line endings `\\n` or `\\r\\n`.
- Before the column header: only `#` lines and blank lines (their content is not
  checked). The column header is the first other line; an error names it when
  it lacks a required column. Columns are mapped by name, never by position;
  names are trimmed of spaces/TABs and half-width `(元)` counts as `（元）`.
  Required: 支付宝交易号, 商户订单号, 业务类型, 完成时间, 订单金额（元）,
  商家实收（元）. Used when present: 创建时间, 服务费（元）, 退款批次号/请求号,
  对方账户. Other columns are carried in `raw` only.
- Data rows: every later line that is neither blank nor starts with `#`, split on
  `,` (a field may be double-quoted, e.g. a 商品名称 holding a comma); each
  field is trimmed of spaces, TABs (the IDs carry a trailing TAB) and U+3000.
  A data line after the `#...业务明细列表结束...` line is rejected.
- 业务类型 交易 -> txn_type PAY; 退款 -> REFUND; anything else is rejected.
- Money: plain yuan, up to 2 decimals, optional sign (`-30.00`), no thousands
  separators. Refund rows carry negative 订单金额/商家实收; the footer totals are
  compared with the signed values. A 交易 row whose 订单金额 is negative or zero
  (`-0.00` included) is rejected (it would read as a payment of its absolute
  value), and so is a 退款 row of zero; a 退款 row written positive is read as
  the refund of that amount.
- Times: `YYYY-MM-DD HH:MM:SS`, local wall clock of the configured time zone.

Mapping to channel_txns: channel = the source's channel; status SUCCESS;
amount = abs(订单金额（元）); txn_time = 完成时间, else 创建时间 when 完成时间
is empty; biz_date = its local date; payer_name = 对方账户.
- PAY: channel_txn_id = 支付宝交易号, merchant_order_no = 商户订单号.
- REFUND: channel_txn_id = 支付宝交易号 + '_' + 退款批次号/请求号,
  merchant_order_no = 退款批次号/请求号, orig_channel_txn_id = 支付宝交易号,
  orig_merchant_order_no = 商户订单号. A 退款 row without 退款批次号/请求号 is
  rejected (it could not be told apart from the payment or another refund).
- fee = -服务费（元）: in the bill 服务费 is negative when Alipay charges it
  (交易 rows, e.g. -0.60) and positive when a refund gives it back (0.18), so
  the canonical fee is positive for a charge, negative for a returned fee.
  An empty 服务费 is 0.

Footer (control totals), every other `#` line after the header is ignored:
- `#交易合计：N笔，商家实收共X元，...服务费共F元...` (ASCII `:`/`,` also accepted):
  N is checked against the count of normalized 交易 rows, X against the sum of
  their 商家实收（元） as written, and F (only when the line states 服务费共)
  against the sum of their 服务费（元） as written.
- `#退款合计：N笔，商家实收退款共X元，...服务费退款共F元...` (as real bills write
  it; `商家实收共X元` is read too): the same for the 退款 rows (X and F as
  written, i.e. X is negative).
A footer line that is missing (a truncated file) gives failed checks with
stated None for its count and 商家实收 total; the rows are kept. A count or
total that the line has but cannot be read gives stated None likewise.

The footer lines are found by: a `#` line containing 业务明细列表结束 (end of
the rows), a line starting `#交易合计`, a line starting `#退款合计` (the first of
each counts); N is the number before `笔`, X the number between `商家实收共` and
`元`, F the number between `服务费共` and `元` (each also with `退款` before `共`).

Zip: the archive must hold exactly one `.csv` entry (Alipay's `...(汇总).csv` /
`...（汇总）.csv` summary entry beside it is ignored); its name may be GBK
without the UTF-8 flag. 0 or several csv entries is a file error listing the
entries. Line numbers are those of the csv inside.

Identification: the name ends in `.csv` (or `.zip` / `.csv.zip`, then the csv
entries' first bytes are looked at) and either the first line is
`#支付宝业务明细查询` or the first line that is not a `#` or blank line holds
the columns 支付宝交易号, 商户订单号, 业务类型 and at least one `...（元）` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from transforms import fastcsv, zipfiles
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
    HEAD_BYTES,
    check_width,
    first_line_encoding,
    is_blank,
    iter_lines,
    joined_fields,
    read_head,
    stage_delimited,
)

TITLE = "#支付宝业务明细查询"
ORDER_AMOUNT = "订单金额（元）"
RECEIVED = "商家实收（元）"
FEE = "服务费（元）"
REFUND_NO = "退款批次号/请求号"
REQUIRED = ["支付宝交易号", "商户订单号", "业务类型", "完成时间", ORDER_AMOUNT, RECEIVED]
OPTIONAL = ["创建时间", FEE, REFUND_NO, "对方账户"]
IDENTIFYING = ("支付宝交易号", "商户订单号", "业务类型")
END_MARK = "业务明细列表结束"
PAY_TOTAL = "#交易合计"
REFUND_TOTAL = "#退款合计"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TRIM = " \t\u3000"
_NUM = r"([+-]?[0-9][0-9,]*(?:\.[0-9]+)?)"


def _name(cell: str) -> str:
    return cell.strip(TRIM + "\ufeff").replace("(", "（").replace(")", "）")


def _header(line: str) -> list[str]:
    return [_name(c).strip('"') for c in line.split(",")]


def _looks_like_bill(head: bytes) -> str | None:
    """Why `head` is an Alipay 业务明细 bill, or None."""
    if not head:
        return None
    text = head.decode(first_line_encoding(head), errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if lines and lines[0].strip(TRIM) == TITLE:
        return f"first line {TITLE}"
    for line in lines:
        if is_blank(line) or line.startswith("#"):
            continue
        header = _header(line)
        if all(c in header for c in IDENTIFYING) and any(c.endswith("（元）") for c in header):
            return "column header 支付宝交易号,商户订单号,业务类型,...（元）"
        return None
    return None


def _stated(line: str | None, label: str) -> Decimal | None:
    if line is None:
        return None
    # real bills write `商家实收共X元` on #交易合计 and `商家实收退款共-X元` on #退款合计
    m = re.search(label + "(?:退款)?共" + _NUM + "元", line)
    if not m:
        return None
    try:
        return Decimal(m.group(1).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _stated_count(line: str | None) -> int | None:
    if line is None:
        return None
    m = re.search(r"[:：]\s*([0-9]+)\s*笔", line)
    return int(m.group(1)) if m else None


class AlipayBill(Format):
    name = "alipay_bill"
    table = "channel_txns"
    description = "Alipay merchant bill 业务明细 (GBK, # header/footer, .csv or .zip)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if zipfiles.is_zip_name(path):
            problem = zipfiles.zip_problem(path)
            if problem:
                return no(f"expected a zip of an Alipay 业务明细 .csv; {problem}")
            entries = zipfiles.peek_csvs(path, HEAD_BYTES)
            if not entries:
                names = zipfiles.list_names(path)
                return no(
                    f"zip without a .csv entry to read (entries: {', '.join(names) or 'none'})"
                )
            for name, entry_head, _ in entries:
                why = _looks_like_bill(entry_head)
                if why:
                    # normalize() names the problem if the zip holds more than one csv
                    return yes(f"zipped Alipay 业务明细 bill {name}: {why}")
            damaged = [f"{name} ({why})" for name, _, why in entries if why]
            if damaged:
                return no(f"the zip is damaged: entry {damaged[0]} cannot be read")
            return no(f"no csv entry of the zip starts like an Alipay 业务明细 bill ({TITLE})")
        if not name_allows(path, (".csv",)):
            return no("file name does not end in .csv, .zip or .csv.zip (or a generic .txt/.dat)")
        why = _looks_like_bill(head)
        if not why:
            return no(
                f"not an Alipay 业务明细 bill: first line is not {TITLE} and no column header "
                "with 支付宝交易号,商户订单号,业务类型,...（元）"
            )
        return yes(f"Alipay 业务明细 bill: {why}")

    def normalize(self, ctx: FileContext) -> Normalized:
        if zipfiles.is_zip_name(ctx.path):
            csv_path = ctx.workdir / f"{ctx.t('entry')}.csv"
            entry = zipfiles.extract_single_csv(ctx.path, csv_path)
            shown = f"{ctx.path} (entry {entry})"
        else:
            csv_path, shown = ctx.path, str(ctx.path)
        encoding = first_line_encoding(read_head(csv_path))
        lines = _renamed(iter_lines(csv_path, encoding), shown)

        header_no, header, blank_before = 0, [], False
        for line_no, text in lines:
            if is_blank(text) or text.startswith("#"):
                blank_before = blank_before or not text
                continue
            header_no, header = line_no, _header(text)
            break
        missing = [c for c in REQUIRED if c not in header]
        doubled = sorted({h for h in header if h and header.count(h) > 1})
        if not header_no or missing or doubled:
            problem = (
                "no column header line (only # lines or an empty file)"
                if not header_no
                else (f"missing {missing}" if missing else f"repeated columns {doubled}")
                + f"; found {header}"
            )
            raise InputFileError(
                shown,
                header_no or None,
                f"expected an Alipay 业务明细 column header with {REQUIRED}; {problem}",
            )

        check_width(shown, header_no, len(header))
        footer: dict = {}
        cols = [f"c{i}" for i in range(len(header))]
        text, f = sql.pick_fields(header, REQUIRED + OPTIONAL, TRIM, trail="\t")
        kind = f("业务类型")
        parsed = ", ".join(
            [
                f"({kind} = '退款') AS _refund",
                f"{sql.yuan_text(f(ORDER_AMOUNT))} AS _order",
                f"{sql.yuan_text(f(RECEIVED))} AS _received",
                f"{sql.yuan_text(f(FEE))} AS _fee",
                f"{sql.local_time(f('完成时间'), TIME_FORMAT)} AS _done",
                f"{sql.local_time(f('创建时间'), TIME_FORMAT)} AS _created",
            ]
        )
        time_text = "a local time YYYY-MM-DD HH:MM:SS"

        def reason(end_line: int | None) -> str:
            return sql.first_reason(
                f"CASE WHEN line_no > {end_line} THEN 'a data line after the "
                f"#-----业务明细列表结束----- line (line {end_line})' END"
                if end_line
                else "NULL",
                sql.required(
                    [
                        (n, f(n))
                        for n in ("支付宝交易号", "商户订单号", "业务类型", ORDER_AMOUNT, RECEIVED)
                    ]
                ),
                f"CASE WHEN {f('完成时间')} IS NULL AND {f('创建时间')} IS NULL "
                "THEN '完成时间: required (or 创建时间), found empty' END",
                f"CASE WHEN {kind} NOT IN ('交易', '退款') "
                f"THEN '业务类型: expected 交易 or 退款, found ' || {kind} END",
                sql.unreadable(ORDER_AMOUNT, f(ORDER_AMOUNT), "_order", "yuan like 12.34"),
                sql.unreadable(RECEIVED, f(RECEIVED), "_received", "yuan like 12.34"),
                sql.unreadable(FEE, f(FEE), "_fee", "yuan like -0.60"),
                sql.unreadable("完成时间", f("完成时间"), "_done", time_text),
                sql.unreadable("创建时间", f("创建时间"), "_created", time_text),
                f"CASE WHEN _refund AND {f(REFUND_NO)} IS NULL "
                f"THEN '{REFUND_NO}: required on a 退款 row, found empty' END",
                f"CASE WHEN NOT _refund AND _order <= 0 THEN '{ORDER_AMOUNT}: expected a positive "
                f"amount on a 交易 (payment) row, found ' || {f(ORDER_AMOUNT)} END",
                f"CASE WHEN _refund AND _order = 0 THEN '{ORDER_AMOUNT}: expected the amount "
                f"refunded (negative, as Alipay writes it), found ' || {f(ORDER_AMOUNT)} END",
            )

        is_header = (
            f"(ltrim({f('支付宝交易号')}, '\ufeff') = '支付宝交易号' AND {kind} = '业务类型')"
        )
        refund_id = f"{f('支付宝交易号')} || '_' || {f(REFUND_NO)}"
        txn_time = "coalesce(_done, _created)"
        typed = ctx.t("typed")

        def build(staged: str) -> str:
            ctx.con.execute(
                f"""
            CREATE OR REPLACE TABLE {typed} AS
            {sql.typed_rows_cte(staged, cols, text, parsed, is_header, reason(footer.get("end_line")), header, ",")}
            SELECT line_no,
                {sql.sql_literal(ctx.source.channel)} AS channel,
                CASE WHEN _refund THEN {refund_id} ELSE {f("支付宝交易号")} END AS channel_txn_id,
                CASE WHEN _refund THEN {f(REFUND_NO)} ELSE {f("商户订单号")} END
                    AS merchant_order_no,
                CASE WHEN _refund THEN {f("支付宝交易号")} END AS orig_channel_txn_id,
                CASE WHEN _refund THEN {f("商户订单号")} END AS orig_merchant_order_no,
                CASE WHEN _refund THEN 'REFUND' ELSE 'PAY' END AS txn_type,
                abs(_order) AS amount,
                -coalesce(_fee, 0) AS fee,
                'SUCCESS' AS status,
                {sql.instant(txn_time, ctx.timezone)} AS txn_time,
                CAST({txn_time} AS DATE) AS biz_date,
                {f("对方账户")} AS payer_name,
                _reason AS reject_reason,
                CASE WHEN _reason IS NOT NULL
                     THEN coalesce(raw, {joined_fields(cols, ",")}) END AS raw,
                _refund, _received, _fee
            FROM r
            """
            )
            return typed

        def careful() -> str:
            footer.clear()
            fresh = _renamed(iter_lines(csv_path, encoding), shown)
            for line_no, _ in fresh:
                if line_no == header_no:
                    break
            return stage_delimited(
                ctx.con,
                ctx.workdir,
                ctx.t("lines"),
                self._data_lines(fresh, footer),
                cols,
                delim=",",
                quote='"',
                materialize=False,
            )

        path, scan = fastcsv.prepare(csv_path, ctx.workdir, encoding, (b"#",), '"')
        if blank_before:  # the reader's skip= would count lines differently
            scan.plain = False
        skip = self._footer_at(path, scan, header_no, footer)
        layout = fastcsv.Layout(cols, ",", '"', header_no + 1, skip)
        staged = fastcsv.stage_typed(ctx.con, ctx.t("lines"), path, layout, scan, build, careful)
        rows_in = sql.count_accounted(ctx.con, shown, typed, staged)
        return Normalized(self.table, typed, rows_in, self._checks(ctx, typed, footer))

    @classmethod
    def _footer_at(cls, path: Path, scan: fastcsv.Scan, header_no: int, footer: dict):
        """The `#` lines after the header found by the scan, read into `footer` as
        `_data_lines` does; their line numbers."""
        if not scan.plain:
            return frozenset()
        found = []
        for line_no, offset in scan.markers:
            if line_no > header_no:
                found.append(next(fastcsv.lines_from(path, offset, line_no)))
        list(cls._data_lines(iter(found), footer))
        return frozenset(n for n, _ in found)

    @staticmethod
    def _data_lines(lines: Iterator[tuple[int, str]], footer: dict) -> Iterator[tuple[int, str]]:
        """Data lines after the header; `#` lines are footer/comments and land in `footer`."""
        for line_no, text in lines:
            if is_blank(text):
                continue
            if text.startswith("#"):
                if END_MARK in text and "end_line" not in footer:
                    footer["end_line"] = line_no
                elif text.startswith(PAY_TOTAL) and "pay" not in footer:
                    footer["pay"] = text
                elif text.startswith(REFUND_TOTAL) and "refund" not in footer:
                    footer["refund"] = text
                continue
            yield line_no, text

    def _checks(self, ctx: FileContext, typed: str, footer: dict) -> list[ControlCheck]:
        rows = ctx.con.execute(
            f"""SELECT _refund, count(*), coalesce(sum(_received), 0), coalesce(sum(_fee), 0)
                FROM {typed} WHERE reject_reason IS NULL GROUP BY _refund"""
        ).fetchall()
        got = {r[0]: r[1:] for r in rows}
        zero = (0, Decimal("0.00"), Decimal("0.00"))
        checks = []
        for key, marker, refund in (("pay", PAY_TOTAL, False), ("refund", REFUND_TOTAL, True)):
            count, received, fee = got.get(refund, zero)
            line = footer.get(key)
            label = marker.lstrip("#")
            if line is None:
                gone = f"{marker}：... footer line: none found, the bill may be truncated"
                checks += [
                    ControlCheck(f"{label} count ({gone})", None, count),
                    ControlCheck(f"{label} 商家实收 ({gone})", None, received),
                ]
                continue
            checks += [
                ControlCheck(f"{label} count", _stated_count(line), count),
                ControlCheck(f"{label} 商家实收", _stated(line, "商家实收"), received),
            ]
            if re.search("服务费(?:退款)?共", line):
                checks.append(ControlCheck(f"{label} 服务费", _stated(line, "服务费"), fee))
        return checks


def _renamed(lines: Iterator[tuple[int, str]], shown: str) -> Iterator[tuple[int, str]]:
    """`lines`, with a decoding error re-raised naming `shown` (the zip and its entry)."""
    try:
        yield from lines
    except InputFileError as exc:
        where = f"{exc.path}, line {exc.line}" if exc.line else f"{exc.path}"
        message = str(exc)[len(where) + 2 :]
        if str(exc.path) == shown:
            raise
        raise InputFileError(shown, exc.line, message) from exc
