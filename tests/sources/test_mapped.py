"""The declarative mapped format: new layouts added by configuration alone."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.config import load_config, parse_config
from transforms.errors import ConfigError, InputFileError, UnrecognizedFormat
from transforms.inspect import inspect_file
from transforms.sources import get_format
from transforms.sources.mapped import MappedFormat

from .longcells import save_with_long_cell

UTC = dt.UTC

ACME_TOML = """
inbox = "inbox"
data_dir = "data"

[formats.acme_bank]
table = "bank_lines"
file = "csv"
encoding = "gbk"
header_row = 3
skip_footer_prefixes = ["Total"]
name_pattern = "acme_*.csv"
amount_unit = "yuan"
sign = "debit_credit"

[formats.acme_bank.columns]
txn_time = "Trans Date"
debit = "Withdrawal"
credit = "Deposit"
balance = "Balance"
counterparty_name = "Payer"
bank_txn_id = "Ref"
narrative = "Memo"

[formats.acme_bank.time_formats]
txn_time = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]

[[sources]]
name = "acme"
role = "bank"
format = "acme_bank"
glob = "acme_*.csv"
account_no = "ACME-001"
"""

ACME_LINES = [
    "ACME Bank statement",
    "Account: 001",
    "Trans Date,Ref,Payer,Memo,Withdrawal,Deposit,Balance",
    '10/04/2026 09:15,R1,财付通支付科技有限公司,settlement,,"1,234.56","11,234.56"',
    '10/04/2026 15:30,R2,某某资金方A,distribution,"1,000.00",,"10,234.56"',
    '11/04/2026,R3,张三,bad amount,abc,,"10,234.56"',
    '11/04/2026,R4,Li Si,"memo, with comma",,0.44,"10,235.00"',
    'Total,,,,"1,000.00","1,235.00",',
]


def write_config(tmp_path: Path, text: str):
    path = tmp_path / "recon.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, check_folders=False)  # the format is under test, not the folders


def write_lines(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_new_bank_layout_by_configuration_alone(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    path = write_lines(tmp_path / "acme_20260410.csv", ACME_LINES, "gbk")
    with pytest.raises(UnrecognizedFormat):
        inspect_file(path)  # no built-in format knows this layout
    r = inspect_file(path, config=cfg)
    assert (r.format, r.table, r.rows_in, r.rows_ok, r.rows_rejected) == (
        "acme_bank",
        "bank_lines",
        4,
        3,
        1,
    )
    got = [
        (
            x["bank_txn_id"],
            x["direction"],
            x["amount"],
            x["balance"],
            x["value_date"],
            x["txn_time"],
            x["line_no"],
        )
        for x in r.rows
    ]
    assert got == [
        (
            "R1",
            "CREDIT",
            Decimal("1234.56"),
            Decimal("11234.56"),
            dt.date(2026, 4, 10),
            dt.datetime(2026, 4, 10, 1, 15, tzinfo=UTC),
            4,
        ),
        (
            "R2",
            "DEBIT",
            Decimal("1000.00"),
            Decimal("10234.56"),
            dt.date(2026, 4, 10),
            dt.datetime(2026, 4, 10, 7, 30, tzinfo=UTC),
            5,
        ),
        (
            "R4",
            "CREDIT",
            Decimal("0.44"),
            Decimal("10235.00"),
            dt.date(2026, 4, 11),
            dt.datetime(2026, 4, 10, 16, 0, tzinfo=UTC),
            7,
        ),
    ]
    first = r.rows[0]
    assert first["account_no"] == "ACME-001" and first["currency"] == "CNY"
    assert first["counterparty_name"] == "财付通支付科技有限公司"
    assert r.rows[2]["narrative"] == "memo, with comma"
    (rej,) = r.rejects
    assert rej["line_no"] == 6 and "Withdrawal" in rej["reason"] and "'abc'" in rej["reason"]
    assert [(c.name, c.ok) for c in r.checks] == [("running balance breaks", True)]


def test_get_format_returns_the_mapped_format(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    fmt = get_format("acme_bank", cfg.mapped_formats)
    assert isinstance(fmt, MappedFormat) and fmt.name == "acme_bank" and fmt.table == "bank_lines"
    with pytest.raises(KeyError):
        get_format("nope", cfg.mapped_formats)


def test_missing_header_names_the_missing_and_found_columns(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    lines = [x.replace("Withdrawal", "Withdrawl") for x in ACME_LINES]
    path = write_lines(tmp_path / "acme_typo.csv", lines, "gbk")
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path, config=cfg)
    assert "acme_bank: header row 3 lacks ['Withdrawal']" in str(exc.value)
    with pytest.raises(InputFileError) as exc:
        inspect_file(path, config=cfg, source=cfg.source("acme"))
    msg = str(exc.value)
    assert exc.value.line == 3
    assert "['Withdrawal']" in msg and "'Withdrawl'" in msg and "'Trans Date'" in msg


def test_file_name_must_match_name_pattern(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    path = write_lines(tmp_path / "other.csv", ACME_LINES, "gbk")
    verdict = get_format("acme_bank", cfg.mapped_formats).identify(path, b"")
    assert not verdict and "name_pattern" in verdict.reason


def test_wrong_encoding_names_the_line(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML.replace('encoding = "gbk"', 'encoding = "utf-8"'))
    path = write_lines(tmp_path / "acme_gbk.csv", ACME_LINES, "gbk")
    with pytest.raises(InputFileError) as exc:
        inspect_file(path, config=cfg, source=cfg.source("acme"))
    assert exc.value.line == 4 and "utf-8" in str(exc.value)


def test_header_only_file_has_zero_rows(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    path = write_lines(tmp_path / "acme_empty.csv", ACME_LINES[:3], "gbk")
    r = inspect_file(path, config=cfg)
    assert (r.format, r.rows_in, r.rows_ok, r.rows_rejected) == ("acme_bank", 0, 0, 0)


XLSX_TOML = """
inbox = "inbox"
data_dir = "data"

