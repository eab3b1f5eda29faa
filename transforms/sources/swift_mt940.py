"""SWIFT MT940 customer statements, read by a small tolerant reader of the fields used.

Several statements per file (each starts at `:20:`; lines before it, such as ABN
AMRO's `ABNANL2A`/`940` header, are not part of a statement). The SWIFT envelope is
framing, not content: header blocks `{1:...}{2:...}{3:...}` and `{4:` (the first field
may follow on that line), the terminator `-` or `-}` (a line of just that, maybe with
`{5:...}` trailer blocks after it) and the SOH/ETX bytes (0x01/0x03) around each message
of a FIN file. A field runs from its `:NN[a]:` tag to the next tag; continuation lines
belong to it (a wrapped `:28C:` statement number is joined without a separator, `:86:`
lines with a line break), also one that starts with a `-` (`- DIGITENNE ...`).

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
in), optional funds code letter (the third letter of the currency: `DR6,00` is a
debit of 6.00, `DF3460,00` a debit of 3460.00), amount (digits, optional decimal
comma and at most two decimals: `C500`, `D9,`, `C1234,56`; `5,005` is rejected,
never rounded), transaction type (N/F/S + 3 characters, blanks allowed as in `S   `,
required: without it the end of the amount is not known), customer reference (any
length) and optional `//` bank reference; a following line that is not a tag is the
supplementary details. A value date of 29 or 30 February past that February's end
(a 30/360 period-end entry, `1602300301`) is read as its last day, and the row's
narrative says so; any other date that does not exist is a reject.

Text that is not a statement is reported, not skipped, on its own line: anything
after the last statement's closing `-` (something appended to the file, binary junk)
is one rejected row naming its first line and how many lines follow; binary content
between statements, a field before the first `:20:`, and lines between a statement's
`-` and a field that continues it likewise. A line inside a statement that is not
text (a NUL byte or another control character, or a line over 1 MiB, never read
whole) or a field over MAX_CELL_CHARS (transforms/limits.py) rejects its entry (or
makes its balance unreadable; an unreadable `:25:` rejects the statement's entries).
Digits are ASCII only: a full-width `１８４２２` in an amount is a reject saying so. A
line that is not UTF-8 is read as Latin-1 (older exports), line by line.

Per statement, opening balance (`:60F:`/`:60M:`) + entries read is checked
against the closing balance (`:62F:`/`:62M:`); a balance field that does not read
is left out and its side of the check is None (named in the check).

Mapping: account_no = `:25:`; value_date = the `:61:` value date; amount =
abs(amount), direction from the mark (C, RD: CREDIT; D, RC: DEBIT); currency from
the opening balance; bank_txn_id = the bank reference, else the customer reference
(not NONREF), else a stable hash of (account, statement number, entry index, date,
signed amount, details); narrative = `:86:` lines and the supplementary line,
whitespace collapsed (and, after ` / `, how a 30 February was read); txn_time = local midnight of the value date; line_no = the
line of the entry's `:61:` in the file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

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
from transforms.textio import Unreadable, iter_lines

SUFFIXES = (".sta", ".mt940", ".940", ".txt", ".swi", ".fin")
# Digits are ASCII [0-9] only: Python's \d (and int(), Decimal()) also take full-width ０-９.
TAG = re.compile(r"^:([0-9]{2}[A-Z]?):")
# The transaction type is N/F/S + 3 characters; banks pad the S (SWIFT message type) form with
# blanks (`S   X`: type `S   `, reference X), so blanks are allowed after the letter.
FIELD_61 = re.compile(
    r"^(?P<value>[0-9]{6})(?P<entry>[0-9]{4}| {4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?"
    r"(?P<amount>[0-9]{1,15}(?:,[0-9]*)?)(?P<type>[NFS][A-Z0-9 ]{3})(?P<refs>.*)$"
)
BALANCE = re.compile(
    r"^(?P<mark>[CD])(?P<date>[0-9]{6})(?P<currency>[A-Z]{3})(?P<amount>[0-9]{1,15}(?:,[0-9]{0,2})?)$"
)
NON_ASCII_DIGITS = re.compile(r"(?:(?![0-9])\d)+")  # e.g. full-width ０-９
# Not in any text statement; Ctrl-Z (0x1a), the DOS end-of-file mark, is tolerated.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f\x7f]")
# The SWIFT envelope: header blocks {1:...}{2:...}{3:{...}} then `{4:` opening the text block
# (on its own line, or with the first field after it); `-` or `-}` ends the text block, maybe
# followed by trailer blocks {5:{CHK:...}} / {S:{...}}; those can also stand on lines of their own.
HEADER_BLOCKS = re.compile(r"^(?:\{[1-3]:(?:[^{}]|\{[^{}]*\})*\})*\{4:")
TRAILER = r"(?:\{[5S]:(?:[^{}]|\{[^{}]*\})*\}?)*"
TERMINATOR = re.compile(r"-\}?" + TRAILER)
BLOCKS = re.compile(r"(?:\{[1-35S]:(?:[^{}]|\{[^{}]*\})*\}?)+|\}+")
FRAMING = "\x01\x03"  # SOH / ETX around each message of a FIN file
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
    problem: str | None = None  # a line of it that is not text (binary, too long)
    chars: int = 0  # of its text, every line counted (only the first are kept past the limit)
    end_line: int = 0

    @property
    def first(self) -> str:
        return self.lines[0]

    def add(self, line_no: int, text: str) -> None:
        self.chars += len(text)
        self.end_line = line_no
        if self.chars <= MAX_CELL_CHARS:
            self.lines.append(text)
        else:  # keep a preview of its first line for `raw`, not the whole field
            self.lines = [_preview(self.lines[0] if self.lines else text)]

    @property
    def unreadable(self) -> str | None:
        """Why the field cannot be read (a line that is not text, or too long), or None."""
        if self.problem or self.chars <= MAX_CELL_CHARS:
            return self.problem
        lines = f"line {self.line_no}"
        if self.end_line != self.line_no:
            lines = f"lines {self.line_no}-{self.end_line}"
        return f"the :{self.tag}: field ({lines}) holds {too_long(self.chars)}"


@dataclass
class Stray:
    """Lines outside every statement that are not an envelope or a header: reported, not read."""

    line_no: int
    raw: str
    lines: int
    reason: str


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's lines, numbered as the reader counts them: a lone CR ends a line too.

    SWIFT text is ASCII; banks add UTF-8 narratives, older exports Latin-1: a line that
    is not UTF-8 is read as Latin-1 (which never fails). A line too long or holding a
    NUL byte comes as an `Unreadable` stand-in (see transforms.textio), never whole."""
    extra = 0
    for line_no, text in iter_lines(path, "utf-8-sig", fallback="latin-1"):
        if "\r" in text and not isinstance(text, Unreadable):
            parts = text.split("\r")
            yield from enumerate(parts, start=line_no + extra)
            extra += len(parts) - 1
        else:
            yield line_no + extra, text


