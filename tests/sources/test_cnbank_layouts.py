"""cn_bank layouts added for real bank exports: direction is read, or the file/row is refused.

Each layout has a sample + golden in tests/fixtures/cn_bank/. Here every sample is
re-written cell by cell (as a UTF-8 CSV) with one bad direction value, or with its
direction information removed, to show that a row is rejected naming the value, or
the file is refused: never misread as money in.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.config import Source
from transforms.errors import InputFileError, UnrecognizedFormat
from transforms.inspect import inspect_file
from transforms.sources.cnbank import find_roles, is_statement_header
from transforms.tabular import iter_rows

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cn_bank"
BANK = Source(name="bank", role="bank", format="cn_bank", glob="*")
BOCOM = FIXTURES / "bocom_debit_借贷.csv"
ABC = FIXTURES / "abc_活期交易明细.xlsx"
BOC = FIXTURES / "boc_交易明细.csv"
SPD = FIXTURES / "spd_交易明细.xls"
INCOME = FIXTURES / "income_expense_收入支出.csv"


def table(sample: Path) -> tuple[list[list[str]], int, dict[str, int]]:
    """Every non-blank row of `sample` as cells, the header's index and its column roles."""
    rows = [cells for _, cells in iter_rows(sample)]
    header = next(i for i, cells in enumerate(rows) if is_statement_header(cells))
    return rows, header, find_roles(rows[header])


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def signed_total(result) -> Decimal:
    return sum(
        (r["amount"] if r["direction"] == "CREDIT" else -r["amount"] for r in result.rows),
        Decimal("0.00"),
    )


def test_bocom_direction_column_is_honoured():
    r = inspect_file(BOCOM)
    assert (r.format, r.rows_in, r.rows_ok) == ("cn_bank", 6, 6)
    # the misread: all six as money in gave +125.25; as written it is -102.75
    assert signed_total(r) == Decimal("-102.75")
    assert [x["direction"] for x in r.rows] == [
        "CREDIT",
        "DEBIT",
        "CREDIT",
        "DEBIT",
        "DEBIT",
        "DEBIT",
    ]
    assert all(c.ok for c in r.checks)


@pytest.mark.parametrize("value", ["1", "X", "入账?"])
def test_bocom_unrecognised_direction_rejects_that_row_naming_the_value(tmp_path, value):
    rows, header, roles = table(BOCOM)
    rows[header + 2][roles["indicator"]] = value
    r = inspect_file(write_csv(tmp_path / "bocom.csv", rows))
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (6, 5, 1)
    (rej,) = r.rejects
    assert rej["line_no"] == header + 3
    assert "借贷: expected 借/贷" in rej["reason"] and repr(value) in rej["reason"]


def test_bocom_empty_direction_is_rejected_not_defaulted(tmp_path):
    rows, header, roles = table(BOCOM)
    rows[header + 1][roles["indicator"]] = ""
    r = inspect_file(write_csv(tmp_path / "bocom.csv", rows))
    assert r.rows_rejected == 1 and "借贷: required" in r.rejects[0]["reason"]


def test_bocom_negative_amount_contradicting_the_direction_is_rejected(tmp_path):
    rows, header, roles = table(BOCOM)
    rows[header + 1][roles["signed"]] = "-5.00"  # the row says 贷 Cr
    r = inspect_file(write_csv(tmp_path / "bocom.csv", rows))
    assert r.rows_rejected == 1 and "contradict" in r.rejects[0]["reason"]


def test_bocom_without_its_direction_column_is_refused_not_misread(tmp_path):
    rows, header, roles = table(BOCOM)
    drop = roles["indicator"]
    rows = [[c for i, c in enumerate(cells) if i != drop] for cells in rows]
    path = write_csv(tmp_path / "bocom_no_direction.csv", rows)
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    message = str(exc.value)
    assert "bocom_no_direction.csv, line 6" in message  # the first row the balance contradicts
    assert "no negative amount" in message and "direction column" in message
    with pytest.raises(InputFileError):
        inspect_file(path, source=BANK)


@pytest.mark.parametrize("sample", [ABC, BOC], ids=lambda p: p.name)
def test_signed_layout_with_signs_stripped_is_refused(tmp_path, sample):
    rows, header, roles = table(sample)
    col = roles["signed"]
    for cells in rows[header + 1 :]:
        if len(cells) > col:
            cells[col] = cells[col].replace("-", "").replace("+", "")
    with pytest.raises(InputFileError, match="no negative amount"):
        inspect_file(write_csv(tmp_path / "unsigned.csv", rows))


@pytest.mark.parametrize("sample", [ABC, BOC], ids=lambda p: p.name)
def test_signed_layout_with_a_garbage_amount_rejects_the_row(tmp_path, sample):
    rows, header, roles = table(sample)
    rows[header + 1][roles["signed"]] = "借 12.00"
    r = inspect_file(write_csv(tmp_path / "garbage.csv", rows))
    assert r.rows_rejected == 1 and r.rows_ok == r.rows_in - 1
    assert "借 12.00" in r.rejects[0]["reason"]


@pytest.mark.parametrize("sample", [SPD, INCOME], ids=lambda p: p.name)
def test_pair_layout_without_its_money_out_column_is_refused(tmp_path, sample):
    rows, header, roles = table(sample)
    drop = roles["debit"]
    rows = [[c for i, c in enumerate(cells) if i != drop] for cells in rows]
    with pytest.raises(UnrecognizedFormat, match="no amount columns"):
        inspect_file(write_csv(tmp_path / "half.csv", rows))


@pytest.mark.parametrize("sample", [SPD, INCOME], ids=lambda p: p.name)
def test_pair_layout_with_both_amounts_on_a_row_rejects_it(tmp_path, sample):
    rows, header, roles = table(sample)
    row = rows[header + 1]
    row[roles["debit"]] = row[roles["debit"]] or "1.00"
    row[roles["credit"]] = row[roles["credit"]] or "1.00"
    r = inspect_file(write_csv(tmp_path / "both.csv", rows))
    assert r.rows_rejected == 1 and "found both" in r.rejects[0]["reason"]


def test_indicator_beside_a_debit_credit_pair_must_agree(tmp_path):
    lines = [
        "交易日期,借贷标志,借方金额,贷方金额,余额,摘要",
        "2026-11-01,贷,,100.00,100.00,a",
        "2026-11-01,贷,30.00,,70.00,b",  # 贷 but the amount is in 借方金额
        "2026-11-01,借,20.00,,50.00,c",
    ]
    r = inspect_file(write_csv(tmp_path / "pair.csv", [x.split(",") for x in lines]))
    assert (r.rows_ok, r.rows_rejected) == (2, 1)
    assert r.rejects[0]["line_no"] == 3 and "contradicts" in r.rejects[0]["reason"]


def test_all_money_in_signed_file_with_a_consistent_balance_is_read(tmp_path):
    lines = [
        "交易日期,交易金额,余额,摘要",
        "2026-11-01,100.00,100.00,a",
        "2026-11-01,20.00,120.00,b",
    ]
    r = inspect_file(write_csv(tmp_path / "credits.csv", [x.split(",") for x in lines]))
    assert r.rows_ok == 2 and all(x["direction"] == "CREDIT" for x in r.rows)


def test_single_unsigned_row_without_direction_cannot_be_shown_signed(tmp_path):
    lines = ["交易日期,交易金额,余额,摘要", "2026-11-01,100.00,100.00,a"]
    with pytest.raises(InputFileError, match="too few 余额 values"):
        inspect_file(write_csv(tmp_path / "one.csv", [x.split(",") for x in lines]))