[formats.xl_bank]
table = "bank_lines"
file = "xlsx"
sheet = "Statement"
header_row = 2
name_pattern = "xl_*.xlsx"
sign = "signed_negative_in"
skip_footer_prefixes = ["Closing"]

[formats.xl_bank.columns]
txn_time = ["Date", "Time"]
amount = "Amount (CNY)"
balance = "Balance"
narrative = "Details"

[[sources]]
name = "xl"
role = "bank"
format = "xl_bank"
glob = "xl_*.xlsx"
"""


def test_xlsx_mapped_file_with_split_date_and_time(tmp_path):
    import openpyxl

    cfg = write_config(tmp_path, XLSX_TOML)
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active["A1"] = "not this sheet"
    ws = book.create_sheet("Statement")
    ws.append(["Statement of account 001"])
    ws.append(["Date", "Time", " Amount（CNY） ", "Balance", "Details"])
    ws.append([dt.datetime(2026, 4, 10), dt.time(9, 15), -500.25, 1500.25, "from payer"])
    ws.append(["2026-04-10", "18:00:01", "200", "1300.25", "to lender"])
    ws.append(["2026-04-11", "", "1.5", "1298.75", "fee"])
    ws.append(["Closing balance", None, None, 1298.75])
    path = tmp_path / "xl_202604.xlsx"
    book.save(path)
    r = inspect_file(path, config=cfg)
    assert (r.format, r.rows_in, r.rows_ok, r.rows_rejected) == ("xl_bank", 3, 3, 0)
    assert [(x["direction"], x["amount"], x["txn_time"], x["line_no"]) for x in r.rows] == [
        ("CREDIT", Decimal("500.25"), dt.datetime(2026, 4, 10, 1, 15, tzinfo=UTC), 3),
        ("DEBIT", Decimal("200.00"), dt.datetime(2026, 4, 10, 10, 0, 1, tzinfo=UTC), 4),
        ("DEBIT", Decimal("1.50"), dt.datetime(2026, 4, 10, 16, 0, tzinfo=UTC), 5),
    ]
    assert all(len(x["bank_txn_id"]) == 21 for x in r.rows)  # hashed: the file has no id
    assert [(c.name, c.ok) for c in r.checks] == [("running balance breaks", True)]


CHANNEL_TOML = """
inbox = "inbox"
data_dir = "data"

