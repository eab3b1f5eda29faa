"""CSV cells a spreadsheet will not run: every CSV the product writes goes through here.

Excel, LibreOffice and WPS evaluate a cell that starts with `=`, `+`, `-` or `@` (and treat
a leading tab or carriage return the same way), so a merchant order no such as
`=HYPERLINK("http://x","y")` copied from an input file would become a live formula or link.
As OWASP describes for CSV injection, such text is prefixed with a single quote, which the
spreadsheet shows as text; a number such as `-12.50` is left as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """`value` unchanged, unless it is text a spreadsheet would evaluate: then `'` + text."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in row]


class SafeWriter:
    """`csv.writer` whose every cell goes through `safe_cell` (same arguments)."""

    def __init__(self, f, **kwargs):
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[object]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f, **kwargs) -> SafeWriter:
    return SafeWriter(f, **kwargs)
