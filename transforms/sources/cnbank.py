"""Chinese bank statement exports, CSV (GBK or UTF-8) and XLSX/XLS.

Corporate (CCB-, ICBC-style) and personal (ICBC, CMB, CCB) layouts. The header
row is found by name within the first rows (title/preamble rows above it are
skipped); header cells are compared after removing spaces, TABs and U+3000 and
normalizing full-width parentheses. Amounts come from 借方/贷方 (支出/收入) columns
or one signed 交易金额; thousands separators, padding, trailing TABs and `-` for
"no amount" are handled. 借方 = money out, 贷方 = money in (the bank's view of the
account holder).

- A date column and a separate time-of-day column (CCB personal: 交易日期 + 交易时间)
  are combined.
- Footer rows (合计, 人民币合计, disclaimers such as 以上数据仅供参考) are not data;
  a 合计 row's 借方/贷方 totals are checked against the rows read. A header and no
  row is a statement without transactions (an account with no movement that day).
- A line that cannot be a row (over 1 MiB, holding a NUL byte) is a reject naming it, and
  so is a row (CSV or sheet) with a cell over 131,072 characters (MAX_CELL_CHARS,
  transforms/limits.py), naming the column; the other rows are kept.
- The running balance (余额) is checked in file order, ascending or descending.
  A balance cell that is present but unreadable (anonymised `xx,yyyy.zz`) leaves
  the balance empty and is reported as a control check; the line itself stands.
- The account number comes from an 账号 column, else the source's configured
  `account_no`, else a 账号:/卡号: preamble line.
- bank_txn_id is the file's 流水号 when it has one; a 凭证号 (voucher number, which
  banks reuse across lines) gets `#` and 8 hex digits of the line's content hash;
  otherwise `L` + a stable hash of the line's content.
- Personal payment-app exports (Alipay/WeChat: 收/支, 交易对方, 交易单号) are
  refused: they are not bank statements.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

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
from transforms.tabular import (
    EXCEL_SUFFIXES,
    delimited_rows,
    is_excel,
    iter_rows,
    normalize_header,
    stage_rows,
)
from transforms.textio import (
    HEAD_BYTES,
    MAX_COLUMNS,
    BadRow,
    check_width,
    guess_encoding,
    head_text,
    read_head,
)

__all__ = ["ChineseBankStatement", "currency_sql", "normalize_header", "running_balance_check"]

# Canonical role -> header names that carry it, in order of preference.
SYNONYMS: dict[str, list[str]] = {
    "time": ["交易时间", "记账时间", "交易日期", "记账日期", "入账日期", "记账日", "日期"],
    "date": ["交易日期", "记账日期", "记账日", "入账日期", "日期"],
    "value_date": ["记账日期", "记账日", "入账日期", "起息日", "交易日期"],
    "debit": [
        "借方发生额(支取)",
        "借方发生额",
        "借方金额",
        "转出金额",
        "支出金额",
        "记账金额(支出)",
        "交易金额(支出)",
        "支出",
        "取出金额",
        "支取金额",
    ],
    "credit": [
        "贷方发生额(收入)",
        "贷方发生额",
        "贷方金额",
        "转入金额",
        "收入金额",
        "记账金额(收入)",
        "交易金额(收入)",
        "收入",
        "存入金额",
    ],
    # one amount column: signed, or unsigned beside a direction (indicator) column
    "signed": ["交易金额", "发生额", "金额", "交易金额(元)", "发生额(元)", "金额(元)"],
    "indicator": [
        "借贷",
        "借贷标志",
        "借贷方向",
        "借贷标识",
        "借贷状态",
        "借/贷",
        "借贷方",
        "收支",
        "收支标志",
        "收支方向",
        "资金方向",
        "交易方向",
        "Dr/Cr",
        "D/C",
    ],
    "balance": ["余额", "联机余额", "账户余额", "当前余额", "本次余额", "余额(元)"],
    "currency": ["币种", "货币", "币别", "记账币种", "交易币种"],
    "counterparty_name": [
        "对方户名",
        "对方单位",
        "对方账户名称",
        "对方账户名",
        "对方名称",
        "对方单位名称",
    ],
    "counterparty_account": ["对方账号", "对方账户", "对方卡号/账号", "对方卡号"],
    "counterparty_info": ["对手信息"],  # CMB: name followed by the account number
    "narrative": ["摘要", "交易摘要", "交易名称"],
    "purpose": ["用途"],
    "memo": ["附言", "备注", "客户摘要", "交易附言"],
    "place": ["交易场所", "交易地点"],
    "bank_txn_id": ["账户明细编号-交易流水号", "交易流水号", "流水号"],
    "voucher_no": ["凭证号", "凭证号码", "日志号"],
    "account_no": ["账号", "本方账号"],
}
# Columns of personal payment-app exports (Alipay, WeChat) that no bank statement has.
PERSONAL_EXPORT_MARKERS = (
    "收/支",
    "交易对方",
    "交易单号",
    "交易订单号",
    "商户单号",
    "商家订单号",
    "收/付款方式",
    "支付方式",
)
FOOTER_MARKERS = (
    "合计",
    "人民币合计",
    "总计",
    "本页合计",
    "小计",
    "本页小计",
    "共计",
    "说明",
    "注:",
    "注：",
    "以上数据仅供参考",
    "温馨提示",
)
TOTAL_MARKERS = ("合计", "人民币合计", "总计")
TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H%M%S",
    "%Y-%m-%d %H%M%S",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
]
CURRENCIES = {
    "CNY": ("人民币", "RMB", "CNY", "156", "人民币元"),
    "USD": ("美元", "USD"),
    "HKD": ("港币", "港元", "HKD"),
    "EUR": ("欧元", "EUR"),
}
# Values of a direction (indicator) column, compared after removing spaces and brackets and
# upper-casing: BOCOM writes `借 Dr` / `贷 Cr`. Anything else (1/2, 0/1, +/-: banks differ on
# what they mean) rejects the row naming the value: a direction is never guessed.
DEBIT_VALUES = ("借", "借方", "借DR", "DR", "D", "DEBIT", "支", "支出")
CREDIT_VALUES = ("贷", "贷方", "贷CR", "CR", "C", "CREDIT", "收", "收入")
MAX_PREAMBLE_ROWS = 30
ACCOUNT_LABELS = ("账号:", "卡号:", "账户:")


def find_roles(header: list[str]) -> dict[str, int]:
    names = [normalize_header(h) for h in header]
    roles = {}
    for role, candidates in SYNONYMS.items():
        for cand in candidates:
            if cand in names:
                roles[role] = names.index(cand)
                break
    return roles


def header_problem(cells: list[str]) -> str | None:
    """None when `cells` is a bank statement header row, else why it is not."""
    names = [normalize_header(c) for c in cells]
    roles = find_roles(cells)
    if "time" not in roles:
        return "no date column (交易时间/交易日期/记账日期)"
    personal = [m for m in PERSONAL_EXPORT_MARKERS if m in names]
    if personal:
        return (
            f"columns {personal} belong to a personal payment-app export (Alipay/WeChat), "
            "not a bank statement"
        )
    pair = "debit" in roles and "credit" in roles
    if not pair and "signed" not in roles:
        return (
            "no amount columns (借方/贷方, 支出/收入, 存入/取出, a signed 交易金额/金额/发生额, "
            "or an amount beside a 借贷 direction column)"
        )
    strong = (pair and any(n.startswith(("借方", "贷方")) for n in names)) or "indicator" in roles
    if "balance" not in roles and not strong:
        return "no balance column (余额/本次余额/账户余额) beside 支出/收入 or 交易金额"
    return None


def is_statement_header(cells: list[str]) -> bool:
    return header_problem(cells) is None


def _explain(candidates: list[tuple[int, list[str]]], where: str) -> str:
    """Why no header was found: the best near-miss row, with the columns it has."""
    for line_no, cells in candidates:
        if "time" in find_roles(cells):
            found = [c.strip() for c in cells if c.strip()]
            return f"{where} {line_no} is not a bank statement header: {header_problem(cells)}; columns found: {found}"
    return f"no {where.split()[0]} in the first {MAX_PREAMBLE_ROWS} has a date column (交易时间/交易日期/记账日期)"


def choose_encoding(path: Path, head: bytes) -> str:
    """UTF-8 or GB18030 for a CSV export; a UTF-8 file with a non-UTF-8 line is refused.

    Mixed files (UTF-8 header, a GBK-encoded line further down) would otherwise be
    decoded as GB18030 into garbage, so the line is named instead.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) >= HEAD_BYTES:
            return "utf-8"
        before = head[: exc.start].decode("utf-8")
        lines = before.split("\n")
        for i, text in enumerate(lines[:-1], start=1):
            if text.strip() and any(ord(ch) > 127 for ch in text) and _is_header_text(text):
                bad_line = len(lines)
                column = len(lines[-1].encode("utf-8")) + 1
                raise InputFileError(
                    path,
                    bad_line,
                    f"bytes at column {column} are not valid UTF-8, but the lines above it "
                    f"(the header on line {i}) are UTF-8; expected one encoding for the whole "
                    "file (is this line GBK?)",
                ) from None
        return "gb18030"


