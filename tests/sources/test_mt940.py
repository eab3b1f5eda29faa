"""SWIFT MT940: the samples' particulars, reversals, ids, encodings, and bad inputs.

The golden comparison of the samples is in test_goldens.py; the first bad-input
cases (garbage :61:, no entries, truncated, not MT940) in test_bank_statements.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from transforms.config import Source
from transforms.errors import UnrecognizedFormat
from transforms.inspect import inspect_file
from transforms.sources.swift_mt940 import MT940

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mt940"

STATEMENT = """:20:STMT20261101
:25:6217000010001234567
:28C:00001/001
:60F:C261101CNY1000,00
:61:2611011101C250,00NTRFPAY-0001//BANKREF0001
:86:repayment settlement
ALIPAY T+1
:61:2611011101D50,NTRFNONREF
:86:distribution
:61:2611011101RC10,00NTRFNONREF//BANKREF0003
:86:reversal of a credit
:61:2611011101RD7,50NTRFNONREF//BANKREF0004
:86:reversal of a debit
:61:2611011101D50,NTRFNONREF
:86:distribution
:62F:C261101CNY1147,50
-
"""


def write(tmp_path: Path, text: str | bytes, name: str = "stmt.sta") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def run(path: Path):
    r = inspect_file(path)
    assert r.format == "mt940"
    assert r.rows_in == r.rows_ok + r.rows_rejected
    return r


def test_generic_two_statements_two_checks():
    r = run(FIXTURES / "generic.sta")
    assert [x["line_no"] for x in r.rows] == [5, 13]
    assert [str(x["value_date"]) for x in r.rows] == ["2011-01-01", "2011-02-01"]
    assert [(c.stated, c.computed, c.ok) for c in r.checks] == [
        (Decimal("90.00"), Decimal("90.00"), True),
        (Decimal("80.00"), Decimal("80.00"), True),
    ]


def test_abnamro_header_lines_amount_without_decimals_multiline_86():
    r = run(FIXTURES / "abnamro.sta")
    first = r.rows[0]
    assert (first["line_no"], first["amount"], first["direction"]) == (8, Decimal("9.00"), "DEBIT")
    assert first["account_no"] == "517852257" and first["currency"] == "EUR"
    assert (
        first["narrative"].startswith("GIRO 428428 KPN") and "INCL. 1,44 BTW" in first["narrative"]
    )
    assert (
        r.rows[6]["amount"] == Decimal("107.00") and r.rows[6]["line_no"] == 23
    )  # after a blank line
    assert len(r.checks) == 2 and not any(c.ok for c in r.checks)  # the sample does not add up


def test_citi_spaces_instead_of_entry_date():
    r = run(FIXTURES / "citi_spaces_entrydate.txt")
    assert [x["line_no"] for x in r.rows] == [5, 9, 13, 15, 17]
    assert [str(x["amount"]) for x in r.rows] == ["212.39", "369.28", "0.00", "0.00", "561.08"]
    assert r.checks[0].ok


def test_reversals_references_and_balance(tmp_path):
    r = run(write(tmp_path, STATEMENT))
    assert [(x["line_no"], x["direction"], str(x["amount"])) for x in r.rows] == [
        (5, "CREDIT", "250.00"),
        (8, "DEBIT", "50.00"),
        (10, "DEBIT", "10.00"),  # RC: reversal of a credit takes money out
        (12, "CREDIT", "7.50"),  # RD: reversal of a debit puts money back
        (14, "DEBIT", "50.00"),
    ]
    assert r.rows[0]["bank_txn_id"] == "BANKREF0001"
    assert r.rows[0]["narrative"] == "repayment settlement ALIPAY T+1"
    assert r.rows[2]["bank_txn_id"] == "BANKREF0003"
    # no reference at all: a hash, different for two identical entries of one statement
    hashed = [r.rows[1]["bank_txn_id"], r.rows[4]["bank_txn_id"]]
    assert all(h.startswith("M") for h in hashed) and hashed[0] != hashed[1]
    assert r.rows[0]["txn_time"].isoformat() == "2026-10-31T16:00:00+00:00"
    assert [(c.stated, c.computed, c.ok) for c in r.checks] == [
        (Decimal("1147.50"), Decimal("1147.50"), True)
    ]


def test_customer_reference_when_there_is_no_bank_reference(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace("PAY-0001//BANKREF0001", "PAY-0001")))
    assert r.rows[0]["bank_txn_id"] == "PAY-0001"


def test_hashed_ids_are_stable_across_deliveries(tmp_path):
    a = run(write(tmp_path, STATEMENT, "a.sta"))
    b = run(write(tmp_path, STATEMENT.replace("\n", "\r\n"), "b.mt940"))
    assert [x["bank_txn_id"] for x in a.rows] == [x["bank_txn_id"] for x in b.rows]
    assert [x["line_no"] for x in a.rows] == [x["line_no"] for x in b.rows]


def test_amount_with_three_decimals_is_a_reject_not_rounded(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace("C250,00NTRF", "C250,005NTRF")))
    assert [x["line_no"] for x in r.rejects] == [5]
    assert "at most 2 decimals" in r.rejects[0]["reason"] and "250,005" in r.rejects[0]["reason"]
    assert "BANKREF0001" in r.rejects[0]["raw"] and "ALIPAY T+1" in r.rejects[0]["raw"]
    assert r.rows_ok == 4 and not r.checks[0].ok


def test_garbage_amount_keeps_the_other_entries(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace("RD7,50NTRF", "RD7;50NTRF")))
    assert [x["line_no"] for x in r.rejects] == [12] and r.rows_ok == 4
    assert r.checks[0].computed == Decimal("1140.00") and not r.checks[0].ok


def test_garbage_opening_balance_fails_the_check_and_keeps_the_rows(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace(":60F:C261101CNY1000,00", ":60F:C261101CNY1O00,00")))
    assert r.rows_ok == 5 and not r.rejects
    (check,) = r.checks
    assert check.computed is None and not check.ok
    assert ":60F:C261101CNY1O00,00" in check.name


def test_truncated_inside_the_opening_balance(tmp_path):
    text = STATEMENT.split(":60F:")[0] + ":60F:C2611"
    r = run(write(tmp_path, text))
    assert r.rows_in == 0
    (check,) = r.checks
    assert check.stated is None and not check.ok  # not "ok" because both sides are missing


def test_truncated_inside_an_entry(tmp_path):
    text = STATEMENT.split("RD7,50")[0] + "RD7"
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rejects] == [12]
    assert r.rows_ok == 3 and r.checks[0].stated is None and not r.checks[0].ok


def test_a_statement_number_that_is_not_a_number_is_kept_as_written(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace(":28C:00001/001", ":28C:ABC")))
    assert r.rows_ok == 5 and r.checks[0].ok and "(ABC)" in r.checks[0].name


def test_asn_long_reference_and_one_bad_entry_among_statements():
    """ASN: 18-character customer reference; one unreadable entry is a reject, not a refusal."""
    r = run(FIXTURES / "asn_dialect.sta")
    assert (r.rows_in, r.rows_ok, r.rows_rejected) == (6, 5, 1)
    assert r.rejects[0]["line_no"] == 25 and "D1O,00" in r.rejects[0]["reason"]
    assert [c.ok for c in r.checks] == [True, True, False]  # the gap shows in statement 3
    assert r.checks[2].computed - r.checks[2].stated == Decimal("10.00")
    ids = [x["bank_txn_id"] for x in r.rows]
    assert "ASNB000042" in ids and "20261102KLANTREF18" in ids


def test_ing_wrapped_statement_number_and_supplementary_lines():
    r = run(FIXTURES / "ing_wrapped_28c.940")
    assert r.rows_ok == 2 and r.checks[0].ok and "(00012)" in r.checks[0].name
    assert r.rows[0]["bank_txn_id"] == "1104123456789012"
    assert "/TRCD/01028/" in r.rows[0]["narrative"] and "Telecom BV" in r.rows[0]["narrative"]


def test_knab_amounts_without_decimal_comma():
    r = run(FIXTURES / "knab_no_decimals.sta")
    assert [(x["direction"], str(x["amount"])) for x in r.rows] == [
        ("CREDIT", "500.00"),
        ("DEBIT", "25.00"),
        ("DEBIT", "0.50"),
    ]
    assert r.checks[0].ok


def test_sns_supplementary_details_line():
    r = run(FIXTURES / "sns_supplementary.sta")
    assert [x["bank_txn_id"] for x in r.rows][0] == "SNS0001"
    assert r.rows[1]["narrative"] == "NL91ABNA0417164300 J JANSEN retour TERUGBOEKING"
    assert r.checks[0].ok


@pytest.mark.parametrize(
    "bad",
    [
        ":61:2611011101C250,00PAY-0001",  # no transaction type: where does the amount end?
        ":61:26110X1101C250,00NTRFPAY",  # date
        ":61:2611011101X250,00NTRFPAY",  # mark
        ":61:2611311101C250,00NTRFPAY",  # 31 November
    ],
)
def test_unreadable_entry_is_a_reject_naming_its_line(tmp_path, bad):
    text = STATEMENT.replace(":61:2611011101C250,00NTRFPAY-0001//BANKREF0001", bad)
    r = run(write(tmp_path, text))
    assert (r.rows_ok, r.rows_rejected) == (4, 1) and r.rejects[0]["line_no"] == 5
    assert r.rejects[0]["reason"].startswith(":61:") and not r.checks[0].ok


def test_swift_fin_envelope(tmp_path):
    text = "{1:F01BANKCNBJAXXX0000000000}{2:O9401200261101BANKCNBJAXXX}{4:\n" + STATEMENT
    r = run(write(tmp_path, text.replace("\n-\n", "\n-}\n")))
    assert r.rows_ok == 5 and r.rows[0]["line_no"] == 6 and r.checks[0].ok


def test_encodings_utf8_and_latin1(tmp_path):
    utf8 = run(write(tmp_path, STATEMENT.replace("distribution", "Überweisung 清分"), "u.sta"))
    assert utf8.rows[1]["narrative"] == "Überweisung 清分"
    latin = STATEMENT.replace("distribution", "Überweisung").encode("latin-1")
    r = run(write(tmp_path, latin, "l.sta"))
    assert r.rows[1]["narrative"] == "Überweisung"


def test_several_statements_number_their_checks(tmp_path):
    second = STATEMENT.replace("STMT20261101", "STMT20261102").replace("00001/001", "00002/001")
    second = second.replace(":60F:C261101CNY1000,00", ":60F:C261102CNY1147,50")
    second = second.replace(":62F:C261101CNY1147,50", ":62F:C261102CNY1000,00")
    r = run(write(tmp_path, STATEMENT + second))
    assert r.rows_ok == 10 and r.rows[5]["line_no"] == 22
    assert [c.ok for c in r.checks] == [True, False]
    assert r.checks[1].name.startswith("statement 2 (00002)")
    assert r.rows[0]["bank_txn_id"] == "BANKREF0001"
    ids = [x["bank_txn_id"] for x in r.rows]
    assert ids[1] != ids[6]  # same hashed entry in another statement number


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("stmt.csv", STATEMENT, "file name"),
        ("stmt.sta", "hello\nworld\n", "no :20: and :25:"),
        ("stmt.sta", STATEMENT.replace(":60F:", ":34F:"), "no :60F:/:60M:"),
    ],
)
def test_identify_refuses_with_a_reason(tmp_path, name, text, why):
    path = write(tmp_path, text, name)
    verdict = MT940().identify(path, path.read_bytes())
    assert not verdict and why in verdict.reason


def test_abn_amro_header_is_identified():
    path = FIXTURES / "abnamro.sta"
    assert MT940().identify(path, path.read_bytes())


def test_unrecognized_text_file_names_every_format(tmp_path):
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(write(tmp_path, "just some notes\n", "notes.txt"))
    assert "mt940" in dict(exc.value.reasons)


# --- issue 16: MT940 as banks write it -------------------------------------------------


def test_funds_code_after_the_mark_and_a_blank_padded_transaction_type():
    """`DF3460,00S   X`: debit, funds code F, 3460.00, type `S` + blanks, reference X;
    `CR`/`RCR`: credit and reversal of a credit, each with funds code R."""
    r = run(FIXTURES / "funds_code_30feb.sta")
    first = [(x["line_no"], x["direction"], str(x["amount"])) for x in r.rows[:3]]
    assert first == [(5, "DEBIT", "3460.00"), (7, "CREDIT", "1250.00"), (9, "DEBIT", "50.00")]
    assert r.rows[0]["bank_txn_id"] == "X" and r.rows[1]["bank_txn_id"] == "B7101100001"
    assert not r.rejects and [c.ok for c in r.checks] == [True, True]


@pytest.mark.parametrize(
    ("line", "direction", "amount"),
    [
        (":61:2611011101DF250,00NTRFPAY-0001//BANKREF0001", "DEBIT", "250.00"),
        (":61:2611011101CR250,00NTRFPAY-0001//BANKREF0001", "CREDIT", "250.00"),
        (":61:2611011101RCR250,00NTRFPAY-0001//BANKREF0001", "DEBIT", "250.00"),
        (":61:2611011101RDR250,00NTRFPAY-0001//BANKREF0001", "CREDIT", "250.00"),
        (":61:2611011101D250,00S103PAY-0001//BANKREF0001", "DEBIT", "250.00"),
        (":61:2611011101D250,00S   PAY-0001//BANKREF0001", "DEBIT", "250.00"),
    ],
)
def test_marks_with_a_funds_code(tmp_path, line, direction, amount):
    text = STATEMENT.replace(":61:2611011101C250,00NTRFPAY-0001//BANKREF0001", line)
    r = run(write(tmp_path, text))
    assert not r.rejects and (r.rows[0]["direction"], str(r.rows[0]["amount"])) == (
        direction,
        amount,
    )
    assert r.rows[0]["bank_txn_id"] == "BANKREF0001"


def test_30_february_is_the_last_day_of_february_and_the_row_says_so():
    r = run(FIXTURES / "funds_code_30feb.sta")
    fee, storno = r.rows[3], r.rows[4]
    assert (fee["line_no"], str(fee["value_date"]), fee["direction"], str(fee["amount"])) == (
        17,
        "2016-02-29",
        "DEBIT",
        "6.00",
    )
    assert fee["narrative"].startswith("805?00ABSCHLUSS?20Entgelte 1. Quartal")
    assert "value date 160230 read as 2016-02-29" in fee["narrative"]
    assert str(storno["value_date"]) == "2016-02-29" and "read as" not in storno["narrative"]
    assert r.checks[1].ok  # :62F:C160230 reads too: the statement adds up


@pytest.mark.parametrize(
    ("value", "read_as"),
    [("170229", "2017-02-28"), ("170230", "2017-02-28"), ("240230", "2024-02-29")],
)
def test_29_and_30_february_past_the_months_end(tmp_path, value, read_as):
    text = STATEMENT.replace(":61:2611011101C250,00NTRF", f":61:{value}0301C250,00NTRF")
    r = run(write(tmp_path, text))
    assert not r.rejects and str(r.rows[0]["value_date"]) == read_as
    assert f"value date {value} read as {read_as}" in r.rows[0]["narrative"]


@pytest.mark.parametrize("value", ["160231", "160431", "161301", "160200", "170332"])
def test_any_other_impossible_date_is_still_a_reject(tmp_path, value):
    text = STATEMENT.replace(":61:2611011101C250,00NTRF", f":61:{value}0301C250,00NTRF")
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rejects] == [5]
    assert f"value date '{value}' is not a date YYMMDD" in r.rejects[0]["reason"]


def test_swift_envelope_with_soh_etx_framing_several_messages():
    """Each message: SOH `{1:...}{2:O940...}{4:` ... `-}{5:{CHK:...}}` ETX (generic.sta inside)."""
    r = run(FIXTURES / "swift_envelope_soh_etx.fin")
    assert not r.rejects and [x["line_no"] for x in r.rows] == [6, 15]
    assert [(c.stated, c.ok) for c in r.checks] == [
        (Decimal("90.00"), True),
        (Decimal("80.00"), True),
    ]


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        ("\x01{1:F01BANKCNBJAXXX0000000000}{2:O9401200261101BANKCNBJAXXX}{4:\n", "-}\x03\n"),
        ("\x01\n{1:F01BANKCNBJAXXX0000000000}{2:O9401200261101BANKCNBJAXXX}\n{4:\n", "-}\n\x03\n"),
        ("{1:F01BANKCNBJAXXX0000000000}{2:O940}{3:{108:MUR0001}}{4:\n", "-}\n{5:{CHK:0A1B}}\n"),
        ("\x01", "-\x03\n"),  # SOH right before :20:, ETX right after the terminator
    ],
)
def test_framing_is_not_a_bad_line(tmp_path, head, tail):
    body = STATEMENT.removesuffix("-\n")
    r = run(write(tmp_path, head + body + tail + head + body + tail))
    assert not r.rejects and r.rows_ok == 10 and all(c.ok for c in r.checks)


def test_etx_and_the_next_soh_on_one_line_and_block_4_on_the_line_of_20(tmp_path):
    body = STATEMENT.removesuffix("-\n")
    one = "\x01{1:F01BANKCNBJAXXX0000000000}{2:O940}{4::20:" + body.removeprefix(":20:")
    text = one + "-}{5:{CHK:0A1B}}\x03\x01{1:F01BANKCNBJAXXX0000000000}{4:\n" + body + "-}\x03\n"
    r = run(write(tmp_path, text))
    assert not r.rejects and r.rows_ok == 10 and [x["line_no"] for x in r.rows][5] == 22


def test_framing_bytes_inside_a_field_are_still_binary_content(tmp_path):
    r = run(write(tmp_path, STATEMENT.replace(":86:distribution\n", ":86:distri\x01bution\n", 1)))
    assert [x["line_no"] for x in r.rejects] == [8]
    assert "control character (0x01)" in r.rejects[0]["reason"]


def test_trailing_content_is_reported_on_its_own_line():
    """abnamro.sta with `:86:` lines wrapped before a `-` and a line appended after the end:
    the `-` lines are narrative, and the reject names line 45, the appended line."""
    r = run(FIXTURES / "abnamro_dash_lines.sta")
    assert [(x["line_no"], x["raw"]) for x in r.rejects] == [(45, "END OF REPORT")]
    assert r.rejects[0]["reason"].startswith("after the last statement (which ends on line 44): 1")
    giro, pets = r.rows[0], r.rows[8]
    assert giro["narrative"].startswith("GIRO 428428 KPN - DIGITENNE BETALINGSKENM.")
    assert giro["narrative"].endswith("INCL. 1,44 BTW")
    assert pets["narrative"] == "BEA NR:XXX1234 24.05.11/09.18 PETS PLACE - KATWIJK KATWI ,PAS999"


def test_lines_after_a_lone_dash_inside_a_statement_are_rejected_where_they_are(tmp_path):
    text = STATEMENT.replace(":86:distribution\n", ":86:distribution\n-\nstray text\n", 1)
    text += "trailing\n"
    r = run(write(tmp_path, text))
    assert [(x["line_no"], x["raw"]) for x in r.rejects] == [(11, "stray text"), (20, "trailing")]
    assert (
        "inside statement 1 but outside any field, after the '-' on line 10"
        in r.rejects[0]["reason"]
    )
    assert r.rejects[1]["reason"].startswith("after the last statement (which ends on line 19)")
    assert r.rows_ok == 5 and r.checks[0].ok


def test_a_field_before_the_first_statement_is_reported(tmp_path):
    r = run(write(tmp_path, ":61:2611011101C1,00NTRFX\n" + STATEMENT))
    assert [x["line_no"] for x in r.rejects] == [1] and r.rows_ok == 5
    assert "before the first :20:" in r.rejects[0]["reason"]


# --- issue 16: a field over 131,072 characters is a reject, the rest is read ------------

LONG = 140_000


def test_an_over_long_86_line_rejects_its_entry(tmp_path):
    text = STATEMENT.replace(":86:distribution\n", ":86:" + "x" * LONG + "\n", 1)
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rejects] == [8] and r.rows_ok == 4
    reason = r.rejects[0]["reason"]
    assert "the :86: field (line 9) holds 140,000 characters; expected at most 131,072" in reason
    assert len(r.rejects[0]["raw"]) < 2000


def test_an_over_long_field_of_short_lines_rejects_its_entry(tmp_path):
    lines = "\n".join(["y" * 65] * 2100)  # 136,500 characters: each line is fine, the field is not
    text = STATEMENT.replace("ALIPAY T+1\n", f"ALIPAY T+1\n{lines}\n", 1)
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rejects] == [5] and r.rows_ok == 4
    assert "the :86: field (lines 6-2107) holds 136,530 characters" in r.rejects[0]["reason"]
    assert len(r.rejects[0]["raw"]) < 20_000


def test_an_over_long_61_line_is_a_reject_with_a_preview(tmp_path):
    text = STATEMENT.replace("NTRFNONREF//BANKREF0003", "NTRFNONREF//" + "R" * LONG, 1)
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rejects] == [10] and r.rows_ok == 4
    assert "the :61: field (line 10) holds 140,029 characters" in r.rejects[0]["reason"]
    assert len(r.rejects[0]["raw"]) < 2000


def test_an_over_long_account_rejects_the_statements_entries(tmp_path):
    second = STATEMENT.replace("STMT20261101", "STMT20261102")
    text = STATEMENT.replace(":25:6217000010001234567", ":25:" + "6" * LONG) + second
    source = Source(name="bank", role="bank", format="mt940", glob="*")  # :60F: is past the head
    r = inspect_file(write(tmp_path, text), source=source)
    assert [x["line_no"] for x in r.rejects] == [5, 8, 10, 12, 14] and r.rows_ok == 5
    why = "the :25: field (line 2) holds 140,000 characters; expected at most 131,072"
    assert all(x["reason"].startswith(why) for x in r.rejects)
    assert all(len(x["raw"]) < 2000 for x in r.rejects)
