"""The report date's exceptions that name any hop of the order, and what they make of it."""

from __future__ import annotations

from .lake import In, Lake
from .model import DIFFERS, MISSING, PENDING, Hop

# Which hop an exception type speaks about, and what an OPEN one makes of it.
EXCEPTION_HOP = {
    "MISSING_ON_PLATFORM": ("order", MISSING),
    "PLATFORM_NOT_PAID": ("order", DIFFERS),
    "MISSING_ON_CHANNEL": ("channel_debit", MISSING),
    "CHANNEL_FAILED": ("channel_debit", DIFFERS),
    "AMOUNT_MISMATCH": ("channel_debit", DIFFERS),
    "DUPLICATE_DEBIT": ("channel_debit", DIFFERS),
    "REFUND_UNMATCHED": ("refund", DIFFERS),
    "SETTLEMENT_MISMATCH": ("settlement", DIFFERS),
    "SETTLEMENT_MISSING": ("settlement", MISSING),
    "BANK_UNEXPLAINED": ("bank_credit", DIFFERS),
    "DISTRIBUTION_MISMATCH": ("distribution", DIFFERS),
    "DATA_CONFLICT": ("order", DIFFERS),  # the same id delivered again with other content
}
KEEP = (
    "exception_type",
    "ref",
    "status",
    "biz_date",
    "first_seen",
    "age_days",
    "expected_amount",
    "actual_amount",
    "diff_amount",
    "detail",
    "order_no",
    "channel_txn_id",
    "bank_txn_id",
    "exception_id",
)
# Read too, for the lookup service (`recon trace` shows KEEP): how urgent, how much, and what
# finance decided (RESOLVED exceptions carry the decision; older layouts have none of these).
DECISION = (
    "severity",
    "money_at_stake",
    "resolution_action",
    "resolution_note",
    "resolved_by",
    "resolved_at",
)
SHOWN = (*KEEP, "label", "action")  # the fields `recon trace --json` lists per exception


def read_exceptions(lake: Lake, hops: list[Hop], order_no: str | None) -> list[dict]:
    """OPEN first, then by type and ref; borrower data masked, with label and action."""
    from reports.labels import action, label
    from reports.masking import mask_detail as mask_text

    refs = {i for h in hops for i in h.ids if i} | ({order_no} if order_no else set())
    cond = (
        In("ref", refs)
        | In("order_no", refs)
        | In("channel_txn_id", refs)
        | In("bank_txn_id", refs)
    )
    rows = lake.report("exceptions", lake.day, lake.day, cond)
    out = []
    for r in sorted(rows, key=lambda r: (r.get("status") != "OPEN", r["exception_type"], r["ref"])):
        e = {k: r.get(k) for k in (*KEEP, *DECISION)}
        e["detail"] = mask_text(e["detail"])
        e["resolution_note"] = mask_text(e["resolution_note"])
        e["label"], e["action"] = label(e["exception_type"]), action(e["exception_type"])
        out.append(e)
    return out


def apply_exceptions(hops: list[Hop], exceptions: list[dict], order_no: str | None) -> None:
    """An OPEN or PENDING exception of the report date decides its hop's status."""
    for e in exceptions:
        kind, open_status = EXCEPTION_HOP.get(e["exception_type"], (None, None))
        if kind is None:
            continue
        keys = {e.get("ref"), e.get("channel_txn_id"), e.get("bank_txn_id")}
        if kind == "order":
            keys = {e.get("ref")} if e.get("order_no") in (order_no, None) else set()
        candidates = [h for h in hops if h.kind == kind]
        if kind == "channel_debit":
            candidates += [h for h in hops if h.kind == "installment_debit"]
        targets = [h for h in candidates if h.ids & {k for k in keys if k}]
        if not targets and kind == "channel_debit" and e.get("order_no") == order_no:
            targets = [h for h in candidates if h.kind == "channel_debit"][:1]
        for hop in targets:
            if e["status"] == "OPEN":
                hop.status = open_status
            elif e["status"] == "PENDING":
                hop.status = PENDING
            hop.exceptions.append(f"{e['exception_type']} {e['label']} ({e['status']})")