def _binary(text: str) -> str | None:
    """Why a line is not statement text (an Unreadable stand-in, a control character), or None."""
    if isinstance(text, Unreadable):
        return text.reason
    found = CONTROL.search(text)
    if found:
        return (
            f"a control character ({ord(found.group()):#04x}) at character {found.start() + 1}: "
            "binary content, not MT940 text"
        )
    return None


def _unframe(text: str) -> str:
    """The line without the SOH/ETX bytes that frame each message of a FIN file: at its start
    or end, or (ETX SOH) between one message's trailer and the next one's header."""
    if "\x01" not in text and "\x03" not in text:
        return text
    bare = text.strip(FRAMING)
    inner = bare.replace("\x03", "").replace("\x01", "")
    return inner if inner != bare and _envelope(inner) is not None else bare


def _envelope(text: str) -> str | None:
    """None for statement text. For a line of the SWIFT envelope (header blocks and `{4:`, a
    terminator `-`/`-}` with trailer blocks, or both): what follows `{4:` on it, usually ''."""
    line = text.rstrip(" \t\x1a")
    end = TERMINATOR.match(line)
    if end:
        line = line[end.end() :]
    head = HEADER_BLOCKS.match(line)
    if head:
        return line[head.end() :]
    if (end and not line) or BLOCKS.fullmatch(line):
        return ""
    return None


