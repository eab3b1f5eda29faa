"""Which published report date to read, and where a key is: carried state, then the deltas."""

from __future__ import annotations

import datetime as dt

from transforms import publish
from transforms.config import Config

from .lake import Eq, FileCache, Lake
from .model import Anchor, DateNotPublished, KeyNotFound, NothingPublished

DEFAULT_DAYS = 31  # inbox dates a borrower_id is looked up in


def report_date(config: Config, day: dt.date | None, cache: FileCache | None = None) -> dt.date:
    published = cache.published_days(config) if cache else publish.published_days(config)
    if not published:
        raise NothingPublished(
            f"{config.data_dir}: no published report date; run `recon run` first"
        )
    if day is None:
        return published[-1]
    if publish.current_version(config, day) is None:
        raise DateNotPublished(
            f"{day}: no published report for this date in {config.data_dir} "
            f"(published: {published[0]} .. {published[-1]})"
        )
    return day


def locate(lake: Lake, key: str, days: int) -> tuple[str, list[Anchor]]:
    """The kind of key and the order(s) it names, first hit wins: carried state, order_keys
    and txn_keys deltas newest first, then a borrower's orders of the last `days` inbox dates."""
    day = lake.day
    in_play = f"in play 在途 (state of {day})"
    orders = lake.state("orders", Eq("order_no", key) | Eq("borrower_id", key))
    if any(o["order_no"] == key for o in orders):
        return "order_no", [Anchor(key, in_play)]
    txns = lake.state("txns", Eq("channel_txn_id", key) | Eq("merchant_order_no", key))
    for t in txns:
        if t["channel_txn_id"] == key:
            return "channel_txn_id", [Anchor(_txn_order(t), in_play, txn_id=key, txn_row=t)]
    for t in txns:
        if t["merchant_order_no"] == key:
            return "order_no", [Anchor(key, in_play + ", channel side only", txn_row=t)]
    hits = lake.delta("order_keys", Eq("order_no", key), key)
    if hits:
        return "order_no", [Anchor(key, settled_note(hits[0], "order_keys"), keys_row=hits[0])]
    hits = lake.delta("txn_keys", Eq("channel_txn_id", key), key)
    if hits:
        t = hits[0]
        return "channel_txn_id", [
            Anchor(t["merchant_order_no"], settled_note(t, "txn_keys"), txn_id=key, txn_row=t)
        ]
    lo = day - dt.timedelta(days=days - 1)
    rows = [o for o in orders if o["borrower_id"] == key]
    rows += lake.window("platform_orders", lo, day, Eq("borrower_id", key))
    anchors: dict[str, Anchor] = {}
    for o in sorted(rows, key=lambda r: (r["biz_date"] or day, r["order_no"])):
        target = o["orig_order_no"] if o["order_type"] == "REFUND" and o["orig_order_no"] else None
        order_no = target or o["order_no"]
        if order_no not in anchors:
            anchors[order_no] = Anchor(
                order_no,
                f"borrower 借款人 orders of inbox dates {lo} .. {day}",
                seen=None if target else o,
            )
    if anchors:
        return "borrower_id", list(anchors.values())
    raise KeyNotFound(
        f"trace: {key!r} is no order_no, channel_txn_id or borrower_id (borrowers: inbox dates "
        f"{lo} .. {day}) in the reports published up to {day} in {lake.config.data_dir}"
    )


def settled_note(row: dict, table: str) -> str:
    return f"settled 已结清 on {row['settled_on']} ({table} of {row['_date']})"


def _txn_order(t: dict) -> str | None:
    return t.get("merchant_order_no") or t.get("orig_merchant_order_no")
