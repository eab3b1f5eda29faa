"""SWIFT MT940 customer statements, parsed with the maintained `mt-940` package.

Several statements per file (each starts at `:20:`), decimal comma, amounts
without decimals (`D9,`), reversals (RC = reversal of a credit: money out; RD =
reversal of a debit: money in), `:61:` with spaces instead of the entry date,
multi-line `:86:`. Each `:61:` is first checked against the field's layout so a
garbage amount (or one with more than two decimals, which would otherwise be
rounded) becomes a reject naming its line, and the rest of the statement is
still read. Per statement, opening balance (`:60F:`/`:60M:`) + entries read is
checked against the closing balance (`:62F:`/`:62M:`); a balance field that
does not read (the library would take the digits up to the first garbage
character) is left out of the parse and its side of the check is None.

Mapping: account_no = `:25:`; value_date = the `:61:` value date; amount =
abs(amount), direction from the mark (C, RD: CREDIT; D, RC: DEBIT);
bank_txn_id = the bank reference (`//...`), else the customer reference (not
NONREF), else a stable hash of (account, statement number, entry index, date,
signed amount, details); narrative = `:86:` lines and the supplementary line,
whitespace collapsed; txn_time = local midnight of the value date; line_no =
the line of the entry's `:61:` in the file.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

import mt940

from transforms.errors import InputFileError
from transforms.sources.bankrecords import BANK_RECORD_COLUMNS, local_midnight_utc, money, stable_id
from transforms.sources.base import ControlCheck, FileContext, Format, Normalized, Verdict, no, yes
from transforms.tabular import stage_records

SUFFIXES = (".sta", ".mt940", ".940", ".txt", ".swi", ".fin")
# :61: value date, optional entry date (or spaces), mark, optional funds code, amount with
# decimal comma and at most two decimals (the library would read `5,005` and we would round it).
FIELD_61 = re.compile(r"^:61:\d{6}(\d{4}| {4})?R?[CD][A-Z]?\d{1,15},\d{0,2}(?![\d,])")
BALANCE = re.compile(r"^:6[02][FM]:")
BALANCE_FIELD = re.compile(r"^:6[02][FM]:[CD]\d{6}[A-Z]{3}\d{1,15},\d{0,2}$")
SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1}
# The library logs every field it cannot match at ERROR; our own error or reject names the line.
logging.getLogger("mt940").setLevel(logging.CRITICAL)


def decode(raw: bytes) -> str:
    """SWIFT text is ASCII; banks add UTF-8 narratives, older exports Latin-1. Latin-1 never fails,
    so it is the fallback, never a guess left to the library."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def split_statements(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each statement; a statement starts at `:20:`."""
    blocks: list[tuple[int, list[str]]] = []
    for i, line in enumerate(lines, start=1):
        if line.startswith(":20:"):
            blocks.append((i, []))
        if blocks:
            blocks[-1][1].append(line)
    return blocks


def entry_spans(block: list[str]) -> list[tuple[int, int]]:
    """(start, end) indexes of each `:61:` entry within a block, end exclusive (its `:86:` included)."""
    starts = [i for i, line in enumerate(block) if line.startswith(":61:")]
    spans = []
    for k, start in enumerate(starts):
        end = start + 1
        limit = starts[k + 1] if k + 1 < len(starts) else len(block)
        while (
            end < limit and not re.match(r"^:(6[02]|64|65)[FM]?:", block[end]) and block[end] != "-"
        ):
            end += 1
        spans.append((start, end))
    return spans


