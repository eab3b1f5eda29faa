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
2. the per-date deltas `state/order_keys|txn_keys.parquet` of the published dates, newest
   first, `DELTA_CHUNK` dates per query with the key as a literal: each file is sorted by the
   key, so DuckDB reads the footer and skips every row group whose min/max cannot hold it.
   The hit gives the item's biz_date and the date it left play (settled_on);
3. only then the lake partitions of the inbox dates between biz_date - 1 and settled_on + 1
   (the rows with file and line), the settlements / distributions / exceptions of the report
   date, and the bank_lines partitions a few days around the credit's value date. Refunds that
   left play after that window are named by the `refunds` deltas (sorted by orig_order_no)
   of the dates since the order, and read from that date's order_keys / txn_keys delta.
A borrower_id is not indexed anywhere: it is looked up in the carried state and in the
platform_orders partitions of the last `--days` (default 31) inbox dates only.

Measured on the 2-core machine. The 10-day demo: a trace takes 30-60 ms warm (about 120 ms
in a fresh process, most of it imports), 8-18 queries over 23-92 small files. The deltas of
365 dates (one query per chunk, key as a literal): with 250k random order numbers a day, an
order settled in the last 32 days is found in about 60 ms (one query), one settled a year
ago in about 1.2 s (12 queries; each file still costs its footer and the one row group whose
min/max holds the key); one query over all 365 files costs 0.6-1.1 s for every lookup, even
yesterday's, and the same filter with the pushdown defeated (a full scan) took 4.2 s. With
1M date-prefixed order numbers a day (files whose min/max exclude the key) the year-old
order takes 0.1 s. So: newest first, DELTA_CHUNK = 32 dates a query.

Limits of the layout (what it cannot see without a scan): a second debit or a
same-installment order that left play outside the order's window; a channel debit with no
platform order (MISSING_ON_PLATFORM) once it left play, by its merchant order no (it is
still found by its channel_txn_id: txn_keys are sorted by channel, channel_txn_id); before
the `refunds` deltas existed, a refund that left play after the order's window.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from transforms import publish
from transforms.config import Config
from transforms.duck import connect, sql_path
from transforms.errors import UsageError

DONE, PENDING, MISSING, DIFFERS = "done", "pending", "missing", "differs"
NA = "n/a"  # nothing to follow on this hop (e.g. an order that failed moves no money)
UNAVAILABLE = "not available"  # the table or column this hop needs is not published

STATUS_LABEL = {
    DONE: "done 完成",
    PENDING: "pending 在途",
    MISSING: "missing 缺失",
    DIFFERS: "differs 不符",
    NA: "n/a 不适用",
    UNAVAILABLE: "not available 暂无数据",
}
HOP_LABEL = {
    "order": "platform order 平台订单",
    "refund": "refund 退款",
    "channel_debit": "channel debit 渠道扣款",
    "installment_debit": "same installment 同期扣款",
    "settlement": "settlement 渠道结算",
    "bank_credit": "bank credit 银行入账",
    "distribution": "distribution 清分",
}
SETTLEMENT_HOP_STATUS = {
    "MATCHED": DONE,
    "MISMATCH": DIFFERS,
    "MISSING": MISSING,
    "PENDING": PENDING,
}
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
FEE = "FEE"
DEFAULT_DAYS = 31
DELTA_CHUNK = 32  # published dates per delta query, newest first
BANK_DAYS = 3  # bank lines are read from inbox dates this close to their value date


class KeyNotFound(UsageError):
    """The key names no order, channel transaction or borrower in the published lake."""


# ---------------------------------------------------------------------------- result


@dataclass
class Hop:
    kind: str  # a key of HOP_LABEL
    status: str
    date: dt.date | None = None
    amount: Decimal | None = None
    ref: str | None = None
    detail: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # {source, file_name, line_no, inbox_date}
    exceptions: list[str] = field(default_factory=list)
    label: str = ""
    ids: set[str] = field(default_factory=set, repr=False)  # keys exceptions are matched on
    row: dict | None = field(default=None, repr=False)  # the settlements / distributions row

    def __post_init__(self):
        self.label = self.label or HOP_LABEL[self.kind]


