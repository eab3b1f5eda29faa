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
from transforms.textio import read_head

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
    raise UnrecognizedFormat(path, reasons)
