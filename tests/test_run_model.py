"""The run model: state carried from one date to the next, the file ledger, one atomic
publish per date, the data_dir lock, and recovery from a crash at any point."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from transforms import publish
from transforms.config import load_config
from transforms.generate import ALLINPAY, Order, Txn, write_allinpay, write_platform
from transforms.pipeline import run_date, run_range

D1 = dt.date(2026, 9, 1)
DAYS = 61

CONFIG = """
inbox = "inbox"
data_dir = "data"
[[sources]]
name = "platform"
role = "platform"
format = "platform_export"
glob = "platform_orders_*.csv"
[[sources]]
name = "allinpay"
role = "channel"
format = "withholding"
glob = "allinpay_*.txt"
channel = "ALLINPAY"
"""


def day(n: int) -> dt.date:
    return D1 + dt.timedelta(days=n)


def order(no: str, n: int, fen: int, loan: str = "", due: int | None = None) -> Order:
    paid = dt.datetime.combine(day(n), dt.time(10, 0, 0))
    return Order(no, "REPAY", "", loan or "LN" + no, 1, "U1", "LENDER_A", ALLINPAY, "TL" + no,
                 fen, 0, 0, 0, fen if due is None else due, "SUCCESS", paid, paid)  # fmt: skip


def debit(txn_id: str, order_no: str, n: int, fen: int) -> Txn:
    when = dt.datetime.combine(day(n), dt.time(10, 0, 5))
    return Txn(ALLINPAY, txn_id, order_no, "PAY", fen, when, day(n))


def write_inbox(root: Path, orders: dict[int, list[Order]], txns: dict[int, list[Txn]]) -> Path:
    for n in range(DAYS):
        folder = root / "inbox" / day(n).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        write_platform(folder / f"platform_orders_{day(n):%Y%m%d}.csv", orders.get(n, []))
        write_allinpay(folder / f"allinpay_{day(n):%Y%m%d}.txt", txns.get(n, []))
    (root / "recon.toml").write_text(CONFIG, encoding="utf-8")
    return root / "recon.toml"


def history_of(lake: Path, ref: str) -> dict[dt.date, tuple[str, str]]:
    rows = duckdb.sql(
        f"SELECT report_date, exception_type, status FROM read_parquet('{lake}/exceptions/*/*.parquet') "
        f"WHERE ref = '{ref}' ORDER BY report_date"
    ).fetchall()
    return {d: (t, s) for d, t, s in rows}


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """61 dates, run one by one: late counterparts and late duplicates weeks apart."""
    root = tmp_path_factory.mktemp("long")
    orders = {
        0: [order("LATE", 0, 10000), order("TWICE", 0, 20000), order("INST1", 0, 30000, "L9")],
        45: [order("INST2", 45, 30000, "L9", due=30000)],  # the same installment, owed again
    }
    txns = {
        0: [debit("T-TWICE", "TWICE", 0, 20000), debit("T-INST1", "INST1", 0, 30000)],
        40: [debit("T-TWICE-2", "TWICE", 40, 20000)],  # a second debit 40 days later
        45: [debit("T-INST2", "INST2", 45, 30000)],
        60: [debit("T-LATE", "LATE", 0, 10000)],  # the counterpart, 60 days late
    }
    config = load_config(write_inbox(root, orders, txns))
    for n in range(DAYS):
        run_date(config, day(n))
    return config


def test_a_counterpart_60_days_late_still_clears(long_run):
    seen = history_of(long_run.lake, "LATE")
    assert seen[day(1)] == ("MISSING_ON_CHANNEL", "PENDING")
    assert seen[day(59)] == ("MISSING_ON_CHANNEL", "OPEN")
    assert seen[day(60)] == ("MISSING_ON_CHANNEL", "CLEARED")


def test_a_second_debit_40_days_after_the_match_is_a_duplicate(long_run):
    seen = history_of(long_run.lake, "TWICE")
    assert day(39) not in seen
    assert seen[day(40)] == ("DUPLICATE_DEBIT", "OPEN")
    assert seen[day(60)] == ("DUPLICATE_DEBIT", "OPEN")


def test_an_installment_collected_twice_across_months_is_caught(long_run):
    seen = history_of(long_run.lake, "INST2")
    assert seen[day(45)] == ("DUPLICATE_DEBIT", "OPEN")
    assert day(44) not in seen and "INST1" not in str(history_of(long_run.lake, "INST1"))


def test_state_holds_open_items_only(long_run):
    """What a date carries is the open items, not the history: here three orders at most."""
    version = publish.current_version(long_run, day(50))
    carried = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{version}/state/orders.parquet')"
    ).fetchall()[0][0]
    assert carried <= 3


def test_range_single_dates_and_out_of_order_are_byte_identical(long_run, tmp_path):
    shutil.copytree(long_run.inbox, tmp_path / "inbox")
    shutil.copy(long_run.path, tmp_path / "recon.toml")
    config = load_config(tmp_path / "recon.toml")
    run_date(config, day(50))  # computes 0..49 first: their state is missing
    run_range(config, day(55), day(60))  # 51..54 are computed too
    run_date(config, day(50))  # a re-run
    for n in (0, 40, 45, 50, 60):
        rel = f"exceptions/report_date={day(n).isoformat()}/exceptions.parquet"
        assert (config.lake / rel).read_bytes() == (long_run.lake / rel).read_bytes(), n
        rel = f"current/{day(n).isoformat()}/state/txns.parquet"
        assert (config.data_dir / rel).read_bytes() == (long_run.data_dir / rel).read_bytes()


# ---------------------------------------------------------------------------- short inbox


@pytest.fixture
def short(tmp_path):
    orders = {n: [order(f"P{n}", n, 10000 + n)] for n in range(5)}
    txns = {n: [debit(f"T{n}", f"P{n}", n, 10000 + n)] for n in range(5) if n != 2}
    txns[4] = txns[4] + [debit("T2", "P2", 2, 10002)]  # P2's debit arrives two days late
    config = load_config(write_inbox(tmp_path, orders, txns))
    return config


def outputs(config, last: int = 4) -> dict[str, bytes]:
    out = {}
    for n in range(last + 1):
        version = publish.current_version(config, day(n))
        for p in sorted(version.rglob("*.parquet")):
            out[str(p.relative_to(version))] = p.read_bytes()
    return out


def test_a_corrected_past_file_recomputes_that_date_and_every_later_one(short, tmp_path):
    run_range(short, day(0), day(4))
    path = short.inbox / day(1).isoformat() / f"allinpay_{day(1):%Y%m%d}.txt"
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    corrected = text.replace("|10001|", "|10091|").replace("TRAILER|1|10001", "TRAILER|1|10091")
    assert len(corrected) == len(text) and corrected != text
    path.write_text(corrected, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    results = run_date(short, day(4))
    assert [r.report_date for r in results] == [day(1), day(2), day(3), day(4)]
    assert "changed" in results[0].reason and "allinpay" in results[0].reason
    fresh = tmp_path / "fresh"
    shutil.copytree(short.inbox, fresh / "inbox")
    shutil.copy(short.path, fresh / "recon.toml")
    fresh_config = load_config(fresh / "recon.toml")
    run_range(fresh_config, day(0), day(4))
    assert outputs(short) == outputs(fresh_config)
    found = history_of(short.lake, "P1")
    assert found[day(1)][0] == "AMOUNT_MISMATCH"


def test_a_byte_identical_redelivery_counts_once(short):
    src = short.inbox / day(0).isoformat() / f"allinpay_{day(0):%Y%m%d}.txt"
    shutil.copy(src, short.inbox / day(1).isoformat() / "allinpay_resent.txt")
    run_range(short, day(0), day(4))
    files = duckdb.sql(
        f"SELECT file_name, status, error FROM read_parquet('{short.lake}/files/inbox_date=*/*.parquet') "
        "WHERE status = 'DUPLICATE'"
    ).fetchall()
    assert files == [("allinpay_resent.txt", "DUPLICATE", files[0][2])]
    assert "allinpay_20260901.txt" in files[0][2]
    assert history_of(short.lake, "P0") == {}
    ledger = duckdb.sql(
        f"SELECT file_name, first_seen, redelivery, status, rows_ok "
        f"FROM read_parquet('{short.data_dir}/ledger/files.parquet') WHERE source = 'allinpay' "
        "AND inbox_date <= DATE '2026-09-02' ORDER BY inbox_date, file_name"
    ).fetchall()
    assert ledger == [
        ("allinpay_20260901.txt", day(0), False, "OK", 1),
        ("allinpay_20260902.txt", day(1), False, "OK", 1),
        ("allinpay_resent.txt", day(0), True, "DUPLICATE", 0),
    ]


def test_a_second_run_on_the_same_data_dir_exits_2_naming_the_holder(short, capsys):
    from flows.cli import main

    with publish.run_lock(short):
        code = main(["run", "--config", str(short.path), "--date", day(0).isoformat()])
    err = capsys.readouterr().err
    assert code == 2 and "another run holds the lock" in err and f"pid {os.getpid()}" in err
    assert not (short.data_dir / "current").exists()


@pytest.mark.parametrize("point", ["ingest", "match", "workbook", "publish"])
def test_a_crash_at_any_point_leaves_the_old_date_and_the_next_run_completes(
    short, tmp_path, point
):
    run_range(short, day(0), day(2))
    before = outputs(short, 2)
    env = {**os.environ, "RECON_CRASH_AT": point}
    cmd = [sys.executable, "-m", "flows.cli", "run", "--config", str(short.path)]
    crashed = subprocess.run(
        cmd + ["--date", day(2).isoformat(), "--to", day(3).isoformat()], env=env, cwd=Path.cwd()
    )
    assert crashed.returncode == 70
    assert outputs(short, 2) == before  # readers still see the whole old date
    assert publish.current_version(short, day(3)) is None
    run_range(short, day(0), day(4))
    clean = tmp_path / "clean"
    shutil.copytree(short.inbox, clean / "inbox")
    shutil.copy(short.path, clean / "recon.toml")
    clean_config = load_config(clean / "recon.toml")
    run_range(clean_config, day(0), day(4))
    assert outputs(short) == outputs(clean_config)
    leftovers = [
        p for p in short.data_dir.rglob("*") if ".staging-" in p.name or p.name.endswith(".tmp")
    ]
    assert leftovers == []
    assert all(len(list(v.iterdir())) == 1 for v in (short.data_dir / "versions").iterdir())


def test_ten_generated_days_give_the_same_outputs_however_they_are_run(tmp_path):
    """Range, single dates, out of order and a re-run: byte-identical Parquet everywhere."""
    from transforms.generate import generate

    start, days = dt.date(2026, 11, 1), 10
    last = start + dt.timedelta(days=days - 1)
    ranged = load_config(generate(tmp_path / "a", start, days, 20, seed=3))
    run_range(ranged, start, last)
    other = tmp_path / "b"
    shutil.copytree(ranged.inbox, other / "inbox")
    shutil.copy(ranged.path, other / "recon.toml")
    singles = load_config(other / "recon.toml")
    run_date(singles, start + dt.timedelta(days=6))  # computes the six days before it too
    for n in (9, 8, 7):
        run_date(singles, start + dt.timedelta(days=n))
    run_date(singles, start + dt.timedelta(days=4))  # a re-run in the middle

    def parquet(config) -> dict[str, bytes]:
        found = {}
        for n in range(days):
            version = publish.current_version(config, start + dt.timedelta(days=n))
            for p in sorted(version.rglob("*.parquet")):
                found[f"{n}/{p.relative_to(version)}"] = p.read_bytes()
        return found

    a, b = parquet(ranged), parquet(singles)
    assert len(a) > 10 * days and a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_clean_up_touches_only_duckdb_spill_files_in_a_shared_temp_directory(tmp_path):
    shared = tmp_path / "shared_tmp"
    shared.mkdir()
    (shared / "someone_elses.txt").write_text("keep me", encoding="utf-8")
    (shared / "duckdb_temp_storage-0.tmp").write_bytes(b"left by a crashed run")
    config_path = write_inbox(
        tmp_path, {0: [order("P0", 0, 100)]}, {0: [debit("T0", "P0", 0, 100)]}
    )
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(f'temp_directory = "{shared}"\n' + text, encoding="utf-8")
    config = load_config(config_path)
    assert config.spill_dir == shared
    run_date(config, day(0))
    assert sorted(p.name for p in shared.iterdir()) == ["someone_elses.txt"]