@dataclass
class OrderTrace:
    order_no: str | None
    found_in: str
    facts: dict[str, str | None]
    hops: list[Hop]
    exceptions: list[dict]
    where: str  # one line: where the borrower's money is
    window: tuple[dt.date, dt.date] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TraceResult:
    key: str
    kind: str  # order_no | channel_txn_id | borrower_id
    report_date: dt.date
    traces: list[OrderTrace]
    lookup: dict[str, object]


# ---------------------------------------------------------------------------- reading


def _lit(value) -> str:
    """A SQL literal: filters stay constants, so Parquet min/max statistics prune row groups."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in(column: str, values) -> str:
    vals = sorted({str(v) for v in values if v})
    return f"{column} IN ({', '.join(map(_lit, vals))})" if vals else "false"


class _Lake:
    """The published versions up to the report date, read by explicit file lists."""

    def __init__(self, config: Config, day: dt.date):
        self.config, self.day = config, day
        self.versions: dict[dt.date, Path] = {}
        for d in publish.published_days(config):
            if d <= day and (version := publish.current_version(config, d)) is not None:
                self.versions[d] = version
        self.con = connect(config.memory_limit, config.threads)
        self.queries = 0
        self.files_read = 0

    def close(self) -> None:
        self.con.close()

    def _files(self, base: Path) -> list[Path]:
        return sorted(base.glob("*.parquet")) + sorted(base.glob("*/*.parquet"))

    def input_files(self, table: str, d: dt.date) -> list[Path]:
        version = self.versions.get(d)
        return self._files(version / table) if version else []

    def report_files(self, table: str, d: dt.date) -> list[Path]:
        version = self.versions.get(d)
        files = self._files(version / table) if version else []
        return files or self._files(self.config.lake / table / f"report_date={d.isoformat()}")

    def state_file(self, name: str, d: dt.date) -> Path | None:
        version = self.versions.get(d)
        path = version / "state" / f"{name}.parquet" if version else None
        return path if path and path.exists() else None

    def columns(self, files: list[Path]) -> set[str]:
        if not files:
            return set()
        listed = ", ".join(sql_path(f) for f in files)
        rel = f"read_parquet([{listed}], hive_partitioning=false, union_by_name=true)"
        return {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}

    def read(self, dated: list[tuple[dt.date, Path]], where: str) -> list[dict]:
        """Rows of the files matching `where`, each with `_date` (the file's inbox/report date)."""
        if not dated:
            return []
        by_name = {str(f): d for d, f in dated}
        listed = ", ".join(sql_path(f) for _, f in dated)
        cur = self.con.execute(
            f"SELECT * FROM read_parquet([{listed}], hive_partitioning=false, union_by_name=true, "
            f"filename = '_file') WHERE {where}"
        )
        self.queries += 1
        self.files_read += len(dated)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for row in rows:
            row["_date"] = by_name.get(row["_file"])
        return rows

    def state(self, name: str, where: str) -> list[dict]:
        path = self.state_file(name, self.day)
        return self.read([(self.day, path)], where) if path else []

    def delta(self, name: str, where: str) -> list[dict]:
        """The newest delta rows matching `where`: dates newest first, DELTA_CHUNK per query."""
        days = sorted(self.versions, reverse=True)
        for i in range(0, len(days), DELTA_CHUNK):
            dated = [(d, p) for d in days[i : i + DELTA_CHUNK] if (p := self.state_file(name, d))]
            rows = self.read(dated, where)
            if rows:
                return sorted(rows, key=lambda r: r["_date"], reverse=True)
        return []

    def delta_since(self, name: str, since: dt.date, where: str) -> list[dict]:
        """Every delta row matching `where` of the dates from `since` on, in one query."""
        dated = [
            (d, p) for d in sorted(self.versions) if d >= since and (p := self.state_file(name, d))
        ]
        return self.read(dated, where)

    def window(self, table: str, lo: dt.date, hi: dt.date, where: str) -> list[dict]:
        dated = [(d, f) for d in self.versions if lo <= d <= hi for f in self.input_files(table, d)]
        rows = self.read(dated, where)
        for row in rows:
            row.setdefault("inbox_date", row["_date"])
        return rows

    def report(self, table: str, lo: dt.date, hi: dt.date, where: str, needs=()) -> list[dict]:
        """Rows of a report table over report dates lo..hi, newest report date first.
        `needs` are columns the filter reads: without them (a table from before they were
        added) there are no rows, rather than an error."""
        dated = [
            (d, f) for d in self.versions if lo <= d <= hi for f in self.report_files(table, d)
        ]
        if not dated:
            return []
        if needs and not set(needs) <= self.columns([f for _, f in dated]):
            return []
        rows = self.read(dated, where)
        return sorted(rows, key=lambda r: r["_date"], reverse=True)


# ---------------------------------------------------------------------------- lookup


@dataclass
class _Anchor:
    order_no: str | None  # the platform order (merchant order no.) the trace is about
    found_in: str
    txn_id: str | None = None  # the channel transaction the key named
    keys_row: dict | None = None  # its order_keys delta row, when it left play
    txn_row: dict | None = None  # the channel transaction row or txn_keys row the key named
    seen: dict | None = None  # a platform row already read (borrower lookup)
    notes: list[str] = field(default_factory=list)


def report_date(config: Config, day: dt.date | None) -> dt.date:
    published = publish.published_days(config)
    if not published:
        raise UsageError(f"{config.data_dir}: no published report date; run `recon run` first")
    if day is None:
        return published[-1]
    if publish.current_version(config, day) is None:
        raise UsageError(
            f"{day}: no published report for this date in {config.data_dir} "
            f"(published: {published[0]} .. {published[-1]})"
        )
    return day


def trace(
    config: Config, key: str, day: dt.date | None = None, days: int = DEFAULT_DAYS
) -> TraceResult:
    """Every hop of the repayment(s) KEY names, as of report date `day` (default: the latest)."""
    key = (key or "").strip()
    if not key:
        raise UsageError("trace: expected an order_no, channel_txn_id or borrower_id")
    if days < 1:
        raise UsageError(f"trace: --days expected a positive number of days, found {days}")
    started = time.perf_counter()
    lake = _Lake(config, report_date(config, day))
    try:
        kind, anchors = _locate(lake, key, days)
        traces = [_trace_order(lake, a) for a in anchors]
    finally:
        lake.close()
    lookup = {
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        "queries": lake.queries,
        "files_read": lake.files_read,
        "published_dates": len(lake.versions),
    }
    return TraceResult(key, kind, lake.day, traces, lookup)


def _locate(lake: _Lake, key: str, days: int) -> tuple[str, list[_Anchor]]:
    k, day = _lit(key), lake.day
    in_play = f"in play 在途 (state of {day})"
    orders = lake.state("orders", f"order_no = {k} OR borrower_id = {k}")
    if any(o["order_no"] == key for o in orders):
        return "order_no", [_Anchor(key, in_play)]
    txns = lake.state("txns", f"channel_txn_id = {k} OR merchant_order_no = {k}")
    for t in txns:
        if t["channel_txn_id"] == key:
            return "channel_txn_id", [_Anchor(_txn_order(t), in_play, txn_id=key, txn_row=t)]
    for t in txns:
        if t["merchant_order_no"] == key:
            return "order_no", [_Anchor(key, in_play + ", channel side only", txn_row=t)]
    hits = lake.delta("order_keys", f"order_no = {k}")
    if hits:
        return "order_no", [_Anchor(key, _settled(hits[0], "order_keys"), keys_row=hits[0])]
    hits = lake.delta("txn_keys", f"channel_txn_id = {k}")
    if hits:
        t = hits[0]
        return "channel_txn_id", [
            _Anchor(t["merchant_order_no"], _settled(t, "txn_keys"), txn_id=key, txn_row=t)
        ]
    lo = day - dt.timedelta(days=days - 1)
    rows = [o for o in orders if o["borrower_id"] == key]
    rows += lake.window("platform_orders", lo, day, f"borrower_id = {k}")
    anchors: dict[str, _Anchor] = {}
    for o in sorted(rows, key=lambda r: (r["biz_date"] or day, r["order_no"])):
        target = o["orig_order_no"] if o["order_type"] == "REFUND" and o["orig_order_no"] else None
        order_no = target or o["order_no"]
        if order_no not in anchors:
            anchors[order_no] = _Anchor(
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


def _settled(row: dict, table: str) -> str:
    return f"settled 已结清 on {row['settled_on']} ({table} of {row['_date']})"


def _txn_order(t: dict) -> str | None:
    return t.get("merchant_order_no") or t.get("orig_merchant_order_no")


# ---------------------------------------------------------------------------- one order


def _day(value) -> dt.date | None:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def _source_of(row: dict | None) -> dict | None:
    if not row or not row.get("file_name"):
        return None
    return {
        "source": row.get("source"),
        "file_name": row.get("file_name"),
        "line_no": row.get("line_no"),
        "inbox_date": row.get("inbox_date"),  # None: read from a history delta
    }


def _deliveries(rows: list[dict], key) -> dict[tuple, list[dict]]:
    """Rows by item key, latest delivery first (inbox date, file, line: the one matching uses,
    also for a DATA_CONFLICT); the same file line read from the state and the lake counts once."""
    out: dict[tuple, list[dict]] = {}
    seen = set()
    for row in rows:
        ident = (key(row), row.get("file_sha256") or row.get("file_name"), row.get("line_no"))
        if ident not in seen:
            seen.add(ident)
            out.setdefault(key(row), []).append(row)
    for items in out.values():
        items.sort(
            key=lambda r: (
                r.get("inbox_date") or dt.date.min,
                r.get("file_name") or "",
                r.get("line_no") or 0,
            ),
            reverse=True,
        )
    return out


def _channel_source(config: Config, channel: str | None):
    for s in config.by_role("channel"):
        if s.channel == channel:
            return s
    return None


def _trace_order(lake: _Lake, a: _Anchor, depth: int = 0) -> OrderTrace:
    config, day = lake.config, lake.day
    order_no = a.order_no
    ids = {a.txn_id}
    keys_row = a.keys_row
    # 1. in play: the carried state of the report date (rows with file, line, inbox date)
    state_orders = (
        lake.state("orders", f"order_no = {_lit(order_no)} OR orig_order_no = {_lit(order_no)}")
        if order_no
        else []
    )
    own = next((o for o in state_orders if o["order_no"] == order_no), None)
    if order_no and own is None and keys_row is None:
        hits = lake.delta("order_keys", f"order_no = {_lit(order_no)}")
        keys_row = hits[0] if hits else None
    if not a.found_in:  # a refund's original: say where it was found
        a.found_in = (
            f"in play 在途 (state of {day})"
            if own
            else _settled(keys_row, "order_keys")
            if keys_row
            else "not in play nor in the deltas"
        )
    base = own or keys_row or a.seen or {}
    loan, inst = base.get("loan_no"), base.get("installment_no")
    ids |= {base.get("channel_txn_id")}
    if loan and inst is not None:
        state_orders += lake.state(
            "orders",
            f"loan_no = {_lit(loan)} AND installment_no = {_lit(inst)} "
            f"AND order_no <> {_lit(order_no)}",
        )
    # 2. the window of inbox dates its rows can be in
    known = [r for r in (own, keys_row, a.seen, a.txn_row) if r] + state_orders
    dates = [r.get(c) for r in known for c in ("biz_date", "inbox_date", "settled_on")]
    dates = [d for d in dates if _day(d)]
    lo = min(dates) - dt.timedelta(days=1) if dates else day
    hi = min(day, max(dates) + dt.timedelta(days=1)) if dates else day
    # 3. the lake rows of the window
    where = f"order_no = {_lit(order_no)} OR orig_order_no = {_lit(order_no)}"
    if loan and inst is not None:
        where += f" OR (loan_no = {_lit(loan)} AND installment_no = {_lit(inst)})"
    platform = [dict(o, _state=True) for o in state_orders]
    platform += lake.window("platform_orders", lo, hi, where) if order_no else []
    by_order = _deliveries(platform, lambda r: r["order_no"])
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
        f"{_in('merchant_order_no', merchant)} OR {_in('orig_merchant_order_no', [order_no])} "
        f"OR {_in('channel_txn_id', ids)} OR {_in('orig_channel_txn_id', ids)}"
    )
    txns = [dict(t, _state=True) for t in lake.state("txns", twhere)]
    txns += lake.window("channel_txns", lo, hi, twhere)
    by_txn = _deliveries(txns, lambda r: (r["channel"], r["channel_txn_id"], r["txn_type"]))
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


def _late_refunds(lake: _Lake, order_no: str, known: set[str], since: dt.date):
    """Refunds of the order that left play outside its window. The `refunds` deltas (sorted by
    orig_order_no, so pruned) name them; the order_keys and txn_keys deltas of the date they
    left play give their rows with file and line. Layouts without `refunds` deltas: none."""
    hits = lake.delta_since("refunds", since, f"orig_order_no = {_lit(order_no)}")
    by_day: dict[dt.date, set[str]] = {}
    for h in hits:
        if h["order_no"] not in known:
            by_day.setdefault(h["_date"], set()).add(h["order_no"])
    platform, channel = [], []
    for d, nos in sorted(by_day.items()):
        keys = lake.state_file("order_keys", d)
        rows = lake.read([(d, keys)], _in("order_no", nos)) if keys else []
        platform += [dict(r, note=f"left play 结清 on {d} (history delta)") for r in rows]
        ids = {r.get("channel_txn_id") for r in rows}
        tkeys = lake.state_file("txn_keys", d)
        where = f"{_in('merchant_order_no', nos)} OR {_in('channel_txn_id', ids)}"
        channel += lake.read([(d, tkeys)], where) if tkeys else []
    return platform, channel


def _retarget(lake: _Lake, order_no: str, note: str, depth: int) -> OrderTrace:
    """Trace the original order of a refund the key named."""
    result = _trace_order(lake, _Anchor(order_no, ""), depth + 1)
    result.notes.insert(0, note)
    return result


# ---------------------------------------------------------------------------- hops


def _money(value) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def _mask():
    from reports.workbook import mask_borrower, mask_card, mask_text

    return mask_borrower, mask_card, mask_text


def _local(ts, tz: str) -> str:
    if not isinstance(ts, dt.datetime):
        return ""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def _age_pending(config: Config, channel: str | None, since: dt.date | None, day: dt.date) -> bool:
    source = _channel_source(config, channel)
    pending_days = source.pending_days if source else 1
    return since is not None and (day - since).days <= pending_days


def _debits(a: _Anchor, order: dict | None, order_no, txns, keys_row) -> list[dict]:
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


def _order_hop(order: dict | None, order_no, order_rows, pays) -> Hop:
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
        f"{n} {_money(order.get(n))}" for n in ("principal", "interest", "fee", "penalty")
    )
    hop.detail.append(f"{order['order_type']} {order['status']}; {parts}")
    if order["status"] == "FAILED" and not paid:
        hop.detail.append("order FAILED: no money moved 订单失败")
    elif status == DIFFERS:
        hop.detail.append(f"{order['status']} while the channel debit succeeded 扣款成功未入账")
    hop.sources = [s for r in order_rows if (s := _source_of(r))]
    if len(hop.sources) > 1:
        hop.detail.append(
            f"delivered {len(hop.sources)} times, the latest is shown: "
            + ", ".join(
                f"{x['file_name']}:{x['line_no']} (inbox {x['inbox_date']})" for x in hop.sources
            )
        )
    return hop


