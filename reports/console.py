"""What a run says about its dates, as text: the console of `recon run` (flows/cli.py) and the
logs and artifacts of the Prefect flow run (flows/reconcile.py) say the same thing.

Per date: the OPEN and PENDING counts, the money at stake per exception type, why the date was
computed, its workbook, and the files that could not be read.
"""

from __future__ import annotations

from pathlib import Path


def summary_table(results) -> str:
    types = sorted({t for r in results for t in r.counts})
    header = ["report_date"] + types + ["OPEN", "PENDING", "CLEARED"]
    rows = [
        [r.report_date.isoformat()]
        + [str(r.counts.get(t, 0)) for t in types]
        + [str(sum(r.counts.values())), str(r.pending), str(r.cleared)]
        for r in results
    ]
    return _table(header, rows)


def _table(header: list[str], rows: list[list[str]], left: int = 0) -> str:
    """Columns right-aligned, except the first `left` ones."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def workbook_lines(results) -> str:
    """One line per computed date: its OPEN and PENDING counts and its workbook."""
    opened = [str(sum(r.counts.values())) for r in results]
    pending = [str(r.pending) for r in results]
    wo = max((len(s) for s in opened), default=1)
    wp = max((len(s) for s in pending), default=1)
    return "\n".join(
        f"{r.report_date}  OPEN {o:>{wo}}  PENDING {p:>{wp}}  {r.workbook}"
        for r, o, p in zip(results, opened, pending, strict=True)
    )


def money_by_type(path: Path) -> dict[tuple[str, str], tuple[int, object]]:
    """(status, exception_type) -> (count, money at stake) of one date's exceptions Parquet.
    Money is `money_at_stake`, or abs(diff_amount) where that column does not exist."""
    import duckdb

    from transforms.duck import sql_path

    con = duckdb.connect()
    try:
        relation = f"read_parquet({sql_path(path)})"
        cols = {c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
        money = "money_at_stake" if "money_at_stake" in cols else "abs(diff_amount)"
        rows = con.execute(
            f"SELECT status, exception_type, count(*), sum({money}) FROM {relation} "
            "WHERE status IN ('OPEN', 'PENDING') GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    return {(status, t): (n, amount) for status, t, n, amount in rows}


def _money(amount) -> str:
    return "-" if amount is None else f"{amount:,.2f}"


def _closing_rows(result) -> tuple[list[str], list[list[str]]] | str | None:
    """The closing table's header and rows; a sentence when there is nothing to count; None
    without the date's exceptions."""
    if result.exceptions_path is None or not Path(result.exceptions_path).exists():
        return None
    found = money_by_type(Path(result.exceptions_path))
    types = sorted({t for _, t in found})
    if not types:
        return f"{result.report_date}: no open or pending exceptions"

    def cells(status: str, keys: list[str]) -> list[str]:
        n = sum(found.get((status, t), (0, None))[0] for t in keys)
        amounts = [a for t in keys if (a := found.get((status, t), (0, None))[1]) is not None]
        return [str(n), _money(sum(amounts) if amounts else None) if n else "-"]

    rows = [[t, *cells("OPEN", [t]), *cells("PENDING", [t])] for t in types]
    rows.append(["total", *cells("OPEN", types), *cells("PENDING", types)])
    header = [f"on {result.report_date}", "OPEN", "money at stake", "PENDING", "money at stake"]
    return header, rows


def closing_summary(result) -> str:
    """Counts and money at stake per exception type, OPEN and PENDING, on the last date."""
    table = _closing_rows(result)
    if table is None or isinstance(table, str):
        return table or ""
    return _table(*table, left=1)


def recomputed_lines(results) -> list[str]:
    """Why each date other than the requested ones was computed."""
    return [
        f"{r.report_date}: computed because {r.reason}" for r in results if r.reason != "requested"
    ]


def file_error_lines(results) -> list[str]:
    """One line per file of the run that could not be read."""
    return [f"error: {f.error}" for r in results for f in r.file_errors]


def date_summary(result, errors: bool = True) -> str:
    """One date as the console shows it: its line with counts and workbook, why it was
    computed, the money at stake per type, and (`errors`) its files that could not be read."""
    parts = [workbook_lines([result]), *recomputed_lines([result])]
    closing = closing_summary(result)
    if closing:
        parts += ["", closing]
    failed = file_error_lines([result]) if errors else []
    if failed:
        parts += ["", *failed]
    return "\n".join(parts)


def type_rows(result) -> list[dict[str, object]]:
    """The closing table as rows (a table artifact): per type, OPEN and PENDING with their
    money at stake, then the total."""
    table = _closing_rows(result)
    if not isinstance(table, tuple):
        return [{"exception_type": "-", "open": 0, "open_money_at_stake": "-"}]
    keys = ["open", "open_money_at_stake", "pending", "pending_money_at_stake"]
    return [{"exception_type": row[0], **dict(zip(keys, row[1:], strict=True))} for row in table[1]]


def date_markdown(result) -> str:
    """One date as a markdown report: the counts, money at stake per type, workbook, files
    with errors, and the run statistics."""
    opened = sum(result.counts.values())
    lines = [
        f"# Reconciliation {result.report_date}",
        "",
        f"**OPEN {opened}** · PENDING {result.pending} · cleared today {result.cleared}",
        "",
        f"Workbook: `{result.workbook}`",
        "",
        f"Computed because: {result.reason}",
    ]
    table = _closing_rows(result)
    if isinstance(table, tuple):
        header, rows = table
        lines += ["", "## Money at stake by type", "", _markdown_table(header, rows)]
    elif table:
        lines += ["", table]
    errors = result.file_errors
    if errors:
        lines += ["", "## Files with errors", ""]
        lines += [f"- `{f.file_name}` ({f.source}): {f.error}" for f in errors]
    if result.stats:
        stats = [[str(k), str(v)] for k, v in result.stats.items()]
        lines += ["", "## Run statistics", "", _markdown_table(["metric", "value"], stats)]
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(map(_markdown_cell, cells)) + " |"

    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join([line(header), "|" + "|".join(align) + "|", *map(line, rows)])