def _csv_cells(text: str) -> list[str]:
    return next(csv.reader([text]), [])


def _is_header_text(text: str) -> bool:
    return is_statement_header(_csv_cells(text))


def _account_from_preamble(preamble: list[tuple[int, list[str]]]) -> str | None:
    for _, cells in preamble:
        cells = [c for c in cells if c.strip()]
        for i, cell in enumerate(cells):
            norm = normalize_header(cell)
            for label in ACCOUNT_LABELS:
                if norm.startswith(label):
                    value = norm[len(label) :] or (
                        normalize_header(cells[i + 1]) if i + 1 < len(cells) else ""
                    )
                    if value:
                        return value
    return None


class ChineseBankStatement(Format):
    name = "cn_bank"
    table = "bank_lines"
    description = "Chinese bank statement export, CSV or XLSX/XLS (借方/贷方 or signed amount)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if not name_allows(path, (".csv", ".txt") + EXCEL_SUFFIXES):
            return no("file name does not end in .csv, .txt, .xlsx or .xls (or a generic .dat)")
        if not is_excel(path) and head[:4] == b"PK\x03\x04":
            return no("a zip archive that is not an .xlsx workbook")
        if is_excel(path):
            rows = []
            try:
                for i, (line_no, cells) in enumerate(iter_rows(path)):
                    if is_statement_header(cells):
                        return yes(f"bank statement header on sheet row {line_no}")
                    rows.append((line_no, cells))
                    if i >= MAX_PREAMBLE_ROWS:
                        break
            except InputFileError as exc:
                return no(str(exc).removeprefix(f"{path}").lstrip(", :"))
            return no(_explain(rows, "sheet row"))
        texts = [head_text(head)]
        if guess_encoding(head) != "utf-8":
            # a UTF-8 file with a GBK line: recognize it here; normalize names the bad line
            texts.append(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
        rows = []
        for text in texts:
            for line_no, line in enumerate(text.splitlines()[:MAX_PREAMBLE_ROWS], start=1):
                cells = _csv_cells(line)
                if is_statement_header(cells):
                    return yes(f"bank statement header on line {line_no}")
                rows.append((line_no, cells))
        return no(_explain(rows, "line"))

    def normalize(self, ctx: FileContext) -> Normalized:
        path = ctx.path
        if is_excel(path):
            rows = iter_rows(path)
        else:
            rows = delimited_rows(path, choose_encoding(path, read_head(path)))
        where = "sheet row" if is_excel(path) else "line"
        header, roles, preamble = None, {}, []
        for i, (line_no, cells) in enumerate(rows):
            if is_statement_header(cells):
                header, roles = cells, find_roles(cells)
                break
            preamble.append((line_no, cells))
            if i >= MAX_PREAMBLE_ROWS:
                break
        if header is None:
            raise InputFileError(
                path,
                None,
                "expected a header row with a date column and 借方/贷方 (支出/收入) or a signed "
                f"交易金额 column; {_explain(preamble, where)}",
            )
        if len(header) > MAX_COLUMNS:  # e.g. a sheet formatted out to column XFD
            header = header[: max(i for i, c in enumerate(header) if c.strip()) + 1]
            check_width(path, None, len(header))
        data, footers, unreadable = [], [], []
        for line_no, cells in rows:
            if isinstance(cells, BadRow):
                unreadable.append((line_no, cells.raw, cells.reason))
                continue
            first = next((c.strip() for c in cells if c.strip()), "")
            if first.startswith(FOOTER_MARKERS):
                footers.append((line_no, cells))
            else:
                data.append((line_no, cells))
        cols = [f"c{i}" for i in range(len(header))]
        staged = stage_rows(ctx.con, ctx.t("rows"), data, cols, labels=header)
        sql.add_rejects(ctx.con, staged, unreadable)

        def get(role: str) -> str:
            return sql.clean(f"c{roles[role]}") if role in roles else "NULL::VARCHAR"

        def amount_text(role: str) -> str:
            return f"NULLIF({get(role)}, '-')"

        def label(role: str) -> str:
            return normalize_header(header[roles[role]]).replace("'", "''")

        time_text = get("time")
        when = sql.local_time(time_text, TIME_FORMATS)
        checks = [(label("time"), time_text, when)]
        required = sql.required([(label("time"), time_text)])
        if "date" in roles and roles["date"] != roles["time"]:
            # A time-of-day column beside a date column: 20250101 + 18:53:19. A row with a date
            # and no time (ABC 活期 exports leave 交易时间 empty on some rows) is a normal row at
            # local midnight of its date, as MT940 and camt.053 entries without a time are:
            # bank lines are matched by value_date (transforms/match/31_*, 33_*, 44_*), never by
            # txn_time, and a NULL txn_time would set these rows apart from every other bank line.
            date, clock = get("date"), get("time")
            time_text = (
                f"CASE WHEN regexp_full_match({clock}, '[0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}})?|[0-9]{{6}}') "
                f"THEN {date} || ' ' || {clock} ELSE coalesce({clock}, {date}) END"
            )
            when = sql.local_time(time_text, TIME_FORMATS)
            checks = [
                (label("time"), f"CASE WHEN {clock} IS NOT NULL THEN {time_text} END", when),
                (label("date"), f"CASE WHEN {clock} IS NULL THEN {date} END", when),
            ]
            required = (
                f"CASE WHEN {date} IS NULL AND {clock} IS NULL THEN "
                f"'{label('date')}/{label('time')}: required, found empty' "
                f"WHEN {time_text} IS NULL THEN '{label('date')}: required, found empty' END"
            )
        value_parsed = sql.local_time(get("value_date"), TIME_FORMATS)
        value_date = f"coalesce(CAST({value_parsed} AS DATE), CAST({when} AS DATE))"
        if "value_date" in roles and roles["value_date"] != roles["time"]:
            checks.append((label("value_date"), get("value_date"), value_parsed))
        if "indicator" in roles:
            # `借 Dr` -> -1, `贷 Cr` -> 1, anything else NULL (the row is rejected below)
            ind = get("indicator")
            ind_norm = f"upper(regexp_replace({ind}, '[\\s\u3000()（）]', '', 'g'))"
            ind_dir = (
                f"CASE WHEN {ind_norm} IN ({_in_list(DEBIT_VALUES)}) THEN -1 "
                f"WHEN {ind_norm} IN ({_in_list(CREDIT_VALUES)}) THEN 1 END"
            )
            ind_label = label("indicator")
            ind_reason = (
                f"CASE WHEN {ind} IS NULL THEN '{ind_label}: required (the direction of the "
                "amount), found empty' "
                f"WHEN {ind_dir} IS NULL THEN '{ind_label}: expected 借/贷 (借方/贷方, Dr/Cr, D/C, "
                f"收/支, 收入/支出), found ' || chr(39) || {ind} || chr(39) END"
            )
        else:
            ind_dir, ind_reason = "NULL", "NULL"
        if "debit" in roles and "credit" in roles:
            debit, credit = sql.money(amount_text("debit")), sql.money(amount_text("credit"))
            signed = f"(coalesce({credit}, 0) - coalesce({debit}, 0))"
            checks += [
                (label("debit"), amount_text("debit"), debit),
                (label("credit"), amount_text("credit"), credit),
            ]
            both = (
                f"CASE WHEN {debit} <> 0 AND {credit} <> 0 THEN '{label('debit')}/{label('credit')}: "
                f"expected one of them, found both ' || {debit} || ' and ' || {credit} END"
            )
            if "indicator" in roles:
                both = sql.first_reason(
                    both,
                    f"CASE WHEN {ind_dir} = -1 AND coalesce({credit}, 0) <> 0 OR {ind_dir} = 1 "
                    f"AND coalesce({debit}, 0) <> 0 THEN '{ind_label}: ' || {ind} || ' contradicts "
                    f"the amount column it is in ({label('debit')} ' || coalesce({debit}, 0) || "
                    f"', {label('credit')} ' || coalesce({credit}, 0) || ')' END",
                )
            none_found = f"expected a {label('debit')} or {label('credit')} amount, found none"
        elif "indicator" in roles:
            # an amount beside a direction column (BOCOM 借贷 `借 Dr`/`贷 Cr`): the column decides
            value = sql.money(amount_text("signed"))
            signed = f"CASE WHEN {ind_dir} = -1 THEN -abs({value}) WHEN {ind_dir} = 1 THEN abs({value}) END"
            checks.append((label("signed"), amount_text("signed"), value))
            both = (
                f"CASE WHEN {value} < 0 AND {ind_dir} = 1 THEN '{label('signed')}: ' || {value} || "
                f"' is negative but {ind_label} says ' || {ind} || ' (money in): the directions "
                "contradict each other' END"
            )
            none_found = f"expected a {label('signed')} amount, found none"
        else:
            signed = sql.money(amount_text("signed"))
            checks.append((label("signed"), amount_text("signed"), signed))
            both = "NULL"
            none_found = f"expected a {label('signed')} amount, found none"
        balance_text = amount_text("balance")
        balance = sql.money(balance_text)
        account = get("account_no")
        if "account_no" not in roles:
            account = sql.sql_literal(ctx.source.account_no or _account_from_preamble(preamble))
        cp_name, cp_account = get("counterparty_name"), get("counterparty_account")
        if "counterparty_info" in roles:
            info = get("counterparty_info")
            cp_name = f"coalesce({cp_name}, NULLIF(trim(regexp_extract({info}, '^(.*?)\\s*([0-9*]{{6,}})?$', 1)), ''))"
            cp_account = (
                f"coalesce({cp_account}, NULLIF(regexp_extract({info}, '([0-9*]{{6,}})$', 1), ''))"
            )
        text_parts = [get(r) for r in ("narrative", "purpose", "memo", "place") if r in roles]
        narrative = (
            f"NULLIF(concat_ws(' / ', {', '.join(text_parts)}), '')" if text_parts else "NULL"
        )
        currency = currency_sql(get("currency"))
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            WITH parsed AS (
                SELECT line_no, raw, reject_reason AS structural,
                    {account} AS account_no,
                    {get("bank_txn_id")} AS stated_txn_id,
                    {get("voucher_no")} AS voucher_no,
                    {value_date} AS value_date,
                    {when} AS local_time,
                    {signed} AS signed_amount,
                    {balance} AS balance,
                    CASE WHEN {balance_text} IS NOT NULL AND {balance} IS NULL
                         THEN {balance_text} END AS _bad_balance,
                    {currency} AS currency,
                    {cp_name} AS counterparty_name,
                    {cp_account} AS counterparty_account,
                    {narrative} AS narrative,
                    {sql.first_reason(required, sql.field_checks(checks), ind_reason, both)} AS field_reason
                FROM {staged}
            )
            , hashed AS (
                SELECT *, substr(sha256(concat_ws('|', account_no, local_time, signed_amount, balance,
                    counterparty_account, counterparty_name, narrative, voucher_no)), 1, 20) AS content_hash
                FROM parsed
            )
            SELECT line_no, raw, account_no,
                coalesce(stated_txn_id, voucher_no || '#' || substr(content_hash, 1, 8),
                    'L' || content_hash) AS bank_txn_id,
                value_date,
                {sql.instant("local_time", ctx.timezone)} AS txn_time,
                CASE WHEN signed_amount >= 0 THEN 'CREDIT' ELSE 'DEBIT' END AS direction,
                abs(signed_amount) AS amount,
                balance, currency, counterparty_name, counterparty_account, narrative,
                coalesce(structural, field_reason,
                    CASE WHEN signed_amount IS NULL THEN 'amount: {none_found}'
                         WHEN signed_amount = 0 THEN 'amount: expected a non-zero amount, found 0' END
                ) AS reject_reason,
                signed_amount AS _signed, _bad_balance
            FROM hashed
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchall()[0][0]
        if "indicator" not in roles and not ("debit" in roles and "credit" in roles):
            _refuse_unsigned(ctx, typed, label("signed"), label("balance"))
        return Normalized(self.table, typed, rows_in, self._checks(ctx, typed, roles, footers))

    def _checks(self, ctx, typed, roles, footers) -> list[ControlCheck]:
        checks = []
        if "balance" in roles:
            bad = ctx.con.execute(
                f"""SELECT count(*), min(line_no), arg_min(_bad_balance, line_no)
                    FROM {typed} WHERE reject_reason IS NULL AND _bad_balance IS NOT NULL"""
            ).fetchall()[0]
            if bad[0]:
                checks.append(
                    ControlCheck(
                        f"余额 unreadable, left empty (first at line {bad[1]}: {bad[2]!r})",
                        0,
                        bad[0],
                    )
                )
            checks.append(running_balance_check(ctx.con, typed))
        if "debit" in roles and "credit" in roles:
            for _, cells in footers:
                first = next((c.strip() for c in cells if c.strip()), "")
                if not first.startswith(TOTAL_MARKERS):
                    continue
                stated_debit = _dec(cells, roles["debit"])
                stated_credit = _dec(cells, roles["credit"])
                if stated_debit is None and stated_credit is None:
                    continue
                debit, credit = ctx.con.execute(
                    f"""SELECT coalesce(sum(amount) FILTER (WHERE direction = 'DEBIT'), 0),
                               coalesce(sum(amount) FILTER (WHERE direction = 'CREDIT'), 0)
                        FROM {typed} WHERE reject_reason IS NULL"""
                ).fetchall()[0]
                checks.append(ControlCheck("借方合计 (footer)", stated_debit, debit))
                checks.append(ControlCheck("贷方合计 (footer)", stated_credit, credit))
                break
        return checks


def _in_list(values) -> str:
    return ", ".join(sql.sql_literal(v) for v in values)


def _refuse_unsigned(ctx: FileContext, typed: str, amount: str, balance: str) -> None:
    """One amount column and no direction column: the amounts must show they are signed.

    They do when some amount is negative, or when the running balance agrees with
    every amount read as money in. Otherwise the file is refused: an unsigned
    amount without a direction column (e.g. a BOCOM export whose 借贷 column was
    deleted) would read every debit as a credit.
    """
    negatives, balanced = ctx.con.execute(
        f"""SELECT count(*) FILTER (WHERE _signed < 0), count(*) FILTER (WHERE balance IS NOT NULL)
            FROM {typed} WHERE reject_reason IS NULL"""
    ).fetchall()[0]
    if (
        negatives
        or not ctx.con.execute(
            f"SELECT count(*) FROM {typed} WHERE reject_reason IS NULL"
        ).fetchall()[0][0]
    ):
        return
    expected = (
        "expected signed amounts (money out negative) or a direction column "
        "(借贷/借贷标志: 借/贷, Dr/Cr); the file is refused rather than every row read as money in"
    )
    if balanced < 2:
        raise InputFileError(
            ctx.path,
            None,
            f"{amount} has no negative amount, no direction column and too few {balance} "
            f"values to show the amounts are all money in; {expected}",
        )
    first = first_balance_break(ctx.con, typed)
    if first is not None:
        line, prev, amt, bal = first
        raise InputFileError(
            ctx.path,
            line,
            f"{amount} has no negative amount and there is no direction column, but {balance} "
            f"does not follow: previous {prev} + {amt} is not {bal} (it is if the amount is money "
            f"out); {expected}",
        )


def balance_breaks(con, typed: str) -> tuple[int, tuple | None]:
    """Running-balance breaks, in the file order (ascending or descending) with fewer of them:
    (count, (line, previous balance, signed amount, balance) of the first break or None).

    Needs `_signed` (credit positive) and `balance` in `typed`; rejected rows and rows
    without a balance are left out.
    """
    best = None
    for order in ("ASC", "DESC"):
        n, line, prev, amount, balance = con.execute(
            f"""
            WITH s AS (
                SELECT line_no, lag(balance) OVER (ORDER BY line_no {order}) AS prev, _signed, balance
                FROM {typed} WHERE reject_reason IS NULL AND balance IS NOT NULL
            ), b AS (SELECT * FROM s WHERE prev IS NOT NULL AND prev + _signed <> balance)
            SELECT count(*), min(line_no), arg_min(prev, line_no), arg_min(_signed, line_no),
                   arg_min(balance, line_no)
            FROM b
            """
        ).fetchall()[0]
        if best is None or n < best[0]:
            best = (n, (line, prev, amount, balance) if n else None)
    return best


def first_balance_break(con, typed: str) -> tuple | None:
    return balance_breaks(con, typed)[1]


def running_balance_check(con, typed: str) -> ControlCheck:
    """Rows whose balance is not the previous balance plus their signed amount, in file order
    (ascending or descending, the one with fewer breaks); the name gives the first break."""
    n, first = balance_breaks(con, typed)
    name = "running balance breaks"
    if first:
        line, prev, amount, balance = first
        name += f" (first at line {line}: {prev} + {amount} is not {balance})"
    return ControlCheck(name, 0, n)


def currency_sql(raw: str) -> str:
    """ISO code from a currency cell (人民币, RMB, 156 -> CNY); empty -> CNY; others kept."""
    whens = " ".join(
        f"WHEN upper({raw}) IN ({', '.join(sql.sql_literal(v) for v in names)}) THEN '{code}'"
        for code, names in CURRENCIES.items()
    )
    return f"CASE {whens} ELSE coalesce({raw}, 'CNY') END"


def _dec(cells: list[str], i: int) -> Decimal | None:
    """A footer total: yuan in ASCII digits (Decimal() also takes ０-９), else None."""
    text = "".join(cells[i].split()).replace(",", "") if i < len(cells) else ""
    if not re.fullmatch(r"[+-]?[0-9]{1,16}(\.[0-9]{1,2})?", text):
        return None
    return Decimal(text).quantize(Decimal("0.01"))