def _debit_hops(config: Config, day: dt.date, order: dict | None, pays, txns) -> list[Hop]:
    mask_borrower, mask_card, _ = _mask()
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
            f"fee {_money(t.get('fee'))}"
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
                f"platform {_money(order.get('amount'))} vs channel {_money(t.get('amount'))} "
                "金额不符"
            )
        hop.sources = [s for s in [_source_of(t)] if s]
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


def _refund_hops(config: Config, day: dt.date, order_no, refunds: list[dict], pays, txns):
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
    return hops + [_refund_hop(config, day, None, t) for t in channel_refunds if id(t) not in used]


def _sibling_hops(siblings: list[dict], txns) -> list[Hop]:
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
            f"order {s['order_no']} {s['status']} {_money(s.get('amount'))} for the same "
            f"installment (loan {s.get('loan_no')} #{s.get('installment_no')}, owed "
            f"{_money(s.get('installment_due'))})"
            + (f"; debit {debit['channel']} {debit['status']}" if debit else "; no debit seen")
        )
        hop.sources = [x for x in [_source_of(row)] if x]
        hops.append(hop)
    return hops


def _build(lake, a, order, order_rows, refunds, siblings, txns, keys_row, window) -> OrderTrace:
    config, day = lake.config, lake.day
    mask_borrower, _, mask_text = _mask()
    order_no = order["order_no"] if order else a.order_no
    pays = _debits(a, order, order_no, txns, keys_row)
    hops = [_order_hop(order, order_no, order_rows, pays)]
    hops += _debit_hops(config, day, order, pays, txns)
    hops += _refund_hops(config, day, order_no, refunds, pays, txns)
    hops += _sibling_hops(siblings, txns)

    # settlement, bank credits and distribution of each settlement item the debits are in
    ok_pays = [t for t in pays if t["status"] == "SUCCESS"]
    items = sorted({(t["channel"], t["biz_date"]) for t in ok_pays if t.get("biz_date")})
    lender = (order or {}).get("lender_code")
    shares = {}
    if order:
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
        settle = _settlement_hops(lake, channel, trade_date, own)
        hops += settle + _distribution_hops(lake, settle, lender, shares, bool(refunds))
    _bank_sources(lake, hops)

    # the exceptions of the report date that name any of it decide their hops
    exceptions = _exceptions(lake, hops, order_no)
    _apply_exceptions(hops, exceptions, order_no)
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


