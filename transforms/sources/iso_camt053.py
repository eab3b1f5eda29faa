"""ISO 20022 camt.053 bank-to-customer statements, .001.02 to .001.08 (and later).

Parsed with defusedxml: a DTD, entity or external reference is refused, nothing
is fetched. Elements are found by local name, so every version's namespace
reads the same. One row per `Ntry`; `RvslInd` true turns the direction round.
Per statement, OPBD + entries is checked against CLBD, and the stated number
of entries (TxsSummry) against the entries read.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from transforms.errors import InputFileError
from transforms.sources.bankrecords import BANK_RECORD_COLUMNS, local_midnight_utc, money, stable_id
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.tabular import stage_records

NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})")
NTRY_START = re.compile(r"<(?:[\w.-]+:)?Ntry[\s>]")


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


def date_of(el: Element | None) -> dt.date | None:
    value = first_text(el, "Dt", "DtTm")
    return dt.date.fromisoformat(value[:10]) if value else None


def instant_of(el: Element | None) -> dt.datetime | None:
    value = text(el, "DtTm")
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp.astimezone(dt.UTC) if stamp.tzinfo else None


class Camt053(Format):
    name = "camt053"
    table = "bank_lines"
    description = "ISO 20022 camt.053 statement (XML, .001.02-.001.08)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() not in (".xml", ".053", ".camt"):
            return no("file name does not end in .xml, .053 or .camt")
        found = NAMESPACE.search(head)
        if not found:
            return no("no ISO 20022 camt namespace in the first bytes")
        if found.group(1) != b"053":
            return no(f"camt.{found.group(1).decode()} is not a statement (camt.053)")
        return yes(f"camt.053.001.{found.group(2).decode()} namespace")

    def normalize(self, ctx: FileContext) -> Normalized:
        raw = ctx.path.read_bytes()
        try:
            root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as exc:
            raise InputFileError(
                ctx.path, None, f"refused: XML with a DTD or entities ({exc})"
            ) from None
        except ParseError as exc:
            line = exc.position[0] if exc.position else None
            raise InputFileError(ctx.path, line, f"not well-formed XML ({exc})") from None
        entry_lines = [
            raw[: m.start()].count(b"\n") + 1 for m in re.finditer(NTRY_START.pattern.encode(), raw)
        ]
        statements = [s for s in root.iter() if local(s.tag) == "Stmt"]
        if not statements:
            raise InputFileError(ctx.path, None, "expected BkToCstmrStmt/Stmt elements; none found")
        records, checks, index = [], [], 0
        for number, stmt in enumerate(statements, start=1):
            account = first_text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id") or ctx.source.account_no
            total, entries = Decimal("0.00"), find_all(stmt, "Ntry")
            for k, entry in enumerate(entries):
                line_no = entry_lines[index] if index < len(entry_lines) else None
                index += 1
                record = self._entry(ctx, entry, account, number, k, line_no)
                if record.get("reject_reason") is None:
                    total += (
                        record["amount"] if record["direction"] == "CREDIT" else -record["amount"]
                    )
                records.append(record)
            checks += self._checks(stmt, number, total, len(entries))
        typed = stage_records(ctx.con, ctx.t("typed"), records, BANK_RECORD_COLUMNS)
        return Normalized(self.table, typed, len(records), checks)

    def _entry(self, ctx, entry: Element, account, number: int, k: int, line_no) -> dict:
        raw = tostring(entry, encoding="unicode")
        raw = re.sub(r"\s*xmlns(:\w+)?=\"[^\"]*\"", "", raw)[:2000]
        amount_text = text(entry, "Amt")
        try:
            amount = money(Decimal(amount_text)) if amount_text else None
        except InvalidOperation:
            amount = None
        indicator = text(entry, "CdtDbtInd")
        value_date = date_of(find(entry, "ValDt")) or date_of(find(entry, "BookgDt"))
        if amount is None or amount < 0 or indicator not in ("CRDT", "DBIT") or value_date is None:
            return {
                "line_no": line_no,
                "raw": raw,
                "reject_reason": "Ntry: expected Amt (a non-negative decimal), CdtDbtInd CRDT/DBIT and a "
                f"ValDt or BookgDt; found Amt {amount_text!r}, CdtDbtInd {indicator!r}",
            }
        credit = indicator == "CRDT"
        if (text(entry, "RvslInd") or "").lower() == "true":
            credit = not credit
        tx = find(entry, "NtryDtls/TxDtls")
        party = "Dbtr" if credit else "Cdtr"
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
            "txn_time": instant_of(find(entry, "BookgDt"))
            or local_midnight_utc(value_date, ctx.timezone),
            "direction": "CREDIT" if credit else "DEBIT",
            "amount": amount,
            "currency": (find(entry, "Amt").get("Ccy") if find(entry, "Amt") is not None else None),
            "counterparty_name": name,
            "counterparty_account": other,
            "narrative": narrative,
        }

    @staticmethod
    def _checks(stmt: Element, number: int, total: Decimal, entries: int) -> list[ControlCheck]:
        balances = {}
        for bal in find_all(stmt, "Bal"):
            code = text(bal, "Tp/CdOrPrtry/Cd")
            try:
                value = money(Decimal(text(bal, "Amt") or ""))
            except InvalidOperation:
                continue
            balances[code] = -value if text(bal, "CdtDbtInd") == "DBIT" else value
        opening = balances.get("OPBD", balances.get("PRCD"))
        checks = [
            ControlCheck(
                f"statement {number} closing balance CLBD",
                balances.get("CLBD"),
                opening + total if opening is not None else None,
            )
        ]
        stated_count = text(stmt, "TxsSummry/TtlNtries/NbOfNtries")
        if stated_count and stated_count.isdigit():
            checks.append(
                ControlCheck(f"statement {number} entries (TxsSummry)", int(stated_count), entries)
            )
        return checks
