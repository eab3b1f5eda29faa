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