def _refund_hop(config: Config, day: dt.date, r: dict | None, t: dict | None) -> Hop:
    row = r or t
    hop = Hop("refund", DONE, row.get("biz_date"), row.get("amount"))
    hop.ref = (t or {}).get("channel_txn_id") or r["order_no"]
    hop.ids = {x for x in [(t or {}).get("channel_txn_id"), (r or {}).get("order_no")] if x}
    if r and r.get("note"):
        hop.detail.append(r["note"])
    if r:
        hop.detail.append(
            f"platform refund {r['order_no']} {r['status']} {_money(r.get('amount'))}"
        )
    if t:
        hop.detail.append(
            f"{t['channel']} refund {t['channel_txn_id']} {t['status']} {_money(t.get('amount'))}"
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
        hop.detail.append("refund on one side only 单边退款")
    hop.sources = [s for s in (_source_of(r), _source_of(t)) if s]
    return hop


def _settlement_hops(lake: _Lake, channel: str, trade_date: dt.date, own: list[dict]) -> list[Hop]:
    """The settlement item (channel, trade date + settle lag) and the bank credit(s) paying it."""
    config, day = lake.config, lake.day
    source = _channel_source(config, channel)
    lag = source.settle_lag_days if source else None
    settle_date = trade_date + dt.timedelta(days=lag) if lag is not None else None
    ref = f"{channel}:{settle_date}" if settle_date else None
    share = sum((Decimal(t["amount"]) - Decimal(t.get("fee") or 0) for t in own), Decimal(0))
    if settle_date and settle_date > day:
        hop = Hop("settlement", PENDING, settle_date, ref=ref, ids={ref})
        hop.detail.append(f"settles on {settle_date}, after the report date {day} 待结算")
        return [hop, Hop("bank_credit", PENDING, detail=["waits for the settlement 待结算"])]
    cond = f"channel = {_lit(channel)} AND " + (
        f"settle_date = {_lit(settle_date)}" if settle_date else f"trade_date = {_lit(trade_date)}"
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
        f"{s.get('txn_count')} txns of {s.get('trade_date')}: pays {_money(s.get('pay_amount'))}"
        f" - refunds {_money(s.get('refund_amount'))} - fees {_money(s.get('fee_amount'))}"
        f" = expected {_money(s.get('expected_net'))}; this order nets {_money(share)}"
    )
    ids = [x.strip() for x in (s.get("bank_txn_ids") or s.get("bank_txn_id") or "").split(",")]
    ids = [x for x in ids if x]
    grouped = s.get("group_id") and (
        len(ids) > 1 or s.get("group_expected") not in (None, s.get("expected_net"))
    )
    if grouped:  # a batch credit paying several settle dates, or a split paid by several credits
        hop.detail.append(
            f"paid together 合并结算 as group {s['group_id']}: items expected "
            f"{_money(s.get('group_expected'))}, {len(ids)} credit(s) "
            f"{_money(s.get('bank_amount'))} up to {s.get('bank_value_date')}, "
            f"diff {_money(s.get('diff_amount'))}"
        )
    elif s.get("bank_amount") is not None:
        hop.detail.append(
            f"bank {_money(s.get('bank_amount'))} on {s.get('bank_value_date')}, "
            f"diff {_money(s.get('diff_amount'))}"
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


def _distribution_hops(
    lake: _Lake, settle: list[Hop], lender: str | None, shares, refunded: bool
) -> list[Hop]:
    """The 清分 rows that distribute this settlement item: to the order's lender and to FEE."""
    item = settle[0].ref
    recipients = [r for r in (lender, FEE) if r]
    if not shares:
        why = "no platform order: no lender or fee share is computed for it 无订单不清分"
        return [Hop("distribution", NA, detail=[why])]
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
    cond = (
        f"list_contains(string_split(replace(settle_items, ' ', ''), ','), {_lit(item)}) "
        f"AND {_in('recipient', recipients)}"
    )
    needs = ("settle_items", "recipient")
    rows = lake.report("distributions", day, day, cond, needs)
    settle_date = settle[0].date
    if not rows and settle_date:
        lenders = [s for s in lake.config.by_role("bank") if s.account_role in ("lender", "fee")]
        reach = max(
            [
                getattr(s, "distribution_lag_days", 0) + getattr(s, "distribution_window_days", 2)
                for s in lenders
            ]
            or [2]
        )
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
        for d in latest:
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
                f"to {d.get('account_no') or recipient}: expected {_money(d.get('expected_amount'))},"
                f" paid {_money(d.get('paid_amount'))}"
                + (
                    f" ({d['paid_bank_txn_ids']} on {d.get('paid_value_date')})"
                    if d.get("paid_bank_txn_ids")
                    else ""
                )
                + (
                    f", received {_money(d.get('received_amount'))}"
                    if d.get("received_amount") is not None
                    else ""
                )
                + f", diff {_money(d.get('diff_amount'))}"
            )
            if shares.get(recipient) is not None:
                hop.detail.append(
                    f"this order's share {_money(shares[recipient])} 本单份额"
                    + (" before its refunds 退款前" if refunded else "")
                )
            if d.get("detail") and d.get("status") != "MATCHED":
                hop.detail.append(str(d["detail"]))
            if d["_date"] != day:
                hop.detail.append(f"as last reported on {d['_date']}")
            hop.row = d
            hops.append(hop)
    return hops


def _bank_sources(lake: _Lake, hops: list[Hop]) -> None:
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
    dates = [x for x in dates if _day(x)]
    if not wanted or not dates:
        return
    lo = min(dates) - dt.timedelta(days=1)
    hi = min(lake.day, max(dates) + dt.timedelta(days=BANK_DAYS))
    cond = _in("bank_txn_id", wanted)
    rows = [dict(r, _state=True) for r in lake.state("bank", cond)]
    rows += lake.window("bank_lines", lo, hi, cond)
    by_id = _deliveries(rows, lambda r: r["bank_txn_id"])
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
            if (src := _source_of(line)) and src not in hop.sources:
                hop.sources.append(src)


def _exceptions(lake: _Lake, hops: list[Hop], order_no: str | None) -> list[dict]:
    refs = {i for h in hops for i in h.ids if i} | ({order_no} if order_no else set())
    cond = (
        f"{_in('ref', refs)} OR {_in('order_no', refs)} OR {_in('channel_txn_id', refs)} "
        f"OR {_in('bank_txn_id', refs)}"
    )
    day = lake.day
    rows = lake.report("exceptions", day, day, cond)
    keep = (
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
    from reports.labels import action, label
    from reports.workbook import mask_text

    out = []
    for r in sorted(rows, key=lambda r: (r.get("status") != "OPEN", r["exception_type"], r["ref"])):
        e = {k: r.get(k) for k in keep}
        e["detail"] = mask_text(e["detail"])
        e["label"], e["action"] = label(e["exception_type"]), action(e["exception_type"])
        out.append(e)
    return out


def _apply_exceptions(hops: list[Hop], exceptions: list[dict], order_no: str | None) -> None:
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


MONEY_PATH = ("channel_debit", "settlement", "bank_credit", "distribution")


def _where(hops: list[Hop]) -> str:
    """One line for a person: how far the borrower's money got, what is next, what differs."""
    reached, stuck = None, None
    for kind in MONEY_PATH:
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
    refunded = [h for h in hops if h.kind == "refund" and h.status == DONE]
    if refunded:
        total = sum((Decimal(h.amount or 0) for h in refunded), Decimal(0))
        text += f"; refunded 已退款 {_money(total)}"
    issues = [h for h in hops if h.status in (DIFFERS, MISSING)]
    if issues:
        text += "; issues 问题: " + ", ".join(
            f"{h.label} {h.ref or ''} {STATUS_LABEL[h.status]}".replace("  ", " ") for h in issues
        )
    return text


# ---------------------------------------------------------------------------- output


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _where_from(hop: Hop) -> str:
    if not hop.sources:
        return (
            "computed 计算"
            if hop.kind == "settlement" and hop.status not in (NA, UNAVAILABLE)
            else ""
        )
    first = hop.sources[0]
    text = f"{first['file_name']}:{first['line_no']}"
    return text + (f" (+{len(hop.sources) - 1})" if len(hop.sources) > 1 else "")


def _table_line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.rjust(w) if i in (0, 4) else _pad(c, w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


HEADER = [
    "#",
    "hop 环节",
    "status 状态",
    "date 日期",
    "amount 金额",
    "ref 单号",
    "from 来源 file:line",
]


def render_text(result: TraceResult) -> str:
    out = [
        f"trace 追踪 {result.key} ({result.kind})   report date 报告日 {result.report_date}   "
        f"{len(result.traces)} repayment(s)"
    ]
    for t in result.traces:
        out.append("")
        facts = "   ".join(
            f"{name} {_money(v) if isinstance(v := t.facts[k], Decimal) else v}"
            for k, name in (
                ("order_no", "order 订单"),
                ("borrower", "borrower 借款人"),
                ("loan", "loan 借据/期"),
                ("lender", "lender 资金方"),
                ("channel", "channel 渠道"),
                ("amount", "amount 金额"),
            )
            if t.facts.get(k)
        )
        out.append(facts)
        found = f"found 查找: {t.found_in}"
        if t.window:
            found += f"; rows read from inbox dates {t.window[0]} .. {t.window[1]}"
        out.append(found)
        out += [f"note 说明: {n}" for n in t.notes]
        rows = [
            [
                str(i),
                h.label,
                STATUS_LABEL[h.status],
                str(h.date or ""),
                _money(h.amount),
                h.ref or "",
                _where_from(h),
            ]
            for i, h in enumerate(t.hops, 1)
        ]
        widths = [max(_width(r[c]) for r in [HEADER, *rows]) for c in range(len(HEADER))]
        out.append(_table_line(HEADER, widths))
        out.append(_table_line(["-" * w for w in widths], widths))
        indent = " " * (widths[0] + 2)
        for hop, row in zip(t.hops, rows, strict=True):
            out.append(_table_line(row, widths))
            out += [f"{indent}· {d}" for d in hop.detail]
            out += [f"{indent}! {e}" for e in hop.exceptions]
        out.append(t.where)
        if t.exceptions:
            out.append(f"exceptions on {result.report_date} 当日异常:")
            for e in t.exceptions:
                out.append(
                    f"  {e['status']:<8} {e['exception_type']} {e['label']}  {e['ref']}  "
                    f"age {e.get('age_days')}d  diff {_money(e.get('diff_amount'))}  "
                    f"→ {e['action']}"
                )
                if e.get("detail"):
                    out.append(f"           {e['detail']}")
        else:
            out.append(f"exceptions on {result.report_date} 当日异常: none 无")
    lk = result.lookup
    out.append("")
    out.append(
        f"looked up in {lk['elapsed_ms']} ms: {lk['queries']} queries over {lk['files_read']} "
        f"files of {lk['published_dates']} published dates (no history scan)"
    )
    return "\n".join(out)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(result: TraceResult) -> dict:
    """A JSON-ready dict: dates ISO, money as decimal strings, borrower data masked."""
    return _plain(
        {
            "key": result.key,
            "kind": result.kind,
            "report_date": result.report_date,
            "lookup": result.lookup,
            "traces": [
                {
                    "order_no": t.order_no,
                    "found_in": t.found_in,
                    "window": list(t.window) if t.window else None,
                    "facts": t.facts,
                    "notes": t.notes,
                    "where": t.where,
                    "hops": [
                        {
                            "hop": h.kind,
                            "label": h.label,
                            "status": h.status,
                            "date": h.date,
                            "amount": h.amount,
                            "ref": h.ref,
                            "sources": h.sources,
                            "detail": h.detail,
                            "exceptions": h.exceptions,
                        }
                        for h in t.hops
                    ],
                    "exceptions": t.exceptions,
                }
                for t in result.traces
            ],
        }
    )
