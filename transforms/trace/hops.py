"""The platform and channel side of one order: the order, its debits, refunds and the other
orders of the same installment, each a hop with its status and the file line it came from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from transforms.config import Config

from .lake import source_of
from .model import DIFFERS, DONE, MISSING, NA, PENDING, Anchor, Hop, money

CONFLICT_FIELDS = (
    "order_type",
    "orig_order_no",
    "loan_no",
    "installment_no",
    "borrower_id",
    "lender_code",
    "channel",
    "amount",
    "principal",
    "interest",
    "fee",
    "penalty",
    "installment_due",
)


def masks():
    from reports.masking import mask_borrower, mask_card, mask_text

    return mask_borrower, mask_card, mask_text


def channel_source(config: Config, channel: str | None):
    for s in config.by_role("channel"):
        if s.channel == channel:
            return s
    return None


def _age_pending(config: Config, channel: str | None, since: dt.date | None, day: dt.date) -> bool:
    source = channel_source(config, channel)
    pending_days = source.pending_days if source else 1
    return since is not None and (day - since).days <= pending_days


def _local(ts, tz: str) -> str:
    if not isinstance(ts, dt.datetime):
        return ""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def debits(a: Anchor, order: dict | None, order_no, txns, keys_row) -> list[dict]:
    """The channel debits of the order, the one it was matched to first (as
    20_match_orders.sql picks it: successful, the matched id, by merchant order no., earliest)."""
    pays = [
        t
        for t in txns
        if t["txn_type"] == "PAY"
        and (
            t.get("merchant_order_no") == order_no
            or (
                order
                and t["channel_txn_id"] == order.get("channel_txn_id")
                and t["channel"] == order["channel"]
            )
        )
    ]
    if a.txn_id and not pays:  # the key is a debit that names no order
        pays = [t for t in txns if t["channel_txn_id"] == a.txn_id and t["txn_type"] == "PAY"]
    matched_id = (keys_row or {}).get("channel_txn_id") or (order or {}).get("channel_txn_id")
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(
        pays,
        key=lambda t: (
            t["status"] != "SUCCESS",
            t["channel_txn_id"] != matched_id,
            t.get("merchant_order_no") != order_no,
            t.get("txn_time") or latest,
            t["channel_txn_id"],
        ),
    )


def order_hop(order: dict | None, order_no, order_rows, pays) -> Hop:
    paid = any(t["status"] == "SUCCESS" for t in pays)
    if order is None:
        hop = Hop("order", MISSING, ref=order_no, ids={order_no or ""})
        hop.detail.append("no platform order for this channel debit 平台无此订单")
        hop.date = pays[0].get("biz_date") if pays else None
        return hop
    status = {"SUCCESS": DONE, "PROCESSING": PENDING}.get(order["status"], DONE)
    if order["status"] != "SUCCESS" and paid:
        status = DIFFERS
    hop = Hop("order", status, order.get("biz_date"), order.get("amount"), order_no, ids={order_no})
    parts = ", ".join(
        f"{n} {money(order.get(n))}" for n in ("principal", "interest", "fee", "penalty")
    )
    hop.detail.append(f"{order['order_type']} {order['status']}; {parts}")
    if order["status"] == "FAILED" and not paid:
        hop.detail.append("order FAILED: no money moved 订单失败")
    elif status == DIFFERS:
        hop.detail.append(f"{order['status']} while the channel debit succeeded 扣款成功未入账")
    hop.sources = [s for r in order_rows if (s := source_of(r))]
    hop.row = order
    if len(hop.sources) > 1:
        hop.detail.append(
            f"delivered {len(hop.sources)} times, the latest is shown: "
            + ", ".join(
                f"{x['file_name']}:{x['line_no']} (inbox {x['inbox_date']})" for x in hop.sources
            )
        )
    if len(order_rows) > 1 and (changes := _changes(order_rows[1], order_rows[0])):
        hop.detail.append("changed since the delivery before 与前次不同: " + "; ".join(changes))
    return hop


def _changes(earlier: dict, later: dict) -> list[str]:
    """The fields a re-delivered order changed, compared as 13_data_conflicts.sql compares them
    (times are not, nor a status moving on from PROCESSING); the borrower only by name."""
    fields = [*CONFLICT_FIELDS, *(["status"] if earlier.get("status") != "PROCESSING" else [])]
    changed = [f for f in fields if f in earlier and earlier.get(f) != later.get(f)]
    return [f if f == "borrower_id" else f"{f} {earlier.get(f)} → {later.get(f)}" for f in changed]


def debit_hops(config: Config, day: dt.date, order: dict | None, pays, txns) -> list[Hop]:
    mask_borrower, mask_card, _ = masks()
    hops = []
    for i, t in enumerate(pays):
        hop = Hop("channel_debit", DONE, t.get("biz_date"), t.get("amount"), t["channel_txn_id"])
        hop.ids = {t["channel_txn_id"]}
        refunded = any(
            r["txn_type"] == "REFUND"
            and r["status"] == "SUCCESS"
            and r.get("orig_channel_txn_id") == t["channel_txn_id"]
            for r in txns
        )
        hop.detail.append(
            f"{t['channel']} {t['status']} at {_local(t.get('txn_time'), config.timezone)}, "
            f"fee {money(t.get('fee'))}"
            + (f", card {mask_card(t['card_no'])}" if t.get("card_no") else "")
            + (f", payer {mask_borrower(t['payer_name'])}" if t.get("payer_name") else "")
        )
        if t["status"] != "SUCCESS":
            if order and order["status"] == "SUCCESS" and i == 0:
                hop.status = DIFFERS
                hop.detail.append("platform SUCCESS, channel says failed 平台成功渠道失败")
            else:
                hop.detail.append("failed attempt: no money moved")
        elif i > 0:
            hop.status = DONE if refunded else DIFFERS
            hop.detail.append("second debit of this order 重复扣款" + ("; refunded" * refunded))
        elif order and order.get("amount") != t.get("amount"):
            hop.status = DIFFERS
            hop.detail.append(
                f"platform {money(order.get('amount'))} vs channel {money(t.get('amount'))} "
                "金额不符"
            )
        hop.sources = [s for s in [source_of(t)] if s]
        hop.row = t
        hops.append(hop)
    if not pays:
        status = NA
        if order and order["status"] in ("SUCCESS", "PROCESSING"):
            young = _age_pending(config, order.get("channel"), order.get("biz_date"), day)
            status = PENDING if order["status"] == "PROCESSING" or young else MISSING
        hop = Hop("channel_debit", status, ref=(order or {}).get("channel_txn_id"))
        hop.ids = {hop.ref or ""}
        hop.detail.append(
            f"no {order['channel']} debit found 未见渠道扣款"
            if status != NA
            else "order not paid: nothing to debit"
        )
        hops.append(hop)
    return hops


def refund_hops(config: Config, day: dt.date, order, order_no, refunds: list[dict], pays, txns):
    """Platform refund orders and channel refunds, paired as 21_match_refunds.sql pairs them."""
    debit_ids = {t["channel_txn_id"] for t in pays}
    refund_nos = {r["order_no"] for r in refunds}
    channel_refunds = [
        t
        for t in txns
        if t["txn_type"] == "REFUND"
        and (
            t.get("orig_merchant_order_no") == order_no
            or t.get("orig_channel_txn_id") in debit_ids
            or t.get("merchant_order_no") in refund_nos
        )
    ]
    hops, used = [], set()
    for r in refunds:
        t = next(
            (
                x
                for x in channel_refunds
                if x.get("merchant_order_no") == r["order_no"]
                or (r.get("channel_txn_id") and x["channel_txn_id"] == r.get("channel_txn_id"))
            ),
            None,
        )
        hops.append(_refund_hop(config, day, r, t))
        used.add(id(t))
    _mark_over_refunds(order, refunds, hops)
    return hops + [_refund_hop(config, day, None, t) for t in channel_refunds if id(t) not in used]


def _mark_over_refunds(order: dict | None, refunds: list[dict], hops: list[Hop]) -> None:
    """The platform refunds that take more than the order's amount, netted in refund order
    as 26_refund_netting.sql nets them: each one past the amount differs."""
    if not order or order["order_type"] != "REPAY" or order["status"] != "SUCCESS":
        return
    amount = Decimal(order.get("amount") or 0)
    done = [(r, h) for r, h in zip(refunds, hops, strict=True) if r["status"] == "SUCCESS"]
    total = Decimal(0)
    for r, hop in sorted(done, key=lambda rh: (_refund_time(rh[0]), rh[0]["order_no"])):
        total += Decimal(r.get("amount") or 0)
        if total > amount:
            hop.status = DIFFERS
            hop.detail.append(
                f"refunds of {order['order_no']} total {money(total)}, more than its amount "
                f"{money(amount)} 超额退款"
            )


def _refund_time(r: dict) -> dt.datetime:
    """When a refund was paid; a history delta row has only its biz_date."""
    day = r.get("biz_date") or dt.date.min
    return r.get("paid_at") or r.get("created_at") or dt.datetime.combine(day, dt.time(), dt.UTC)


def _refund_hop(config: Config, day: dt.date, r: dict | None, t: dict | None) -> Hop:
    row = r or t
    hop = Hop("refund", DONE, row.get("biz_date"), row.get("amount"))
    hop.ref = (t or {}).get("channel_txn_id") or r["order_no"]
    hop.ids = {x for x in [(t or {}).get("channel_txn_id"), (r or {}).get("order_no")] if x}
    if r and r.get("note"):
        hop.detail.append(r["note"])
    if r:
        hop.detail.append(f"platform refund {r['order_no']} {r['status']} {money(r.get('amount'))}")
    if t:
        hop.detail.append(
            f"{t['channel']} refund {t['channel_txn_id']} {t['status']} {money(t.get('amount'))}"
            f" of {t.get('orig_channel_txn_id') or t.get('orig_merchant_order_no')}"
        )
    if r and t:
        if (
            r["status"] == "SUCCESS"
            and t["status"] == "SUCCESS"
            and r.get("amount") != t.get("amount")
        ):
            hop.status = DIFFERS
        elif r["status"] != t["status"]:
            hop.status = DIFFERS
    elif (r or t)["status"] == "SUCCESS":
        young = _age_pending(config, row.get("channel"), row.get("biz_date"), day)
        hop.status = PENDING if young else MISSING
        hop.detail.append(
            "platform refund with no channel refund 单边退款"
            if r
            else "channel refund with no platform refund 单边退款"
        )
    hop.sources = [s for s in (source_of(r), source_of(t)) if s]
    hop.row = t  # the channel refund: what was paid back
    return hop


def sibling_hops(siblings: list[dict], txns) -> list[Hop]:
    """Other orders of the same installment (over-collection), each with its debit."""
    hops = []
    for s in siblings:
        debit = next(
            (
                t
                for t in txns
                if t["txn_type"] == "PAY" and t.get("merchant_order_no") == s["order_no"]
            ),
            None,
        )
        row = debit or s
        ref = debit["channel_txn_id"] if debit else s["order_no"]
        hop = Hop("installment_debit", DONE, row.get("biz_date"), row.get("amount"), ref)
        hop.ids = {ref}
        hop.detail.append(
            f"order {s['order_no']} {s['status']} {money(s.get('amount'))} for the same "
            f"installment (loan {s.get('loan_no')} #{s.get('installment_no')}, owed "
            f"{money(s.get('installment_due'))})"
            + (f"; debit {debit['channel']} {debit['status']}" if debit else "; no debit seen")
        )
        hop.sources = [x for x in [source_of(row)] if x]
        hops.append(hop)
    return hops
