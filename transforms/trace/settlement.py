"""Where a settled debit's money went: the settlement item, the bank credit(s) paying it and
the 清分 rows distributing it to the lender and to the fee account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .hops import channel_source
from .lake import Eq, In, Lake, ListHas, as_date, deliveries, source_of
from .model import (
    DIFFERS,
    DONE,
    FEE,
    HOP_LABEL,
    MISSING,
    NA,
    PENDING,
    UNAVAILABLE,
    Hop,
    money,
)

SETTLEMENT_HOP_STATUS = {
    "MATCHED": DONE,
    "MISMATCH": DIFFERS,
    "MISSING": MISSING,
    "PENDING": PENDING,
}
BANK_DAYS = 3  # bank lines are read from inbox dates this close to their value date


def settlement_hops(lake: Lake, channel: str, trade_date: dt.date, own: list[dict]) -> list[Hop]:
    """The settlement item (channel, trade date + settle lag) and the bank credit(s) paying it."""
    config, day = lake.config, lake.day
    source = channel_source(config, channel)
    lag = source.settle_lag_days if source else None
    settle_date = trade_date + dt.timedelta(days=lag) if lag is not None else None
    ref = f"{channel}:{settle_date}" if settle_date else None
    share = sum((Decimal(t["amount"]) - Decimal(t.get("fee") or 0) for t in own), Decimal(0))
    if settle_date and settle_date > day:
        hop = Hop("settlement", PENDING, settle_date, ref=ref, ids={ref})
        hop.detail.append(f"settles on {settle_date}, after the report date {day} 待结算")
        return [hop, Hop("bank_credit", PENDING, detail=["waits for the settlement 待结算"])]
    cond = Eq("channel", channel) & (
        Eq("settle_date", settle_date) if settle_date else Eq("trade_date", trade_date)
    )
    rows = lake.report("settlements", day, day, cond)
    if not rows and settle_date:  # an item no longer listed on the report date: its last report
        last = settle_date + dt.timedelta(days=source.settle_window_days + source.pending_days + 3)
        rows = lake.report("settlements", settle_date, min(day, last), cond)
    if not rows:
        hop = Hop("settlement", UNAVAILABLE, settle_date, ref=ref, ids={ref or ""})
        hop.detail.append("no settlements row for this item in the published reports 无结算记录")
        return [hop, Hop("bank_credit", UNAVAILABLE, detail=["no settlement row"])]
    s = rows[0]
    ref = f"{channel}:{s['settle_date']}"
    status = SETTLEMENT_HOP_STATUS.get(s.get("status"), DIFFERS)
    hop = Hop("settlement", status, s["settle_date"], s.get("expected_net"), ref, ids={ref})
    hop.detail.append(
        f"{s.get('txn_count')} txns of {s.get('trade_date')}: pays {money(s.get('pay_amount'))}"
        f" - refunds {money(s.get('refund_amount'))} - fees {money(s.get('fee_amount'))}"
        f" = expected {money(s.get('expected_net'))}; this order nets {money(share)}"
    )
    ids = [x.strip() for x in (s.get("bank_txn_ids") or s.get("bank_txn_id") or "").split(",")]
    ids = [x for x in ids if x]
    grouped = s.get("group_id") and (
        len(ids) > 1 or s.get("group_expected") not in (None, s.get("expected_net"))
    )
    if grouped:  # a batch credit paying several settle dates, or a split paid by several credits
        hop.detail.append(
            f"paid together 合并结算 as group {s['group_id']}: items expected "
            f"{money(s.get('group_expected'))}, {len(ids)} credit(s) "
            f"{money(s.get('bank_amount'))} up to {s.get('bank_value_date')}, "
            f"diff {money(s.get('diff_amount'))}"
        )
    elif s.get("bank_amount") is not None:
        hop.detail.append(
            f"bank {money(s.get('bank_amount'))} on {s.get('bank_value_date')}, "
            f"diff {money(s.get('diff_amount'))}"
        )
    if s["_date"] != day:
        hop.detail.append(f"as last reported on {s['_date']} (no longer listed on {day})")
    hops = [hop]
    for bank_id in ids:
        credit = Hop("bank_credit", status, s.get("bank_value_date"), ref=bank_id, ids={bank_id})
        credit.amount = s.get("bank_amount") if len(ids) == 1 else None
        credit.row = s
        hops.append(credit)
    if not ids:
        credit = Hop("bank_credit", status if status != DIFFERS else MISSING, ref=None)
        credit.detail.append(
            "no credit from the channel's counterparty yet 结算未到账"
            if status == PENDING
            else "no credit from the channel's counterparty 结算未到账"
        )
        hops.append(credit)
    return hops


def distribution_hops(
    lake: Lake, settle: list[Hop], lender: str | None, shares, refunded: bool
) -> list[Hop]:
    """The 清分 rows that distribute this settlement item: to the order's lender and to FEE."""
    item = settle[0].ref
    recipients = [r for r in (lender, FEE) if r]
    if not shares:
        why = "no platform order: no lender or fee share is computed for it 无订单不清分"
        return [Hop("distribution", NA, detail=[why])]
    if "not_paid" in shares:
        why = (
            f"the platform has it {shares['not_paid']}: its share is not in the 清分 until it is "
            "marked paid 平台未入账不清分"
        )
        return [Hop("distribution", PENDING, detail=[why])]
    if settle[0].status in (NA, UNAVAILABLE) or not item:
        return [Hop("distribution", settle[0].status, detail=["no settlement item"])]
    day = lake.day
    if not lake.report_files("distributions", day):
        return [
            Hop(
                "distribution",
                UNAVAILABLE,
                label=f"{HOP_LABEL['distribution']} → {r}",
                detail=[f"no distributions table published for {day} 清分表未发布"],
            )
            for r in recipients
        ]
    cond = ListHas("settle_items", item) & In("recipient", recipients)
    needs = ("settle_items", "recipient")
    rows = lake.report("distributions", day, day, cond, needs)
    settle_date = settle[0].date
    if not rows and settle_date:  # an item no longer listed on the report date: its last report
        accounts = [s for s in lake.config.by_role("bank") if s.account_role in ("lender", "fee")]
        reach = max([s.distribution_lag_days + s.distribution_window_days for s in accounts] or [2])
        last = settle_date + dt.timedelta(days=reach + 5)
        rows = lake.report("distributions", settle_date, min(day, last), cond, needs)
    hops = []
    for recipient in recipients:
        label = f"{HOP_LABEL['distribution']} → {recipient}"
        mine = [r for r in rows if r.get("recipient") == recipient]
        latest = [r for r in mine if r["_date"] == mine[0]["_date"]] if mine else []
        if not latest:
            done = settle[0].status in (DONE, DIFFERS)
            hop = Hop("distribution", MISSING if done else PENDING, label=label)
            hop.detail.append(
                f"no distribution row names {item} 无清分记录"
                if done
                else "waits for the settlement credit 待结算到账"
            )
            hops.append(hop)
            continue
        hops += [_distribution_hop(d, recipient, label, shares, refunded, day) for d in latest]
    return hops


