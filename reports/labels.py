"""Exception codes (SPEC §6), severities, statuses and finance decisions, with Chinese labels.

`RESOLUTION_ACTIONS` and `DECISION_HEADERS` are a contract with the workbook importer: the
decision columns of the exception sheets carry exactly these header texts (in every locale),
and a 处理结果 cell holds "CODE label" (e.g. "REFUNDED 已退款"): `parse_resolution_action` reads
it back by its leading code.
"""

from __future__ import annotations

from typing import NamedTuple


class ExceptionType(NamedTuple):
    label: str  # Chinese label shown to the finance team
    meaning: str  # what the difference is, in English
    action: str  # suggested action, Chinese / English


# In SPEC §6 order; this order is also the order of sheets and summary rows.
EXCEPTION_TYPES: dict[str, ExceptionType] = {
    "MISSING_ON_PLATFORM": ExceptionType(
        "平台漏单/掉单",
        "channel debit succeeded; no platform order for it",
        "补单或退款 / credit the loan or refund",
    ),
    "PLATFORM_NOT_PAID": ExceptionType(
        "状态不符-扣款成功未入账",
        "order exists but not SUCCESS while the channel debit succeeded",
        "补单 / mark paid",
    ),
    "MISSING_ON_CHANNEL": ExceptionType(
        "渠道漏单",
        "platform SUCCESS; no successful channel transaction",
        "查询渠道, 冲正入账 / query channel; reverse the credit",
    ),
    "CHANNEL_FAILED": ExceptionType(
        "状态不符-平台成功渠道失败",
        "platform SUCCESS; channel says failed",
        "冲正入账 / reverse the credit",
    ),
    "AMOUNT_MISMATCH": ExceptionType(
        "金额不符",
        "matched, amounts differ",
        "核查并调账 / investigate; adjust",
    ),
    "DUPLICATE_DEBIT": ExceptionType(
        "重复扣款",
        "a second successful debit of the same order, or debits of one installment beyond "
        "what it owed, not refunded",
        "退款给借款人 / refund the borrower",
    ),
    "REFUND_UNMATCHED": ExceptionType(
        "退款不符",
        "refund on one side only, or refund without its original",
        "补全或冲正退款 / complete or reverse the refund",
    ),
    "SETTLEMENT_MISMATCH": ExceptionType(
        "结算差异",
        "bank credit differs from expected net settlement",
        "向渠道追索差额 / claim the difference from channel",
    ),
    "SETTLEMENT_MISSING": ExceptionType(
        "结算未到账",
        "no bank credit for an expected settlement",
        "催收渠道结算 / chase the channel",
    ),
    "BANK_UNEXPLAINED": ExceptionType(
        "银行未达账",
        "bank line explained by no settlement or distribution",
        "查明付款方 / identify the payer",
    ),
    "DISTRIBUTION_MISMATCH": ExceptionType(
        "清分差异",
        "transfer to lender or fee account differs from computed share",
        "更正划款 / correct the transfer",
    ),
    "DATA_CONFLICT": ExceptionType(
        "数据冲突",
        "same id, different content across deliveries",
        "确认真实记录 / confirm the true record",
    ),
    "REJECTED_ROW": ExceptionType(
        "数据错误",
        "an input row that could not be read",
        "修正文件后重跑 / fix the file, re-run",
    ),
    "MISSING_FILE": ExceptionType(
        "文件未到",
        "an expected source delivered no file for the date",
        "催收文件 / chase the sender",
    ),
}

SETTLEMENT_STATUS: dict[str, str] = {
    "MATCHED": "已对平",
    "MISMATCH": "金额不符",
    "MISSING": "未到账",
    "PENDING": "在途",
}


# Severity of an exception (the `severity` column): 1 is the most urgent.
SEVERITY: dict[int, str] = {1: "借款人受损", 2: "资金缺失", 3: "账务/数据"}
SEVERITY_EN: dict[int, str] = {1: "borrower harmed", 2: "money missing", 3: "bookkeeping"}