class MT940(Format):
    name = "mt940"
    table = "bank_lines"
    description = "SWIFT MT940 statement (:20:, :25:, :60F:, :61:, :62F:)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() not in SUFFIXES:
            return no(f"file name does not end in one of {', '.join(SUFFIXES)}")
        text = decode(head)
        if ":20:" not in text or ":25:" not in text:
            return no("no :20: and :25: fields: not an MT940 statement")
        if not re.search(r"^:60[FM]:", text, re.M):
            return no("no :60F:/:60M: opening balance: not an MT940 statement")
        return yes("MT940 fields :20:, :25:, :60F:")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = decode(ctx.path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        blocks = split_statements(lines)
        if not blocks:
            raise InputFileError(
                ctx.path, None, "expected at least one statement starting with :20:; none found"
            )
        records, checks = [], []
        for number, (first_line, block) in enumerate(blocks, start=1):
            recs, check = self._statement(ctx, number, first_line, block)
            records += recs
            checks.append(check)
        typed = stage_records(ctx.con, ctx.t("typed"), records, BANK_RECORD_COLUMNS)
        return Normalized(self.table, typed, len(records), checks)

    def _statement(self, ctx, number: int, first_line: int, block: list[str]):
        records, keep = [], [True] * len(block)
        unreadable = {}  # "60"/"62" -> the balance field that does not read
        for i, line in enumerate(block):
            if BALANCE.match(line) and not BALANCE_FIELD.match(line.rstrip()):
                unreadable.setdefault(line[1:3], line.rstrip())
                keep[i] = False
        spans = entry_spans(block)
        good_spans = []
        for start, end in spans:
            if FIELD_61.match(block[start]):
                good_spans.append((start, end))
                continue
            for i in range(start, end):
                keep[i] = False
            records.append(
                {
                    "line_no": first_line + start,
                    "raw": "\n".join(block[start:end]),
                    "reject_reason": ":61: expected date YYMMDD[MMDD], C/D/RC/RD mark and an amount "
                    f"with a decimal comma, at most 2 decimals (e.g. C1234,56); found {block[start]!r}",
                }
            )
        text = "\n".join(line for line, k in zip(block, keep, strict=True) if k)
        statement = mt940.models.Transactions()
        try:
            statement.parse(text)
        except Exception as exc:  # the library raises plain exceptions on bad fields
            line, what = first_line, str(exc)
            if len(exc.args) == 3 and hasattr(exc.args[1], "id"):  # RuntimeError(msg, tag, value)
                tag, value = re.compile(rf":{exc.args[1].id}[A-Z]?:"), str(exc.args[2])
                at = next((i for i, x in enumerate(block) if tag.match(x)), None)
                line += at or 0
                name = block[at].split(":")[1] if at is not None else exc.args[1].id
                what = f"field :{name}: does not read: {value!r}"
            raise InputFileError(
                ctx.path, line, f"statement {number}: cannot parse MT940 ({what})"
            ) from None
        entries = list(statement)
        if len(entries) != len(good_spans):
            raise InputFileError(
                ctx.path,
                first_line,
                f"statement {number}: {len(good_spans)} :61: lines but {len(entries)} entries read",
            )
        info = statement.data
        account = info.get("account_identification") or ctx.source.account_no
        total = Decimal("0.00")
        for k, (entry, (start, end)) in enumerate(zip(entries, good_spans, strict=True)):
            d = entry.data
            signed = money(abs(d["amount"].amount)) * SIGN.get(d.get("status") or "C", 1)
            total += signed
            day = d["date"]
            ref = next(
                (
                    r
                    for r in (d.get("bank_reference"), d.get("customer_reference"))
                    if r and r != "NONREF"
                ),
                None,
            )
            details = " ".join(
                x for x in (d.get("transaction_details"), d.get("extra_details")) if x
            )
            records.append(
                {
                    "line_no": first_line + start,
                    "raw": "\n".join(block[start:end]),
                    "account_no": account,
                    "bank_txn_id": ref
                    or stable_id(
                        "M", account, info.get("statement_number"), k, day, signed, details
                    ),
                    "value_date": day,
                    "txn_time": local_midnight_utc(day, ctx.timezone),
                    "direction": "CREDIT"
                    if signed > 0 or (signed == 0 and SIGN.get(d.get("status"), 1) > 0)
                    else "DEBIT",
                    "amount": abs(signed),
                    "currency": d.get("currency"),
                    "narrative": " ".join(details.split()) or None,
                }
            )
        opening = info.get("final_opening_balance") or info.get("intermediate_opening_balance")
        closing = info.get("final_closing_balance") or info.get("intermediate_closing_balance")
        stated = money(closing.amount.amount) if closing else None
        computed = money(opening.amount.amount) + total if opening else None
        label = f"statement {number} ({info.get('statement_number') or '?'}) closing balance :62F:"
        if unreadable:
            label += " (unreadable: " + ", ".join(unreadable.values()) + ")"
        if stated is None and computed is None:  # None == None would read as agreement
            label += " (no opening and no closing balance; computed = net of entries)"
            computed = total
        return records, ControlCheck(label, stated, computed)
