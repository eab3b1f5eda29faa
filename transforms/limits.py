"""Size limits on the content of an input row, in one place.

A cell (a CSV or sheet cell, an XML element's text, an MT940 field) over MAX_CELL_CHARS
makes its row a reject naming the row, the column and the limit; the rest of the file is
read. No statement field comes near it, and it is the field limit of Python's CSV reader
(csv.field_size_limit()), which the delimited formats already meet.
"""

from __future__ import annotations

MAX_CELL_CHARS = 131_072


def too_long(chars: int) -> str:
    """What is wrong with a cell of `chars` characters, for a reject reason."""
    return f"{chars:,} characters; expected at most {MAX_CELL_CHARS:,}"
