"""The generated multi-day inbox end to end: exceptions equal the answer key exactly."""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import duckdb

from tests.conftest import DEMO_DAYS, DEMO_START
from transforms.config import load_config
from transforms.generate import (
    ALIPAY,
    ALLINPAY,
    COLLECTION_ACCOUNT,
    FEE_ACCOUNT,
    LENDER_ACCOUNTS,
    WECHAT,
    Generator,
)
from transforms.pipeline import run_date, run_range


def open_exceptions(lake) -> set[tuple[str, str]]:
    rows = duckdb.sql(
        f"SELECT DISTINCT exception_type, ref FROM read_parquet('{lake}/exceptions/report_date=*/*.parquet') "
        "WHERE status = 'OPEN'"
    ).fetchall()
    return set(rows)


def test_exceptions_equal_answer_key(demo_run):
    with open(demo_run.out / "answer_key.csv", encoding="utf-8") as f:
        key = {(r["exception_type"], r["ref"]) for r in csv.DictReader(f)}
    found = open_exceptions(demo_run.config.lake)
    assert found - key == set(), "exceptions that were not injected"
    assert key - found == set(), "injected differences that were not found"
    from reports.labels import EXCEPTION_TYPES

    assert {t for t, _ in key} == set(EXCEPTION_TYPES), "every code of SPEC §6 is injected"


def test_noise_is_never_flagged(demo_run):
    world = Generator(DEMO_START, DEMO_DAYS, 40, 11).build()
    refs = {
        r[0]
        for r in duckdb.sql(
            f"SELECT ref FROM read_parquet('{demo_run.config.lake}/exceptions/report_date=*/*.parquet') "
            "WHERE status <> 'PENDING'"
        ).fetchall()
    }
    assert world.noise_refs and refs.isdisjoint(world.noise_refs)


def test_every_row_accounted_for(demo_run):
    lake = demo_run.config.lake
    files = duckdb.sql(
        f"SELECT * FROM read_parquet('{lake}/files/inbox_date=*/*.parquet')"
    ).fetchall()
    assert files
    per_file = dict(
        duckdb.sql(
            f"""SELECT file_sha256, count(*) FROM (
                SELECT file_sha256 FROM read_parquet('{lake}/platform_orders/*/*/*.parquet')
                UNION ALL SELECT file_sha256 FROM read_parquet('{lake}/channel_txns/*/*/*.parquet')
                UNION ALL SELECT file_sha256 FROM read_parquet('{lake}/bank_lines/*/*/*.parquet'))
                GROUP BY 1"""
        ).fetchall()
    )
    desc = duckdb.sql(
        f"SELECT * FROM read_parquet('{lake}/files/inbox_date=*/*.parquet') LIMIT 0"
    ).columns
    incomplete = {
        r[0]
        for r in duckdb.sql(
            f"SELECT ref FROM read_parquet('{lake}/exceptions/*/*.parquet') "
            "WHERE exception_type = 'REJECTED_ROW' AND line_no = 0"
        ).fetchall()
    }
    for row in files:
        f = dict(zip(desc, row, strict=True))
        if f["status"] != "OK":
            continue
        assert f["rows_in"] == f["rows_ok"] + f["rows_rejected"], f
        # A file whose stated totals differ from what was read is an exception of its own.
        assert f["control_ok"] or (f["file_name"] + ":0") in incomplete, f
        # Re-delivered byte-identical files are written once per delivery but counted once downstream.
        assert per_file.get(f["file_sha256"], 0) % f["rows_ok"] == 0 if f["rows_ok"] else True


