"""Printable: every sheet landscape, one page wide, its header row on every page, and columns
wide enough that codes and file names are not cut (MISSING_ON_PLATFO)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from reports import labels, xlsx
from reports.workbook import write_workbook
from tests.reports.helpers import DAY, exc, header, inputs

LONG_FILE = "招商银行_对公_交易明细_20261103_补充.xlsx"  # 44 wide: cut at the usual 26-30


def width(ws, index: int) -> float:
    """The width of column `index` (0-based); adjacent columns of one width are one range."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= index + 1 <= dim.max and dim.width:
            return dim.width
    return 8.43  # Excel's default


def test_every_sheet_prints_landscape_one_page_wide_with_its_header(tmp_path: Path):
    data = inputs(
        tmp_path,
        exceptions=[
            exc(code, n=i, file_name=LONG_FILE) for i, code in enumerate(labels.EXCEPTION_TYPES)
        ],
        files=[{"source": "cmb", "file_name": LONG_FILE, "format": "cn_bank", "status": "OK"}],
        rejects=[{"source": "cmb", "file_name": LONG_FILE, "line_no": 3, "reason": "x"}],
    )
    wb = load_workbook(write_workbook(DAY, data, tmp_path / "report.xlsx"))
    assert len(wb.worksheets) == 1 + len(labels.EXCEPTION_TYPES) + 7
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.paperSize == xlsx.A4, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # one page wide (fitToWidth 1 is the default, left out of the file), any number long
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0), ws.title
        rows = "$1:$2" if ws.title == "汇总 Summary" else "$1:$1"  # the summary: title and date
        assert ws.print_title_rows == rows, ws.title
        assert "&P" in ws.oddFooter.right.text, ws.title


def test_codes_and_file_names_fit_their_columns(tmp_path: Path):
    longest = max(labels.EXCEPTION_TYPES, key=len)  # DISTRIBUTION_MISMATCH
    data = inputs(
        tmp_path,
        exceptions=[
            exc(code, n=i, file_name=LONG_FILE, money_at_stake=Decimal("1.00"))
            for i, code in enumerate(labels.EXCEPTION_TYPES)
        ]
        + [exc("MISSING_ON_PLATFORM", "PENDING", n=99, file_name=LONG_FILE, detail="很长" * 150)],
        files=[{"source": "cmb", "file_name": LONG_FILE, "format": "cn_bank", "status": "OK"}],
        rejects=[{"source": "cmb", "file_name": LONG_FILE, "line_no": 3, "reason": "x"}],
    )
    wb = load_workbook(write_workbook(DAY, data, tmp_path / "report.xlsx"))
    cjk_file = xlsx.display_width(LONG_FILE)
    for name in ["在途 Pending", "错误行 Rejected", "文件 Inputs", f"清分差异 {longest}"]:
        ws = wb[name]
        head = header(ws)
        file_col = head.index("文件")
        assert width(ws, file_col) >= cjk_file, (name, width(ws, file_col))
        if "类型代码" in head:
            assert width(ws, head.index("类型代码")) >= len(longest) + 1
        for i, text in enumerate(head):  # every header readable beside its filter button
            assert width(ws, i) >= xlsx.display_width(text), (name, text)
    # the summary: the type codes, and the file names of its table of inputs
    summary = wb["汇总 Summary"]
    cells = [c for row in summary.iter_rows() for c in row if c.value is not None]
    code = next(c for c in cells if c.value == longest)
    assert width(summary, code.column - 1) >= len(longest) + 1
    file = next(c for c in cells if c.value == LONG_FILE)
    assert width(summary, file.column - 1) >= cjk_file
    # free text keeps its width: a long detail does not make its column 300 wide
    pending = wb["在途 Pending"]
    assert width(pending, header(pending).index("说明")) < 52