# Finance decisions on an exception (SPEC §6), code -> Chinese label. The 处理结果 dropdown of
# the workbook offers f"{code} {label}" for each, in this order.
RESOLUTION_ACTIONS: dict[str, str] = {
    "REFUNDED": "已退款",
    "CREDITED": "补单已处理",
    "WRITTEN_OFF": "核销",
    "FALSE_POSITIVE": "误报",
    "MATCHED_MANUALLY": "手工匹配",
}
RESOLUTION_ACTIONS_EN: dict[str, str] = {
    "REFUNDED": "refunded to the borrower",
    "CREDITED": "credited to the loan",
    "WRITTEN_OFF": "written off",
    "FALSE_POSITIVE": "false positive",
    "MATCHED_MANUALLY": "matched by hand",
}

# The editable decision columns at the end of every exception sheet (per type, and Pending),
# and the key column the importer joins them on. Identical in every locale.
EXCEPTION_ID_HEADER = "异常编号"
DECISION_HEADERS: dict[str, str] = {
    "action": "处理结果",  # a RESOLUTION_ACTIONS choice, read by its leading code
    "note": "处理说明",
    "by": "处理人",
    "ref": "对方单号",  # the counterpart's ref, for MATCHED_MANUALLY
}

FILE_STATUS: dict[str, str] = {
    "OK": "正常",
    "ERROR": "出错",
    "MISSING": "未到",
    "DUPLICATE": "重复文件",  # byte-identical to a file delivered before: counted once
    "UNCLAIMED": "无人认领",  # in the day folder, but no source's glob matches it: not read
}


def label(code: str) -> str:
    """Chinese label of an exception code; an unknown code is shown as itself."""
    entry = EXCEPTION_TYPES.get(code)
    return entry.label if entry else code


def meaning(code: str) -> str:
    entry = EXCEPTION_TYPES.get(code)
    return entry.meaning if entry else ""


def action(code: str) -> str:
    """Suggested action (Chinese / English) of an exception code; empty if unknown."""
    entry = EXCEPTION_TYPES.get(code)
    return entry.action if entry else ""


def settlement_status(status: str | None) -> str:
    return SETTLEMENT_STATUS.get(status or "", status or "")


def name_en(code: str) -> str:
    """A short English name of an exception code: DUPLICATE_DEBIT -> Duplicate debit."""
    return code.replace("_", " ").capitalize()


def action_in(code: str, locale: str) -> str:
    """The suggested action in one language: the Chinese half for "zh", the English for "en"."""
    zh, _, en = action(code).partition(" / ")
    return (en or zh) if locale == "en" else zh


def severity(level: int | None, locale: str = "zh") -> str | None:
    """1 -> "1 借款人受损": the level first, so the column sorts and filters by urgency."""
    if level is None:
        return None
    names = SEVERITY_EN if locale == "en" else SEVERITY
    return f"{level} {names[level]}" if level in names else str(level)


def resolution_choice(code: str | None, locale: str = "zh") -> str | None:
    """REFUNDED -> "REFUNDED 已退款" (the text of a 处理结果 cell); unknown codes as themselves."""
    if code is None:
        return None
    names = RESOLUTION_ACTIONS_EN if locale == "en" else RESOLUTION_ACTIONS
    return f"{code} {names[code]}" if code in names else code


def resolution_choices(locale: str = "zh") -> list[str]:
    return [resolution_choice(code, locale) or code for code in RESOLUTION_ACTIONS]


def parse_resolution_action(cell: object) -> str | None:
    """The action code of a 处理结果 cell, or None if it names none.

    Read by its leading code, case-insensitive ("REFUNDED 已退款", "refunded", "REFUNDED-x");
    a cell holding only a label ("已退款", "written off") is accepted too.
    """
    if cell is None:
        return None
    text = str(cell).strip()
    if not text:
        return None
    head = text.split(maxsplit=1)[0].upper()  # str.split also splits at a full-width space
    for code in RESOLUTION_ACTIONS:
        rest = head[len(code) :]
        if head.startswith(code) and not (
            rest[:1].isascii() and (rest[:1].isalnum() or rest[:1] == "_")
        ):
            return code
    by_label = {v: k for k, v in RESOLUTION_ACTIONS.items()}
    by_label |= {v.lower(): k for k, v in RESOLUTION_ACTIONS_EN.items()}
    return by_label.get(text) or by_label.get(text.lower())


def status_label(status: str | None, table: dict[str, str], locale: str = "zh") -> str | None:
    """A status code in the reader's language: its Chinese label, or (en) the code itself."""
    if status is None:
        return None
    return status if locale == "en" else table.get(status, status)
