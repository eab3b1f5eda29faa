"""ISO 20022 camt.053 bank-to-customer statements, .001.02 to .001.08 (and later).

Parsed with defusedxml: a DTD, entity or external reference is refused, nothing
is fetched. A document nested more than 64 elements deep, or a file (or zip
entry) over 256 MiB, is refused too: it is parsed as a whole. An entry whose date
cannot be placed in UTC (year 1 or 9999 with an offset) is a reject, and so is one
holding an element text or attribute over MAX_CELL_CHARS (transforms/limits.py; the
reason names the element: `NtryDtls/TxDtls/RmtInf/Ustrd holds 140,000 characters`); such
an element outside the entries (`Stmt/Acct/Id/IBAN`) rejects every entry of its
statement. Elements are found by local name, so every version's namespace reads the
same. One row per `Ntry`:

- amount: `Amt` (non-negative, at most 2 significant decimals: DECIMAL(18,2)
  holds it exactly; `1.005` is a reject, never rounded), currency `Amt/@Ccy`;
- direction: `CdtDbtInd` CRDT -> CREDIT, DBIT -> DEBIT. `RvslInd` true does NOT
  turn it round: ISO 20022 defines CdtDbtInd as the direction of the entry
  itself ("if CdtDbtInd is CRDT and RvslInd is true, the original operation was
  a debit"), so a reversed incoming payment is a DBIT entry with RvslInd true,
  and OPBD + entries = CLBD holds only with CdtDbtInd taken as written;
- value_date: `ValDt` (Dt or DtTm), else `BookgDt`; an entry with neither (some
  banks put the dates on the statement only) takes the statement's date: the
  date of its `CLBD` balance, else of `FrToDt/ToDtTm`, else of `CreDtTm` (an
  entry whose statement states none of them is rejected); txn_time:
  `BookgDt/DtTm` (an offset is honoured, a time without offset is local wall
  clock), else local midnight of the value date;
- bank_txn_id: `AcctSvcrRef`, else `NtryDtls/TxDtls/Refs/AcctSvcrRef`, else
  `.../Refs/EndToEndId` (NOTPROVIDED counts as absent), else a stable hash;
- counterparty: the other party of the money movement, from `TxDtls/RltdPties`:
  the debtor (`Dbtr/Nm` or `Dbtr/Pty/Nm`, `DbtrAcct/Id/IBAN` or `.../Othr/Id`)
  of a credit, the creditor of a debit; for a reversal the roles of the
  original payment are reported, so the opposite party is taken;
- narrative: `AddtlNtryInf`, else `RmtInf/Ustrd`, else `AddtlTxInf`.

line_no is the line of the entry's `<Ntry>` start tag, taken from expat's
position while re-reading the (already accepted, DTD-free) bytes: exact, and
blind to `<Ntry` text inside comments or CDATA.

Per statement: OPBD (or PRCD) + entries read is checked against CLBD; when
`TxsSummry` states them, the number of entries and the credit/debit counts and
sums are checked against the entries read. A statement without a CLBD balance
does not state its closing balance: there is no closing-balance check for it (a
CLBD that is present but unreadable is a failed check, stated None).

Files: `.xml`, `.053`, `.camt`, or a name that says nothing (`.dat`, `.txt`, no
extension: judged by the namespace in the first bytes); a `.zip` (or a zip
without the extension) holding one or more camt.053 `.xml` files, each read in
archive order, their lines numbered as if the entries were one file (a reject's
reason names the entry and its own line).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, tostring
from xml.parsers import expat
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from transforms import zipfiles
from transforms.errors import InputFileError
from transforms.limits import MAX_CELL_CHARS, too_long
from transforms.sources.bankrecords import BANK_RECORD_COLUMNS, local_midnight_utc, money, stable_id
from transforms.sources.base import (
    ControlCheck,
    FileContext,
    Format,
    Normalized,
    Verdict,
    name_allows,
    no,
    yes,
)
from transforms.tabular import stage_records

NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})")
# ISO ActiveOrHistoricCurrencyAndAmount: up to 18 digits, 5 of them decimals; DECIMAL(18,2) keeps 16.
AMOUNT = re.compile(r"[0-9]{1,16}(\.[0-9]{1,5})?")
SIGNED_AMOUNT = re.compile(r"-?[0-9]{1,16}(\.[0-9]{1,5})?")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find(el: Element | None, path: str) -> Element | None:
    """Namespace-agnostic `A/B/C` lookup of the first match."""
    for name in path.split("/"):
        if el is None:
            return None
        el = next((c for c in el if local(c.tag) == name), None)
    return el


def find_all(el: Element, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name]


def text(el: Element | None, path: str) -> str | None:
    found = find(el, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def first_text(el: Element | None, *paths: str) -> str | None:
    return next((t for t in (text(el, p) for p in paths) if t), None)


def amount_of(value: str | None, pattern: re.Pattern = AMOUNT) -> Decimal | None:
    """Exact DECIMAL(18,2) value of an ISO amount, or None (absent, malformed, or fractions of a fen)."""
    if value is None or not pattern.fullmatch(value):
        return None
    exact = Decimal(value)
    cents = money(exact)
    return cents if cents == exact else None


def over_long(el: Element, path: str = "", skip: str | None = None) -> str | None:
    """The first element text or attribute under `el` over MAX_CELL_CHARS, as `A/B holds N
    characters; ...` (paths relative to `el`; `skip`: a child name not to look into)."""
    for child in el:
        name = local(child.tag)
        if name == skip:
            continue
        where = f"{path}/{name}" if path else name
        values = [(where, child.text or "")]
        values += [(f"{where}/@{local(k)}", v) for k, v in child.attrib.items()]
        for at, value in values:
            if len(value) > MAX_CELL_CHARS:
                return f"{at} holds {too_long(len(value))}"
        found = over_long(child, where)
        if found:
            return found
    return None


def date_of(el: Element | None) -> tuple[dt.date | None, str | None]:
    """(date, text) of a `Dt`/`DtTm` choice; date None when the text is not an ISO date."""
    value = first_text(el, "Dt", "DtTm")
    if not value:
        return None, None
    try:
        return dt.date.fromisoformat(value[:10]), value
    except ValueError:
        return None, value


def instant_of(el: Element | None, timezone: str) -> dt.datetime | None:
    """UTC instant of a `DtTm`; without an offset it is wall-clock time in `timezone`."""
    value = text(el, "DtTm")
    if not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=ZoneInfo(timezone))
    return stamp.astimezone(dt.UTC)


MAX_DEPTH = 64  # a camt.053 document nests about 12 elements deep


class TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


def entry_lines(raw: bytes) -> list[int]:
    """Line of each `Ntry` start tag, in document order (the order of `root.iter()`).

    Raises TooDeep (with the line) for elements nested more than MAX_DEPTH deep: no
    statement is, and serializing such an entry for `raw` would exhaust Python's stack."""
    lines: list[int] = []
    depth = 0
    parser = expat.ParserCreate()

    def start(name: str, _attrs) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise TooDeep(parser.CurrentLineNumber)
        if name.rsplit(":", 1)[-1] == "Ntry":
            lines.append(parser.CurrentLineNumber)

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(raw, True)
    return lines


