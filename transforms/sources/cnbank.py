"""Chinese bank statement exports, CSV (GBK or UTF-8) and XLSX/XLS.

Corporate (CCB-, ICBC-style) and personal (ICBC, CMB, CCB) layouts: the header
row is found by name, preamble and footer rows are skipped, 借方/贷方 columns or
a signed amount, thousands separators, padding and TABs stripped. 借方 = money
out, 贷方 = money in (the bank's view of the account holder).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.tabular import EXCEL_SUFFIXES, is_excel, iter_rows, stage_rows
from transforms.textio import head_text

# Canonical role -> header names that carry it, in order of preference.
SYNONYMS: dict[str, list[str]] = {
    "time": ["交易时间", "交易日期", "记账日期", "入账日期", "日期"],
    "value_date": ["记账日期", "入账日期", "交易日期"],
    "debit": [
        "借方发生额(支取)",
        "借方发生额",
        "借方金额",
        "转出金额",
        "支出金额",
        "记账金额(支出)",
        "交易金额(支出)",
    ],
    "credit": [
        "贷方发生额(收入)",
        "贷方发生额",
        "贷方金额",
        "转入金额",
        "收入金额",
        "记账金额(收入)",
        "交易金额(收入)",
    ],
    "signed": ["交易金额", "发生额"],
    "balance": ["余额", "联机余额", "账户余额"],
    "currency": ["币种", "货币", "记账币种", "交易币种"],
    "counterparty_name": ["对方户名", "对方单位", "对方账户名称", "对方名称", "对手信息"],
    "counterparty_account": ["对方账号", "对方账户"],
    "narrative": ["摘要", "交易摘要", "用途"],
    "memo": ["附言", "备注", "客户摘要"],
    "bank_txn_id": ["账户明细编号-交易流水号", "交易流水号", "流水号", "凭证号"],
    "account_no": ["账号", "本方账号"],
}
FOOTER_MARKERS = (
    "合计",
    "人民币合计",
    "总计",
    "本页合计",
    "说明",
    "注:",
    "注：",
    "以上数据仅供参考",
    "温馨提示",
)
TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
]
MAX_PREAMBLE_ROWS = 30


def normalize_header(cell: str) -> str:
    return "".join(cell.split()).replace("\u3000", "").replace("（", "(").replace("）", ")")


def find_roles(header: list[str]) -> dict[str, int]:
    names = [normalize_header(h) for h in header]
    roles = {}
    for role, candidates in SYNONYMS.items():
        for cand in candidates:
            if cand in names:
                roles[role] = names.index(cand)
                break
    return roles


def is_statement_header(cells: list[str]) -> bool:
    roles = find_roles(cells)
    return "time" in roles and (("debit" in roles and "credit" in roles) or "signed" in roles)


class ChineseBankStatement(Format):
    name = "cn_bank"
    table = "bank_lines"
    description = "Chinese bank statement export, CSV or XLSX/XLS (借方/贷方 or signed amount)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".txt") + EXCEL_SUFFIXES:
            return no("file name does not end in .csv, .txt, .xlsx or .xls")
        if is_excel(path):
            try:
                for i, (_, cells) in enumerate(iter_rows(path)):
                    if is_statement_header(cells):
                        return yes("bank statement header row in the first sheet")
                    if i >= MAX_PREAMBLE_ROWS:
                        break
            except InputFileError as exc:
                return no(str(exc))
            return no("no row with a date column and 借方/贷方 or signed amount columns")
        for line in head_text(head).splitlines()[:MAX_PREAMBLE_ROWS]:
            if is_statement_header([c.strip().strip('"') for c in line.split(",")]):
                return yes("bank statement header line")
        return no("no line with a date column and 借方/贷方 or signed amount columns")

    def normalize(self, ctx: FileContext) -> Normalized:
        rows = iter_rows(ctx.path)
        header, roles = None, {}
        for i, (_line_no, cells) in enumerate(rows):
            if is_statement_header(cells):
                header, roles = cells, find_roles(cells)
                break
            if i >= MAX_PREAMBLE_ROWS:
                break
        if header is None:
            raise InputFileError(
                ctx.path,
                None,
                "expected a header row with a date column and 借方/贷方 (or a signed 交易金额) column",
            )
        data, footers = [], []
        for line_no, cells in rows:
            first = next((c.strip() for c in cells if c.strip()), "")
            if first.startswith(FOOTER_MARKERS):
                footers.append((line_no, cells))
            else:
                data.append((line_no, cells))
        cols = [f"c{i}" for i in range(len(header))]
        staged = stage_rows(ctx.con, ctx.t("rows"), data, cols)

        def get(role: str) -> str:
            return sql.clean(f"c{roles[role]}") if role in roles else "NULL::VARCHAR"

        def amount_text(role: str) -> str:
            return f"NULLIF({get(role)}, '-')"

        tz = ctx.timezone
        when = sql.local_time(get("time"), TIME_FORMATS)
        value_date = f"coalesce(CAST({sql.local_time(get('value_date'), TIME_FORMATS)} AS DATE), CAST({when} AS DATE))"
        if "signed" in roles:
            signed = sql.money(amount_text("signed"))
            checks = [("交易金额", amount_text("signed"), signed)]
        else:
            debit, credit = sql.money(amount_text("debit")), sql.money(amount_text("credit"))
            signed = f"(coalesce({credit}, 0) - coalesce({debit}, 0))"
            checks = [
                ("借方", amount_text("debit"), debit),
                ("贷方", amount_text("credit"), credit),
            ]
        balance = sql.money(amount_text("balance"))
        checks += [("交易时间", get("time"), when), ("余额", amount_text("balance"), balance)]
        account = (
            get("account_no") if "account_no" in roles else sql.sql_literal(ctx.source.account_no)
        )
        memo = f"NULLIF(concat_ws(' / ', {get('narrative')}, {get('memo')}), '')"
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            WITH parsed AS (
                SELECT line_no, raw, reject_reason AS structural,
                    {account} AS account_no,
                    {get("bank_txn_id")} AS stated_txn_id,
                    {value_date} AS value_date,
                    {when} AS local_time,
                    {signed} AS signed_amount,
                    {balance} AS balance,
                    coalesce({get("currency")}, 'CNY') AS currency,
                    {get("counterparty_name")} AS counterparty_name,
                    {get("counterparty_account")} AS counterparty_account,
                    {memo} AS narrative,
                    {sql.first_reason(sql.required([("交易时间", get("time"))]), sql.field_checks(checks))} AS field_reason
                FROM {staged}
            )
            SELECT line_no, raw, account_no,
                coalesce(stated_txn_id, 'L' || substr(sha256(concat_ws('|', account_no, local_time, signed_amount,
                    balance, counterparty_account, counterparty_name, narrative)), 1, 20)) AS bank_txn_id,
                value_date,
                {sql.instant("local_time", tz)} AS txn_time,
                CASE WHEN signed_amount >= 0 THEN 'CREDIT' ELSE 'DEBIT' END AS direction,
                abs(signed_amount) AS amount,
                balance, currency, counterparty_name, counterparty_account, narrative,
                coalesce(structural, field_reason,
                    CASE WHEN signed_amount IS NULL OR signed_amount = 0 THEN 'amount: expected a debit or credit amount, found none' END
                ) AS reject_reason,
                signed_amount AS _signed
            FROM parsed
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchone()[0]
        return Normalized(self.table, typed, rows_in, self._checks(ctx, typed, roles, footers))

    def _checks(self, ctx, typed, roles, footers) -> list[ControlCheck]:
        checks = []
        if "balance" in roles:
            breaks = ctx.con.execute(
                f"""
                WITH ok AS (SELECT line_no, _signed, balance FROM {typed}
                            WHERE reject_reason IS NULL AND balance IS NOT NULL),
                asc_breaks AS (
                    SELECT count(*) FILTER (WHERE prev IS NOT NULL AND prev + _signed <> balance) n FROM
                    (SELECT *, lag(balance) OVER (ORDER BY line_no) prev FROM ok)),
                desc_breaks AS (
                    SELECT count(*) FILTER (WHERE prev IS NOT NULL AND prev + _signed <> balance) n FROM
                    (SELECT *, lag(balance) OVER (ORDER BY line_no DESC) prev FROM ok))
                SELECT least((SELECT n FROM asc_breaks), (SELECT n FROM desc_breaks))
                """
            ).fetchone()[0]
            checks.append(ControlCheck("running balance breaks", 0, breaks))
        if "debit" in roles and "credit" in roles:
            for _, cells in footers:
                first = next((c.strip() for c in cells if c.strip()), "")
                if not first.startswith(("合计", "人民币合计", "总计")):
                    continue
                stated_debit = _dec(cells, roles["debit"])
                stated_credit = _dec(cells, roles["credit"])
                if stated_debit is None and stated_credit is None:
                    continue
                debit, credit = ctx.con.execute(
                    f"""SELECT coalesce(sum(amount) FILTER (WHERE direction = 'DEBIT'), 0),
                               coalesce(sum(amount) FILTER (WHERE direction = 'CREDIT'), 0)
                        FROM {typed} WHERE reject_reason IS NULL"""
                ).fetchone()
                checks.append(ControlCheck("借方合计 (footer)", stated_debit, debit))
                checks.append(ControlCheck("贷方合计 (footer)", stated_credit, credit))
                break
        return checks


def _dec(cells: list[str], i: int) -> Decimal | None:
    try:
        text = "".join(cells[i].split()).replace(",", "")
        return Decimal(text).quantize(Decimal("0.01")) if text and text != "-" else None
    except Exception:
        return None
