"""The lookup service's held files (`trace.lake.FileCache`) answer exactly as DuckDB reads the
Parquet files: every filter of `trace.where` evaluated both ways, and whole traces compared
with and without the cache."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.trace import to_json, trace
from transforms.trace.lake import FileCache, Held, _filter_held
from transforms.trace.model import KeyNotFound
from transforms.trace.where import And, Between, Eq, In, ListHas, Ne, Or

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
TABLE = pa.table(
    {
        "order_no": ["PO1", "PO2", None, "PO4", "PO2", "PO6"],
        "orig_order_no": [None, None, "PO1", None, "PO9", None],
        "installment_no": pa.array([1, 2, 3, None, 2, 1], pa.int32()),
        "settle_date": pa.array([D1, D2, None, D1, D2, D2], pa.date32()),
        "amount": pa.array(
            [
                Decimal("1.50"),
                None,
                Decimal("3.00"),
                Decimal("0.01"),
                Decimal("2.00"),
                Decimal("9.99"),
            ],
            pa.decimal128(18, 2),
        ),  # fmt: skip
        "settle_items": [
            "WECHAT:2026-11-01, ALIPAY:2026-11-02",
            None,
            "WECHAT:2026-11-01",
            "WECHAT:2026-11-011",
            "",
            "ALIPAY:2026-11-02",
        ],  # fmt: skip
        "min_key": ["PO1", "PO3", None, "PO0", "PO2", "PO6"],
        "max_key": ["PO2", "PO9", "PO5", None, "PO2", "PO7"],
    }
)
FILTERS = [
    Eq("order_no", "PO2"),
    Eq("order_no", "PO3"),
    Eq("order_no", None),
    Eq("installment_no", 2),
    Eq("settle_date", D1),
    Ne("order_no", "PO2"),
    Ne("installment_no", 1),
    In("order_no", ["PO1", "PO4", "", None]),
    In("order_no", []),
    In("orig_order_no", ["PO1", "PO9"]),
    Between("PO2", "min_key", "max_key"),
    Between("PO4", "min_key", "max_key"),
    ListHas("settle_items", "WECHAT:2026-11-01"),
    ListHas("settle_items", "ALIPAY:2026-11-02"),
    ListHas("settle_items", "WECHAT:2026-11-01, ALIPAY"),
    Eq("order_no", "PO2") | Eq("orig_order_no", "PO1"),
    Eq("order_no", "PO1") | (Eq("installment_no", 2) & Ne("order_no", "PO2")),
    And(Eq("installment_no", 2), Eq("settle_date", D2), Ne("order_no", "PO6")),
    ListHas("settle_items", "ALIPAY:2026-11-02") & In("order_no", ["PO1", "PO6"]),
    Or(Eq("nowhere", "x"), Eq("order_no", "PO4")),
    Eq("nowhere", "x"),
    In("nowhere", ["x"]),
]


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("held") / "t.parquet"
    pq.write_table(TABLE, path)
    return path


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: w.sql()[:60])
def test_every_filter_agrees_with_duckdb(parquet, where):
    con = duckdb.connect()
    if "nowhere" in where.sql():
        expected = [] if "PO4" not in where.sql() else [3]
    else:
        expected = [
            r[0]
            for r in con.execute(
                f"SELECT file_row_number FROM read_parquet('{parquet}', file_row_number = true) "
                f"WHERE {where.sql()} ORDER BY 1"
            ).fetchall()
        ]
    held = Held(pq.read_table(parquet), 0)
    rows = _filter_held([(D1, parquet)], [held], where)
    assert [TABLE.slice(i, 1).to_pylist()[0]["order_no"] for i in expected] == [
        r["order_no"] for r in rows
    ]
    again = _filter_held([(D1, parquet)], [held], where)  # through the built indexes
    assert again == rows
    mask = where.mask(held).to_pylist()
    assert [i for i, v in enumerate(mask) if v] == expected, "the vectorized path agrees"


def test_rows_are_read_as_duckdb_gives_them(parquet, tmp_path):
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"order_no": ["PO2"], "extra": [7]}), other)
    dated = [(D1, parquet), (D2, other)]
    listed = ", ".join(f"'{p}'" for _, p in dated)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cur = con.execute(
        f"SELECT * FROM read_parquet([{listed}], union_by_name = true, filename = '_file') "
        "WHERE order_no = 'PO2'"
    )
    names = [d[0] for d in cur.description]
    expected = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    held = [Held(pq.read_table(p), 0) for _, p in dated]
    assert _filter_held(dated, held, Eq("order_no", "PO2")) == expected


def _keys(config) -> list[str]:
    data = config.data_dir / "current"
    con = duckdb.connect()

    def some(pattern, column, n):
        files = sorted(str(p) for p in data.glob(pattern))
        return [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {column} FROM read_parquet({files!r}, union_by_name = true) "
                f"WHERE {column} IS NOT NULL ORDER BY hash({column}) LIMIT {n}"
            ).fetchall()
        ]

    return (
        some("*/platform_orders/*/*.parquet", "order_no", 60)
        + some("*/channel_txns/*/*.parquet", "channel_txn_id", 30)
        + some("*/platform_orders/*/*.parquet", "borrower_id", 10)
        + some("*/state/order_keys.parquet", "order_no", 20)
        + ["NO-SUCH-KEY"]
    )


def _answer(config, key, day=None, **kw) -> str:
    try:
        out = to_json(trace(config, key, day, **kw))
    except KeyNotFound:
        return "not found"
    out.pop("lookup")
    return json.dumps(out, sort_keys=True, default=str)


def test_traces_with_the_cache_are_the_traces_without(web_demo):
    """Over the demo's orders, debits, borrowers and settled orders, on the latest date and
    an earlier one; the cache warmed first, then asked again through its indexes."""
    config = web_demo.config
    cache = FileCache()
    assert cache.warm(config, 31) > 0
    con = duckdb.connect()
    days = sorted(p.name for p in (config.data_dir / "current").iterdir())
    for day in (None, dt.date.fromisoformat(days[len(days) // 2])):
        for key in _keys(config):
            plain = _answer(config, key, day)
            assert _answer(config, key, day, con=con, cache=cache) == plain, key
            assert _answer(config, key, day, con=con, cache=cache) == plain, key


def test_a_small_budget_evicts_and_still_answers(web_demo):
    config = web_demo.config
    cache = FileCache(max_bytes=1, idle_s=0)
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    assert _answer(config, key, cache=cache, con=duckdb.connect()) == _answer(config, key)
    assert len(cache._files) < 40, "least recently used files are dropped past the budget"


def test_published_dates_are_listed_again_when_current_changes(tmp_path):
    class Config:
        data_dir = tmp_path

    current = tmp_path / "current"
    current.mkdir()
    (current / "2026-11-01").symlink_to("nowhere")
    cache = FileCache()
    assert cache.published_days(Config) == [D1]
    (current / "2026-11-02").symlink_to("nowhere")  # the same second: never taken as unchanged
    assert cache.published_days(Config) == [D1, D2]
    old = time.time() - 60
    os.utime(current, (old, old))
    assert cache.published_days(Config) == [D1, D2]
    (current / "2026-11-01").unlink()
    os.utime(current, (old + 1, old + 1))  # a change, even with an old time
    assert cache.published_days(Config) == [D2]
