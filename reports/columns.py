"""The columns of each sheet, in a locale: headers, cell kinds, widths, labels and masking.

Every text that comes from an input file is masked here, by field where its meaning is known
(card, borrower) and by pattern where it is free text (details, raw lines, reasons, file names,
notes): see reports/masking.py. Ids and keys (order no, txn ids, refs) are shown as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from reports import i18n, labels, phrasebook
from reports.masking import mask_borrower, mask_card, mask_details, mask_raws, mask_texts
from reports.xlsx import Col


def _h(locale: str):
    return lambda key: i18n.header(key, locale)


def _said(locale: str, mask):
    """A column of sentences the pipeline wrote: masked (on the English text, whose shape the
    masking knows), then in the reader's language."""
    return lambda values: i18n.sentences(mask(values), locale)


def _type_label(locale: str):
    return labels.name_en if locale == "en" else labels.label


def exception_context(locale: str) -> list[Col]:
    """What an exception is, most telling first: urgency, type, keys, amounts, evidence."""
    h = _h(locale)
    return [
        Col(h("severity"), "text", 14, "severity", lambda v: labels.severity(v, locale)),
        Col(h("money_at_stake"), "money", 14, "money_at_stake"),
        Col(h("age_days"), "int", 9, "age_days"),
        Col(h("type_label"), "text", 22, "exception_type", _type_label(locale)),
        Col(h("exception_type"), "text", 22, "exception_type"),
        Col(h("ref"), "text", 26, "ref"),
        Col(h("biz_date"), "date", 11, "biz_date"),
        Col(h("first_seen"), "date", 11, "first_seen"),
        Col(h("channel"), "text", 11, "channel"),
        Col(h("order_no"), "text", 24, "order_no"),
        Col(h("channel_txn_id"), "text", 30, "channel_txn_id"),
        Col(h("bank_txn_id"), "text", 22, "bank_txn_id"),
        Col(h("borrower"), "text", 12, "borrower_id", mask_borrower),
        Col(h("card"), "text", 14, "card_no", mask_card),
        Col(h("expected"), "money", 14, "expected_amount"),
        Col(h("actual"), "money", 14, "actual_amount"),
        Col(h("diff"), "money", 14, "diff_amount"),
        Col(h("detail"), "text", 50, "detail", bulk=_said(locale, mask_details), fit=False),
        Col(h("action"), "text", 28, "exception_type", lambda c: labels.action_in(c, locale)),
        Col(h("file"), "text", 26, "file_name", bulk=mask_texts),
        Col(h("line"), "int", 7, "line_no"),
    ]


def decision_cols(locale: str) -> list[Col]:
    """The editable columns finance fills in, read back by the importer (same in every locale)."""
    h = _h(locale)
    prompt = (i18n.text("input_title", locale), i18n.text("input_message", locale))
    choices = tuple(labels.resolution_choices(locale))
    return [
        Col(h("decision_action"), "blank", 24, choices=choices, editable=True, prompt=prompt),
        Col(h("decision_note"), "blank", 30, editable=True),
        Col(h("decision_by"), "blank", 10, editable=True),
        Col(h("decision_ref"), "blank", 24, editable=True),
    ]


def exception_cols(locale: str, decisions: bool) -> list[Col]:
    """An exception sheet: 异常编号 first (the importer's key), the decision columns last."""
    key = Col(_h(locale)("exception_id"), "text", 18, "exception_id")
    return [key, *exception_context(locale), *(decision_cols(locale) if decisions else [])]


def resolved_cols(locale: str, zone: str) -> list[Col]:
    """The RESOLVED rows: the decision in force first, then what the exception was."""
    h, tz = _h(locale), ZoneInfo(zone)

    def local(instant: dt.datetime | None) -> dt.datetime | None:
        return None if instant is None else instant.astimezone(tz).replace(tzinfo=None)

    return [
        Col(h("exception_id"), "text", 18, "exception_id"),
        Col(
            h("resolution_action"),
            "text",
            22,
            "resolution_action",
            lambda c: labels.resolution_choice(c, locale),
        ),  # fmt: skip
        Col(h("resolution_ref"), "text", 22, "resolution_ref"),
        Col(h("resolution_note"), "text", 36, "resolution_note", bulk=mask_texts, fit=False),
        Col(h("resolved_by"), "text", 10, "resolved_by"),
        Col(h("resolved_at"), "datetime", 16, "resolved_at", local),
        Col(h("resolution_id"), "text", 18, "resolution_id"),
        *exception_context(locale),
    ]


def _settlement_status(locale: str):
    """A status code shown as its label (结算 and 清分 share the statuses)."""

    def status(s):
        return labels.status_label(s, labels.SETTLEMENT_STATUS, locale)

    return status


