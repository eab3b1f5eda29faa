"""Withholding channel file (fen, pipe-delimited, trailer): every kind of bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from transforms.config import Source
from transforms.errors import InputFileError
from transforms.inspect import inspect_file

SAMPLE = Path(__file__).parent.parent / "fixtures" / "withholding" / "allinpay_2024-03-05.txt"
HEADER, *ROWS, TRAILER = SAMPLE.read_text(encoding="utf-8").splitlines()  # ROWS[i]: line i + 2
AMOUNTS = {
    "TL240305000000000004": Decimal("523.17"),
    "TL240305000000000012": Decimal("1500.00"),
    "TL240305000000000014": Decimal("0.09"),
    "TL240305000000000015": Decimal("1500.00"),
}


def lines_of(*lines: str, sep: str = "\n") -> str:
    return sep.join(lines) + sep


def run(tmp_path: Path, content: str | bytes, name: str = "allinpay_20240305.txt", source=None):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    result = inspect_file(path, source=source)
    assert result.format == "withholding"
    assert result.rows_in == result.rows_ok + result.rows_rejected
    return result


def checks(result) -> dict[str, tuple]:
    return {c.name: (c.stated, c.computed, c.ok) for c in result.checks}


def rejects(result) -> dict[int, dict]:
    return {r["line_no"]: r for r in result.rejects}


def assert_amounts_exact(result):
    for row in result.rows:
        assert row["amount"] == AMOUNTS[row["channel_txn_id"]]


def test_sample(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS, TRAILER))
    assert (result.rows_in, result.rows_ok) == (4, 4)
    assert all(c.ok for c in result.checks) and len(result.checks) == 3
    refund = result.rows[3]
    assert (refund["txn_type"], refund["fee"]) == ("REFUND", Decimal("-4.50"))
    assert refund["orig_channel_txn_id"] == "TL240305000000000012"
    assert_amounts_exact(result)


def test_gbk_file_reads_like_utf8(tmp_path):
    gbk = run(tmp_path, lines_of(HEADER, *ROWS, TRAILER).encode("gbk"), "a.txt")
    utf8 = run(tmp_path, lines_of(HEADER, *ROWS, TRAILER), "b.txt")
    strip = lambda rows: [{**r, "file_name": ""} for r in rows]  # noqa: E731
    assert strip(gbk.rows) == strip(utf8.rows)


def test_truncated_mid_line(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS).rstrip("\n")[:-25])
    bad = rejects(result)
    assert list(bad) == [5]
    assert bad[5]["reason"] == "expected 13 fields, found 11"
    assert result.rows_ok == 3
    assert_amounts_exact(result)
    (check,) = result.checks
    assert check.stated is None and check.computed == 3 and not check.ok
    assert "truncated" in check.name


def test_truncated_before_the_trailer(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS))
    assert (result.rows_ok, result.rows_rejected) == (4, 0)
    (check,) = result.checks
    assert "TRAILER" in check.name and not check.ok


def test_no_trailer_expected_when_the_source_says_so(tmp_path):
    source = Source(
        "allinpay",
        "channel",
        "withholding",
        "*.txt",
        channel="ALLINPAY",
        options={"trailer": False},
    )
    result = run(tmp_path, lines_of(HEADER, *ROWS), source=source)
    assert result.checks == [] and result.rows_ok == 4
    assert {r["channel"] for r in result.rows} == {"ALLINPAY"}


def test_truncated_inside_the_trailer(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS, TRAILER[:-5]))
    c = checks(result)
    assert c["record count (trailer)"] == (4, 4, True)
    assert c["交易金额 total (trailer)"] == (Decimal("352.32"), Decimal("3523.26"), False)


def test_header_only(tmp_path):
    result = run(tmp_path, lines_of(HEADER))
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (0, 0, 0)
    (check,) = result.checks
    assert check.computed == 0 and not check.ok


def test_header_and_zero_trailer(tmp_path):
    result = run(tmp_path, lines_of(HEADER, "TRAILER|0|0|0"))
    assert result.rows_in == 0 and all(c.ok for c in result.checks)


def test_gbk_line_in_a_utf8_file_names_the_line(tmp_path):
    content = (
        lines_of(HEADER, ROWS[0]).encode("utf-8")
        + lines_of(ROWS[1]).encode("gbk")  # 代扣 in GBK
        + lines_of(*ROWS[2:], TRAILER).encode("utf-8")
    )
    path = tmp_path / "allinpay_20240305.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    assert err.value.line == 3
    assert f"{path}, line 3" in str(err.value)
    assert "not valid utf-8" in str(err.value)


def test_garbage_amount(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0].replace("|52317|", "|523.17|")
    rows[2] = rows[2].replace("|0|621700", "|n/a|621700")
    result = run(tmp_path, lines_of(HEADER, *rows, TRAILER))
    bad = rejects(result)
    assert sorted(bad) == [2, 4]
    assert "交易金额(分): expected whole fen like 12345, found '523.17'" in bad[2]["reason"]
    assert "渠道手续费(分): expected whole fen like 37, found 'n/a'" in bad[4]["reason"]
    assert bad[2]["raw"] == rows[0]
    assert result.rows_ok == 2
    assert_amounts_exact(result)
    assert checks(result)["record count (trailer)"] == (4, 2, False)


def test_missing_column(tmp_path):
    header = HEADER.replace("|交易时间", "")
    rows = ["|".join(v for i, v in enumerate(r.split("|")) if i != 4) for r in ROWS]
    path = tmp_path / "allinpay_20240305.txt"
    path.write_text(lines_of(header, *rows, TRAILER), encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    message = str(err.value)
    assert err.value.line == 1
    assert "missing ['交易时间']" in message
    assert "expected a withholding header with the columns" in message
    assert "found ['通联订单号', '订单类型', '交易金额(分)'" in message


def test_too_many_and_too_few_fields(tmp_path):
    rows = list(ROWS)
    rows[1] = rows[1] + "|"
    rows[2] = rows[2].rsplit("|", 1)[0]
    result = run(tmp_path, lines_of(HEADER, *rows, TRAILER))
    bad = rejects(result)
    assert bad[3]["reason"] == "expected 13 fields, found 14"
    assert bad[4]["reason"] == "expected 13 fields, found 12"
    assert [r["line_no"] for r in result.rows] == [2, 5]


def test_duplicate_header_in_the_middle(tmp_path):
    result = run(tmp_path, lines_of(HEADER, *ROWS[:2], HEADER, *ROWS[2:], TRAILER))
    bad = rejects(result)
    assert list(bad) == [4]
    assert "repeated header line" in bad[4]["reason"]
    assert [r["line_no"] for r in result.rows] == [2, 3, 5, 6]
    assert all(c.ok for c in result.checks)


def test_crlf_and_bom(tmp_path):
    content = "\ufeff" + lines_of(HEADER, *ROWS, TRAILER, sep="\r\n")
    result = run(tmp_path, content, "a.txt")
    plain = run(tmp_path, lines_of(HEADER, *ROWS, TRAILER), "b.txt")
    strip = lambda rows: [{**r, "file_name": ""} for r in rows]  # noqa: E731
    assert strip(result.rows) == strip(plain.rows)
    assert all(c.ok for c in result.checks) and result.rows_rejected == 0


def test_blank_lines(tmp_path):
    result = run(tmp_path, lines_of(HEADER, "", *ROWS[:2], "  ", "", *ROWS[2:], "", TRAILER, ""))
    assert [r["line_no"] for r in result.rows] == [3, 4, 7, 8]
    assert all(c.ok for c in result.checks)


def test_comma_delimited_variant(tmp_path):
    content = lines_of(*(x.replace("|", ",") for x in (HEADER, *ROWS, TRAILER)))
    result = run(tmp_path, content, "allinpay.csv")
    assert result.rows_ok == 4 and all(c.ok for c in result.checks)
    assert_amounts_exact(result)


def test_unknown_order_type_and_bad_time(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0].replace("|代扣|", "|冲正|")
    rows[1] = rows[1].replace("20240305101530", "20240305251530")
    result = run(tmp_path, lines_of(HEADER, *rows, TRAILER))
    bad = rejects(result)
    assert (
        "订单类型: expected one of 代扣/消费/PAY/支付/退货/退款/REFUND, found 冲正"
        in bad[2]["reason"]
    )
    assert "交易时间: expected yyyyMMddHHmmss, found '20240305251530'" in bad[3]["reason"]
