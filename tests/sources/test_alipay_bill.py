"""Alipay merchant bill 业务明细: plain and zipped, and every kind of bad input."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from transforms import zipfiles
from transforms.config import Source
from transforms.errors import InputFileError, UnrecognizedFormat
from transforms.inspect import inspect_file
from transforms.sources.alipay_bill import AlipayBill
from transforms.zipfiles import write_gbk_zip

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alipay_bill"
SAMPLE = FIXTURES / "alipay_20261101_业务明细.csv"
ZIPPED = FIXTURES / "alipay_20261101_业务明细.csv.zip"
REFUSED = Path(__file__).resolve().parents[1] / "refused"
TEXT = SAMPLE.read_bytes().decode("gbk")
LINES = TEXT.split("\r\n")[:-1]
PREAMBLE, HEADER, ROWS, END, PAY_TOTAL, REFUND_TOTAL, EXPORTED = (
    LINES[:4],
    LINES[4],
    LINES[5:11],  # ROWS[i] is line i + 6
    LINES[11],
    LINES[12],
    LINES[13],
    LINES[14],
)
FORCED = Source(name="alipay", role="channel", format="alipay_bill", glob="*", channel="ALIPAY")


def gbk_zip(path: Path, entries: dict[str, bytes]) -> Path:
    return write_gbk_zip(path, entries)


def bill(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def run(tmp_path: Path, content: bytes, name: str = "alipay_20261101_业务明细.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    result = inspect_file(path)
    assert result.format == "alipay_bill"
    assert result.rows_in == result.rows_ok + result.rows_rejected
    return result


def checks(result) -> dict[str, tuple]:
    return {c.name: (c.stated, c.computed, c.ok) for c in result.checks}


def test_sample_rows_and_checks():
    result = inspect_file(SAMPLE)
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (6, 6, 0)
    assert all(c.ok for c in result.checks) and len(result.checks) == 6
    refund = result.rows[3]
    assert refund["txn_type"] == "REFUND" and refund["amount"] == Decimal("200.00")
    assert refund["channel_txn_id"] == "2026110122001412340000000102_RF20261101000102"
    assert refund["merchant_order_no"] == "RF20261101000102"
    assert refund["orig_merchant_order_no"] == "R20261101000102"
    assert refund["fee"] == Decimal("-1.20") and result.rows[0]["fee"] == Decimal("6.20")


def test_zipped_sample_reads_like_the_csv():
    plain, zipped = inspect_file(SAMPLE), inspect_file(ZIPPED)
    assert zipped.format == "alipay_bill"
    assert zipped.rows == [{**r, "file_name": ZIPPED.name} for r in plain.rows]
    assert [c.ok for c in zipped.checks] == [c.ok for c in plain.checks]


def test_zip_entry_names_are_gbk_without_the_utf8_flag():
    with zipfile.ZipFile(ZIPPED) as zf:
        infos = zf.infolist()
    assert all(not i.flag_bits & 0x800 for i in infos)
    names = [zipfiles.real_name(i) for i in infos]
    assert names == [
        "20880123456789010156_20261101_业务明细.csv",
        "20880123456789010156_20261101_业务明细(汇总).csv",
    ]


def test_footer_totals_that_disagree(tmp_path):
    wrong = PAY_TOTAL.replace("4笔", "5笔").replace("1879.93", "1879.94")
    result = run(tmp_path, bill(*PREAMBLE, HEADER, *ROWS, END, wrong, REFUND_TOTAL, EXPORTED))
    c = checks(result)
    assert c["交易合计 count"] == (5, 4, False)
    assert c["交易合计 商家实收"] == (Decimal("1879.94"), Decimal("1879.93"), False)
    assert c["退款合计 count"] == (2, 2, True)


def test_garbage_amount_is_rejected_with_its_line(tmp_path):
    bad = ROWS[1].replace(",500.00,500.00,", ",5OO.00,500.00,")
    rows = [ROWS[0], bad, *ROWS[2:]]
    result = run(tmp_path, bill(*PREAMBLE, HEADER, *rows, END, PAY_TOTAL, REFUND_TOTAL))
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (6, 5, 1)
    (reject,) = result.rejects
    assert reject["line_no"] == 7
    assert "订单金额（元）" in reject["reason"] and "5OO.00" in reject["reason"]
    assert "R20261101000102" in reject["raw"]
    c = checks(result)
    assert c["交易合计 count"] == (4, 3, False)  # the footer still counts the rejected row


def test_header_only(tmp_path):
    pay = "#交易合计：0笔，商家实收共0.00元，商家优惠共0.00元，支付宝优惠共0.00元，服务费共0.00元，分润共0.00元"
    refund = "#退款合计：0笔，商家实收共0.00元，商家优惠共0.00元，支付宝优惠共0.00元，服务费共0.00元，分润共0.00元"
    result = run(tmp_path, bill(*PREAMBLE, HEADER, END, pay, refund, EXPORTED))
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (0, 0, 0)
    assert result.checks and all(c.ok for c in result.checks)


def test_truncated_without_footer_keeps_rows_and_fails_the_checks(tmp_path):
    result = run(tmp_path, bill(*PREAMBLE, HEADER, *ROWS[:4]))
    assert (result.rows_in, result.rows_ok) == (4, 4)
    assert result.checks and all(c.stated is None and not c.ok for c in result.checks)
    assert any("truncated" in c.name for c in result.checks)


def test_truncated_inside_a_row(tmp_path):
    content = bill(*PREAMBLE, HEADER, *ROWS[:3])[:-40]
    result = run(tmp_path, content)
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (3, 2, 1)
    assert result.rejects[0]["line_no"] == 8 and "expected 25 fields" in result.rejects[0]["reason"]


def test_utf8_copy_reads_the_same(tmp_path):
    result = run(tmp_path, SAMPLE.read_bytes().decode("gbk").encode("utf-8"))
    assert result.rows == [{**r} for r in inspect_file(SAMPLE).rows]
    assert all(c.ok for c in result.checks)


def test_gbk_file_with_a_utf8_line_names_the_line_inside_the_zip(tmp_path):
    content = bill(*PREAMBLE, HEADER, ROWS[0]) + ROWS[1].encode("utf-8") + b"\r\n"
    path = gbk_zip(tmp_path / "bill.csv.zip", {"2088_20261101_业务明细.csv": content})
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    assert (
        exc.value.line == 7
        and "业务明细.csv" in str(exc.value)
        and "bill.csv.zip" in str(exc.value)
    )


def test_zip_with_two_csv_entries(tmp_path):
    path = gbk_zip(
        tmp_path / "bill.zip",
        {"2088_20261101_业务明细.csv": SAMPLE.read_bytes(), "2088_20261102_业务明细.csv": b""},
    )
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    message = str(exc.value)
    assert "bill.zip" in message and "2 .csv entries" in message
    assert "2088_20261101_业务明细.csv" in message and "2088_20261102_业务明细.csv" in message


def test_zip_without_a_csv(tmp_path):
    path = gbk_zip(tmp_path / "bill.zip", {"说明.txt": b"nothing"})
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path)
    assert "说明.txt" in dict(exc.value.reasons)["alipay_bill"]
    with pytest.raises(InputFileError) as exc2:
        inspect_file(path, source=FORCED)
    assert "no .csv entry" in str(exc2.value) and "说明.txt" in str(exc2.value)


def test_not_a_zip_at_all(tmp_path):
    path = tmp_path / "bill.zip"
    path.write_bytes(b"PK\x03\x04 broken")
    assert not AlipayBill().identify(path, path.read_bytes())
    with pytest.raises(InputFileError):
        inspect_file(path, source=FORCED)


def test_row_level_rejects(tmp_path):
    no_refund_no = ROWS[3].replace("RF20261101000102\t", "")
    unknown_kind = ROWS[0].replace(",交易,", ",转账,")
    no_done_time = ROWS[1].replace("2026-11-01 09:30:02", "")
    result = run(
        tmp_path,
        bill(*PREAMBLE, HEADER, unknown_kind, no_done_time, no_refund_no, END, ROWS[2]),
    )
    reasons = {r["line_no"]: r["reason"] for r in result.rejects}
    assert "业务类型: expected 交易 or 退款, found 转账" in reasons[6]
    assert "退款批次号/请求号: required on a 退款 row" in reasons[8]
    assert "after the #-----业务明细列表结束----- line" in reasons[10]
    (row,) = result.rows
    assert row["line_no"] == 7 and row["txn_time"].isoformat() == "2026-11-01T01:30:00+00:00"


def test_half_width_parens_and_repeated_header(tmp_path):
    header = HEADER.replace("（", "(").replace("）", ")")
    result = run(tmp_path, bill(*PREAMBLE, header, ROWS[0], HEADER, ROWS[1]))
    assert result.rows_ok == 2
    assert [r["line_no"] for r in result.rejects] == [7]


def test_header_missing_a_column(tmp_path):
    path = tmp_path / "alipay.csv"
    path.write_bytes(bill(*PREAMBLE, HEADER.replace("商家实收（元）", "实收"), ROWS[0]))
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    assert exc.value.line == 5 and "商家实收（元）" in str(exc.value)


@pytest.mark.parametrize("name", ["alipay_personal_export_gbk.csv", "wechat_personal_export.csv"])
def test_refuses_personal_exports(name):
    path = REFUSED / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    verdict = AlipayBill().identify(path, path.read_bytes()[:16384])
    assert not verdict and verdict.reason


def test_name_is_csv_zip_or_says_nothing(tmp_path):
    for name in ("alipay.txt", "alipay.dat", "alipay_20261101"):  # judged by content
        path = tmp_path / name
        path.write_bytes(SAMPLE.read_bytes())
        assert AlipayBill().identify(path, path.read_bytes())
        assert inspect_file(path).rows_ok == 6
    path = tmp_path / "alipay.pdf"
    path.write_bytes(SAMPLE.read_bytes())
    assert not AlipayBill().identify(path, path.read_bytes())
    headerless = tmp_path / "no_preamble.csv"
    headerless.write_bytes(bill(HEADER, ROWS[0]))
    assert AlipayBill().identify(headerless, headerless.read_bytes())


def test_refund_footer_as_real_bills_write_it(tmp_path):
    """Real bills: `#退款合计：N笔，商家实收退款共-X元，...，服务费退款共F元`; read, not a false difference."""
    real = REFUND_TOTAL.replace("商家实收共", "商家实收退款共").replace("服务费共", "服务费退款共")
    assert "商家实收退款共" in real and real != REFUND_TOTAL
    c = checks(run(tmp_path, bill(*PREAMBLE, HEADER, *ROWS, END, PAY_TOTAL, real, EXPORTED)))
    assert c["退款合计 商家实收"][2] and c["退款合计 服务费"][2]
    assert c["退款合计 商家实收"] == checks(run(tmp_path, bill(*LINES)))["退款合计 商家实收"]
    wrong = real.replace("商家实收退款共-", "商家实收退款共-1")
    assert not checks(run(tmp_path, bill(*PREAMBLE, HEADER, *ROWS, END, PAY_TOTAL, wrong)))[
        "退款合计 商家实收"
    ][2]