[formats.acmepay]
table = "channel_txns"
delimiter = "|"
name_pattern = "acmepay_*.txt"
amount_unit = "fen"
type_column = "Type"
refund_values = ["REFUND", "退款"]
status_values = { SUCCESS = ["S", "成功"], FAILED = ["F"] }

[formats.acmepay.columns]
channel_txn_id = "TxnId"
merchant_order_no = "OrderNo"
orig_merchant_order_no = "OrigOrderNo"
txn_time = "Time"
amount = "AmountFen"
fee = "FeeFen"
status = "Status"
card_no = "Card"

[formats.acmepay.time_formats]
txn_time = "%Y%m%d%H%M%S"

[[sources]]
name = "acmepay"
role = "channel"
format = "acmepay"
glob = "acmepay_*.txt"
channel = "ACMEPAY"
"""


def test_channel_txns_mapped_file_in_fen(tmp_path):
    cfg = write_config(tmp_path, CHANNEL_TOML)
    path = write_lines(
        tmp_path / "acmepay_20260410.txt",
        [
            "TxnId|OrderNo|OrigOrderNo|Type|Time|AmountFen|FeeFen|Status|Card",
            "T1|PO1||PAY|20260410091500|123456|37|S|6222****1234",
            "T2|PO2||PAY|20260410235959|5000|2|F|6222****5678",
            "T3|RF1|PO1|退款|20260411080000|-1000|-3|成功|6222****1234",
            "T4|PO3||PAY|20260411080000|12.5|0|S|",
            "T5|PO4||PAY|20260411080000|100|0|X|",
        ],
        "utf-8",
    )
    r = inspect_file(path, config=cfg)
    assert (r.format, r.table, r.rows_in, r.rows_ok, r.rows_rejected) == (
        "acmepay",
        "channel_txns",
        5,
        3,
        2,
    )
    got = [
        (
            x["channel"],
            x["channel_txn_id"],
            x["merchant_order_no"],
            x["orig_merchant_order_no"],
            x["txn_type"],
            x["amount"],
            x["fee"],
            x["status"],
            x["biz_date"],
        )
        for x in r.rows
    ]
    assert got == [
        ("ACMEPAY", "T1", "PO1", None, "PAY", Decimal("1234.56"), Decimal("0.37"), "SUCCESS", dt.date(2026, 4, 10)),
        ("ACMEPAY", "T2", "PO2", None, "PAY", Decimal("50.00"), Decimal("0.02"), "FAILED", dt.date(2026, 4, 10)),
        ("ACMEPAY", "T3", "RF1", "PO1", "REFUND", Decimal("10.00"), Decimal("-0.03"), "SUCCESS", dt.date(2026, 4, 11)),
    ]  # fmt: skip
    assert r.rows[1]["txn_time"] == dt.datetime(2026, 4, 10, 15, 59, 59, tzinfo=UTC)
    reasons = {x["line_no"]: x["reason"] for x in r.rejects}
    assert "AmountFen (expected integer fen): cannot read '12.5'" in reasons[5]
    assert "Status: expected one of S/成功/F, found X" in reasons[6]


def test_platform_orders_mapped_file(tmp_path):
    cfg = write_config(
        tmp_path,
        """
