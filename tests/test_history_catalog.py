"""The history catalog's key ranges (transforms/state.py `catalog_rows`)."""

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import state

# txn_keys is sorted by channel first: Alipay's all-digit 2026... ids, then TL... of Allinpay,
# then WeChat's all-digit 4200... ids
TXN_IDS = [
    "2026110222001400000001",
    "2026110222001400000002",
    "TL261102000000000001",
    "4200002026110200000001",
    "4200002026110200000002",
]


def test_each_key_series_gets_its_own_range(tmp_path):
    path = tmp_path / "txn_keys.parquet"
    pq.write_table(pa.table({"channel_txn_id": TXN_IDS}), path)
    con = duckdb.connect()
    rows = state.catalog_rows(con, path, state.DELTA["txn_keys"], dt.date(2026, 11, 2))
    ranges = sorted((lo, hi) for _, _, _, lo, hi in rows)
    assert ranges == [
        ("2026110222001400000001", "2026110222001400000002"),
        ("4200002026110200000001", "4200002026110200000002"),
        ("TL261102000000000001", "TL261102000000000001"),
    ]
    assert sum(n for _, _, n, _, _ in rows) == len(TXN_IDS)
    # a year-old WeChat id outside this date's range of WeChat ids is not in any range
    wanted = "4200002025110200000001"
    assert not [r for r in ranges if r[0] <= wanted <= r[1]]


def _delta_day(con, folder, day: dt.date, numbers: range) -> None:
    """An order_keys delta of `day` with the numbers' PO... and RF... ids, small row groups."""
    cols = ", ".join(
        "o AS order_no" if n == "order_no" else f"CAST(NULL AS {t}) AS {n}"
        for n, t in state.lake.STATE["order_keys"]
    )
    path = folder / f"{day}.parquet"
    con.execute(
        f"COPY (SELECT {cols} FROM (SELECT 'PO' || strftime(DATE '{day}', '%Y%m%d') || lpad(i::VARCHAR, 6, '0') AS o "
        f"FROM unnest({list(numbers)}) t(i) UNION ALL SELECT 'RF{day:%Y%m%d}' || i FROM range(30) r(i)) ORDER BY o) "
        f"TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)"
    )
    rows = state.catalog_rows(con, path, state.DELTA["order_keys"], day)
    con.executemany("INSERT INTO history_catalog VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("INSERT INTO history_files VALUES ('order_keys', ?, ?)", [day, str(path)])


def test_a_lookup_reads_the_same_rows_through_either_way_of_finding_ranges(tmp_path, monkeypatch):
    """Many keys against many ranges are matched to the ranges by an ASOF join (the smallest
    key at or above each range's start); a few ranges are counted one by one. Both find the
    rows a plain scan of every file finds: keys in some ranges, between ranges, beyond all."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE history_catalog AS {state._typed_empty(state.CATALOG)}")
    con.execute("CREATE TABLE history_files (kind VARCHAR, day DATE, path VARCHAR)")
    days = [dt.date(2026, 11, d) for d in (1, 2, 3)]
    for day in days:
        _delta_day(con, tmp_path, day, range(0, 40_000, 3))
    con.execute(
        "CREATE TABLE wanted AS SELECT order_no FROM read_parquet('"
        + str(tmp_path)
        + "/*.parquet') "
        "WHERE hash(order_no) % 97 = 0 UNION ALL "
        "SELECT unnest(['PO20261102000001', 'PO20261102039999', 'PO0', 'ZZ', 'RF2026110299', NULL])"
    )
    plain = sorted(
        con.execute(
            f"SELECT order_no FROM read_parquet('{tmp_path}/*.parquet') "
            "WHERE order_no IN (SELECT order_no FROM wanted)"
        ).fetchall()
    )
    assert len(con.execute("SELECT * FROM history_catalog").fetchall()) > state.PER_RANGE_COUNTS
    for per_range in (0, 10**6):  # 0: the ASOF join; 10**6: every range counted
        monkeypatch.setattr(state, "PER_RANGE_COUNTS", per_range)
        sql = state.history_sql(con, "order_keys", "wanted.order_no")
        assert sorted(con.execute(f"SELECT order_no FROM {sql}").fetchall()) == plain
        since = state.history_sql(con, "order_keys", "wanted.order_no", since=days[-1])
        last_day = [(o,) for (o,) in plain if o.startswith(("PO20261103", "RF20261103"))]
        assert sorted(con.execute(f"SELECT order_no FROM {since}").fetchall()) == last_day
