"""SWIFT MT940 customer statements, read by a small tolerant reader of the fields used.

Several statements per file (each starts at `:20:`; lines before it, such as ABN
AMRO's `ABNANL2A`/`940` header or a SWIFT `{1:...}{4:` envelope, and a `-` or `-}`
terminator are not part of a statement). A field runs from its `:NN[a]:` tag to the
next tag; continuation lines belong to it (a wrapped `:28C:` statement number is
joined without a separator, `:86:` lines with a line break).

Why not the `mt-940` package any more: it parses a statement as one regular
expression per field over the whole text, so one entry it cannot match (a customer
reference longer than 16 characters, as ASN and SNS write, or a supplementary
details line it does not expect) makes the whole file unreadable, and a wrapped
`:28C:` or an amount without a decimal comma (Knab: `C500`) cannot be configured
in. Here every `:61:` is read on its own: one that does not read becomes a rejected
row naming its line, the rest of the statement and of the file is kept, and the
closing-balance check shows the gap.

`:61:` as read: value date YYMMDD, optional entry date MMDD (or four spaces),
mark C, D, RC (reversal of a credit: money out) or RD (reversal of a debit: money
in), optional funds code letter, amount (digits, optional decimal comma and at
most two decimals: `C500`, `D9,`, `C1234,56`; `5,005` is rejected, never rounded),
transaction type (N/F/S + 3 characters, required: without it the end of the
amount is not known), customer reference (any length) and optional `//` bank
reference; a following line that is not a tag is the supplementary details.

Per statement, opening balance (`:60F:`/`:60M:`) + entries read is checked
against the closing balance (`:62F:`/`:62M:`); a balance field that does not read
is left out and its side of the check is None (named in the check).

Mapping: account_no = `:25:`; value_date = the `:61:` value date; amount =
abs(amount), direction from the mark (C, RD: CREDIT; D, RC: DEBIT); currency from
the opening balance; bank_txn_id = the bank reference, else the customer reference
(not NONREF), else a stable hash of (account, statement number, entry index, date,
signed amount, details); narrative = `:86:` lines and the supplementary line,
whitespace collapsed; txn_time = local midnight of the value date; line_no = the
line of the entry's `:61:` in the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from transforms.errors import InputFileError
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

SUFFIXES = (".sta", ".mt940", ".940", ".txt", ".swi", ".fin")
TAG = re.compile(r"^:(\d{2}[A-Z]?):")
FIELD_61 = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4}| {4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?"
    r"(?P<amount>\d{1,15}(?:,\d*)?)(?P<type>[NFS][A-Z0-9]{3})(?P<refs>.*)$"
)
BALANCE = re.compile(
    r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d{1,15}(?:,\d{0,2})?)$"
)
SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1}


def decode(raw: bytes) -> str:
    """SWIFT text is ASCII; banks add UTF-8 narratives, older exports Latin-1. Latin-1 never fails,
    so it is the fallback, never a guess."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass
class Field:
    tag: str
    line_no: int
    lines: list[str] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.lines[0]


def split_statements(lines: list[str]) -> list[tuple[int, list[Field]]]:
    """(line of `:20:`, fields) of each statement in the file."""
    statements: list[tuple[int, list[Field]]] = []
    current: Field | None = None
    for no_, line in enumerate(lines, start=1):
        tag = TAG.match(line)
        if tag:
            if tag.group(1) == "20":
                statements.append((no_, []))
            if statements:
                current = Field(tag.group(1), no_, [line[tag.end() :]])
                statements[-1][1].append(current)
            continue
        if line.startswith("-") or line.startswith("{"):
            current = None  # the statement (or SWIFT block 4) ends
        elif current is not None:
            current.lines.append(line)
    return statements


def _amount(text: str) -> Decimal | None:
    """A SWIFT amount (`1234,56`, `9,`, `500`) exactly; None with more than two decimals."""
    whole, _, cents = text.partition(",")
    if len(cents) > 2:
        return None
    return money(Decimal(f"{whole}.{cents or '0'}"))


def _date(text: str) -> dt.date | None:
    try:
        year = int(text[:2])
        return dt.date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _balance(f: Field | None) -> tuple[Decimal | None, str | None, str | None]:
    """(signed amount, currency, unreadable text) of a balance field."""
    if f is None:
        return None, None, None
    text = "".join(x.strip() for x in f.lines)
    m = BALANCE.match(text)
    amount = _amount(m.group("amount")) if m else None
    if m is None or amount is None or _date(m.group("date")) is None:
        return None, None, f":{f.tag}:{text}"
    return (amount if m.group("mark") == "C" else -amount), m.group("currency"), None


@dataclass
class Entry:
    line_no: int
    raw: str
    value_date: dt.date | None = None
    signed: Decimal | None = None
    mark: str | None = None
    customer_reference: str | None = None
    bank_reference: str | None = None
    details: str = ""
    problem: str | None = None