inbox = "i"
data_dir = "d"
[formats.plat2]
table = "platform_orders"
type_column = "kind"
refund_values = ["R"]
[formats.plat2.columns]
order_no = "no"
amount = "amt"
status = "st"
created_at = "created"
paid_at = "paid"
loan_no = "loan"
installment_no = "term"
[[sources]]
name = "p"
role = "platform"
format = "plat2"
glob = "plat2_*.csv"
""",
    )
    path = write_lines(
        tmp_path / "plat2_1.csv",
        [
            "no,kind,amt,st,created,paid,loan,term",
            "O1,P,100.10,success,2026-04-10 23:00:00,2026-04-11 00:00:01,L1,3",
            "O2,R,5.00,FAILED,2026-04-10 10:00:00,,L1,x",
        ],
        "utf-8",
    )
    r = inspect_file(path, config=cfg)
    assert (r.rows_ok, r.rows_rejected) == (1, 1)
    row = r.rows[0]
    assert (row["order_type"], row["amount"], row["status"], row["installment_no"]) == (
        "REPAY",
        Decimal("100.10"),
        "SUCCESS",
        3,
    )
    assert row["biz_date"] == dt.date(2026, 4, 11)
    assert "term (expected a whole number): cannot read 'x'" in r.rejects[0]["reason"]


def _set(dotted: str, value):
    def change(spec: dict) -> None:
        *parents, last = dotted.split(".")
        target = spec
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            del target[last]
        else:
            target[last] = value

    return change


BAD_SPECS = [
    ("table", None, "formats.x.table", "expected one of"),
    ("table", "ledger", "formats.x.table", "expected one of"),
    ("sign", "both", "formats.x.sign", "expected one of"),
    ("amount_unit", "jiao", "formats.x.amount_unit", "expected one of"),
    ("encoding", "klingon", "formats.x.encoding", "unknown encoding"),
    ("header_row", 0, "formats.x.header_row", "1 or more"),
    ("colour", "red", "formats.x.colour", "unknown key"),
    ("columns.amount_due", "Due", "formats.x.columns.amount_due", "unknown column"),
    ("columns.direction", "D/C", "formats.x.columns.direction", "only with sign"),
    ("columns.channel_txn_id", "Id", "formats.x.columns.channel_txn_id", "unknown column"),
    ("columns.balance", 7, "formats.x.columns.balance", "expected a string"),
    ("time_formats.balance", "%Y", "formats.x.time_formats.balance", "not a time"),
    ("time_formats.txn_time", "dd/mm/yyyy", "formats.x.time_formats.txn_time", "strptime"),
    ("time_formats.value_date", "%Y", "formats.x.time_formats.value_date", "not a mapped"),
    ("sheet", "S1", "formats.x.sheet", "only for file"),
    ("type_column", "Kind", "formats.x.type_column", "only for channel_txns"),
]


@pytest.mark.parametrize(
    "dotted,value,key,words", BAD_SPECS, ids=[f"{b[0]}={b[1]}" for b in BAD_SPECS]
)
def test_config_errors_name_the_key(tmp_path, dotted, value, key, words):
    raw = tomllib.loads(ACME_TOML.replace("acme_bank", "x"))
    _set(dotted, value)(raw["formats"]["x"])
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, tmp_path / "recon.toml")
    assert exc.value.key == key and words in str(exc.value), str(exc.value)
    assert "recon.toml" in str(exc.value)


def test_missing_required_column_names_the_key(tmp_path):
    text = ACME_TOML.replace('debit = "Withdrawal"\n', "")
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, text)
    assert exc.value.key == "formats.acme_bank.columns.debit"
    assert "debit_credit" in str(exc.value)
    text = CHANNEL_TOML.replace('channel_txn_id = "TxnId"\n', "")
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, text)
    assert exc.value.key == "formats.acmepay.columns.channel_txn_id"


def test_signed_layout_needs_an_amount_column(tmp_path):
    text = ACME_TOML.replace('sign = "debit_credit"', 'sign = "signed"')
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, text)
    assert exc.value.key == "formats.acme_bank.columns.amount"


def test_mapped_format_for_the_wrong_role_is_refused(tmp_path):
    text = ACME_TOML.replace('role = "bank"', 'role = "channel"\nchannel = "X"')
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, text)
    assert exc.value.key == "sources[0].format" and "bank_lines" in str(exc.value)


def test_mapped_format_cannot_shadow_a_built_in(tmp_path):
    text = ACME_TOML.replace("acme_bank", "cn_bank")
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, text)
    assert exc.value.key == "formats.cn_bank" and "built-in" in str(exc.value)


def test_indicator_sign_with_a_direction_column_and_dashes(tmp_path):
    cfg = write_config(
        tmp_path,
        """
