"""Workbooks with a cell longer than Excel allows, as other tools write them.

openpyxl cuts a cell to Excel's 32,767 characters when it writes one, so the long text
goes into the saved sheet XML in place of a placeholder cell.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def save_with_long_cell(book, path: Path, placeholder: str, text: str) -> Path:
    buf = io.BytesIO()
    book.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info, data.replace(placeholder.encode(), text.encode()))
    return path
