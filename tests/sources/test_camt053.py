"""ISO 20022 camt.053: the samples, reversals, references, summaries, and bad or hostile XML.

The golden comparison of the samples is in test_goldens.py; the first bad-input
cases are in test_bank_statements.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from transforms.errors import InputFileError, UnrecognizedFormat
from transforms.inspect import inspect_file
from transforms.sources.iso_camt053 import Camt053

FIXTURES = Path(__file__).parent.parent / "fixtures" / "camt053"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def bal(code: str, amount: str, ind: str = "CRDT") -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
        "<Dt><Dt>2026-11-02</Dt></Dt></Bal>"
    )


def ntry(amount: str, ind: str, extra: str = "", details: str = "") -> str:
    return (
        f'<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{extra}'
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-02</Dt></BookgDt>"
        f"<ValDt><Dt>2026-11-02</Dt></ValDt>{details}</Ntry>"
    )


def statement(*entries: str, opening="100.00", closing="100.00", summary="", acct=None) -> str:
    acct = acct or "<IBAN>CN00TEST0000000000001</IBAN>"
    return (
        f"<Stmt><Id>S1</Id><Acct><Id>{acct}</Id></Acct>"
        + bal("OPBD", opening)
        + bal("CLBD", closing)
        + summary
        + "\n"
        + "\n".join(entries)
        + "\n</Stmt>"
    )


def document(*statements: str, ns: str = NS) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{ns}"><BkToCstmrStmt>\n'
        + "\n".join(statements)
        + "\n</BkToCstmrStmt></Document>\n"
    )


def write(tmp_path: Path, text: str, name: str = "stmt.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path):
    r = inspect_file(path)
    assert r.format == "camt053"
    assert r.rows_in == r.rows_ok + r.rows_rejected
    return r


def test_v8_sample():
    r = run(FIXTURES / "camt053.v8.generated.xml")
    assert [(x["line_no"], x["direction"], str(x["amount"])) for x in r.rows] == [
        (11, "CREDIT", "250.00"),
        (19, "DEBIT", "50.50"),
        (25, "DEBIT", "10.00"),  # DBIT with RvslInd true: the reversal of a credit
    ]
    assert r.rows[0]["txn_time"].isoformat() == "2026-11-02T07:30:00+00:00"  # 15:30+08:00
    assert r.rows[1]["bank_txn_id"] == "E2E-0002" and r.rows[1]["counterparty_name"] == "某某服务商"
    assert r.rows[0]["counterparty_account"] == "44050110020200000888"
    assert all(c.ok for c in r.checks) and len(r.checks) == 2


def test_v2_minimal_sample():
    r = run(FIXTURES / "camt053.v2.minimal.xml")
    (row,) = r.rows
    assert (row["line_no"], row["amount"], row["currency"]) == (90, Decimal("8.85"), "EUR")
    assert str(row["value_date"]) == "2015-01-02"  # ValDt, not BookgDt 2014-12-31
    assert row["counterparty_name"] == "NAME NAME"  # the debtor of a credit
    assert row["account_no"] == "NL26VAYB8060476890"
    (check,) = r.checks  # CLBD is DBIT 27.00 in the sample: a real disagreement
    assert (check.stated, check.computed, check.ok) == (Decimal("-27.00"), Decimal("27.00"), False)


def test_reversal_indicator_does_not_turn_the_direction_round(tmp_path):
    parties = (
        "<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>付款人</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><Othr><Id>6222000011112222</Id></Othr></Id></DbtrAcct>"
        "<Cdtr><Pty><Nm>我方</Nm></Pty></Cdtr></RltdPties></TxDtls></NtryDtls>"
    )
    text = document(
        statement(
            ntry("30.00", "CRDT", details=parties),
            ntry("30.00", "DBIT", "<RvslInd>true</RvslInd>", parties),  # the credit, reversed
            ntry("5.00", "CRDT", "<RvslInd>true</RvslInd>"),  # a debit, reversed
            ntry("1.00", "DBIT", "<RvslInd>false</RvslInd>"),
            closing="104.00",
        )
    )
    r = run(write(tmp_path, text))
    assert [x["direction"] for x in r.rows] == ["CREDIT", "DEBIT", "CREDIT", "DEBIT"]
    # the reversal reports the original payment's parties: the payer, not ourselves
    assert r.rows[1]["counterparty_name"] == "付款人"
    assert r.rows[1]["counterparty_account"] == "6222000011112222"
    assert r.checks[0].ok and r.checks[0].stated == Decimal("104.00")


def test_references_in_order_of_preference(tmp_path):
    refs = "<NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-REF</AcctSvcrRef><EndToEndId>E2E</EndToEndId></Refs></TxDtls></NtryDtls>"
    e2e = "<NtryDtls><TxDtls><Refs><EndToEndId>E2E-ONLY</EndToEndId></Refs></TxDtls></NtryDtls>"
    notprovided = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs></TxDtls></NtryDtls>"
    )
    text = document(
        statement(
            ntry("1.00", "CRDT", details="<AcctSvcrRef>ENTRY-REF</AcctSvcrRef>" + refs),
            ntry("1.00", "CRDT", details=refs),
            ntry("1.00", "CRDT", details=e2e),
            ntry("1.00", "CRDT", details=notprovided),
            ntry("1.00", "CRDT"),
            closing="105.00",
        )
    )
    first = run(write(tmp_path, text))
    ids = [x["bank_txn_id"] for x in first.rows]
    assert ids[:3] == ["ENTRY-REF", "TX-REF", "E2E-ONLY"]
    assert ids[3].startswith("X") and ids[4].startswith("X") and ids[3] != ids[4]
    again = run(write(tmp_path, text, "again.xml"))
    assert [x["bank_txn_id"] for x in again.rows] == ids  # hashes are stable


@pytest.mark.parametrize(
    ("amount", "found"),
    [("five", "five"), ("NaN", "NaN"), ("1E+20", "1E+20"), ("1.005", "1.005"), ("-3.00", "-3.00")],
)
def test_garbage_amount_is_a_reject_with_its_line(tmp_path, amount, found):
    text = document(statement(ntry("7.00", "CRDT"), ntry(amount, "DBIT"), closing="107.00"))
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rows] == [4]
    (reject,) = r.rejects
    assert reject["line_no"] == 5 and f"found '{found}'" in reject["reason"]
    assert reject["reason"].startswith("Amt:") and "<Ntry>" in reject["raw"]
    assert r.checks[0].ok  # the rejected entry is not in the computed balance


def test_amount_with_trailing_zero_decimals_is_exact(tmp_path):
    r = run(write(tmp_path, document(statement(ntry("7.50000", "CRDT"), closing="107.50"))))
    assert r.rows[0]["amount"] == Decimal("7.50") and r.checks[0].ok


def test_bad_date_and_indicator_are_rejects(tmp_path):
    bad_date = ntry("1.00", "CRDT").replace("<ValDt><Dt>2026-11-02", "<ValDt><Dt>2026-13-02")
    text = document(
        statement(bad_date, ntry("1.00", "CRDT"), ntry("1.00", "CRED"), closing="101.00")
    )
    r = run(write(tmp_path, text))
    reasons = {x["line_no"]: x["reason"] for x in r.rejects}
    assert "ValDt: expected an ISO date YYYY-MM-DD, found '2026-13-02'" in reasons[4]
    assert "CdtDbtInd: expected CRDT or DBIT, found 'CRED'" in reasons[6]
    assert r.rows_ok == 1 and r.checks[0].ok


def test_booking_time_offset_or_local(tmp_path):
    local = ntry("1.00", "CRDT").replace(
        "<BookgDt><Dt>2026-11-02</Dt>", "<BookgDt><DtTm>2026-11-02T09:00:00</DtTm>"
    )
    utc = ntry("1.00", "CRDT").replace(
        "<BookgDt><Dt>2026-11-02</Dt>", "<BookgDt><DtTm>2026-11-02T09:00:00Z</DtTm>"
    )
    r = run(write(tmp_path, document(statement(local, utc, closing="102.00"))))
    assert [x["txn_time"].isoformat() for x in r.rows] == [
        "2026-11-02T01:00:00+00:00",  # 09:00 Asia/Shanghai
        "2026-11-02T09:00:00+00:00",
    ]


def test_line_numbers_ignore_ntry_text_in_comments_and_prefixes(tmp_path):
    text = document(statement(ntry("1.00", "CRDT"), ntry("2.00", "CRDT"), closing="103.00"))
    text = text.replace("<BkToCstmrStmt>\n", "<BkToCstmrStmt>\n<!-- an old <Ntry> was here -->\n")
    text = text.replace("<Document xmlns=", "<c:Document xmlns:c=").replace(
        "</Document>", "</c:Document>"
    )
    text = (
        text.replace("<", "<c:").replace("<c:/", "</c:").replace("<c:?", "<?").replace("<c:!", "<!")
    )
    text = text.replace("<c:c:", "<c:").replace("</c:c:", "</c:")
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rows] == [5, 6] and r.checks[0].ok


def test_several_statements(tmp_path):
    first = statement(ntry("1.00", "CRDT"), closing="101.00")
    second = statement(
        ntry("2.00", "DBIT"), opening="50.00", closing="48.00", acct="<Othr><Id>ACC-2</Id></Othr>"
    )
    r = run(write(tmp_path, document(first, second)))
    assert [(x["account_no"], x["line_no"]) for x in r.rows] == [
        ("CN00TEST0000000000001", 4),
        ("ACC-2", 7),
    ]
    assert [c.name for c in r.checks] == [
        "statement 1 closing balance CLBD",
        "statement 2 closing balance CLBD",
    ]
    assert all(c.ok for c in r.checks)


def test_transaction_summary_checks(tmp_path):
    summary = (
        "<TxsSummry><TtlNtries><NbOfNtries>3</NbOfNtries><Sum>16.00</Sum>"
        "<TtlNetNtry><Amt>4.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TtlNetNtry></TtlNtries>"
        "<TtlCdtNtries><NbOfNtries>2</NbOfNtries><Sum>10.00</Sum></TtlCdtNtries>"
        "<TtlDbtNtries><NbOfNtries>1</NbOfNtries><Sum>6.00</Sum></TtlDbtNtries></TxsSummry>"
    )
    entries = [ntry("4.00", "CRDT"), ntry("6.00", "CRDT"), ntry("6.00", "DBIT")]
    r = run(write(tmp_path, document(statement(*entries, closing="104.00", summary=summary))))
    assert {c.name: (c.stated, c.computed) for c in r.checks} == {
        "statement 1 closing balance CLBD": (Decimal("104.00"), Decimal("104.00")),
        "statement 1 entries (TxsSummry)": (3, 3),
        "statement 1 credit entries (TxsSummry)": (2, 2),
        "statement 1 credit entries sum (TxsSummry)": (Decimal("10.00"), Decimal("10.00")),
        "statement 1 debit entries (TxsSummry)": (1, 1),
        "statement 1 debit entries sum (TxsSummry)": (Decimal("6.00"), Decimal("6.00")),
        "statement 1 net of entries (TxsSummry)": (Decimal("4.00"), Decimal("4.00")),
    }
    entries[1] = ntry("six", "CRDT")
    r = run(write(tmp_path, document(statement(*entries, closing="104.00", summary=summary))))
    failed = sorted(c.name for c in r.checks if not c.ok)
    assert failed == [
        "statement 1 closing balance CLBD",
        "statement 1 credit entries (TxsSummry)",
        "statement 1 credit entries sum (TxsSummry)",
        "statement 1 entries (TxsSummry)",
        "statement 1 net of entries (TxsSummry)",
    ]


def test_statement_without_a_closing_balance_states_none_rather_than_differs(tmp_path):
    for drop_opening in (False, True):
        text = statement(ntry("1.00", "CRDT")).replace(bal("CLBD", "100.00"), "")
        if drop_opening:
            text = text.replace(bal("OPBD", "100.00"), "")
        r = run(write(tmp_path, document(text)))
        assert r.rows_ok == 1 and r.checks == []  # not stated: no check, not a difference


def test_unreadable_closing_balance_is_a_failed_check(tmp_path):
    text = document(statement(ntry("1.00", "CRDT"), closing="1O1.00"))
    (check,) = run(write(tmp_path, text)).checks
    assert check.stated is None and check.computed == Decimal("101.00") and not check.ok


def undated(amount: str, ind: str) -> str:
    return f'<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry>'


def test_entries_without_dates_take_the_statement_date(tmp_path):
    text = statement(undated("1.00", "CRDT"), undated("0.50", "DBIT"), closing="100.50")
    r = run(write(tmp_path, document(text)))
    assert r.rows_ok == 2 and r.checks[0].ok
    assert [str(x["value_date"]) for x in r.rows] == ["2026-11-02", "2026-11-02"]  # CLBD's date
    # no CLBD: the statement period's end, then its creation time
    no_clbd = text.replace(bal("CLBD", "100.50"), "").replace(
        "<Stmt><Id>S1</Id>",
        "<Stmt><Id>S1</Id><CreDtTm>2026-11-05T06:00:00</CreDtTm>"
        "<FrToDt><FrDtTm>2026-11-03T00:00:00</FrDtTm><ToDtTm>2026-11-03T23:59:59</ToDtTm></FrToDt>",
    )
    r = run(write(tmp_path, document(no_clbd)))
    assert [str(x["value_date"]) for x in r.rows] == ["2026-11-03", "2026-11-03"]
    only_created = no_clbd.replace(
        "<FrToDt><FrDtTm>2026-11-03T00:00:00</FrDtTm><ToDtTm>2026-11-03T23:59:59</ToDtTm></FrToDt>",
        "",
    )
    r = run(write(tmp_path, document(only_created)))
    assert [str(x["value_date"]) for x in r.rows] == ["2026-11-05", "2026-11-05"]
    nothing = only_created.replace("<CreDtTm>2026-11-05T06:00:00</CreDtTm>", "")
    r = run(write(tmp_path, document(nothing)))
    assert r.rows_rejected == 2 and "ValDt/BookgDt: required" in r.rejects[0]["reason"]


@pytest.mark.parametrize("name", ["camt053_20261102", "stmt.dat", "stmt.txt", "stmt.20261102"])
def test_generic_or_missing_extension_is_read_by_content(tmp_path, name):
    text = document(statement(ntry("1.00", "CRDT"), closing="101.00"))
    r = run(write(tmp_path, text, name))
    assert r.rows_ok == 1 and r.checks[0].ok


def test_zip_of_several_statements(tmp_path):
    import zipfile

    one = document(statement(ntry("1.00", "CRDT"), closing="101.00"))
    two = document(statement(ntry("2.00", "DBIT"), ntry("x", "CRDT"), closing="98.00"))
    for name in ("camt053.zip", "camt053_download"):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("2026-11-01.xml", one)
            zf.writestr("2026-11-02.xml", two)
        r = run(path)
        assert (r.rows_ok, r.rows_rejected) == (2, 1)
        assert [c.ok for c in r.checks] == [True, True]
        assert [c.name for c in r.checks][1].startswith("statement 2 ")
        lines = one.count("\n") + 1
        assert r.rows[1]["line_no"] == lines + 4 and r.rejects[0]["line_no"] == lines + 5
        assert r.rejects[0]["reason"].startswith("entry 2026-11-02.xml line 5: Amt")


def test_zip_with_a_file_that_is_not_camt053_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "camt.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.xml", document(statement(ntry("1.00", "CRDT"))))
        zf.writestr("b.xml", document(statement(ntry("1.00", "CRDT")), ns=NS.replace("053", "054")))
    with pytest.raises(UnrecognizedFormat, match="b.xml: camt.054 is not a statement"):
        inspect_file(path)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><AddtlNtryInf>&lol9;</AddtlNtryInf></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""


@pytest.mark.parametrize(
    "hostile",
    [
        BILLION_LAUGHS,
        # external entity: would read a local file
        BILLION_LAUGHS.split("<!DOCTYPE")[0]
        + '<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        + BILLION_LAUGHS.split("]>\n")[1].replace("&lol9;", "&x;"),
        # external DTD: would be fetched over the network
        BILLION_LAUGHS.split("<!DOCTYPE")[0]
        + '<!DOCTYPE Document SYSTEM "http://example.invalid/camt.dtd">\n'
        + BILLION_LAUGHS.split("]>\n")[1].replace("&lol9;", "x"),
        # parameter entity
        BILLION_LAUGHS.split("<!DOCTYPE")[0]
        + '<!DOCTYPE Document [<!ENTITY % p SYSTEM "http://example.invalid/p.dtd"> %p;]>\n'
        + BILLION_LAUGHS.split("]>\n")[1].replace("&lol9;", "x"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"],
)
def test_hostile_xml_is_refused(tmp_path, hostile):
    path = write(tmp_path, hostile, "hostile.xml")
    with pytest.raises(InputFileError) as exc:
        run(path)
    assert "refused: XML with a DTD or entities" in str(exc.value) and "hostile.xml" in str(
        exc.value
    )


def test_truncated_xml_names_the_line(tmp_path):
    text = document(statement(ntry("1.00", "CRDT"), ntry("2.00", "CRDT"), closing="103.00"))
    cut = text[: text.index("<Ntry>", text.index("<Ntry>") + 1) + 20]
    with pytest.raises(InputFileError) as exc:
        run(write(tmp_path, cut))
    assert exc.value.line == 5 and "not well-formed XML" in str(exc.value)


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_every_version_is_identified(tmp_path, version):
    text = document(statement(ntry("1.00", "CRDT"), closing="101.00"), ns=NS[:-2] + version)
    r = run(write(tmp_path, text))
    assert r.rows_ok == 1 and r.checks[0].ok


@pytest.mark.parametrize(
    ("name", "ns", "why"),
    [
        (
            "stmt.xml",
            "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
            "camt.052 is not a statement",
        ),
        (
            "stmt.xml",
            "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
            "camt.054 is not a statement",
        ),
        (
            "stmt.xml",
            "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
            "no ISO 20022 camt namespace",
        ),
        ("stmt.pdf", NS, "file name does not end in .xml"),
    ],
)
def test_identify_refuses_with_a_reason(tmp_path, name, ns, why):
    path = write(tmp_path, document(statement(ntry("1.00", "CRDT")), ns=ns), name)
    verdict = Camt053().identify(path, path.read_bytes())
    assert not verdict and why in verdict.reason
    if name.endswith(".xml"):
        with pytest.raises(UnrecognizedFormat, match=why):
            inspect_file(path)


# --- issue 16: an element's text over 131,072 characters is a reject, the rest is read ---


def test_an_over_long_element_rejects_its_entry(tmp_path):
    details = (
        "<NtryDtls><TxDtls><RmtInf><Ustrd>"
        + "u" * 140_000
        + "</Ustrd></RmtInf></TxDtls></NtryDtls>"
    )
    text = document(
        statement(ntry("7.00", "CRDT"), ntry("3.00", "CRDT", details=details), closing="107.00")
    )
    r = run(write(tmp_path, text))
    assert [x["line_no"] for x in r.rows] == [4]
    (reject,) = r.rejects
    assert reject["line_no"] == 5 and len(reject["raw"]) <= 2000
    assert reject["reason"] == (
        "NtryDtls/TxDtls/RmtInf/Ustrd holds 140,000 characters; expected at most 131,072"
    )
    assert r.checks[0].ok


def test_an_over_long_attribute_rejects_its_entry(tmp_path):
    long = ntry("3.00", "CRDT").replace('Ccy="CNY"', 'Ccy="' + "C" * 140_000 + '"')
    r = run(write(tmp_path, document(statement(long, ntry("7.00", "CRDT"), closing="107.00"))))
    assert [x["line_no"] for x in r.rejects] == [4] and r.rows_ok == 1
    assert r.rejects[0]["reason"].startswith("Amt/@Ccy holds 140,000 characters")


def test_an_over_long_account_rejects_the_statements_entries(tmp_path):
    long = statement(
        ntry("7.00", "CRDT"), closing="107.00", acct="<IBAN>" + "9" * 140_000 + "</IBAN>"
    )
    r = run(write(tmp_path, document(long, statement(ntry("7.00", "CRDT"), closing="107.00"))))
    assert [x["line_no"] for x in r.rejects] == [4] and r.rows_ok == 1
    assert r.rejects[0]["reason"] == (
        "Stmt/Acct/Id/IBAN holds 140,000 characters; expected at most 131,072: "
        "the statement's entries are not read"
    )
