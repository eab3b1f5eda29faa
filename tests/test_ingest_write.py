"""A file's rows are written to their partition in line order, sorted only when the typed
table does not already hold them so: the bytes are the same either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms import ingest
from transforms.duck import connect
from transforms.inspect import default_source
from transforms.sources import FORMATS, identify
from transforms.sources.base import FileContext

FIXTURES = Path(__file__).parent / "fixtures"
PLATFORM = FIXTURES / "platform_export" / "platform_orders_2024-03-05.csv"
FILES = {  # name: (fixture, lines put after its second line)
    "platform export, no rejects": (PLATFORM, []),
    "platform export with rejects": (PLATFORM, ["garbage", "PO1,PAYBACK" + ",x" * 16]),
    "withholding file": (FIXTURES / "withholding" / "allinpay_2024-03-05.txt", []),
}


def test_line_order_is_read_off_the_table():
    con = connect(threads=2)
    con.execute("CREATE TABLE sorted AS SELECT range + 2 AS line_no FROM range(100000)")
    con.execute("CREATE TABLE unsorted AS SELECT * FROM sorted ORDER BY line_no % 7, line_no")
    con.execute("CREATE TABLE tied AS SELECT 5 AS line_no UNION ALL SELECT 5")
    con.execute("CREATE TABLE unnumbered AS SELECT NULL::BIGINT AS line_no UNION ALL SELECT 3")
    con.execute("CREATE VIEW a_view AS SELECT * FROM sorted")
    assert ingest._in_line_order(con, "sorted")
    assert not ingest._in_line_order(con, "unsorted")
    assert not ingest._in_line_order(con, "tied")
    assert not ingest._in_line_order(con, "unnumbered")  # ORDER BY would put it last
    assert not ingest._in_line_order(con, "a_view")  # no rowid: sorted at the write


def _written(path: Path, out: Path) -> dict[str, bytes]:
    fmt, _ = identify(path, list(FORMATS))
    source = default_source(fmt, path)
    con = connect(threads=1)
    ctx = FileContext(path, source, con, out, "Asia/Shanghai", "f", {})
    n = fmt.normalize(ctx)
    ok, rejected = con.execute(
        f"SELECT count(*) FILTER (WHERE reject_reason IS NULL), "
        f"count(*) FILTER (WHERE reject_reason IS NOT NULL) FROM {n.relation}"
    ).fetchone()
    ingest._write_outputs(con, n.table, n.relation, source, path, "ab" * 32, out, ok, rejected)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.mark.parametrize("name", FILES)
def test_the_same_bytes_with_and_without_the_sort(tmp_path, monkeypatch, name):
    fixture, extra = FILES[name]
    path = tmp_path / fixture.name
    lines = fixture.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:2] + [x.encode() for x in extra] + lines[2:]))
    unsorted_write = _written(path, tmp_path / "a")
    monkeypatch.setattr(ingest, "_in_line_order", lambda con, relation: False)
    sorted_write = _written(path, tmp_path / "b")
    assert len(sorted_write) == 2  # the rows' partition and the rejects' (empty or not)
    assert unsorted_write == sorted_write