def split_statements(
    lines: Iterable[tuple[int, str]],
) -> tuple[list[tuple[int, list[Field]]], list[Stray]]:
    """(line of `:20:`, fields) of each statement in the file, and the stray content.

    A field runs from its tag to the next tag, a terminator or an envelope line (SOH/ETX
    framing removed). A line that is not text (binary, too long) inside a field is that
    field's `problem` (its entry is rejected, its balance unreadable). Outside the
    statements, a text line before a statement is a header (`ABNANL2A`, `940`); any other
    line is stray, reported on its own line: binary content, a field before the first
    `:20:`, lines between a statement's `-` and a field that continues it, and anything
    after the last statement."""
    statements: list[tuple[int, list[Field]]] = []
    strays: list[Stray] = []
    current: Field | None = None
    outside: list[tuple[int, str, str | None]] = []  # lines since the last field or envelope
    last_line = 0  # the last line that belongs to a statement (or ends it)
    ended_at = 0  # the line of the last terminator or envelope line

    def flush(where: str) -> None:
        """Report `outside` as strays: `before` a statement only its binary lines (text
        lines are headers), `inside` or `trailing` all of them as one run."""
        run: list[tuple[int, str, str | None]] = []
        for item in [*outside, None]:
            if item is not None and (where != "before" or item[2]):
                run.append(item)
                continue
            if run:
                first, raw, problem = run[0]
                if where == "trailing":
                    why = (
                        f"after the last statement (which ends on line {last_line}): "
                        f"{len(run)} line(s) that are not part of an MT940 statement; expected "
                        "nothing after its closing '-'"
                    )
                elif where == "inside":
                    why = (
                        f"{len(run)} line(s) inside statement {len(statements)} but outside any "
                        f"field, after the '-' on line {ended_at} that ended it; expected a field "
                        "tag (:61:, :86:, ...) or nothing before the next :20:"
                    )
                else:
                    why = f"{len(run)} line(s) outside any statement: {problem}"
                    problem = None
                why += f" ({problem})" if problem else ""
                strays.append(Stray(first, _preview(raw), len(run), why))
                run = []
        outside.clear()

    for no_, line in lines:
        text = line if isinstance(line, Unreadable) else _unframe(line)
        problem = _binary(text)
        text = text.raw if isinstance(text, Unreadable) else text
        rest = None if problem else _envelope(text)
        if rest is not None:
            current = None  # the statement (SWIFT block 4) ends, or a message begins
            ended_at = no_
            if statements and not outside:
                last_line = no_
            if not rest:
                continue
            text = rest  # the first field, written on the line of `{4:`
        tag = TAG.match(text)
        if tag and not statements and tag.group(1) != "20":
            outside.append((no_, text, "a field before the first :20: (a statement's start)"))
        elif tag:
            if tag.group(1) == "20":
                flush("before")
                statements.append((no_, []))
            elif outside:
                flush("inside")
            current = Field(tag.group(1), no_, problem=problem)
            current.add(no_, text[tag.end() :])
            statements[-1][1].append(current)
            last_line = no_
        elif current is not None:
            if problem:
                current.problem = current.problem or f"line {no_}: {problem}"
            else:
                current.add(no_, text)
            last_line = no_
        elif text.strip(" \t\x1a"):
            outside.append((no_, text, problem))
    if statements:
        flush("trailing")
    return statements, strays


def _preview(text: str, size: int = 200) -> str:
    text = text.replace("\x00", "\u2400")
    return text if len(text) <= size else text[:size] + " ..."