def read_entry(f61: Field, f86: Field | None) -> Entry:
    raw_lines = [":61:" + f61.first, *f61.lines[1:]]
    if f86 is not None:
        raw_lines += [":86:" + f86.first, *f86.lines[1:]]
    entry = Entry(f61.line_no, "\n".join(raw_lines))
    m = FIELD_61.match(f61.first.rstrip())
    expected = (
        ":61: expected value date YYMMDD, optional entry date MMDD, mark C/D/RC/RD, an amount "
        "with at most 2 decimals after a decimal comma (C1234,56, D9, or C500) and a "
        "transaction type such as NTRF"
    )
    if m is None:
        entry.problem = f"{expected}; found {f61.first!r}"
        return entry
    entry.value_date = _date(m.group("value"))
    amount = _amount(m.group("amount"))
    if entry.value_date is None:
        entry.problem = f":61: value date {m.group('value')!r} is not a date YYMMDD"
    elif amount is None:
        entry.problem = f":61: amount {m.group('amount')!r} has more than 2 decimals; {expected}"
    if entry.problem:
        return entry
    entry.mark = m.group("mark")
    entry.signed = amount * SIGN[entry.mark]
    customer, _, bank = m.group("refs").partition("//")
    entry.customer_reference = customer.strip() or None
    entry.bank_reference = bank.strip() or None
    details = "\n".join(f86.lines).strip() if f86 is not None else ""
    extra = "\n".join(x for x in f61.lines[1:] if x.strip()).strip()
    entry.details = " ".join(x for x in (details, extra) if x)
    return entry


class MT940(Format):
    name = "mt940"
    table = "bank_lines"
    description = "SWIFT MT940 statement (:20:, :25:, :60F:, :61:, :62F:)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if not name_allows(path, SUFFIXES):
            return no(f"file name does not end in one of {', '.join(SUFFIXES)} (or a generic .dat)")
        text = decode(head)
        if ":20:" not in text or ":25:" not in text:
            return no("no :20: and :25: fields: not an MT940 statement")
        if not re.search(r"^:60[FM]:", text, re.M):
            return no("no :60F:/:60M: opening balance: not an MT940 statement")
        return yes("MT940 fields :20:, :25:, :60F:")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = decode(ctx.path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        statements = split_statements(lines)
        if not statements:
            raise InputFileError(
                ctx.path, None, "expected at least one statement starting with :20:; none found"
            )
        records, checks = [], []
        for number, (_, fields) in enumerate(statements, start=1):
            recs, check = self._statement(ctx, number, fields)
            records += recs
            checks.append(check)
        typed = stage_records(ctx.con, ctx.t("typed"), records, BANK_RECORD_COLUMNS)
        return Normalized(self.table, typed, len(records), checks)

    def _statement(self, ctx, number: int, fields: list[Field]):
        def first(*tags: str) -> Field | None:
            return next((f for f in fields if f.tag in tags), None)

        def value(*tags: str) -> str | None:
            f = first(*tags)
            return "".join(x.strip() for x in f.lines) or None if f else None

        account = value("25") or ctx.source.account_no
        statement_no = (value("28C", "28") or "").split("/")[0] or None
        opening, currency, bad_open = _balance(first("60F", "60M"))
        closing, _, bad_close = _balance(first("62F", "62M"))
        records, total, k = [], Decimal("0.00"), 0
        for i, f in enumerate(fields):
            if f.tag != "61":
                continue
            f86 = fields[i + 1] if i + 1 < len(fields) and fields[i + 1].tag == "86" else None
            entry = read_entry(f, f86)
            if entry.problem:
                records.append(
                    {"line_no": entry.line_no, "raw": entry.raw, "reject_reason": entry.problem}
                )
                continue
            total += entry.signed
            ref = next(
                (
                    r
                    for r in (entry.bank_reference, entry.customer_reference)
                    if r and r != "NONREF"
                ),
                None,
            )
            day = entry.value_date
            records.append(
                {
                    "line_no": entry.line_no,
                    "raw": entry.raw,
                    "account_no": account,
                    "bank_txn_id": ref
                    or stable_id("M", account, statement_no, k, day, entry.signed, entry.details),
                    "value_date": day,
                    "txn_time": local_midnight_utc(day, ctx.timezone),
                    "direction": "CREDIT" if SIGN[entry.mark] > 0 else "DEBIT",
                    "amount": abs(entry.signed),
                    "currency": currency,
                    "narrative": " ".join(entry.details.split()) or None,
                }
            )
            k += 1
        computed = opening + total if opening is not None else None
        label = f"statement {number} ({statement_no or '?'}) closing balance :62F:"
        unreadable = [x for x in (bad_open, bad_close) if x]
        if unreadable:
            label += " (unreadable: " + ", ".join(unreadable) + ")"
        if closing is None and computed is None:  # None == None would read as agreement
            label += " (no opening and no closing balance; computed = net of entries)"
            computed = total
        return records, ControlCheck(label, closing, computed)