def _distribution_hop(d: dict, recipient: str, label: str, shares, refunded, day) -> Hop:
    status = SETTLEMENT_HOP_STATUS.get(d.get("status"), DIFFERS)
    ref = f"{recipient}:{d.get('value_date')}"
    hop = Hop(
        "distribution",
        status,
        d.get("value_date"),
        d.get("expected_amount"),
        ref,
        label=label,
        ids={ref},
    )
    hop.detail.append(
        f"to {d.get('account_no') or recipient}: expected {money(d.get('expected_amount'))},"
        f" paid {money(d.get('paid_amount'))}"
        + (
            f" ({d['paid_bank_txn_ids']} on {d.get('paid_value_date')})"
            if d.get("paid_bank_txn_ids")
            else ""
        )
        + (
            f", received {money(d.get('received_amount'))}"
            if d.get("received_amount") is not None
            else ""
        )
        + f", diff {money(d.get('diff_amount'))}"
    )
    if shares.get(recipient) is not None:
        hop.detail.append(
            f"this order's share {money(shares[recipient])} 本单份额"
            + (" before its refunds 退款前" if refunded else "")
        )
    if d.get("detail") and d.get("status") != "MATCHED":
        hop.detail.append(str(d["detail"]))
    if d["_date"] != day:
        hop.detail.append(f"as last reported on {d['_date']}")
    hop.row = d
    return hop


def bank_sources(lake: Lake, hops: list[Hop]) -> None:
    """File and line of every bank line a hop names: credits, 清分 debits, recipients' credits."""
    wanted: dict[str, list[Hop]] = {}
    dates = []
    for hop in hops:
        names: list[str] = []
        if hop.kind == "bank_credit" and hop.ref:
            names = [hop.ref]
            dates += [hop.date, (hop.row or {}).get("settle_date")]
        d = hop.row if hop.kind == "distribution" else None
        if d:
            for col in ("paid_bank_txn_ids", "received_bank_txn_ids"):
                names += [x.strip() for x in (d.get(col) or "").split(",") if x.strip()]
            dates += [d.get("paid_value_date"), d.get("value_date")]
        for name in names:
            wanted.setdefault(name, []).append(hop)
    dates = [x for x in dates if as_date(x)]
    if not wanted or not dates:
        return
    lo = min(dates) - dt.timedelta(days=1)
    hi = min(lake.day, max(dates) + dt.timedelta(days=BANK_DAYS))
    cond = In("bank_txn_id", wanted)
    rows = [dict(r, _state=True) for r in lake.state("bank", cond)]
    rows += lake.window("bank_lines", lo, hi, cond)
    by_id = deliveries(rows, lambda r: r["bank_txn_id"])
    for name, hs in wanted.items():
        for hop in hs:
            line = by_id.get(name, [None])[0]
            if line is None:
                hop.detail.append(f"bank line {name} not in inbox dates {lo} .. {hi}")
                continue
            if hop.kind == "bank_credit":
                hop.amount = line.get("amount")
                hop.date = line.get("value_date")
                hop.detail.append(
                    f"{line.get('direction')} to {line.get('account_no')} from "
                    f"{line.get('counterparty_name') or line.get('counterparty_account') or '?'}: "
                    f"{line.get('narrative') or ''}".rstrip(": ")
                )
            if (src := source_of(line)) and src not in hop.sources:
                hop.sources.append(src)