def settlement_cols(locale: str) -> list[Col]:
    h = _h(locale)

    status = _settlement_status(locale)

    return [
        Col(h("channel"), "text", 12, "channel"),
        Col(h("settle_date"), "date", 11, "settle_date"),
        Col(h("trade_date"), "date", 11, "trade_date"),
        Col(h("status_label"), "text", 10, "status", status),
        Col(h("status_code"), "text", 10, "status"),
        Col(h("txn_count"), "int", 10, "txn_count"),
        Col(h("pay_amount"), "money", 15, "pay_amount"),
        Col(h("refund_amount"), "money", 15, "refund_amount"),
        Col(h("fee_amount"), "money", 13, "fee_amount"),
        Col(h("expected_net"), "money", 15, "expected_net"),
        Col(h("bank_txn_id"), "text", 24, "bank_txn_id"),
        Col(h("bank_value_date"), "date", 14, "bank_value_date"),
        Col(h("bank_amount"), "money", 15, "bank_amount"),
        Col(h("diff"), "money", 14, "diff_amount"),
        Col(h("group_expected"), "money", 15, "group_expected"),
        Col(h("bank_txn_ids"), "text", 30, "bank_txn_ids"),
        Col(h("group_id"), "text", 30, "group_id"),
    ]


def distribution_cols(locale: str) -> list[Col]:
    h = _h(locale)

    status = _settlement_status(locale)

    return [
        Col(h("recipient"), "text", 12, "recipient"),
        Col(h("account_no"), "text", 24, "account_no"),
        Col(h("value_date"), "date", 11, "value_date"),
        Col(h("status_label"), "text", 10, "status", status),
        Col(h("status_code"), "text", 10, "status"),
        Col(h("share_expected"), "money", 15, "expected_amount"),
        Col(h("paid_amount"), "money", 15, "paid_amount"),
        Col(h("paid_value_date"), "date", 14, "paid_value_date"),
        Col(h("paid_bank_txn_ids"), "text", 24, "paid_bank_txn_ids"),
        Col(h("received_amount"), "money", 15, "received_amount"),
        Col(h("received_bank_txn_ids"), "text", 24, "received_bank_txn_ids"),
        Col(h("diff"), "money", 14, "diff_amount"),
        Col(h("settle_items"), "text", 40, "settle_items", fit=False),
        Col(h("detail"), "text", 50, "detail", bulk=_said(locale, mask_texts), fit=False),
    ]


def reject_cols(locale: str) -> list[Col]:
    h = _h(locale)
    return [
        Col(h("source"), "text", 14, "source"),
        Col(h("file"), "text", 30, "file_name", bulk=mask_texts),
        Col(h("line"), "int", 7, "line_no"),
        Col(h("reason"), "text", 40, "reason", bulk=_said(locale, mask_texts), fit=False),
        Col(h("raw"), "text", 60, "raw", bulk=mask_raws, fit=False),
        Col(h("file_sha256"), "text", 20, "file_sha256"),
    ]


# ---------------------------------------------------------------------------- inputs


def _checks(row: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        checks = json.loads(row["checks"] or "[]")
    except (TypeError, ValueError):
        return [{"name": str(row["checks"]), "stated": None, "computed": None, "ok": None}]
    return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []


def control_text(row: dict[str, Any], locale: str = "zh") -> str:
    checks = _checks(row)
    if not checks:
        return i18n.text("control_none", locale)
    ok = row["control_ok"] if row["control_ok"] is not None else all(c.get("ok") for c in checks)
    return i18n.text("control_ok" if ok else "control_diff", locale)


def _amount(value: Any) -> Any:
    """A stated or computed total as finance reads it: 408.21000 as 408.21 (3.67086 stays)."""
    return phrasebook.two_decimals(value) if isinstance(value, str) else value


def checks_text(row: dict[str, Any], locale: str = "zh") -> str:
    return "; ".join(
        i18n.text(
            "check",
            locale,
            name=i18n.sentence(c.get("name"), locale),
            stated=_amount(c.get("stated")),
            computed=_amount(c.get("computed")),
            verdict=i18n.text("control_ok" if c.get("ok") else "control_diff", locale),
        )
        for c in _checks(row)
    )


def input_cols(locale: str, sheet: bool) -> list[Col]:
    """The files of the day (the summary's table, or with counts and sha256 the Inputs sheet)."""
    h = _h(locale)
    masked = mask_texts

    def status(s):
        return labels.status_label(s, labels.FILE_STATUS, locale)

    def control(row):
        return control_text(row, locale)

    def checks(row):
        return masked([checks_text(row, locale)])[0]

    cols = [
        Col(h("source"), "text", 14, "source"),
        Col(h("file"), "text", 30, "file_name", bulk=masked),
        Col(h("format"), "text", 14, "format"),
        Col(h("file_status"), "text", 8, "status", status),
        Col(h("rows_in"), "int", 9, "rows_in"),
        Col(h("rows_ok"), "int", 9, "rows_ok"),
        Col(h("rows_rejected"), "int", 9, "rows_rejected"),
        Col(h("control"), "text", 10, None, control),
    ]
    if sheet:
        cols.append(Col(h("credit_count"), "int", 9, "credit_count"))
    cols.append(Col(h("credit_amount"), "money", 16, "credit_amount"))
    if sheet:
        cols.append(Col(h("debit_count"), "int", 9, "debit_count"))
    cols += [
        Col(h("debit_amount"), "money", 16, "debit_amount"),
        Col(h("net_amount"), "money", 16, "net_amount"),
        Col(h("amount_total"), "money", 16, "amount_total"),
        Col(h("checks"), "text", 60, None, checks, fit=False),
        Col(h("error"), "text", 40, "error", bulk=_said(locale, masked), fit=False),
    ]
    if sheet:
        cols.append(Col(h("file_sha256"), "text", 20, "file_sha256"))
    return cols
