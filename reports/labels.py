"""Exception codes (SPEC §6) and settlement statuses, with Chinese labels and suggested actions."""

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
