"""The workbook's words in each locale: sheet tabs, column headers, summary texts.

"zh" (the default) is Chinese first, with the English or the code after it in tabs; "en" is
English. Codes (exception types, statuses) keep their own columns in both. The key column
异常编号 and the decision columns (labels.DECISION_HEADERS) have the same header in every
locale: the importer of decisions reads them by these exact texts.
"""

from __future__ import annotations

import re
from decimal import Decimal

from reports import labels, phrasebook

LOCALES = ("zh", "en")


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}: expected one of {', '.join(LOCALES)}")
    return locale


# ---------------------------------------------------------------------------- sheet tabs

# Fixed sheets: key -> (Chinese part of the tab, English tab).
SHEETS: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "pending": ("在途", "Pending"),
    "cleared": ("今日已清", "Cleared"),
    "resolved": ("已处理", "Resolved"),
    "settlement": ("结算", "Settlement"),
    "distribution": ("清分", "Distribution"),
    "rejected": ("错误行", "Rejected"),
    "inputs": ("文件", "Inputs"),
}

SHEET_MAX = 31  # Excel's limit on a sheet name
_SHEET_FORBIDDEN = str.maketrans(
    {"/": "-", "\\": "-", ":": "-", "[": "(", "]": ")", "*": "_", "?": "_"}
)


def _clean(text: str) -> str:
    return text.translate(_SHEET_FORBIDDEN).strip().strip("'")


def tab(prefix: str | None, key: str, part: int = 1) -> str:
    """A sheet name of at most 31 characters: "prefix key", then " (2)", " (3)" for parts.

    The key (an exception code, an English name) is kept whole; the prefix (the Chinese label)
    is shortened if the name would be too long, then dropped; a key alone too long is cut.
    """
    key = _clean(key) or "Sheet"
    suffix = f" ({part})" if part > 1 else ""
    room = SHEET_MAX - len(key) - len(suffix)
    prefix = _clean(prefix or "")
    if prefix and room >= 2:
        return f"{prefix[: room - 1].rstrip()} {key}{suffix}"
    return key[: SHEET_MAX - len(suffix)] + suffix


def sheet_tab(sheet: str, locale: str, part: int = 1) -> str:
    zh, en = SHEETS[sheet]
    return tab(zh if locale == "zh" else None, en, part)


def type_tab(code: str, locale: str, part: int = 1) -> str:
    """重复扣款 DUPLICATE_DEBIT (zh) or DUPLICATE_DEBIT (en)."""
    label = labels.label(code)
    return tab(label if locale == "zh" and label != code else None, code, part)


# ---------------------------------------------------------------------------- headers

_ID = labels.EXCEPTION_ID_HEADER
_D = labels.DECISION_HEADERS

