"""cn_bank on broken and edge-case files (the real samples are golden tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.config import Source
from transforms.errors import InputFileError, ReconError, UnrecognizedFormat
from transforms.inspect import inspect_file

from .longcells import save_with_long_cell

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cn_bank"
BANK = Source(name="bank", role="bank", format="cn_bank", glob="*", account_no="ACC1")

HEADER = "交易时间,借方发生额（支取）,贷方发生额（收入）,余额,对方户名,摘要,交易流水号"
ROWS = [
    '2026-04-10 09:00:00,,"1,000.00","11,000.00",财付通,结算款,T1',
    '2026-04-10 10:00:00,200.00,,"10,800.00",资金方A,清分,T2',
    '2026-04-10 11:00:00,,50.00,"10,850.00",张三,转账,T3',
]


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_good_file_in_gbk_with_preamble_and_padded_header(tmp_path):
    header = "\u3000交易时间\t,借方发生额（支取） , 贷方发生额(收入),\u3000余\u3000额,对方户名,摘要,交易流水号"
    path = write(
        tmp_path, "stmt.csv", ["某某银行账户明细", "账号:6222000011112222", header, *ROWS], "gbk"
    )
    r = inspect_file(path)
    assert (r.format, r.rows_in, r.rows_ok, r.rows_rejected) == ("cn_bank", 3, 3, 0)
    assert [(x["direction"], x["amount"]) for x in r.rows] == [
        ("CREDIT", Decimal("1000.00")),
        ("DEBIT", Decimal("200.00")),
        ("CREDIT", Decimal("50.00")),
    ]
    assert r.rows[0]["account_no"] == "6222000011112222"  # from the preamble
    assert r.rows[0]["txn_time"] == dt.datetime(2026, 4, 10, 1, 0, tzinfo=dt.UTC)
    assert [(c.name, c.ok) for c in r.checks] == [("running balance breaks", True)]


def test_descending_file_order_passes_the_running_balance_check(tmp_path):
    path = write(tmp_path, "desc.csv", [HEADER, *reversed(ROWS)])
    r = inspect_file(path)
    assert r.rows_ok == 3
    assert all(c.ok for c in r.checks)


def test_broken_running_balance_is_a_failed_check(tmp_path):
    rows = list(ROWS)
    rows[2] = rows[2].replace('"10,850.00"', '"10,851.00"')
    r = inspect_file(write(tmp_path, "broken.csv", [HEADER, *rows]))
    assert r.rows_ok == 3  # the lines stand; the check says the balances disagree
    (check,) = [c for c in r.checks if c.name.startswith("running balance breaks")]
    assert not check.ok and check.computed == 1
    assert "first at line 4: 10800.00 + 50.00 is not 10851.00" in check.name  # names the row


def test_garbage_amount_is_rejected_with_its_line_and_good_rows_kept(tmp_path):
    rows = list(ROWS)
    rows[1] = rows[1].replace("200.00", "2OO.x0")
    r = inspect_file(write(tmp_path, "garbage.csv", ["明细", HEADER, *rows]))
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (3, 2, 1)
    (rej,) = r.rejects
    assert rej["line_no"] == 4
    assert "借方发生额(支取)" in rej["reason"] and "2OO.x0" in rej["reason"]
    assert "2OO.x0" in rej["raw"]


def test_both_debit_and_credit_on_one_line_is_rejected(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0].replace(',,"1,000.00"', ',5.00,"1,000.00"')
    r = inspect_file(write(tmp_path, "both.csv", [HEADER, *rows]))
    assert r.rows_rejected == 1 and "found both" in r.rejects[0]["reason"]


def test_unreadable_balance_leaves_balance_empty_with_a_check(tmp_path):
    rows = [x.replace('"11,000.00"', '"xx,yyyy.zz"') for x in ROWS]
    r = inspect_file(write(tmp_path, "anon.csv", [HEADER, *rows]))
    assert r.rows_ok == 3 and r.rows[0]["balance"] is None and r.rows[1]["balance"] is not None
    bad = [c for c in r.checks if c.name.startswith("余额 unreadable")]
    assert bad and bad[0].computed == 1 and "line 2" in bad[0].name and not bad[0].ok


def test_utf8_file_with_a_gbk_line_names_the_line(tmp_path):
    path = tmp_path / "mixed.csv"
    good = [HEADER, ROWS[0]]
    bad = ROWS[1].replace("资金方A", "资金方乙")
    path.write_bytes(
        ("\r\n".join(good) + "\r\n").encode("utf-8")
        + (bad + "\r\n").encode("gbk")
        + (ROWS[2] + "\r\n").encode("utf-8")
    )
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    assert exc.value.line == 3
    assert "UTF-8" in str(exc.value) and "line 3" in str(exc.value)


def test_gbk_line_beyond_the_sniffed_head_names_the_line(tmp_path):
    path = tmp_path / "long.csv"
    filler = [f"2026-04-10 09:00:00,,1.00,{1 + i}.00,对方{i},摘要,T{i}" for i in range(400)]
    head = ("\r\n".join([HEADER, *filler]) + "\r\n").encode("utf-8")
    assert len(head) > 16384
    path.write_bytes(head + "2026-04-10 10:00:00,1.00,,400.00,资金方乙,清分,TX\r\n".encode("gbk"))
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    assert exc.value.line == 402 and "utf-8" in str(exc.value).lower()


def test_missing_amount_column_lists_the_columns_found(tmp_path):
    path = write(
        tmp_path, "noamount.csv", ["交易时间,余额,对方户名,摘要", "2026-04-10 09:00:00,1.00,x,y"]
    )
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path)
    assert "no amount columns" in str(exc.value) and "'余额', '对方户名', '摘要'" in str(exc.value)
    with pytest.raises(InputFileError) as exc:
        inspect_file(path, source=BANK)  # the format named by config: normalize says why
    assert "no amount columns" in str(exc.value) and "'交易时间', '余额'" in str(exc.value)


def test_header_only_is_zero_rows(tmp_path):
    r = inspect_file(write(tmp_path, "empty.csv", ["账号:1", HEADER]))
    assert (r.format, r.rows_in, r.rows_ok, r.rows_rejected) == ("cn_bank", 0, 0, 0)
    assert all(c.ok for c in r.checks)


def test_truncated_xlsx_is_a_clear_error(tmp_path):
    data = (FIXTURES / "ccb_corporate_synthetic.xlsx").read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReconError) as exc:
        inspect_file(path)
    assert "not a readable .xlsx workbook" in str(exc.value)
    with pytest.raises(InputFileError) as exc:
        inspect_file(path, source=BANK)
    assert "not a readable .xlsx workbook" in str(exc.value) and "truncated.xlsx" in str(exc.value)


def test_configured_account_number_wins_over_the_preamble(tmp_path):
    path = write(tmp_path, "acct.csv", ["卡号: 1234****9876", HEADER, ROWS[0]])
    assert inspect_file(path, source=BANK).rows[0]["account_no"] == "ACC1"


def test_generated_ccb_corporate_gbk_csv(tmp_path):
    from transforms.generate import generate

    generate(tmp_path, dt.date(2026, 11, 1), 3, 10, 1)
    files = sorted((tmp_path / "inbox").glob("*/ccb_*.csv"))
    assert files
    for f in files:
        r = inspect_file(f)
        assert r.format == "cn_bank" and r.rows_rejected == 0 and r.rows_ok > 0, f
        assert all(c.ok for c in r.checks), (f, r.checks)


# --- issue 16: a date without a time is a normal row -----------------------------------

SPLIT_HEADER = "交易日期,交易时间,交易金额,本次余额,交易摘要,日志号"
SPLIT_ROWS = [
    "20261101,083015,+100.00,1100.00,转账,A1",
    "20261101,,-30.00,1070.00,消费,A2",
    "20261102,  ,+0.82,1070.82,结息,A3",
]


def test_abc_rows_whose_time_is_empty_are_read_at_local_midnight():
    """abc_活期交易明细.xlsx with 交易时间 emptied on sheet rows 6 and 9 (交易日期 filled)."""
    r = inspect_file(FIXTURES / "abc_活期_无交易时间.xlsx")
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (5, 5, 0)
    by_line = {x["line_no"]: x for x in r.rows}
    midnight = dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)  # 2026-11-01 00:00 in Shanghai
    assert by_line[6]["txn_time"] == by_line[9]["txn_time"] == midnight
    assert by_line[5]["txn_time"] == dt.datetime(2026, 11, 1, 0, 30, 15, tzinfo=dt.UTC)
    assert {str(x["value_date"]) for x in r.rows} == {"2026-11-01"}
    assert all(c.ok for c in r.checks)


def test_a_date_without_a_time_in_a_csv_export(tmp_path):
    r = inspect_file(write(tmp_path, "abc.csv", [SPLIT_HEADER, *SPLIT_ROWS]))
    assert (r.rows_ok, r.rows_rejected) == (3, 0)
    assert [x["txn_time"].isoformat() for x in r.rows] == [
        "2026-11-01T00:30:15+00:00",
        "2026-10-31T16:00:00+00:00",
        "2026-11-01T16:00:00+00:00",
    ]
    assert [str(x["value_date"]) for x in r.rows] == ["2026-11-01", "2026-11-01", "2026-11-02"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",,-30.00,1070.00,消费,A2", "交易日期/交易时间: required, found empty"),
        (",083015,-30.00,1070.00,消费,A2", "交易日期: required, found empty"),
        ("20261101,8:3O,-30.00,1070.00,消费,A2", "交易时间: cannot read '8:3O'"),
        ("20261101,25:61:00,-30.00,1070.00,消费,A2", "交易时间: cannot read '20261101 25:61:00'"),
        ("2026110X,,-30.00,1070.00,消费,A2", "交易日期: cannot read '2026110X'"),
    ],
)
def test_a_time_without_a_date_or_an_unreadable_one_is_still_a_reject(tmp_path, row, reason):
    rows = [SPLIT_ROWS[0], row, "20261102,090000,-0.82,1099.18,结息,A3"]
    r = inspect_file(write(tmp_path, "abc.csv", [SPLIT_HEADER, *rows]))
    assert [x["line_no"] for x in r.rejects] == [3] and r.rows_ok == 2
    assert reason in r.rejects[0]["reason"]


# --- issue 16: a cell over 131,072 characters is a rejected row; the rest is read ------

LONG = 140_000


@pytest.mark.parametrize("quoted", [False, True])
def test_an_over_long_csv_cell_is_a_reject_naming_the_column(tmp_path, quoted):
    memo = "x" * LONG if not quoted else '"' + "x, " * (LONG // 3) + 'xx"'
    rows = [
        ROWS[0],
        ROWS[1].replace(",清分,", f",{memo},"),
        ROWS[2].replace('"10,850.00"', '"11,050.00"'),
    ]
    rows.append(
        '2026-04-10 12:00:00,,1.00,"11,051.00",李四,' + "y" * 131_072 + ",T4"
    )  # at the limit
    r = inspect_file(write(tmp_path, "long.csv", [HEADER, *rows]))
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (4, 3, 1)
    (rej,) = r.rejects
    assert rej["line_no"] == 3 and len(rej["raw"]) < 2000
    assert rej["reason"] == "摘要 (column 6) holds 140,000 characters; expected at most 131,072"
    assert all(c.ok for c in r.checks)  # the other rows read, the balance runs through them


def test_an_over_long_xlsx_cell_is_a_reject_naming_the_column(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER.split(","))
    ws.append(["2026-04-10 09:00:00", None, "1,000.00", "11,000.00", "财付通", "结算款", "T1"])
    ws.append(["2026-04-10 10:00:00", "200.00", None, "10,800.00", "资金方A", "LONGCELL", "T2"])
    ws.append(["2026-04-10 11:00:00", None, "250.00", "11,050.00", "张三", "转账", "T3"])
    path = save_with_long_cell(book, tmp_path / "long.xlsx", "LONGCELL", "z" * LONG)
    r = inspect_file(path)
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (3, 2, 1)
    (rej,) = r.rejects
    assert rej["line_no"] == 3 and len(rej["raw"]) < 2000
    assert rej["reason"] == "摘要 (column 6) holds 140,000 characters; expected at most 131,072"


@pytest.mark.parametrize(
    "line",
    ["a,b,c", 'a,"b,c",d', '"a ""q"" b",,', '"",x', 'x,"unclosed', ",", 'a,b"c,d'],
)
def test_split_line_splits_as_the_csv_reader_does(line):
    import csv

    from transforms.tabular import split_line

    assert split_line(line) == next(csv.reader([line]))
