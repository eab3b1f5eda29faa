"""Platform export: every kind of bad input is a clear reject or a clear file error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from transforms.errors import InputFileError
from transforms.inspect import default_source, inspect_file
from transforms.sources.platform import PlatformExport

SAMPLE = (
    Path(__file__).parent.parent / "fixtures" / "platform_export" / "platform_orders_2024-03-05.csv"
)
TEXT = SAMPLE.read_text(encoding="utf-8")
HEADER, *ROWS = TEXT.splitlines()  # ROWS[i] is physical line i + 2
AMOUNTS = {
    "RP2024030500000001": Decimal("1290.45"),
    "RP2024030500000003": Decimal("523.17"),
    "RF2024030500000005": Decimal("1290.45"),
    "RP2024030500000007": Decimal("2105.00"),
    "RP2024030500000008": Decimal("88.80"),
    "RP2024030500000009": Decimal("30001.99"),
}


def run(tmp_path: Path, content: str | bytes, name: str = "platform_orders.csv"):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    result = inspect_file(path)
    assert result.format == "platform_export"
    assert result.rows_in == result.rows_ok + result.rows_rejected
    return result


def lines_of(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def by_line(result) -> dict[int, dict]:
    return {r["line_no"]: r for r in result.rows}


def rejects(result) -> dict[int, dict]:
    return {r["line_no"]: r for r in result.rejects}


def assert_amounts_exact(result):
    for row in result.rows:
        assert row["amount"] == AMOUNTS[row["order_no"]]
        assert isinstance(row["amount"], Decimal)


def test_sample_rows_and_line_numbers(tmp_path):
    result = run(tmp_path, TEXT)
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (6, 6, 0)
    assert [r["line_no"] for r in result.rows] == [2, 3, 4, 5, 6, 7]
    assert_amounts_exact(result)
    refund = by_line(result)[4]
    assert (refund["order_type"], refund["orig_order_no"]) == ("REFUND", "RP2024030500000001")
    failed = by_line(result)[5]
    assert failed["status"] == "FAILED"
    assert failed["paid_at"] is None and failed["channel_txn_id"] is None
    assert str(failed["biz_date"]) == "2024-03-05"


def test_truncated_mid_line_rejects_only_the_cut_line(tmp_path):
    cut = TEXT.rstrip("\n")[:-40]  # the last line stops inside its created_at field
    result = run(tmp_path, cut)
    assert result.rows_ok == 5
    (bad,) = result.rejects
    assert bad["line_no"] == 7
    assert "expected 18 fields, found 16" in bad["reason"]
    assert bad["raw"] == ROWS[5][:-40]
    assert_amounts_exact(result)


def test_truncated_inside_a_field_value_is_a_reject(tmp_path):
    cut = TEXT.rstrip("\n")[:-3]  # paid_at loses its seconds: all 18 fields still there
    result = run(tmp_path, cut)
    (bad,) = result.rejects
    assert bad["line_no"] == 7
    assert (
        "paid_at: expected a local time YYYY-MM-DD HH:MM:SS, found '2024-03-05 08:00'"
        in (bad["reason"])
    )


def test_header_only_fails_a_control_check(tmp_path):
    # the export states no count: a header and nothing else is most likely one cut short
    result = run(tmp_path, HEADER + "\n")
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (0, 0, 0)
    (check,) = result.checks
    assert not check.ok and "none after the header" in check.name


def test_gbk_bytes_in_a_utf8_file_name_the_file_and_line(tmp_path):
    bad_row = ROWS[1].replace("B000456", "张三").encode("gbk")
    content = (
        lines_of(HEADER, ROWS[0]).encode("utf-8")
        + bad_row
        + b"\n"
        + lines_of(*ROWS[2:]).encode("utf-8")
    )
    path = tmp_path / "platform_orders.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    assert err.value.line == 3
    message = str(err.value)
    assert str(path) in message and "line 3" in message
    assert "not valid utf-8" in message and "GBK" in message


def test_garbage_amount_is_rejected_naming_column_and_line(tmp_path):
    rows = list(ROWS)
    rows[2] = rows[2].replace(",1290.45,1290.45,", ",12x0.45,1290.45,")  # line 4: amount
    rows[4] = rows[4].replace(",5.80,", ",5,80,")  # line 6: shifts every later field
    result = run(tmp_path, lines_of(HEADER, *rows))
    bad = rejects(result)
    assert sorted(bad) == [4, 6]
    assert "amount: expected yuan like 1234.56, found '12x0.45'" in bad[4]["reason"]
    assert bad[4]["raw"] == rows[2]
    assert "expected 18 fields, found 19" in bad[6]["reason"]
    assert result.rows_ok == 4
    assert [r["line_no"] for r in result.rows] == [2, 3, 5, 7]
    assert_amounts_exact(result)


def test_more_than_two_decimals_or_overflow_are_rejected_not_rounded(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0].replace(",60.45,", ",60.455,")
    rows[1] = rows[1].replace(",22.17,", ",99999999999999999999.00,")
    result = run(tmp_path, lines_of(HEADER, *rows))
    bad = rejects(result)
    assert "interest: expected yuan like 1234.56, found '60.455'" in bad[2]["reason"]
    assert "interest: expected yuan like 1234.56" in bad[3]["reason"]
    assert result.rows_ok == 4


def test_missing_column_lists_expected_and_found(tmp_path):
    header = HEADER.replace(",installment_due", "")
    rows = [r.rsplit(",", 4)[0] for r in ROWS]
    path = tmp_path / "platform_orders.csv"
    path.write_text(lines_of(header, *rows), encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    message = str(err.value)
    assert err.value.line == 1
    assert "missing ['installment_due']" in message
    assert "order_no,order_type,orig_order_no" in message  # what was expected
    assert "found ['order_no', 'order_type'" in message  # what was found


def test_columns_are_mapped_by_name(tmp_path):
    names = HEADER.split(",")
    order = list(reversed(range(len(names))))
    header = ",".join(names[i] for i in order) + ",extra"
    rows = [",".join(r.split(",")[i] for i in order) + ",x" for r in ROWS]
    result = run(tmp_path, lines_of(header, *rows))
    assert result.rows_ok == 6
    assert_amounts_exact(result)
    assert by_line(result)[4]["orig_order_no"] == "RP2024030500000001"


def test_too_many_and_too_few_fields(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0] + ",surplus"
    rows[3] = rows[3].rsplit(",", 2)[0]
    result = run(tmp_path, lines_of(HEADER, *rows))
    bad = rejects(result)
    assert bad[2]["reason"] == "expected 18 fields, found 19"
    assert bad[5]["reason"] == "expected 18 fields, found 16"
    assert [r["line_no"] for r in result.rows] == [3, 4, 6, 7]


def test_duplicate_header_in_the_middle(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS[:3], HEADER, *ROWS[3:]))
    bad = rejects(result)
    assert list(bad) == [5]
    assert "repeated header line" in bad[5]["reason"]
    assert [r["line_no"] for r in result.rows] == [2, 3, 4, 6, 7, 8]


def test_crlf_and_bom(tmp_path):
    content = "\ufeff" + "\r\n".join([HEADER, *ROWS]) + "\r\n"
    result = run(tmp_path, content)
    plain = run(tmp_path, TEXT, name="plain.csv")
    assert [{**r, "file_name": ""} for r in result.rows] == [
        {**r, "file_name": ""} for r in plain.rows
    ]
    assert result.rows_rejected == 0


def test_blank_lines_are_not_rows_and_keep_line_numbers(tmp_path):
    content = lines_of(HEADER, "", ROWS[0], "   ", "", ROWS[1], *ROWS[2:], "", "")
    result = run(tmp_path, content)
    assert (result.rows_in, result.rows_ok) == (6, 6)
    assert [r["line_no"] for r in result.rows] == [3, 6, 7, 8, 9, 10]


def test_unbalanced_quote_does_not_swallow_the_next_lines(tmp_path):
    rows = list(ROWS)
    rows[1] = rows[1].replace("B000456", '"B000456')
    rows[2] = rows[2].replace("LENDER_A", '"LENDER,A"')  # quoted field with a comma: fine
    result = run(tmp_path, lines_of(HEADER, *rows))
    bad = rejects(result)
    assert list(bad) == [3]
    assert "malformed quoting" in bad[3]["reason"]
    assert by_line(result)[4]["lender_code"] == "LENDER,A"
    assert [r["line_no"] for r in result.rows] == [2, 4, 5, 6, 7]


def test_bad_values_name_their_column(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0].replace(",REPAY,", ",PAYBACK,")
    rows[1] = rows[1].replace(",SUCCESS,", ",DONE,")
    rows[2] = rows[2].replace("2024-03-05 09:22:08", "2024-13-05 09:22:08")
    rows[3] = rows[3].replace(",2105.00,", ",2106.00,")
    rows[4] = rows[4].replace(",2,B000790", ",two,B000790")
    result = run(tmp_path, lines_of(HEADER, *rows))
    bad = rejects(result)
    assert "order_type: expected REPAY or REFUND, found PAYBACK" in bad[2]["reason"]
    assert "status: expected SUCCESS, FAILED or PROCESSING, found DONE" in bad[3]["reason"]
    assert "created_at: expected a local time" in bad[4]["reason"]
    assert "amount: expected principal + interest + fee + penalty = 2105.00" in bad[5]["reason"]
    assert "installment_no: expected a whole number, found 'two'" in bad[6]["reason"]
    assert result.rows_ok == 1


def test_empty_file_is_a_file_error(tmp_path):
    path = tmp_path / "platform_orders.csv"
    path.write_bytes(b"")
    fmt = PlatformExport()
    with pytest.raises(InputFileError, match="found an empty line"):
        inspect_file(path, source=default_source(fmt, path))
