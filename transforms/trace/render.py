"""A trace as a text table (wide CJK characters count twice) or as a JSON-ready dict."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

from .exceptions import SHOWN
from .model import NA, STATUS_LABEL, UNAVAILABLE, Hop, TraceResult, money

HEADER = [
    "#",
    "hop 环节",
    "status 状态",
    "date 日期",
    "amount 金额",
    "ref 单号",
    "from 来源 file:line",
]
FACTS = (
    ("order_no", "order 订单"),
    ("borrower", "borrower 借款人"),
    ("loan", "loan 借据/期"),
    ("lender", "lender 资金方"),
    ("channel", "channel 渠道"),
    ("amount", "amount 金额"),
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _where_from(hop: Hop) -> str:
    if not hop.sources:
        return (
            "computed 计算"
            if hop.kind == "settlement" and hop.status not in (NA, UNAVAILABLE)
            else ""
        )
    first = hop.sources[0]
    text = f"{first['file_name']}:{first['line_no']}"
    return text + (f" (+{len(hop.sources) - 1})" if len(hop.sources) > 1 else "")


def _table_line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.rjust(w) if i in (0, 4) else _pad(c, w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def render_text(result: TraceResult) -> str:
    out = [
        f"trace 追踪 {result.key} ({result.kind})   report date 报告日 {result.report_date}   "
        f"{len(result.traces)} repayment(s)"
    ]
    for t in result.traces:
        out.append("")
        out.append(
            "   ".join(
                f"{name} {money(v) if isinstance(v := t.facts[k], Decimal) else v}"
                for k, name in FACTS
                if t.facts.get(k)
            )
        )
        found = f"found 查找: {t.found_in}"
        if t.window:
            found += f"; rows read from inbox dates {t.window[0]} .. {t.window[1]}"
        out.append(found)
        out += [f"note 说明: {n}" for n in t.notes]
        rows = [
            [
                str(i),
                h.label,
                STATUS_LABEL[h.status],
                str(h.date or ""),
                money(h.amount),
                h.ref or "",
                _where_from(h),
            ]
            for i, h in enumerate(t.hops, 1)
        ]
        widths = [max(_width(r[c]) for r in [HEADER, *rows]) for c in range(len(HEADER))]
        out.append(_table_line(HEADER, widths))
        out.append(_table_line(["-" * w for w in widths], widths))
        indent = " " * (widths[0] + 2)
        for hop, row in zip(t.hops, rows, strict=True):
            out.append(_table_line(row, widths))
            out += [f"{indent}· {d}" for d in hop.detail]
            out += [f"{indent}! {e}" for e in hop.exceptions]
        out.append(t.where)
        if t.exceptions:
            out.append(f"exceptions on {result.report_date} 当日异常:")
            for e in t.exceptions:
                out.append(
                    f"  {e['status']:<8} {e['exception_type']} {e['label']}  {e['ref']}  "
                    f"age {e.get('age_days')}d  diff {money(e.get('diff_amount'))}  "
                    f"→ {e['action']}"
                )
                if e.get("detail"):
                    out.append(f"           {e['detail']}")
        else:
            out.append(f"exceptions on {result.report_date} 当日异常: none 无")
    lk = result.lookup
    out.append("")
    out.append(
        f"looked up in {lk['elapsed_ms']} ms: {lk['queries']} queries over {lk['files_read']} "
        f"files of {lk['published_dates']} published dates (no history scan)"
    )
    return "\n".join(out)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(result: TraceResult) -> dict:
    """A JSON-ready dict: dates ISO, money as decimal strings, borrower data masked."""
    return _plain(
        {
            "key": result.key,
            "kind": result.kind,
            "report_date": result.report_date,
            "lookup": result.lookup,
            "traces": [
                {
                    "order_no": t.order_no,
                    "found_in": t.found_in,
                    "window": list(t.window) if t.window else None,
                    "facts": t.facts,
                    "notes": t.notes,
                    "where": t.where,
                    "hops": [
                        {
                            "hop": h.kind,
                            "label": h.label,
                            "status": h.status,
                            "date": h.date,
                            "amount": h.amount,
                            "ref": h.ref,
                            "sources": h.sources,
                            "detail": h.detail,
                            "exceptions": h.exceptions,
                        }
                        for h in t.hops
                    ],
                    "exceptions": [{k: e.get(k) for k in SHOWN} for e in t.exceptions],
                }
                for t in result.traces
            ],
        }
    )