# Column key -> (Chinese header, English header).
HEADERS: dict[str, tuple[str, str]] = {
    # exceptions
    "exception_id": (_ID, _ID),
    "severity": ("严重程度", "severity"),
    "money_at_stake": ("风险金额", "money at stake"),
    "age_days": ("账龄(天)", "age (days)"),
    "type_label": ("类型", "type"),
    "exception_type": ("类型代码", "exception_type"),
    "ref": ("对账键", "ref"),
    "status": ("状态", "status"),
    "biz_date": ("业务日期", "business date"),
    "first_seen": ("首次发现", "first seen"),
    "channel": ("渠道", "channel"),
    "order_no": ("订单号", "order no"),
    "channel_txn_id": ("渠道流水号", "channel txn id"),
    "bank_txn_id": ("银行流水号", "bank txn id"),
    "borrower": ("借款人", "borrower"),
    "card": ("卡号", "card"),
    "expected": ("应有金额", "expected"),
    "actual": ("实际金额", "actual"),
    "diff": ("差额", "difference"),
    "detail": ("说明", "detail"),
    "action": ("建议处理", "suggested action"),
    "file": ("文件", "file"),
    "line": ("行号", "line"),
    # the editable decision columns: the same text in every locale
    "decision_action": (_D["action"], _D["action"]),
    "decision_note": (_D["note"], _D["note"]),
    "decision_by": (_D["by"], _D["by"]),
    "decision_ref": (_D["ref"], _D["ref"]),
    # a decision already recorded (Resolved sheet): other texts, so it is never re-imported
    "resolution_action": ("处理方式", "decision"),
    "resolution_ref": ("对应单号", "counterpart ref"),
    "resolution_note": ("处理备注", "decision note"),
    "resolved_by": ("经办人", "decided by"),
    "resolved_at": ("处理时间", "decided at"),
    "resolution_id": ("处理编号", "decision id"),
    # settlements
    "settle_date": ("结算日期", "settle date"),
    "trade_date": ("交易日期", "trade date"),
    "txn_count": ("笔数", "transactions"),
    "pay_amount": ("支付金额", "pay amount"),
    "refund_amount": ("退款金额", "refund amount"),
    "fee_amount": ("手续费", "fees"),
    "expected_net": ("应结净额", "expected net"),
    "bank_value_date": ("银行入账日期", "bank value date"),
    "bank_amount": ("银行入账金额", "bank amount"),
    "status_label": ("状态", "status"),
    "status_code": ("状态代码", "status code"),
    "group_expected": ("批次应结合计", "group expected"),
    "bank_txn_ids": ("批次银行流水号", "group bank txn ids"),
    "group_id": ("批次编号", "group id"),
    # distributions
    "recipient": ("收款方", "recipient"),
    "account_no": ("账号", "account no"),
    "value_date": ("清分日期", "value date"),
    "share_expected": ("应分金额", "expected share"),
    "paid_amount": ("划出金额", "paid"),
    "paid_value_date": ("划出日期", "paid on"),
    "paid_bank_txn_ids": ("划出流水号", "paid bank txn ids"),
    "received_amount": ("到账金额", "received"),
    "received_bank_txn_ids": ("到账流水号", "received bank txn ids"),
    "settle_items": ("对应结算", "settlements"),
    # rejected rows, inputs
    "source": ("来源", "source"),
    "reason": ("原因", "reason"),
    "raw": ("原始内容", "raw line"),
    "file_sha256": ("文件SHA256", "file sha256"),
    "format": ("格式", "format"),
    "file_status": ("状态", "status"),
    "rows_in": ("读入行数", "rows in"),
    "rows_ok": ("成功行数", "rows ok"),
    "rows_rejected": ("错误行数", "rows rejected"),
    "control": ("控制总数", "control totals"),
    "checks": ("声明值与计算值", "stated vs computed"),
    "error": ("错误", "error"),
    # a bank file: money in, money out, and the difference; a channel's or the platform's
    # file: the sum of its transactions' amounts
    "credit_count": ("收入笔数", "credits"),
    "credit_amount": ("收入(贷方合计)", "in (credits)"),
    "debit_count": ("支出笔数", "debits"),
    "debit_amount": ("支出(借方合计)", "out (debits)"),
    "net_amount": ("净额(收入-支出)", "net (in - out)"),
    "amount_total": ("交易金额合计(渠道/平台)", "channel/platform total"),
}


def header(key: str, locale: str) -> str:
    zh, en = HEADERS[key]
    return en if locale == "en" else zh


# ---------------------------------------------------------------------------- sentences


def sentence(text: str | None, locale: str) -> str | None:
    """A sentence the pipeline wrote in English (a detail, a reason, an error, a check), in the
    reader's language: Chinese for "zh" (reports/phrasebook.py), as written for "en"."""
    return phrasebook.translate(text) if locale == "zh" and text else text


def sentences(values: list[str | None], locale: str) -> list[str | None]:
    return phrasebook.translate_all(values) if locale == "zh" else values


# ---------------------------------------------------------------------------- summary

