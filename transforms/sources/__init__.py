"""The format registry: one module per statement format, listed once here."""

from __future__ import annotations

from pathlib import Path

from transforms.errors import UnrecognizedFormat
from transforms.sources.alipay_bill import AlipayBill
from transforms.sources.base import Format, Verdict
from transforms.sources.cnbank import ChineseBankStatement
from transforms.sources.iso_camt053 import Camt053
from transforms.sources.platform import PlatformExport
from transforms.sources.swift_mt940 import MT940
from transforms.sources.wechatpay import WeChatPayBill
from transforms.sources.withholding import WithholdingFile
from transforms.textio import head_text, read_head

FORMATS: list[Format] = [
    PlatformExport(),
    WeChatPayBill(),
    AlipayBill(),
    WithholdingFile(),
    ChineseBankStatement(),
    MT940(),
    Camt053(),
]


def format_names() -> list[str]:
    return [f.name for f in FORMATS]


def get_format(name: str, mapped_formats: dict | None = None) -> Format:
    """The built-in format `name`, else a MappedFormat for `[formats.<name>]` of the config."""
    for f in FORMATS:
        if f.name == name:
            return f
    if mapped_formats and name in mapped_formats:
        from transforms.sources.mapped import MappedFormat  # late: mapped imports this registry

        return MappedFormat(name, mapped_formats[name])
    raise KeyError(name)


def identify(path: Path, candidates: list[Format] | None = None) -> tuple[Format, Verdict]:
    """The one format that recognizes `path`, or UnrecognizedFormat listing why each declined."""
    head = read_head(path)
    reasons = []
    for fmt in candidates or FORMATS:
        verdict = fmt.identify(path, head)
        if verdict:
            return fmt, verdict
        reasons.append((fmt.name, verdict.reason))
    error = UnrecognizedFormat(path, reasons)
    hint = mapped_hint(path, head)
    if hint:
        error.args = (f"{error.args[0]}\n{hint}",)
        error.hint = hint
    raise error


def mapped_hint(path: Path, head: bytes) -> str | None:
    """A suggestion to describe the layout as a mapped format, when the file looks like a table."""
    from transforms.tabular import is_excel, iter_rows

    rows: list[tuple[int, list[str]]] = []
    try:
        if is_excel(path):
            for row in iter_rows(path):
                rows.append(row)
                if len(rows) >= 30:
                    break
        else:
            text = head_text(head)
            for delim in (",", "\t", "|", ";"):
                lines = text.splitlines()[:30]
                cells = [(i, x.split(delim)) for i, x in enumerate(lines, start=1) if x.strip()]
                if sum(len(c) >= 3 for _, c in cells) >= 2:
                    rows = cells
                    break
    except Exception:  # a hint only: an unreadable file gets none
        return None
    filled = [(n, [c.strip() for c in cells if c.strip()]) for n, cells in rows]
    wide = [(n, cells) for n, cells in filled if len(cells) >= 3]
    if len(wide) < 2:
        return None
    line, header = wide[0]
    return (
        f"it looks like a table (columns on line {line}: {header[:12]}); if it is a statement, "
        "describe its layout as a mapped format in recon.toml ([formats.NAME] with table, "
        "header_row, columns and sign: see README, 'Mapped formats')"
    )
