"""The summary sheet: the headline first (who is harmed, what is at risk, what is oldest, what
changed since yesterday), then the open items by severity, by type and by age, the run
statistics and the day's files. Every count, amount and rate is a number with a number format.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from reports import i18n, labels
from reports.columns import input_cols
from reports.xlsx import FIT_MAX, Writer, batches, display_width

AGE_BUCKETS = [("0-1", 0, 1), ("2-3", 2, 3), ("4-7", 4, 7), ("8-30", 8, 30), (">30", 31, None)]
WIDTHS = [30, 14, 16, 18, 14, 16, 30, 12, 14, 14, 16, 16, 60, 40]
CHART_COL = 7  # H: right of the headline and of the tables of at most 7 columns
ROW_PX = 20  # default row height in pixels


class TypeRow(NamedTuple):
    """The OPEN exceptions of one type."""

    code: str
    count: int
    severity: int | None  # the most urgent of its rows
    at_stake: Decimal | None
    abs_diff: Decimal | None


@dataclass(frozen=True)
class Headline:
    borrowers: int  # distinct borrower_id of OPEN severity-1 rows
    at_risk: Decimal  # money_at_stake of OPEN rows, summed
    open: int
    oldest: tuple[int, str, str] | None  # (age in days, type code, ref) of the oldest OPEN row
    new_today: int  # OPEN rows first seen on the report date
    cleared_today: int  # CLEARED rows (a report lists an item as cleared on the day it cleared)
    resolved_today: int  # RESOLVED rows whose decision is dated the report date (local time)
    resolved: int  # RESOLVED rows on the report, whenever decided
    pending: int


def open_by_type(con) -> list[TypeRow]:
    """Every known code and any unknown one: the non-empty first, most urgent first (severity,
    then money at stake), then the empty ones in SPEC order."""
    found = {
        row[0]: TypeRow(*row)
        for row in con.execute(
            "SELECT exception_type, count(*), min(severity), sum(money_at_stake), "
            "sum(abs(diff_amount)) FROM exc WHERE status = 'OPEN' GROUP BY 1"
        ).fetchall()
    }
    spec = list(labels.EXCEPTION_TYPES)
    order = {code: i for i, code in enumerate(spec)}
    codes = spec + sorted((c for c in found if c not in order), key=str)
    rows = [found.get(code, TypeRow(code, 0, None, None, None)) for code in codes]

    def urgency(t: TypeRow):
        stake = -(t.at_stake or 0)
        return (t.count == 0, t.severity or 99, stake, order.get(t.code, len(order)), t.code)

    return sorted(rows, key=urgency)


def headline(con, report_date: dt.date, zone: str) -> Headline:
    borrowers, at_risk, open_, new_today, cleared, pending = con.execute(
        "SELECT count(DISTINCT borrower_id) FILTER (WHERE status = 'OPEN' AND severity = 1), "
        "coalesce(sum(money_at_stake) FILTER (WHERE status = 'OPEN'), 0), "
        "count(*) FILTER (WHERE status = 'OPEN'), "
        "count(*) FILTER (WHERE status = 'OPEN' AND first_seen = ?), "
        "count(*) FILTER (WHERE status = 'CLEARED'), "
        "count(*) FILTER (WHERE status = 'PENDING') FROM exc",
        [report_date],
    ).fetchone()
    oldest = con.execute(
        "SELECT age_days, exception_type, ref FROM exc WHERE status = 'OPEN' "
        "AND age_days IS NOT NULL ORDER BY age_days DESC, severity NULLS LAST, "
        "money_at_stake DESC NULLS LAST, ref, exception_id LIMIT 1"
    ).fetchone()
    tz = ZoneInfo(zone)
    decided = [
        at
        for (at,) in con.execute("SELECT resolved_at FROM exc WHERE status = 'RESOLVED'").fetchall()
    ]
    today = sum(1 for at in decided if at is not None and at.astimezone(tz).date() == report_date)
    return Headline(
        borrowers=borrowers,
        at_risk=Decimal(at_risk),
        open=open_,
        oldest=tuple(oldest) if oldest else None,
        new_today=new_today,
        cleared_today=cleared,
        resolved_today=today,
        resolved=len(decided),
        pending=pending,
    )


def _by_severity(con) -> list[tuple[int | None, int, Decimal | None]]:
    found = {
        s: (n, amount)
        for s, n, amount in con.execute(
            "SELECT severity, count(*), sum(money_at_stake) FROM exc WHERE status = 'OPEN' "
            "GROUP BY 1"
        ).fetchall()
    }
    levels = sorted(set(labels.SEVERITY) | {s for s in found if s is not None})
    rows = [(s, *found.get(s, (0, None))) for s in levels]
    return rows + ([(None, *found[None])] if None in found else [])


def _ageing(con) -> dict[str, tuple[int, Decimal | None]]:
    bucket = "CASE " + " ".join(
        f"WHEN age_days <= {high} THEN '{name}'" for name, _, high in AGE_BUCKETS if high
    )
    rows = con.execute(
        f"SELECT {bucket} ELSE '{AGE_BUCKETS[-1][0]}' END, count(*), sum(money_at_stake) "
        "FROM exc WHERE status = 'OPEN' AND age_days IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {b: (n, amount) for b, n, amount in rows}


def _stat_value(w: Writer, ws, row: int, col: int, value: Any) -> None:
    """A run statistic as a number where it is one: "97.1%" becomes 0.971 shown as 97.1%."""
    rate = i18n.percent(value)
    if rate is not None:
        w.cell(ws, row, col, rate, "percent")
    elif isinstance(value, bool) or value is None:
        w.cell(ws, row, col, None if value is None else str(value), "text")
    elif isinstance(value, Decimal):
        w.cell(ws, row, col, value, "money")
    elif isinstance(value, int | float):
        w.cell(ws, row, col, value, "int")
    else:
        w.cell(ws, row, col, value, "auto" if isinstance(value, dt.date) else "text")


def write_summary(
    w: Writer,
    ws,
    con,
    report_date: dt.date,
    locale: str,
    zone: str,
    stats: dict[str, object],
    by_type: list[TypeRow],
) -> Headline:
    def t(key: str, **kw: object) -> str:
        return i18n.text(key, locale, **kw)

    def type_name(code: str) -> str:
        return labels.name_en(code) if locale == "en" else labels.label(code)

    for c, width in enumerate(WIDTHS):
        ws.set_column(c, c, width)
    # Columns widen to show whole what must not be cut: codes, refs, file names, headers.
    widths = dict(enumerate(WIDTHS))

    def fit(col: int, text: Any) -> None:
        if isinstance(text, str):
            want = min(FIT_MAX, display_width(text))
            widths[col] = max(widths.get(col, 0), want)

    def header_row(row: int, texts: list[str]) -> None:
        w.header_row(ws, row, texts)
        for c, text in enumerate(texts):
            fit(c, text)

    ws.freeze_panes(2, 0)
    ws.write_string(0, 0, t("title"), w.title)
    ws.write_string(1, 0, t("report_date"), w.bold)
    w.cell(ws, 1, 1, report_date, "date")

    # ------------------------------------------------------------------ headline
    head = headline(con, report_date, zone)
    r = 3
    ws.write_string(r, 0, t("headline"), w.bold)
    lines: list[tuple[str, Any, str, str | None]] = [
        ("borrowers", head.borrowers, "int", t("borrowers_note")),
        ("at_risk", head.at_risk, "money", t("at_risk_note")),
        ("oldest", None, "", None),
        ("open", head.open, "int", None),
        ("new_today", head.new_today, "int", t("new_today_note")),
        ("cleared_today", head.cleared_today, "int", t("cleared_today_note")),
        (
            "resolved_today",
            head.resolved_today,
            "int",
            t("resolved_today_note", total=head.resolved),
        ),
        ("pending", head.pending, "int", t("pending_note")),
    ]
    for key, value, kind, note in lines:
        r += 1
        ws.write_string(r, 0, t(key), w.bold)
        if key == "oldest":
            if head.oldest is None:
                ws.write_string(r, 1, t("none"))
            else:
                age, code, ref = head.oldest
                w.cell(ws, r, 1, age, "int")
                name = f"{type_name(code)} {code}" if locale == "zh" else code
                ws.write_string(r, 2, name)
                w.cell(ws, r, 3, ref, "text")
                fit(2, name)
                fit(3, ref)
            continue
        w.cell(ws, r, 1, value, kind, w.bold_money if kind == "money" else None)
        if note:
            ws.write_string(r, 2, note)
    headline_end = r

    # ------------------------------------------------------------------ by severity
    r += 2
    ws.write_string(r, 0, t("by_severity"), w.bold)
    r += 1
    header_row(
        r, [i18n.header("severity", locale), t("count"), i18n.header("money_at_stake", locale)]
    )
    for level, count, amount in _by_severity(con):
        r += 1
        w.cell(ws, r, 0, labels.severity(level, locale) or "-", "text")
        w.cell(ws, r, 1, count, "int")
        w.cell(ws, r, 2, amount, "money")

    # ------------------------------------------------------------------ by type
    r += 2
    ws.write_string(r, 0, t("by_type"), w.bold)
    r += 1
    header_row(
        r,
        [
            i18n.header("type_label", locale),
            t("count"),
            i18n.header("money_at_stake", locale),
            t("abs_diff"),
            i18n.header("severity", locale),
            i18n.header("exception_type", locale),
            i18n.header("action", locale),
        ],
    )
    first = r + 1
    for row in by_type:
        r += 1
        ws.write_string(r, 0, type_name(row.code))
        w.cell(ws, r, 1, row.count, "int")
        w.cell(ws, r, 2, row.at_stake, "money")
        w.cell(ws, r, 3, row.abs_diff, "money")
        w.cell(ws, r, 4, labels.severity(row.severity, locale), "text")
        ws.write_string(r, 5, row.code)
        fit(0, type_name(row.code))
        fit(5, row.code)
        ws.write_string(r, 6, labels.action_in(row.code, locale))
    non_empty = sum(1 for row in by_type if row.count)
    r += 1
    ws.write_string(r, 0, t("total"), w.bold)
    w.cell(ws, r, 1, sum(row.count for row in by_type), "int")
    stakes = (row.at_stake for row in by_type if row.at_stake is not None)
    w.cell(ws, r, 2, sum(stakes, Decimal(0)), "money", w.bold_money)
    diffs = (row.abs_diff for row in by_type if row.abs_diff is not None)
    w.cell(ws, r, 3, sum(diffs, Decimal(0)), "money", w.bold_money)

    # ------------------------------------------------------------------ ageing
    r += 2
    ws.write_string(r, 0, t("ageing"), w.bold)
    r += 1
    header_row(r, [t("age_bucket"), t("count"), i18n.header("money_at_stake", locale)])
    ageing = _ageing(con)
    for bucket, _, _ in AGE_BUCKETS:
        r += 1
        count, amount = ageing.get(bucket, (0, None))
        ws.write_string(r, 0, bucket)
        w.cell(ws, r, 1, count, "int")
        w.cell(ws, r, 2, amount, "money")

    # ------------------------------------------------------------------ run statistics
    if stats:
        r += 2
        ws.write_string(r, 0, t("stats"), w.bold)
        for key, value in stats.items():
            r += 1
            ws.write_string(r, 0, i18n.stat_label(str(key), locale))
            shown = i18n.sentence(value, locale) if isinstance(value, str) else value
            _stat_value(w, ws, r, 1, shown)

    # ------------------------------------------------------------------ chart, top right
    chart_end = headline_end
    if non_empty:
        height = max(240, 70 + 28 * non_empty)
        chart = w.wb.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": t("chart_series"),
                "categories": [ws.name, first, 0, first + non_empty - 1, 0],
                "values": [ws.name, first, 1, first + non_empty - 1, 1],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": t("chart_title"), "name_font": {"size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 640, "height": height})
        ws.insert_chart(2, CHART_COL, chart, {"x_offset": 10})
        chart_end = 2 + math.ceil(height / ROW_PX)

    # ------------------------------------------------------------------ inputs (wide: below it)
    r = max(r + 2, chart_end + 2)
    ws.write_string(r, 0, t("inputs"), w.bold)
    r += 1
    cols = input_cols(locale, sheet=False)
    header_row(r, [col.header for col in cols])
    for batch in batches(con, "SELECT * FROM fls_x ORDER BY source, file_name"):
        for row in zip(*(col.values(batch) for col in cols), strict=True):
            r += 1
            for c, (col, value) in enumerate(zip(cols, row, strict=True)):
                w.cell(ws, r, c, value, col.kind)
                if col.fit:
                    fit(c, value)

    # ------------------------------------------------------------------ split sheets
    r += 2
    ws.write_string(r, 0, t("splits"), w.bold)
    if not w.splits:
        ws.write_string(r, 1, t("none"))
    for sheet, more in w.splits.items():
        ws.write_string(r, 1, t("continues", sheet=sheet, more=", ".join(more)))
        r += 1
    for c, width in widths.items():
        if width != (WIDTHS[c] if c < len(WIDTHS) else None):
            ws.set_column(c, c, width)
    return head
