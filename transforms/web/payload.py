"""A `TraceResult` as the lookup service answers it, for one view (role).

Both views show what the trace shows a person (borrower data already masked by the trace as in
the workbook: card 6222****1234, name 张*, ids U1******89), the hops in Chinese, the
exceptions with their status, severity and finance decision, and the sentence for the
borrower. `finance` also sees the file lineage (each hop's source file:line, where the
lookup found the key and which inbox dates it read) and the money: amounts and details of
the settlement, bank and 清分 hops, and each exception's money at stake, expected / actual /
difference and detail. `service` sees the amounts of the borrower's own hops only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reports.labels import resolution_choice, severity
from transforms.trace.model import HOP_LABEL, STATUS_LABEL, Hop, OrderTrace, TraceResult

from .sentence import INTERNAL, borrower_sentence

VIEWS = ("service", "finance")
HOP_ZH = {kind: label.rsplit(" ", 1)[-1] for kind, label in HOP_LABEL.items()}
STATUS_ZH = {status: label.rsplit(" ", 1)[-1] for status, label in STATUS_LABEL.items()}
EXCEPTION_STATUS_ZH = {
    "OPEN": "未处理",
    "PENDING": "在途",
    "CLEARED": "已消除",
    "RESOLVED": "已处理",
}
MONEY_FIELDS = ("money_at_stake", "expected_amount", "actual_amount", "diff_amount", "detail")


def jsonable(value):
    """Dates ISO, money as exact decimal strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def trace_payload(result: TraceResult, view: str) -> dict:
    finance = view == "finance"
    return jsonable(
        {
            "key": result.key,
            "kind": result.kind,
            "report_date": result.report_date,
            "view": view,
            "count": len(result.traces),
            "repayments": [_repayment(t, finance) for t in result.traces],
            "lookup": result.lookup,
        }
    )


def _repayment(t: OrderTrace, finance: bool) -> dict:
    out = {
        "order_no": t.order_no,
        "sentence": borrower_sentence(t),
        "where": t.where,
        "facts": t.facts,
        "notes": t.notes,
        "hops": [_hop(h, finance) for h in t.hops],
        "exceptions": [_exception(e, finance) for e in t.exceptions],
    }
    if finance:
        out["found_in"] = t.found_in
        out["window"] = list(t.window) if t.window else None
    return out


def _hop(h: Hop, finance: bool) -> dict:
    label_zh = HOP_ZH[h.kind]
    if "→" in h.label:  # a 清分 hop names its recipient
        label_zh += " → " + h.label.split("→", 1)[1].strip()
    shown = finance or h.kind not in INTERNAL
    out = {
        "hop": h.kind,
        "label": h.label,
        "label_zh": label_zh,
        "status": h.status,
        "status_zh": STATUS_ZH[h.status],
        "date": h.date,
        "amount": h.amount if shown else None,
        "ref": h.ref,
        "detail": h.detail if shown else [],
        "exceptions": h.exceptions,
    }
    if finance:
        out["sources"] = h.sources
        out["lineage"] = [f"{s['file_name']}:{s['line_no']}" for s in h.sources]
    return out


def _exception(e: dict, finance: bool) -> dict:
    action = e.get("resolution_action")
    out = {
        "exception_id": e.get("exception_id"),
        "exception_type": e.get("exception_type"),
        "label": e.get("label"),
        "ref": e.get("ref"),
        "status": e.get("status"),
        "status_zh": EXCEPTION_STATUS_ZH.get(e.get("status"), e.get("status")),
        "severity": e.get("severity"),
        "severity_label": severity(e.get("severity")),
        "first_seen": e.get("first_seen"),
        "age_days": e.get("age_days"),
        "action": e.get("action"),
        "decision": {
            "action": action,
            "label": resolution_choice(action),
            "note": e.get("resolution_note"),
            "by": e.get("resolved_by"),
            "at": e.get("resolved_at"),
        }
        if action
        else None,
    }
    if finance:
        out.update({k: e.get(k) for k in MONEY_FIELDS})
    return out