def test_money_is_exact_to_the_fen(demo_run):
    world = Generator(DEMO_START, DEMO_DAYS, 40, 11).build()
    lake = demo_run.config.lake
    for day in demo_run.days:
        stamp = day.isoformat()
        platform = duckdb.sql(
            f"SELECT sum(amount), typeof(sum(amount)) FROM read_parquet('{lake}/platform_orders/inbox_date={stamp}/*/*.parquet') "
            "WHERE file_name NOT LIKE '%amend%'"  # an amendment re-sends rows of the day before
        ).fetchall()[0]
        assert platform[0] * 100 == sum(o.amount for o in world.orders[day])
        assert platform[1].startswith("DECIMAL")
        for channel, _source, name in (
            (WECHAT, "wechatpay", "wechatpay_All"),
            (ALLINPAY, "allinpay", "allinpay_"),
            (ALIPAY, "alipay", "alipay_"),
        ):
            total = duckdb.sql(
                f"SELECT coalesce(sum(amount), 0) FROM read_parquet('{lake}/channel_txns/inbox_date={stamp}/*/*.parquet') "
                f"WHERE file_name LIKE '{name}%' AND file_name NOT LIKE '%resend%'"
            ).fetchall()[0][0]
            expected = sum(
                t.amount for t in world.txns if t.channel == channel and t.file_day == day
            )
            assert total * 100 == expected, (stamp, channel)
        for prefix, account in (
            ("ccb_collection", COLLECTION_ACCOUNT),
            ("lender_a", LENDER_ACCOUNTS["LENDER_A"][0]),
            ("lender_b", LENDER_ACCOUNTS["LENDER_B"][0]),
            ("fee_account", FEE_ACCOUNT[0]),
        ):
            total = duckdb.sql(
                f"SELECT coalesce(sum(amount), 0) FROM read_parquet('{lake}/bank_lines/inbox_date={stamp}/*/*.parquet') "
                f"WHERE file_name LIKE '{prefix}%'"
            ).fetchall()[0][0]
            delivered = any((demo_run.out / "inbox" / stamp).glob(f"{prefix}_*"))
            expected = delivered and sum(
                abs(b.amount) for b in world.bank if b.day == day and b.account == account
            )
            assert total * 100 == expected, (stamp, prefix)


def test_rerun_is_byte_identical(demo_run):
    day = demo_run.days[2]
    path = (
        demo_run.config.lake
        / "exceptions"
        / f"report_date={day.isoformat()}"
        / "exceptions.parquet"
    )
    before = path.read_bytes()
    run_date(demo_run.config, day)
    assert path.read_bytes() == before


def test_dates_out_of_order_give_the_same_outputs(demo_run, tmp_path):
    """Results are a function of the inputs alone: the last date run first, on a fresh lake."""
    shutil.copytree(demo_run.out / "inbox", tmp_path / "inbox")
    shutil.copy(demo_run.config_path, tmp_path / "recon.toml")
    config = load_config(tmp_path / "recon.toml")
    last = demo_run.days[-1]
    run_date(config, last)
    run_range(config, demo_run.days[0], demo_run.days[1])
    for day in (last, demo_run.days[1]):
        rel = f"exceptions/report_date={day.isoformat()}/exceptions.parquet"
        assert (config.lake / rel).read_bytes() == (demo_run.config.lake / rel).read_bytes(), day


def test_cleared_items_are_listed_on_the_day_they_clear(demo_run):
    rows = duckdb.sql(
        f"SELECT report_date, exception_type, ref FROM read_parquet('{demo_run.config.lake}/exceptions/*/*.parquet') "
        "WHERE status = 'CLEARED'"
    ).fetchall()
    # Nothing in the generated data clears: every injected difference stays open.
    assert rows == []


def test_workbook_written_for_every_date(demo_run):
    from openpyxl import load_workbook

    for r in demo_run.results:
        assert r.workbook.exists()
    wb = load_workbook(demo_run.results[-1].workbook, read_only=True)
    assert any(n.endswith(" DUPLICATE_DEBIT") for n in wb.sheetnames)
    assert (
        dt.date.fromisoformat(demo_run.results[-1].workbook.stem.removeprefix("recon_"))
        == demo_run.days[-1]
    )
