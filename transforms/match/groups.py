"""Layer B groups: one bank credit paying several settle dates of a channel (a batch after a
weekend or holiday), or one settle date paid by several credits (a split per sub-merchant).

A subset-sum search, so it runs in Python over the few open settlement items and credits
left after the exact one-to-one pairs (31_match_settlement.sql), not over transactions. It
is bounded so a pathological day cannot explode:

- a batch is a run of consecutive open items of one channel (by settle date), at most
  `MAX_BATCH_ITEMS` long, whose nets add up exactly to one credit;
- a split is at most `MAX_SPLIT_CREDITS` credits, chosen among the `MAX_SPLIT_CANDIDATES`
  nearest open credits of the item's window, that add up exactly to the item's net; at most
  sum(C(12, k), k = 2..5) = 1,573 sums per item;
- every value date lies within each of its items' settle windows.

Deterministic: credits in (value date, id) order, items in settle-date order, runs ending
nearest the credit first and shortest first, subsets in lexicographic order; each item and
each credit is used once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import combinations

MAX_BATCH_ITEMS = 10
MAX_SPLIT_CREDITS = 5
MAX_SPLIT_CANDIDATES = 12

COLUMNS = "channel, settle_date, account_no, bank_txn_id, bank_value_date, bank_amount, group_id"


def _in_window(item: tuple, value_date: dt.date) -> bool:
    _, settle_date, _, window = item
    return settle_date <= value_date <= settle_date + dt.timedelta(days=window)


def find_groups(items: list[tuple], credits: list[tuple]) -> list[tuple]:
    """items: (channel, settle_date, expected_net, window_days); credits: (channel, account_no,
    bank_txn_id, value_date, amount). Returns rows of COLUMNS, one per (item, credit) of a group."""
    out: list[tuple] = []
    used_items: set[tuple] = set()
    used_credits: set[tuple] = set()
    for channel in sorted({i[0] for i in items}):
        mine = sorted((i for i in items if i[0] == channel), key=lambda i: i[1])
        theirs = sorted((c for c in credits if c[0] == channel), key=lambda c: (c[3], c[2]))
        # Batches: one credit, a run of consecutive items.
        for credit in theirs:
            _, account, txn, value_date, amount = credit
            free = [i for i in mine if (i[0], i[1]) not in used_items]
            ends = [k for k, i in enumerate(free) if i[1] <= value_date]
            found = None
            for end in reversed(ends):
                for length in range(2, MAX_BATCH_ITEMS + 1):
                    start = end - length + 1
                    if start < 0:
                        break
                    run = free[start : end + 1]
                    if not all(_in_window(i, value_date) for i in run):
                        break
                    if sum((i[2] for i in run), Decimal(0)) == amount:
                        found = run
                        break
                if found:
                    break
            if found:
                group = f"{channel}:{found[0][1]:%Y-%m-%d}/{txn}"
                for i in found:
                    used_items.add((i[0], i[1]))
                    out.append((channel, i[1], account, txn, value_date, amount, group))
                used_credits.add((account, txn))
        # Splits: one item, several credits.
        for item in mine:
            if (item[0], item[1]) in used_items:
                continue
            near = [
                c for c in theirs if (c[1], c[2]) not in used_credits and _in_window(item, c[3])
            ][:MAX_SPLIT_CANDIDATES]
            for size in range(2, min(MAX_SPLIT_CREDITS, len(near)) + 1):
                subset = next(
                    (s for s in combinations(near, size) if sum(c[4] for c in s) == item[2]),
                    None,
                )
                if subset:
                    group = f"{channel}:{item[1]:%Y-%m-%d}/{subset[0][2]}"
                    used_items.add((item[0], item[1]))
                    for c in subset:
                        used_credits.add((c[1], c[2]))
                        out.append((channel, item[1], c[1], c[2], c[3], c[4], group))
                    break
    return out


def settlement_groups(con) -> None:
    """Create settle_groups from open_settle_items / open_settle_credits and take the items
    and credits it uses out of them."""
    items = con.execute(
        "SELECT channel, settle_date, expected_net, settle_window_days FROM open_settle_items "
        "ORDER BY channel, settle_date"
    ).fetchall()
    credits = con.execute(
        "SELECT channel, account_no, bank_txn_id, value_date, amount FROM open_settle_credits "
        "ORDER BY channel, value_date, bank_txn_id"
    ).fetchall()
    rows = find_groups(items, credits) if items and credits else []
    con.execute(
        "CREATE OR REPLACE TABLE settle_groups (channel VARCHAR, settle_date DATE, "
        "account_no VARCHAR, bank_txn_id VARCHAR, bank_value_date DATE, "
        "bank_amount DECIMAL(18,2), group_id VARCHAR)"
    )
    if rows:
        con.executemany(f"INSERT INTO settle_groups ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        "DELETE FROM open_settle_items i USING settle_groups g "
        "WHERE i.channel = g.channel AND i.settle_date = g.settle_date"
    )
    con.execute(
        "DELETE FROM open_settle_credits c USING settle_groups g "
        "WHERE c.account_no = g.account_no AND c.bank_txn_id = g.bank_txn_id"
    )
