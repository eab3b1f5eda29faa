"""WeChat Pay trade bill: legacy and current layouts, and every kind of bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from transforms.errors import InputFileError
from transforms.inspect import default_source, inspect_file
from transforms.sources.wechatpay import WeChatPayBill

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wechatpay_bill"
LEGACY = (FIXTURES / "legacy_tradebill_ALL.csv").read_text(encoding="utf-8-sig")
HEADER, *ROWS, SUMMARY_HEADER, SUMMARY = LEGACY.splitlines()  # ROWS[i] is line i + 2
AMOUNTS = {  # channel_txn_id -> amount
    "420002024030500000000000000002": Decimal("1290.45"),
    "420002024030500000000000000012": Decimal("88.80"),
    "50300000000000000000000006": Decimal("1290.45"),
    "420002024030500000000000000014": Decimal("0.01"),
    "420002024030500000000000000016": Decimal("523.00"),
}


def bill(*lines: str, crlf: bool = False) -> str:
    sep = "\r\n" if crlf else "\n"
    return sep.join(lines) + sep


def run(tmp_path: Path, content: str | bytes, name: str = "wechat_20240305.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    result = inspect_file(path)
    assert result.format == "wechatpay_bill"
    assert result.rows_in == result.rows_ok + result.rows_rejected
    return result


def checks(result) -> dict[str, tuple]:
    return {c.name: (c.stated, c.computed, c.ok) for c in result.checks}


def rejects(result) -> dict[int, dict]:
    return {r["line_no"]: r for r in result.rejects}


def assert_amounts_exact(result):
    for row in result.rows:
        assert row["amount"] == AMOUNTS[row["channel_txn_id"]]


def test_legacy_layout(tmp_path):
    result = run(tmp_path, bill(HEADER, *ROWS, SUMMARY_HEADER, SUMMARY))
    assert (result.rows_in, result.rows_ok) == (5, 5)
    assert all(c.ok for c in result.checks)
    assert set(checks(result)) == {
        "row count (总交易单数)",
        "总交易额",
        "总退款金额",
        "手续费总金额",
    }
    assert checks(result)["手续费总金额"][:2] == (Decimal("3.67086"), Decimal("3.67086"))
    refund = next(r for r in result.rows if r["txn_type"] == "REFUND")
    assert refund["orig_merchant_order_no"] == "RP2024030500000001"
    assert refund["fee"] == Decimal("-7.74")
    assert_amounts_exact(result)


def test_current_layout_maps_columns_by_name(tmp_path):
    from transforms.generate import WECHAT_HEADER, WECHAT_SUMMARY

    values = dict.fromkeys(WECHAT_HEADER, "")
    values.update(
        {
            "交易时间": "2024-03-05 09:12:08",
            "微信订单号": "420002024030500000000000000002",
            "商户订单号": "RP2024030500000001",
            "交易状态": "SUCCESS",
            "应结订单金额": "1290.45",
            "手续费": "7.74270",
            "订单金额": "1290.45",
        }
    )
    header = list(WECHAT_HEADER)  # columns moved: 交易时间 stays first
    header.insert(3, header.pop(header.index("手续费")))
    header.append(header.pop(header.index("应结订单金额")))
    row = ",".join("`" + values[h] for h in header)
    summary = "`1,`1290.45,`0.00,`0.00,`7.74270,`1290.45,`0.00"
    result = run(tmp_path, bill(",".join(header), row, WECHAT_SUMMARY, summary))
    assert result.rows_ok == 1
    assert all(c.ok for c in result.checks)
    assert result.rows[0]["amount"] == Decimal("1290.45")
    assert result.rows[0]["fee"] == Decimal("7.74")


def test_truncated_mid_line(tmp_path):
    content = bill(HEADER, *ROWS).encode("utf-8")
    cut = content[: content.rindex("贷款还款".encode()) + 4]  # stops inside 款 of the last row
    result = run(tmp_path, cut)
    bad = rejects(result)
    assert list(bad) == [6]
    assert "expected 24 fields, found 21" in bad[6]["reason"]
    assert result.rows_ok == 4
    assert_amounts_exact(result)
    (check,) = result.checks
    assert "none found" in check.name and not check.ok


def test_truncated_before_the_summary(tmp_path):
    result = run(tmp_path, bill(HEADER, *ROWS))
    assert (result.rows_ok, result.rows_rejected) == (5, 0)
    (check,) = result.checks
    assert check.stated is None and check.computed == 5 and not check.ok
    assert "truncated" in check.name


def test_truncated_inside_the_summary(tmp_path):
    result = run(tmp_path, bill(HEADER, *ROWS, SUMMARY_HEADER, SUMMARY[:10]))
    assert result.rows_ok == 5
    c = checks(result)
    assert c["row count (总交易单数)"] == (5, 5, True)
    assert c["总交易额"] == (Decimal("1902.2"), Decimal("1902.26"), False)
    assert c["总退款金额"][0] is None and not c["总退款金额"][2]


def test_header_only(tmp_path):
    result = run(tmp_path, bill(HEADER))
    assert (result.rows_in, result.rows_ok, result.rows_rejected) == (0, 0, 0)
    (check,) = result.checks
    assert check.stated is None and check.computed == 0 and not check.ok


def test_empty_day_with_summary(tmp_path):
    result = run(tmp_path, bill(HEADER, SUMMARY_HEADER, "`0,`0.00,`0.00,`0.00,`0.00000"))
    assert result.rows_in == 0
    assert all(c.ok for c in result.checks) and len(result.checks) == 4


def test_gbk_file_is_one_clear_error(tmp_path):
    path = tmp_path / "wechat_20240305.csv"
    path.write_bytes(bill(HEADER, *ROWS, SUMMARY_HEADER, SUMMARY).encode("gbk"))
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    assert err.value.line == 1
    assert str(path) in str(err.value) and "not valid utf-8" in str(err.value)
    assert "GBK" in str(err.value)


def test_gbk_line_in_a_utf8_bill_names_the_line(tmp_path):
    content = (
        bill(HEADER, ROWS[0]).encode("utf-8")
        + bill(ROWS[1]).encode("gbk")
        + bill(*ROWS[2:], SUMMARY_HEADER, SUMMARY).encode("utf-8")
    )
    path = tmp_path / "wechat_20240305.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    assert err.value.line == 3
    assert f"{path}, line 3" in str(err.value)


def test_garbage_amount(tmp_path):
    rows = list(ROWS)
    rows[1] = rows[1].replace("`88.80,", "`88.8O,")  # letter O
    rows[3] = rows[3].replace("`0.00006,", "`0.0000x6,")
    result = run(tmp_path, bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY))
    bad = rejects(result)
    assert sorted(bad) == [3, 5]
    assert "总金额: expected yuan like 12.34, found '88.8O'" in bad[3]["reason"]
    assert "手续费: expected yuan like 0.01234, found '0.0000x6'" in bad[5]["reason"]
    assert bad[3]["raw"] == rows[1]
    assert result.rows_ok == 3
    assert_amounts_exact(result)
    c = checks(result)
    assert c["row count (总交易单数)"] == (5, 3, False)
    assert c["总交易额"][1] == Decimal("1813.45")  # 1290.45 + 523.00: the readable payments


def test_missing_column(tmp_path):
    names = HEADER.split(",")
    drop = names.index("手续费")
    header = ",".join(n for i, n in enumerate(names) if i != drop)
    rows = [",".join(v for i, v in enumerate(r.split(",`")) if i != drop) for r in ROWS]
    path = tmp_path / "wechat_20240305.csv"
    path.write_text(bill(header, *rows, SUMMARY_HEADER, SUMMARY), encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        inspect_file(path)
    message = str(err.value)
    assert err.value.line == 1
    assert "missing ['手续费']" in message
    assert "expected a WeChat Pay bill header with" in message
    assert "found ['交易时间', '公众账号ID'" in message


def test_too_many_and_too_few_fields(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0] + ",`extra"
    rows[2] = rows[2].rsplit(",`", 3)[0]
    result = run(tmp_path, bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY))
    bad = rejects(result)
    assert bad[2]["reason"] == "expected 24 fields, found 25"
    assert bad[4]["reason"] == "expected 24 fields, found 21"
    assert [r["line_no"] for r in result.rows] == [3, 5, 6]


def test_trailing_empty_field_is_not_silently_dropped(tmp_path):
    rows = list(ROWS)
    rows[0] = rows[0] + ",`"
    result = run(tmp_path, bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY))
    assert rejects(result)[2]["reason"] == "expected 24 fields, found 25"


def test_duplicate_header_in_the_middle(tmp_path):
    result = run(tmp_path, bill(HEADER, *ROWS[:2], HEADER, *ROWS[2:], SUMMARY_HEADER, SUMMARY))
    bad = rejects(result)
    assert list(bad) == [4]
    assert "repeated header line" in bad[4]["reason"]
    assert [r["line_no"] for r in result.rows] == [2, 3, 5, 6, 7]
    assert all(c.ok for c in result.checks)


def test_crlf_and_bom(tmp_path):
    with_bom = run(tmp_path, (FIXTURES / "legacy_tradebill_ALL.csv").read_bytes(), "a.csv")
    plain = run(tmp_path, bill(HEADER, *ROWS, SUMMARY_HEADER, SUMMARY), "b.csv")
    strip = lambda rows: [{**r, "file_name": ""} for r in rows]  # noqa: E731
    assert strip(with_bom.rows) == strip(plain.rows)
    assert with_bom.rows_ok == 5 and all(c.ok for c in with_bom.checks)


def test_blank_lines(tmp_path):
    content = bill(HEADER, "", ROWS[0], " ", *ROWS[1:], "", SUMMARY_HEADER, "", SUMMARY, "", "")
    result = run(tmp_path, content, "blank.csv")
    assert result.rows_in == 5
    assert [r["line_no"] for r in result.rows] == [3, 5, 6, 7, 8]
    assert all(c.ok for c in result.checks)


def test_refund_without_refund_amount_is_rejected(tmp_path):
    rows = list(ROWS)
    rows[2] = rows[2].replace("`1290.45,`0.00,`ORIGINAL", "`,`0.00,`ORIGINAL")
    result = run(tmp_path, bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY))
    assert "退款金额: required on a REFUND row" in rejects(result)[4]["reason"]


def test_rows_after_the_summary_are_not_dropped(tmp_path):
    result = run(tmp_path, bill(HEADER, *ROWS[:4], SUMMARY_HEADER, SUMMARY, ROWS[4]))
    assert result.rows_in == 5
    assert result.rows[-1]["line_no"] == 8


def test_identify_declines_other_files(tmp_path):
    fmt = WeChatPayBill()
    path = tmp_path / "x.csv"
    assert not fmt.identify(path, "交易时间,交易类型,交易对方,商品\n".encode())
    assert not fmt.identify(tmp_path / "x.xlsx", HEADER.encode())
    assert fmt.identify(path, b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")


def test_normalize_with_a_named_source_reports_an_empty_file(tmp_path):
    path = tmp_path / "wechat.csv"
    path.write_bytes(b"")
    source = default_source(WeChatPayBill(), path)
    with pytest.raises(InputFileError, match="found an empty line"):
        inspect_file(path, source=source)


def tabbed(line: str) -> str:
    """The same line as a tab-separated download writes it (a comma inside a field stays)."""
    return line.replace(",`", "\t`") if line.startswith("`") else line.replace(",", "\t")


def test_tab_separated_bill_reads_like_the_comma_one(tmp_path):
    plain = run(tmp_path, bill(HEADER, *ROWS, SUMMARY_HEADER, SUMMARY), "plain.csv")
    lines = [tabbed(x) for x in (HEADER, *ROWS, SUMMARY_HEADER, SUMMARY)]
    assert "\t" in lines[0] and "贷款还款,第2期" in "".join(lines)
    tab = run(tmp_path, bill(*lines), "tabbed.csv")
    assert tab.rows == [{**r, "file_name": "tabbed.csv"} for r in plain.rows]
    assert checks(tab) == checks(plain) and all(c.ok for c in tab.checks)


def test_tab_separated_bill_without_backticks(tmp_path):
    lines = [tabbed(x).replace("`", "") for x in (HEADER, *ROWS, SUMMARY_HEADER, SUMMARY)]
    result = run(tmp_path, bill(*lines), "tabbed.txt")
    assert result.rows_ok == 5 and all(c.ok for c in result.checks)
    assert_amounts_exact(result)


@pytest.mark.parametrize(
    "mangled", ["4.20002E+29", "4.20002024030500E+29", "420002024030500000000000000000"]
)
def test_bill_saved_by_excel_is_refused_saying_so(tmp_path, mangled):
    # Excel drops the backticks when it saves as CSV (a comma field gets quotes)
    rows = [r.replace(",`", ",").lstrip("`") for r in ROWS]
    rows = [r.replace("贷款还款,第2期", '"贷款还款,第2期"') for r in rows]
    rows[0] = rows[0].replace("420002024030500000000000000002", mangled)
    path = tmp_path / "wechat_excel.csv"
    path.write_text(bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY), encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        inspect_file(path)
    message = str(exc.value)
    assert exc.value.line == 2 and "微信订单号" in message and mangled in message
    assert "Excel" in message and "download it again" in message


def test_bill_without_backticks_reads_a_quoted_field_holding_a_comma(tmp_path):
    # issue 16: a plain CSV copy of the bill quotes 商品名称 "贷款还款,第2期"; it was rejected
    rows = [r.replace(",`", ",").lstrip("`") for r in ROWS]
    rows = [r.replace("贷款还款,第2期", '"贷款还款,第2期"') for r in rows]
    assert any('"贷款还款,第2期"' in r for r in rows)
    result = run(tmp_path, bill(HEADER, *rows, SUMMARY_HEADER, SUMMARY))
    assert (result.rows_ok, result.rows_rejected) == (5, 0)
    assert all(c.ok for c in result.checks)
    assert_amounts_exact(result)
