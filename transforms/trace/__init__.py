"""`recon trace KEY`: every hop of one repayment, read from the published lake (SPEC §7).

platform order -> channel debit(s) and refunds -> settlement item (channel, settle date) ->
bank credit(s) -> distribution (清分) to the lender and to the platform fee account; each hop
with its status (done / pending / missing / differs, or n/a and not available), date, amount,
and the file and line it came from. KEY is a platform order_no, a channel_txn_id or a
borrower_id. `trace(config, key, date)` returns a `TraceResult`; `render_text` and `to_json`
format it; `flows/cli.py` only parses arguments.

Why it does not scan history. A year of lake data is a year of 10M-row partitions; the trace
reads a handful of files instead, in this order, stopping at the first hit:

1. the report date's carried state (`state/orders|txns.parquet`: the items still in play,
   with their file, line and inbox date);
2. the per-date deltas `state/order_keys|txn_keys.parquet` of the dates the report date's
   history catalog (`state/catalog.parquet`: each delta file's smallest and largest key) says
   can hold the key, newest first, `DELTA_CHUNK` dates per query with the key as a literal:
   each file is sorted by the key, so DuckDB reads the footer and skips every row group
   whose min/max cannot hold it. (A report date published before catalogs existed: every
   date, newest first.) The hit gives the item's biz_date and the date it left play
   (settled_on);
3. only then the lake partitions of the inbox dates between biz_date - 1 and settled_on + 1
   (the rows with file and line), the settlements / distributions / exceptions of the report
   date, and the bank_lines partitions a few days around the credit's value date. Refunds that
   left play after that window are named by the `refunds` deltas (sorted by orig_order_no)
   of the dates since the order, and read from that date's order_keys / txn_keys delta.
A borrower_id is not indexed anywhere: it is looked up in the carried state and in the
platform_orders partitions of the last `--days` (default 31) inbox dates only.

Measured on the 2-core machine. The 10-day demo: 30-60 ms warm (about 120 ms in a fresh
process, most of it imports), 8-18 queries over 23-92 small files. The deltas of 365 dates,
250k random order numbers a day: an order settled in the last 32 days is found in about 60 ms
(one query), one settled a year ago in about 1.2 s (12 queries, each file still costing its
footer and one row group); one query over all 365 files costs 0.6-1.1 s for every lookup,
even yesterday's, and a full scan 4.2 s. With date-prefixed order numbers (files whose min/max
exclude the key) the year-old order takes 0.1 s. So: newest first, DELTA_CHUNK = 32 dates.

The lookup service reads the same files through a `lake.FileCache`: the small ones held in
memory as pyarrow columns, each filter (`where`) applied in Python from a per-column value
index, a file skipped when its smallest and largest key exclude the one asked for. The same
rows come back (`tests/web/test_held.py`); a warm lookup of the 365-date lake costs about
4-6 ms instead of about 56 ms of DuckDB queries (2026-12-03).

Limits of the layout (what it cannot see without a scan): a second debit or a
same-installment order that left play outside the order's window; a channel debit with no
platform order (MISSING_ON_PLATFORM) once it left play, by its merchant order no (it is
still found by its channel_txn_id: txn_keys are sorted by channel, channel_txn_id); before
the `refunds` deltas existed, a refund that left play after the order's window.

Modules: `lake` reads the published files, `locate` finds the key, `repayment` gathers one
order's rows and builds its hops from `hops` (platform and channel side), `settlement`
(settlement, bank credit, 清分) and `exceptions`; `render` formats the result.
"""

from .locate import report_date
from .model import Hop, KeyNotFound, OrderTrace, TraceResult
from .render import render_text, to_json
from .repayment import trace

__all__ = [
    "Hop",
    "KeyNotFound",
    "OrderTrace",
    "TraceResult",
    "render_text",
    "report_date",
    "to_json",
    "trace",
]