# Summary texts: key -> (Chinese, English).
TEXTS: dict[str, tuple[str, str]] = {
    "title": ("对账报告 汇总", "Reconciliation summary"),
    "report_date": ("报告日期", "Report date"),
    "headline": ("今日要点", "Headline"),
    "borrowers": ("受影响借款人(人)", "Borrowers affected"),
    "borrowers_note": (
        "严重程度1(借款人受损)的未处理差异涉及的借款人, 去重",
        "distinct borrowers of OPEN items of severity 1 (borrower harmed)",
    ),
    "at_risk": ("风险金额合计", "Money at risk"),
    "at_risk_note": ("全部未处理差异的风险金额之和", "money at stake of all OPEN items, summed"),
    "oldest": ("最久未处理(天)", "Oldest open item (days)"),
    "none": ("无", "none"),
    "open": ("未处理差异(笔)", "Open items"),
    "new_today": ("今日新增(笔)", "New today"),
    "new_today_note": ("首次发现于报告日的未处理差异", "OPEN items first seen on the report date"),
    "cleared_today": ("今日已清(笔)", "Cleared today"),
    "cleared_today_note": ("对方记录已到, 自动消除", "their counterpart arrived"),
    "resolved_today": ("今日已处理(笔)", "Resolved today"),
    "resolved_today_note": (
        "处理时间在报告日的已处理差异; 已处理表共 {total} 笔",
        "decisions dated the report date; {total} on the Resolved sheet in all",
    ),
    "pending": ("在途(笔)", "Pending"),
    "pending_note": ("仍在等待期内, 尚非差异", "still within their pending days"),
    "by_severity": ("按严重程度 (未处理)", "By severity (OPEN)"),
    "by_type": ("按差异类型 (未处理)", "By type (OPEN)"),
    "ageing": ("账龄 (未处理, 天)", "Ageing (OPEN, days)"),
    "stats": ("运行统计", "Run statistics"),
    "inputs": ("文件", "Inputs"),
    "splits": ("超行拆分", "Sheets over the row limit"),
    "continues": ("{sheet} 续见 {more}", "{sheet} continues on {more}"),
    "total": ("合计", "Total"),
    "count": ("笔数", "count"),
    "abs_diff": ("差额绝对值合计", "total |difference|"),
    "age_bucket": ("账龄(天)", "age (days)"),
    "chart_title": ("未处理差异笔数(按类型)", "Open items by type"),
    "chart_series": ("未处理差异笔数", "open items"),
    "control_none": ("无校验", "n/a"),
    "control_ok": ("一致", "ok"),
    "control_diff": ("不符", "different"),
    "check": (
        "{name}: 声明 {stated} / 计算 {computed} ({verdict})",
        "{name}: stated {stated} vs computed {computed} ({verdict})",
    ),
    "input_title": ("处理结果", "Decision"),
    "input_message": (
        "选择处理结果; 手工匹配请在“对方单号”填写对方记录",
        "Choose a decision; for MATCHED_MANUALLY give the counterpart in 对方单号",
    ),
}


def text(key: str, locale: str, **kw: object) -> str:
    zh, en = TEXTS[key]
    return (en if locale == "en" else zh).format(**kw)


# The pipeline's run statistics (transforms/pipeline.report_stats) in Chinese; others as given.
STATS_ZH: dict[str, str] = {
    "platform repay orders (biz date)": "平台还款订单(业务日)",
    "orders matched to a channel debit": "已匹配渠道扣款的订单",
    "order match rate": "订单匹配率",
    "channel transactions (biz date)": "渠道交易(业务日)",
    "settlements due today": "今日应到结算",
    "settlements matched": "结算已对平",
    "settlement match rate": "结算匹配率",
    "distributions due today": "今日应清分",
    "distributions matched": "清分已对平",
    "distribution match rate": "清分匹配率",
    "computed because": "本次计算原因",
    "inbox folder": "收件文件夹",
}


def stat_label(key: str, locale: str) -> str:
    return STATS_ZH.get(key, key) if locale == "zh" else key


_PERCENT = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*%\s*")


def percent(value: object) -> float | None:
    """A rate given as text, "97.1%", as a number, 0.971; anything else -> None."""
    m = _PERCENT.fullmatch(value) if isinstance(value, str) else None
    return float(Decimal(m.group(1)) / 100) if m else None  # 0.7% -> 0.007, not 0.0069999...
