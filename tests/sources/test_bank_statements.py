"""MT940 and camt.053: bad inputs give rejects with line numbers or one clear error."""

from __future__ import annotations

import pytest

from transforms.errors import InputFileError, UnrecognizedFormat
from transforms.inspect import inspect_file

MT940 = """:20:STMT1
:25:6217000010001234567
:28C:1/1
:60F:C261101CNY100,00
:61:2611011101C50,00NTRFREF1//B1
:86:first
:61:2611011101D2X,00NTRFREF2//B2
:86:garbage amount
:61:2611011101RC5,NTRFREF3//B3
:86:reversal of a credit: money out
:62F:C261101CNY125,00
-
"""

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Acct><Id><IBAN>NL00TEST0123456789</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">15.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><ValDt><Dt>2026-11-01</Dt></ValDt><AcctSvcrRef>A1</AcctSvcrRef></Ntry>
<Ntry><Amt Ccy="EUR">five</Amt><CdtDbtInd>CRDT</CdtDbtInd><ValDt><Dt>2026-11-01</Dt></ValDt></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mt940_garbage_amount_is_a_reject_and_the_rest_is_read(tmp_path):
    r = inspect_file(write(tmp_path, "s.sta", MT940))
    assert r.rows_in == r.rows_ok + r.rows_rejected == 3
    assert [x["line_no"] for x in r.rejects] == [7]
    assert ":61:" in r.rejects[0]["reason"]
    assert [(x["direction"], str(x["amount"])) for x in r.rows] == [
        ("CREDIT", "50.00"),
        ("DEBIT", "5.00"),
    ]
    assert not r.checks[0].ok  # the missing entry shows in the closing balance


def test_mt940_without_entries_reads_zero_rows_and_checks_balance(tmp_path):
    text = ":20:S\n:25:A\n:28C:1/1\n:60F:C261101CNY100,00\n:62F:C261101CNY100,00\n-\n"
    r = inspect_file(write(tmp_path, "s.sta", text))
    assert r.rows_in == 0 and r.checks[0].ok


def test_mt940_truncated_statement_has_no_closing_balance(tmp_path):
    r = inspect_file(write(tmp_path, "s.sta", MT940.split(":62F:")[0]))
    assert r.rows_ok == 2 and r.checks[0].stated is None and not r.checks[0].ok


def test_mt940_file_without_statement_fields_is_not_identified(tmp_path):
    with pytest.raises(UnrecognizedFormat, match="mt940: no :20: and :25:"):
        inspect_file(write(tmp_path, "s.sta", "hello\nworld\n"))


def test_camt_garbage_amount_is_a_reject_with_its_line(tmp_path):
    r = inspect_file(write(tmp_path, "c.xml", CAMT))
    assert r.rows_in == 2 and r.rows_ok == 1
    assert r.rejects[0]["line_no"] == 7 and "five" in r.rejects[0]["reason"]
    assert r.checks[0].ok


def test_camt_entity_expansion_is_refused(tmp_path):
    bomb = CAMT.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    ).replace("A1", "&b;")
    with pytest.raises(InputFileError, match="refused: XML with a DTD"):
        inspect_file(write(tmp_path, "c.xml", bomb))


def test_camt_external_entity_is_refused(tmp_path):
    xxe = CAMT.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("A1", "&x;")
    with pytest.raises(InputFileError, match="refused"):
        inspect_file(write(tmp_path, "c.xml", xxe))


def test_camt_malformed_xml_names_the_line(tmp_path):
    broken = CAMT.replace("</Ntry>\n<Ntry>", "</Ntry>\n<Ntry", 1)
    with pytest.raises(InputFileError, match=r"line \d+: not well-formed XML"):
        inspect_file(write(tmp_path, "c.xml", broken))


def test_camt052_is_not_a_statement(tmp_path):
    with pytest.raises(UnrecognizedFormat, match="camt.052 is not a statement"):
        inspect_file(write(tmp_path, "c.xml", CAMT.replace("camt.053.001.02", "camt.052.001.02")))