def statement_date(stmt: Element) -> dt.date | None:
    """The date a statement is for: its CLBD balance date, else FrToDt/ToDtTm, else CreDtTm."""
    for bal in find_all(stmt, "Bal"):
        if text(bal, "Tp/CdOrPrtry/Cd") == "CLBD":
            day, _ = date_of(find(bal, "Dt"))
            if day:
                return day
    for path in ("FrToDt/ToDtTm", "CreDtTm"):
        value = text(stmt, path)
        try:
            if value:
                return dt.date.fromisoformat(value[:10])
        except ValueError:
            continue
    return None


def _namespace_verdict(head: bytes) -> Verdict:
    found = NAMESPACE.search(head)
    if not found:
        return no("no ISO 20022 camt namespace in the first bytes")
    if found.group(1) != b"053":
        return no(f"camt.{found.group(1).decode()} is not a statement (camt.053)")
    return yes(f"camt.053.001.{found.group(2).decode()} namespace")


class Camt053(Format):
    name = "camt053"
    table = "bank_lines"
    description = "ISO 20022 camt.053 statement (XML, .001.02-.001.08)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if zipfiles.is_zip(path, head):
            problem = zipfiles.zip_problem(path)
            if problem:
                return no(problem)
            try:
                entries = zipfiles.read_entries(path, ".xml", 4096)
            except InputFileError as exc:
                return no(str(exc).removeprefix(f"{path}").lstrip(", :"))
            if not entries:
                return no("zip without a .xml entry")
            verdicts = [(name, _namespace_verdict(h)) for name, h in entries]
            bad = [f"{name}: {v.reason}" for name, v in verdicts if not v]
            if bad:
                return no("zip entries that are not camt.053 statements: " + "; ".join(bad[:3]))
            return yes(f"zip of {len(entries)} camt.053 statement(s): {verdicts[0][1].reason}")
        if not name_allows(path, (".xml", ".053", ".camt")):
            return no("file name does not end in .xml, .053, .camt, .zip (or a generic .txt/.dat)")
        return _namespace_verdict(head)

    def normalize(self, ctx: FileContext) -> Normalized:
        if zipfiles.is_zip(ctx.path):
            documents = zipfiles.read_entries(ctx.path, ".xml")
            if not documents:
                raise InputFileError(
                    ctx.path, None, "expected a zip of camt.053 .xml files; none found"
                )
        else:
            size = ctx.path.stat().st_size
            if size > zipfiles.MAX_READ_BYTES:
                raise InputFileError(
                    ctx.path,
                    None,
                    f"{size:,} bytes; expected a camt.053 file of at most "
                    f"{zipfiles.MAX_READ_BYTES:,} bytes (it is parsed as a whole: split it)",
                )
            documents = [(None, ctx.path.read_bytes())]
        records, checks, offset, number = [], [], 0, 0
        for entry, raw in documents:
            recs, chks, number = self._document(ctx, entry, raw, offset, number)
            records += recs
            checks += chks
            offset += raw.count(b"\n") + 1
        typed = stage_records(ctx.con, ctx.t("typed"), records, BANK_RECORD_COLUMNS)
        return Normalized(self.table, typed, len(records), checks)

    def _document(self, ctx, entry: str | None, raw: bytes, offset: int, number: int):
        where = ctx.path if entry is None else f"{ctx.path} (entry {entry})"
        try:
            root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as exc:
            raise InputFileError(
                where, None, f"refused: XML with a DTD or entities ({exc})"
            ) from None
        except ParseError as exc:
            line = exc.position[0] if exc.position else None
            raise InputFileError(
                where,
                line,
                f"not well-formed XML ({exc}); expected a complete camt.053 document (a file cut "
                "short, or one with binary content?)",
            ) from None
        # Safe to re-read with expat: defusedxml has just refused any DTD or entity.
        try:
            lines = entry_lines(raw)
        except TooDeep as exc:
            raise InputFileError(
                where,
                exc.line,
                f"elements nested more than {MAX_DEPTH} deep; expected a camt.053 statement "
                "(about 12 levels)",
            ) from None
        ntry = [e for e in root.iter() if local(e.tag) == "Ntry"]
        line_of = dict(zip(map(id, ntry), lines, strict=False))
        statements = [s for s in root.iter() if local(s.tag) == "Stmt"]
        if not statements:
            raise InputFileError(where, None, "expected BkToCstmrStmt/Stmt elements; none found")
        records, checks = [], []
        for stmt in statements:
            number += 1
            account = first_text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id") or ctx.source.account_no
            fallback = statement_date(stmt)
            unreadable = over_long(stmt, "Stmt", skip="Ntry")
            entries = []
            for k, e in enumerate(find_all(stmt, "Ntry")):
                line = line_of.get(id(e))
                rec = self._entry(ctx, e, account, number, k, line, fallback, unreadable)
                if line is not None:
                    rec["line_no"] = line + offset
                if entry is not None and rec.get("reject_reason"):
                    rec["reject_reason"] = f"entry {entry} line {line}: {rec['reject_reason']}"
                entries.append(rec)
            records += entries
            checks += self._checks(stmt, number, [r for r in entries if not r.get("reject_reason")])
        return records, checks, number

    def _entry(
        self,
        ctx,
        entry: Element,
        account,
        number: int,
        k: int,
        line_no,
        fallback=None,
        unreadable: str | None = None,
    ) -> dict:
        raw = tostring(entry, encoding="unicode")
        raw = re.sub(r"\s*xmlns(:\w+)?=\"[^\"]*\"", "", raw)
        raw = re.sub(r"(</?)ns[0-9]+:", r"\1", raw)[:2000]
        if unreadable:  # in the statement: its account, say
            why = f"{unreadable}: the statement's entries are not read"
            return {"line_no": line_no, "raw": raw[:1000] + " ...", "reject_reason": why}
        too_big = over_long(entry)
        if too_big:
            return {"line_no": line_no, "raw": raw[:1000] + " ...", "reject_reason": too_big}
        amount_text = text(entry, "Amt")
        amount = amount_of(amount_text)
        indicator = text(entry, "CdtDbtInd")
        value_date, value_text = date_of(find(entry, "ValDt"))
        booked, booked_text = date_of(find(entry, "BookgDt"))
        problems = []
        if amount is None:
            problems.append(
                "Amt: expected a non-negative amount with at most 2 decimals (e.g. 1234.56), "
                f"found {amount_text!r}"
            )
        if indicator not in ("CRDT", "DBIT"):
            problems.append(f"CdtDbtInd: expected CRDT or DBIT, found {indicator!r}")
        if value_text and value_date is None:
            problems.append(f"ValDt: expected an ISO date YYYY-MM-DD, found {value_text!r}")
        if booked_text and booked is None:
            problems.append(f"BookgDt: expected an ISO date YYYY-MM-DD, found {booked_text!r}")
        if not value_text and not booked_text and fallback is None:
            problems.append(
                "ValDt/BookgDt: required, found neither (and the statement states no date: "
                "no CLBD balance date, FrToDt or CreDtTm)"
            )
        if problems:
            return {"line_no": line_no, "raw": raw, "reject_reason": "; ".join(problems)}
        value_date = value_date or booked or fallback
        try:
            txn_time = instant_of(find(entry, "BookgDt"), ctx.timezone) or local_midnight_utc(
                value_date, ctx.timezone
            )
        except OverflowError:  # e.g. 0001-01-01 local is before the first UTC instant
            found = booked_text or value_text or str(value_date)
            return {
                "line_no": line_no,
                "raw": raw,
                "reject_reason": f"BookgDt/ValDt: {found!r} is out of the range of dates a time "
                "can hold; expected a date such as 2026-11-02",
            }
        credit = indicator == "CRDT"
        reversal = (text(entry, "RvslInd") or "").lower() in ("true", "1")
        tx = find(entry, "NtryDtls/TxDtls")
        party = "Dbtr" if credit != reversal else "Cdtr"
        name = first_text(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm")
        other = first_text(
            tx, f"RltdPties/{party}Acct/Id/IBAN", f"RltdPties/{party}Acct/Id/Othr/Id"
        )
        narrative = first_text(entry, "AddtlNtryInf") or first_text(
            tx, "RmtInf/Ustrd", "AddtlTxInf"
        )
        ref = first_text(entry, "AcctSvcrRef") or first_text(
            tx, "Refs/AcctSvcrRef", "Refs/EndToEndId"
        )
        if ref == "NOTPROVIDED":
            ref = None
        return {
            "line_no": line_no,
            "raw": raw,
            "account_no": account,
            "bank_txn_id": ref
            or stable_id("X", account, number, k, value_date, amount, indicator, narrative),
            "value_date": value_date,
            "txn_time": txn_time,
            "direction": "CREDIT" if credit else "DEBIT",
            "amount": amount,
            "currency": find(entry, "Amt").get("Ccy"),
            "counterparty_name": name,
            "counterparty_account": other,
            "narrative": narrative,
        }

    @staticmethod
    def _checks(stmt: Element, number: int, rows: list[dict]) -> list[ControlCheck]:
        credits = [r["amount"] for r in rows if r["direction"] == "CREDIT"]
        debits = [r["amount"] for r in rows if r["direction"] == "DEBIT"]
        total = sum(credits, Decimal("0.00")) - sum(debits, Decimal("0.00"))
        balances: dict[str | None, Decimal | None] = {}
        for bal in find_all(stmt, "Bal"):
            code = text(bal, "Tp/CdOrPrtry/Cd")
            value = amount_of(text(bal, "Amt"), SIGNED_AMOUNT)
            if value is not None and text(bal, "CdtDbtInd") == "DBIT":
                value = -value
            balances.setdefault(code, value)
        opening = balances.get("OPBD", balances.get("PRCD"))
        stated, label = balances.get("CLBD"), f"statement {number} closing balance CLBD"
        computed = opening + total if opening is not None else None
        if stated is None and computed is None:  # None == None would read as agreement
            label += " (no readable OPBD and CLBD; computed = net of entries)"
            computed = total
        # no CLBD at all: the statement does not state a closing balance, nothing to check
        checks = [ControlCheck(label, stated, computed)] if "CLBD" in balances else []
        summary = find(stmt, "TxsSummry")
        for label, path, count, amounts in (
            ("entries", "TtlNtries", len(rows), None),
            ("credit entries", "TtlCdtNtries", len(credits), credits),
            ("debit entries", "TtlDbtNtries", len(debits), debits),
        ):
            stated = text(summary, f"{path}/NbOfNtries")
            if stated is not None:
                value = int(stated) if stated.isascii() and stated.isdigit() else None
                checks.append(ControlCheck(f"statement {number} {label} (TxsSummry)", value, count))
            stated_sum = text(summary, f"{path}/Sum")
            if amounts is not None and stated_sum is not None:
                checks.append(
                    ControlCheck(
                        f"statement {number} {label} sum (TxsSummry)",
                        amount_of(stated_sum),
                        sum(amounts, Decimal("0.00")),
                    )
                )
        # Net of all entries: TtlNetNtry/Amt (.001.03 on) or TtlNetNtryAmt (.001.02).
        net_el = find(summary, "TtlNtries/TtlNetNtry")
        net_text = text(net_el, "Amt") or text(summary, "TtlNtries/TtlNetNtryAmt")
        if net_text is not None:
            sign = text(net_el, "CdtDbtInd") or text(summary, "TtlNtries/CdtDbtInd")
            net = amount_of(net_text)
            if net is not None and sign == "DBIT":
                net = -net
            checks.append(
                ControlCheck(f"statement {number} net of entries (TxsSummry)", net, total)
            )
        return checks
