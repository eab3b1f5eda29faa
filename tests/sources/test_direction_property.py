"""Property: for every bank format, flipping the direction of one row changes the file's
signed total by exactly twice that row's amount, and nothing else: no row's direction is
ignored (the BOCOM misread read a 借贷 column as if it were not there).

Rows are drawn with a fixed seed from every bank sample under tests/fixtures/; the
direction is flipped the way the layout writes it: the indicator value (借 <-> 贷), the
debit/credit column the amount stands in, the sign of a signed amount, the MT940 mark
(C <-> D, RC <-> RD) or the camt.053 CdtDbtInd.
"""

from __future__ import annotations

import csv
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.inspect import inspect_file
from transforms.sources.cnbank import find_roles, is_statement_header
from transforms.tabular import iter_rows

FIXTURES = Path(__file__).parent.parent / "fixtures"
PICKS = 4  # rows flipped per sample
SEED = 20261101


def signed(result) -> dict[int, Decimal]:
    return {
        r["line_no"]: r["amount"] if r["direction"] == "CREDIT" else -r["amount"]
        for r in result.rows
    }


def check_flip(before, after, line_no: int) -> None:
    old, new = signed(before), signed(after)
    assert (after.rows_ok, after.rows_rejected) == (before.rows_ok, before.rows_rejected)
    assert sum(new.values()) - sum(old.values()) == -2 * old[line_no], f"line {line_no}"
    assert new[line_no] == -old[line_no]
    assert {k: v for k, v in new.items() if k != line_no} == {
        k: v for k, v in old.items() if k != line_no
    }


def picks(lines: list[int]) -> list[int]:
    return random.Random(SEED).sample(sorted(lines), min(PICKS, len(lines)))


# ---- cn_bank: every layout, rewritten cell by cell as a UTF-8 CSV


def _negate(text: str) -> str:
    t = text.strip()
    if t.startswith("-"):
        return t[1:]
    return "-" + t.lstrip("+")


def flip_cells(cells: list[str], roles: dict[str, int]) -> list[str]:
    cells = list(cells)
    if "indicator" in roles:
        i = roles["indicator"]
        swap = {"借": "贷", "贷": "借", "Dr": "Cr", "Cr": "Dr", "D": "C", "C": "D"}
        cells[i] = re.sub("借|贷|Dr|Cr|^D$|^C$", lambda m: swap[m.group(0)], cells[i].strip())
        if "debit" in roles and "credit" in roles:
            d, c = roles["debit"], roles["credit"]
            cells[d], cells[c] = cells[c], cells[d]
    elif "debit" in roles and "credit" in roles:
        d, c = roles["debit"], roles["credit"]
        cells[d], cells[c] = cells[c], cells[d]
    else:
        cells[roles["signed"]] = _negate(cells[roles["signed"]])
    return cells


def write_rows(path: Path, rows: list[tuple[int, list[str]]]) -> Path:
    """Keep physical line numbers: blank lines fill the gaps iter_rows skipped."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        at = 1
        for line_no, cells in rows:
            while at < line_no:
                f.write("\n")
                at += 1
            w.writerow(cells)
            at += 1
    return path


@pytest.mark.parametrize(
    "sample",
    sorted(
        p
        for p in (FIXTURES / "cn_bank").iterdir()
        if p.suffix in (".csv", ".xls", ".xlsx") and ".golden" not in p.name
    ),
    ids=lambda p: p.name,
)
def test_cn_bank_flipping_one_row(tmp_path, sample):
    rows = list(iter_rows(sample))
    header = next(i for i, (_, cells) in enumerate(rows) if is_statement_header(cells))
    roles = find_roles(rows[header][1])
    before = inspect_file(write_rows(tmp_path / "before.csv", rows))
    assert before.rows_ok, sample
    for line_no in picks(list(signed(before))):
        flipped = [(n, flip_cells(c, roles) if n == line_no else c) for n, c in rows]
        after = inspect_file(write_rows(tmp_path / f"flip{line_no}.csv", flipped))
        check_flip(before, after, line_no)


# ---- MT940: the :61: mark

MARK = re.compile(r"^(:61:\d{6}(?:\d{4}| {4})?)(R?)([CD])")


@pytest.mark.parametrize(
    "sample",
    sorted(
        p
        for p in (FIXTURES / "mt940").iterdir()
        if ".golden" not in p.name and "LICENSE" not in p.name and p.suffix != ".md"
    ),
    ids=lambda p: p.name,
)
def test_mt940_flipping_one_entry(tmp_path, sample):
    before = inspect_file(sample)
    raw = sample.read_bytes()
    lines = raw.split(b"\n")
    for line_no in picks(list(signed(before))):
        text = lines[line_no - 1].decode("latin-1")
        flipped = MARK.sub(lambda m: m.group(1) + m.group(2) + "DC"[m.group(3) == "D"], text)
        assert flipped != text
        changed = lines[: line_no - 1] + [flipped.encode("latin-1")] + lines[line_no:]
        path = tmp_path / sample.name
        path.write_bytes(b"\n".join(changed))
        check_flip(before, inspect_file(path), line_no)


# ---- camt.053: CdtDbtInd of one Ntry


@pytest.mark.parametrize(
    "sample", sorted((FIXTURES / "camt053").glob("*.xml")), ids=lambda p: p.name
)
def test_camt053_flipping_one_entry(tmp_path, sample):
    before = inspect_file(sample)
    text = sample.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"<(\w+:)?Ntry>", text)]
    line_of = {text.count("\n", 0, s) + 1: s for s in starts}
    for line_no in picks(list(signed(before))):
        at = line_of[line_no]
        m = re.compile(r"<CdtDbtInd>(CRDT|DBIT)</CdtDbtInd>").search(text, at)
        other = "DBIT" if m.group(1) == "CRDT" else "CRDT"
        flipped = text[: m.start(1)] + other + text[m.end(1) :]
        path = tmp_path / sample.name
        path.write_text(flipped, encoding="utf-8")
        check_flip(before, inspect_file(path), line_no)
