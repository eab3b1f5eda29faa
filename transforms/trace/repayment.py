"""`trace`: locate the key, read the rows of each order it names from the few inbox dates
they can be in, and build its hops from the platform order to the 清分."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import duckdb

from transforms.config import Config
from transforms.errors import UsageError

from .exceptions import apply_exceptions, read_exceptions
from .hops import debit_hops, debits, masks, order_hop, refund_hops, sibling_hops
from .lake import Eq, FileCache, In, Lake, Ne, as_date, deliveries
from .locate import DEFAULT_DAYS, locate, report_date, settled_note
from .model import (
    DIFFERS,
    DONE,
    FEE,
    MISSING,
    NA,
    STATUS_LABEL,
    Anchor,
    Hop,
    KeyNotFound,
    LakeBusy,
    OrderTrace,
    TraceResult,
    money,
)
from .settlement import bank_sources, distribution_hops, settlement_hops

MONEY_PATH = ("channel_debit", "settlement", "bank_credit", "distribution")
READ_ATTEMPTS = 3  # a lookup whose dates were re-published while it read is read again


def trace(
    config: Config,
    key: str,
    day: dt.date | None = None,
    days: int = DEFAULT_DAYS,
    con: duckdb.DuckDBPyConnection | None = None,
    cache: FileCache | None = None,
) -> TraceResult:
    """Every hop of the repayment(s) KEY names, as of report date `day` (default: the latest).
    `con`: a DuckDB connection to read through (the lookup service shares one), `cache` the
    small files it holds in it."""
    key = (key or "").strip()
    if not key:
        raise UsageError("trace: expected an order_no, channel_txn_id or borrower_id")
    if days < 1:
        raise UsageError(f"trace: --days expected a positive number of days, found {days}")
    started = time.perf_counter()
    for _ in range(READ_ATTEMPTS):
        lake = Lake(config, report_date(config, day, cache), con, cache)
        try:
            kind, anchors = locate(lake, key, days)
            traces = [_trace_order(lake, a) for a in anchors]
        except (KeyNotFound, duckdb.Error, OSError):
            if lake.republished():  # a run swapped a date it read: read the new version
                continue
            raise
        finally:
            lake.close()
        if not lake.republished():
            break
    else:
        raise LakeBusy(
            f"trace: {key!r}: the dates it reads in {config.data_dir} were re-published "
            f"{READ_ATTEMPTS} times while it read them (a run is re-publishing); try again"
        )
    lookup = {
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        "queries": lake.queries,
        "files_read": lake.files_read,
        "published_dates": len(lake.versions),
    }
    return TraceResult(key, kind, lake.day, traces, lookup)


def _trace_order(lake: Lake, a: Anchor, depth: int = 0) -> OrderTrace:
    config, day = lake.config, lake.day
    order_no = a.order_no
    ids = {a.txn_id}
    keys_row = a.keys_row
    # 1. in play: the carried state of the report date (rows with file, line, inbox date)
    state_orders = (
        lake.state("orders", Eq("order_no", order_no) | Eq("orig_order_no", order_no))
        if order_no
        else []
    )
    own = next((o for o in state_orders if o["order_no"] == order_no), None)
    if order_no and own is None and keys_row is None:
        hits = lake.delta("order_keys", Eq("order_no", order_no), order_no)
        keys_row = hits[0] if hits else None
    if not a.found_in:  # a refund's original: say where it was found
        a.found_in = (
            f"in play 在途 (state of {day})"
            if own
            else settled_note(keys_row, "order_keys")
            if keys_row
            else "not in play nor in the deltas"
        )
    base = own or keys_row or a.seen or {}
    loan, inst = base.get("loan_no"), base.get("installment_no")
    ids |= {base.get("channel_txn_id")}
    if loan and inst is not None:
        state_orders += lake.state(
            "orders",
            Eq("loan_no", loan) & Eq("installment_no", inst) & Ne("order_no", order_no),
        )
    # 2. the window of inbox dates its rows can be in
    known = [r for r in (own, keys_row, a.seen, a.txn_row) if r] + state_orders
    dates = [r.get(c) for r in known for c in ("biz_date", "inbox_date", "settled_on")]
    dates = [d for d in dates if as_date(d)]
    lo = min(dates) - dt.timedelta(days=1) if dates else day
    hi = min(day, max(dates) + dt.timedelta(days=1)) if dates else day
    # 3. the lake rows of the window
    where = Eq("order_no", order_no) | Eq("orig_order_no", order_no)
    if loan and inst is not None:
        where = where | (Eq("loan_no", loan) & Eq("installment_no", inst))
    platform = [dict(o, _state=True) for o in state_orders]
    platform += lake.window("platform_orders", lo, hi, where) if order_no else []
    by_order = deliveries(platform, lambda r: r["order_no"])
    order_rows = by_order.get(order_no, [])
    order = order_rows[0] if order_rows else None
    if order and order["order_type"] == "REFUND" and order.get("orig_order_no") and depth == 0:
        note = f"{order_no} is a refund 退款 of order {order['orig_order_no']}"
        return _retarget(lake, order["orig_order_no"], note, depth)
    refunds = [
        rows[0]
        for no, rows in by_order.items()
        if no != order_no
        and rows[0]["order_type"] == "REFUND"
        and rows[0].get("orig_order_no") == order_no
    ]
    siblings = [
        rows[0]
        for no, rows in by_order.items()
        if no != order_no
        and rows[0]["order_type"] == "REPAY"
        and loan
        and rows[0].get("loan_no") == loan
        and rows[0].get("installment_no") == inst
    ]
    late_txns: list[dict] = []
    if order and order["order_type"] == "REPAY":
        known_refunds = {r["order_no"] for r in refunds}
        late, late_txns = _late_refunds(lake, order_no, known_refunds, order.get("biz_date") or lo)
        refunds += late
    ids |= {o.get("channel_txn_id") for o in [order or {}, *refunds]}
    merchant = {order_no} | {o["order_no"] for o in refunds + siblings}
    twhere = (
        In("merchant_order_no", merchant)
        | In("orig_merchant_order_no", [order_no])
        | In("channel_txn_id", ids)
        | In("orig_channel_txn_id", ids)
    )
    txns = [dict(t, _state=True) for t in lake.state("txns", twhere)]
    txns += lake.window("channel_txns", lo, hi, twhere)
    by_txn = deliveries(txns, lambda r: (r["channel"], r["channel_txn_id"], r["txn_type"]))
    txns = [rows[0] for rows in by_txn.values()]
    txns += [
        t for t in late_txns if (t["channel"], t["channel_txn_id"], t["txn_type"]) not in by_txn
    ]
    if order is None and depth == 0:
        named = a.txn_row or {}
        full = next((t for t in txns if t["channel_txn_id"] == a.txn_id), named)
        if full.get("txn_type") == "REFUND" and full.get("orig_merchant_order_no"):
            note = f"{a.txn_id} is a refund 退款 of order {full['orig_merchant_order_no']}"
            return _retarget(lake, full["orig_merchant_order_no"], note, depth)
    if order is None and not txns:
        raise KeyNotFound(
            f"trace: {order_no or a.txn_id} was found in {a.found_in} but none of its rows is "
            f"in the lake partitions {lo} .. {hi} of {config.data_dir}"
        )
    return _build(lake, a, order, order_rows, refunds, siblings, txns, keys_row, (lo, hi))


def _late_refunds(lake: Lake, order_no: str, known: set[str], since: dt.date):
    """Refunds of the order that left play outside its window. The `refunds` deltas (sorted by
    orig_order_no, so pruned) name them; the order_keys and txn_keys deltas of the date they
    left play give their rows with file and line. Layouts without `refunds` deltas: none."""
    hits = lake.delta_since("refunds", since, Eq("orig_order_no", order_no), order_no)
    by_day: dict[dt.date, set[str]] = {}
    for h in hits:
        if h["order_no"] not in known:
            by_day.setdefault(h["_date"], set()).add(h["order_no"])
    platform, channel = [], []
    for d, nos in sorted(by_day.items()):
        keys = lake.state_file("order_keys", d)
        rows = lake.read([(d, keys)], In("order_no", nos)) if keys else []
        platform += [dict(r, note=f"left play 结清 on {d} (history delta)") for r in rows]
        ids = {r.get("channel_txn_id") for r in rows}
        tkeys = lake.state_file("txn_keys", d)
        where = In("merchant_order_no", nos) | In("channel_txn_id", ids)
        channel += lake.read([(d, tkeys)], where) if tkeys else []
    return platform, channel


def _retarget(lake: Lake, order_no: str, note: str, depth: int) -> OrderTrace:
    """Trace the original order of a refund the key named."""
    result = _trace_order(lake, Anchor(order_no, ""), depth + 1)
    result.notes.insert(0, note)
    return result


def _build(lake, a, order, order_rows, refunds, siblings, txns, keys_row, window) -> OrderTrace:
    config, day = lake.config, lake.day
    mask_borrower, _, mask_text = masks()
    order_no = order["order_no"] if order else a.order_no
    pays = debits(a, order, order_no, txns, keys_row)
    hops = [order_hop(order, order_no, order_rows, pays)]
    hops += debit_hops(config, day, order, pays, txns)
    hops += refund_hops(config, day, order, order_no, refunds, pays, txns)
    hops += sibling_hops(siblings, txns)

    # settlement, bank credits and distribution of each settlement item the debits are in
    ok_pays = [t for t in pays if t["status"] == "SUCCESS"]
    items = sorted({(t["channel"], t["biz_date"]) for t in ok_pays if t.get("biz_date")})
    lender = (order or {}).get("lender_code")
    shares = {}
    if order and order.get("status") != "SUCCESS":
        # the 清分 counts successful platform repayments only (34_distribution_shares.sql)
        shares = {"not_paid": order.get("status")}
    elif order:
        lender_share = sum(
            (Decimal(order.get(n) or 0) for n in ("principal", "interest", "penalty")), Decimal(0)
        )
        shares = {lender: lender_share, FEE: Decimal(order.get("fee") or 0)}
    if not items:
        why = "no successful channel debit: nothing settles 无成功扣款"
        hops += [
            Hop(kind, NA, detail=[why]) for kind in ("settlement", "bank_credit", "distribution")
        ]
    for channel, trade_date in items:
        own = [t for t in ok_pays if (t["channel"], t["biz_date"]) == (channel, trade_date)]
        settle = settlement_hops(lake, channel, trade_date, own)
        hops += settle + distribution_hops(lake, settle, lender, shares, bool(refunds))
    bank_sources(lake, hops)

    # the exceptions of the report date that name any of it decide their hops
    exceptions = read_exceptions(lake, hops, order_no)
    apply_exceptions(hops, exceptions, order_no)
    borrower = (order or {}).get("borrower_id")
    facts = {
        "order_no": order_no,
        "borrower": mask_borrower(borrower) if borrower else None,
        "loan": f"{order.get('loan_no')} #{order.get('installment_no')}" if order else None,
        "lender": lender,
        "channel": (order or {}).get("channel") or (pays[0]["channel"] if pays else None),
        "amount": order.get("amount") if order else None,
    }
    for hop in hops:
        hop.detail = [mask_text(d) for d in hop.detail]
    return OrderTrace(
        order_no, a.found_in, facts, hops, exceptions, _where(hops), window, list(a.notes)
    )


def _where(hops: list[Hop]) -> str:
    """One line for a person: how far the borrower's money got, what is next, what differs."""
    reached, stuck = None, None
    attempts = [h.row for h in hops if h.kind == "channel_debit" and h.row]
    failed = attempts and all(t["status"] != "SUCCESS" for t in attempts)
    for kind in () if failed else MONEY_PATH:
        stage = [h for h in hops if h.kind == kind]
        if not stage or stuck is not None:
            continue
        stuck = next((h for h in stage if h.status not in (DONE, DIFFERS)), None)
        if stuck is None:
            reached = stage[0]
    if reached is None:
        text = "where 资金位置: not taken from the borrower 未扣款"
    elif reached.kind == "distribution":
        paid = [h for h in hops if h.kind == "distribution" and h.status in (DONE, DIFFERS)]
        text = "where 资金位置: distributed 已清分 " + ", ".join(
            f"{h.label.rsplit(' ', 1)[-1]} {h.date}" for h in paid
        )
    else:
        text = (
            f"where 资金位置: at {reached.label} {reached.ref or ''} {reached.date or ''}".rstrip()
        )
    if stuck is not None:
        text += f"; next 下一环节: {stuck.label} {STATUS_LABEL[stuck.status]}"
    # what the channel paid back, whether or not the platform side agrees
    refunded = [
        h.row for h in hops if h.kind == "refund" and (h.row or {}).get("status") == "SUCCESS"
    ]
    if refunded:
        total = sum((Decimal(t.get("amount") or 0) for t in refunded), Decimal(0))
        text += f"; refunded 已退款 {money(total)}"
    issues = [h for h in hops if h.status in (DIFFERS, MISSING)]
    if issues:
        text += "; issues 问题: " + ", ".join(
            f"{h.label} {h.ref or ''} {STATUS_LABEL[h.status]}".replace("  ", " ") for h in issues
        )
    return text
