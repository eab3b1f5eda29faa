"""SWIFT MT940: the samples' particulars, reversals, ids, encodings, and bad inputs.

The golden comparison of the samples is in test_goldens.py; the first bad-input
cases (garbage :61:, no entries, truncated, not MT940) in test_bank_statements.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

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