def _amount(text: str) -> Decimal | None:
    """A SWIFT amount (`1234,56`, `9,`, `500`) exactly; None with more than two decimals."""
    whole, _, cents = text.partition(",")
    if len(cents) > 2:
        return None
    return money(Decimal(f"{whole}.{cents or '0'}"))


def _date(text: str) -> dt.date | None:
    """A date YYMMDD, or None. 29 and 30 February past the end of that February read as its
    last day: German banks date quarterly closing entries by a 30/360 day count, in which every
    month has 30 days (`1602300301`), as other MT940 readers do (wolph/mt940 clamps the day the
    same way). Any other impossible date (31 February, 31 April) is None."""
    year, month, day = int(text[:2]), int(text[2:4]), int(text[4:6])
    year += 2000 if year < 80 else 1900
    if month == 2 and day in (29, 30):
        day = calendar.monthrange(year, 2)[1]
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_note(text: str, day: dt.date) -> str | None:
    """What the row says when its value date was not read as written (30 February)."""
    if int(text[4:6]) == day.day:
        return None
    return (
        f"value date {text} read as {day.isoformat()}, the last day of February "
        f"(起息日 {text} 按2月最后一天 {day.isoformat()} 读取)"
    )


def _balance(f: Field | None) -> tuple[Decimal | None, str | None, str | None]:
    """(signed amount, currency, unreadable text) of a balance field."""
    if f is None:
        return None, None, None
    text = "".join(x.strip() for x in f.lines)
    if f.unreadable:
        return None, None, f":{f.tag}:{_preview(text)} ({f.unreadable})"
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
    note: str | None = None  # how the entry was read where not as written (30 February)


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
    unreadable = f61.unreadable or (f86.unreadable if f86 is not None else None)
    if unreadable:
        entry.problem = f":{f61.tag}:/:86: {unreadable}"
        return entry
    if m is None:
        wide = NON_ASCII_DIGITS.search(f61.first)
        if wide:
            entry.problem = (
                f":61: {wide.group()!r} holds non-ASCII digits; expected ASCII digits 0-9 "
                f"(SWIFT text); found {f61.first!r}"
            )
            return entry
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
    entry.note = _date_note(m.group("value"), entry.value_date)
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
        statements, strays = split_statements(read_lines(ctx.path))
        if not statements:
            raise InputFileError(
                ctx.path, None, "expected at least one statement starting with :20:; none found"
            )
        records, checks = [], []
        for number, (_, fields) in enumerate(statements, start=1):
            recs, check = self._statement(ctx, number, fields)
            records += recs
            checks.append(check)
        records += [{"line_no": x.line_no, "raw": x.raw, "reject_reason": x.reason} for x in strays]
        typed = stage_records(ctx.con, ctx.t("typed"), records, BANK_RECORD_COLUMNS)
        return Normalized(self.table, typed, len(records), checks)

    def _statement(self, ctx, number: int, fields: list[Field]):
        def first(*tags: str) -> Field | None:
            return next((f for f in fields if f.tag in tags), None)

        def value(*tags: str) -> str | None:
            f = first(*tags)
            return "".join(x.strip() for x in f.lines) or None if f and not f.unreadable else None

        account = value("25") or ctx.source.account_no
        # An account that cannot be read is not replaced by the configured one: its entries
        # are rejected (they are another account's, for all we know).
        bad_account = first("25").unreadable if first("25") else None
        statement_no = (value("28C", "28") or "").split("/")[0] or None
        opening, currency, bad_open = _balance(first("60F", "60M"))
        closing, _, bad_close = _balance(first("62F", "62M"))
        records, total, k = [], Decimal("0.00"), 0
        for i, f in enumerate(fields):
            if f.tag != "61":
                continue
            f86 = fields[i + 1] if i + 1 < len(fields) and fields[i + 1].tag == "86" else None
            entry = read_entry(f, f86)
            if bad_account and not entry.problem:
                entry.problem = f"{bad_account}: the statement's entries have no account"
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
                    "narrative": " / ".join(
                        filter(None, [" ".join(entry.details.split()), entry.note])
                    )
                    or None,
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