inbox = "i"
data_dir = "d"
[formats.flagbank]
table = "bank_lines"
sign = "indicator"
name_pattern = "flag_*.csv"
[formats.flagbank.columns]
txn_time = "交易时间"
direction = "借贷标志"
amount = "发生额"
currency = "币种"
bank_txn_id = "流水号"
[[sources]]
name = "flag"
role = "bank"
format = "flagbank"
glob = "flag_*.csv"
""",
    )
    path = write_lines(
        tmp_path / "flag_1.csv",
        [
            "流水号,交易时间,借贷标志,发生额,币种",
            'F1,2026-04-10 08:00:00,贷,"2,000.00",人民币',
            "F2,2026-04-10 09:00:00,借,15.00,USD",
            "F3,2026-04-10 10:00:00,?,15.00,",
            "F4,2026-04-10 11:00:00,借,-,",
        ],
        "utf-8",
    )
    r = inspect_file(path, config=cfg)
    assert [(x["bank_txn_id"], x["direction"], x["amount"], x["currency"]) for x in r.rows] == [
        ("F1", "CREDIT", Decimal("2000.00"), "CNY"),
        ("F2", "DEBIT", Decimal("15.00"), "USD"),
    ]
    reasons = {x["line_no"]: x["reason"] for x in r.rejects}
    assert reasons[4].startswith("借贷标志: expected one of 贷/C/CR") and "found ?" in reasons[4]
    assert reasons[5] == "amount: expected 发生额, found none"


def test_utf8_file_declared_gbk_gets_an_encoding_hint(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML.replace('"Trans Date"', '"交易日期"'))
    lines = [x.replace("Trans Date", "交易日期") for x in ACME_LINES]
    path = write_lines(tmp_path / "acme_utf8.csv", lines, "utf-8")
    with pytest.raises(InputFileError) as exc:
        inspect_file(path, config=cfg, source=cfg.source("acme"))
    assert "['交易日期']" in str(exc.value) and "is the file utf-8, not gb18030?" in str(exc.value)


def test_the_documented_example_is_a_valid_config():
    import textwrap

    from transforms.sources import mapped

    block = mapped.__doc__.split("configuration::")[1].split("Mappable")[0]
    raw = tomllib.loads(textwrap.dedent(block))
    spec = mapped.validate_mapped("acme_bank", raw["formats"]["acme_bank"], "docstring")
    assert spec.sign == "debit_credit" and spec.encoding == "gb18030"


# --- issue 16: a cell over 131,072 characters is a rejected row; the rest is read ------


def test_an_over_long_csv_cell_is_a_reject_naming_the_column(tmp_path):
    cfg = write_config(tmp_path, ACME_TOML)
    lines = list(ACME_LINES)
    lines[4] = lines[4].replace("distribution", "d" * 140_000)
    r = inspect_file(write_lines(tmp_path / "acme_20260410.csv", lines, "gbk"), config=cfg)
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (4, 2, 2)
    reasons = {x["line_no"]: x["reason"] for x in r.rejects}
    assert reasons[5] == "Memo (column 4) holds 140,000 characters; expected at most 131,072"
    assert all(len(x["raw"]) < 2000 for x in r.rejects)


def test_an_over_long_xlsx_cell_is_a_reject_naming_the_column(tmp_path):
    import openpyxl

    cfg = write_config(tmp_path, XLSX_TOML)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Statement"
    ws.append(["Statement of account 001"])
    ws.append(["Date", "Time", "Amount (CNY)", "Balance", "Details"])
    ws.append(["2026-04-10", "09:15:00", "-500.25", "1500.25", "from payer"])
    ws.append(["2026-04-10", "18:00:01", "200", "1300.25", "LONGCELL"])
    ws.append(["2026-04-11", "", "1.5", "1298.75", "fee"])
    path = save_with_long_cell(book, tmp_path / "xl_202604.xlsx", "LONGCELL", "t" * 140_000)
    r = inspect_file(path, config=cfg)
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (3, 2, 1)
    (rej,) = r.rejects
    assert rej["line_no"] == 4 and len(rej["raw"]) < 2000
    assert rej["reason"] == "Details (column 5) holds 140,000 characters; expected at most 131,072"
