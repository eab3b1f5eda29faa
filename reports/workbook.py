"""Excel exception workbook of one report date, for the finance team (SPEC §7).

This module only renders what the pipeline already decided: it reads the day's Parquet outputs
with DuckDB and streams them into an XlsxWriter workbook in constant-memory mode. It speaks
the team's language (`locale` "zh", the default, or "en"), puts urgent items first (severity,
then money at stake, then age), masks borrower data by field and by pattern (reports/masking.py)
and never lets text from an input file become a formula or a link.

Sheets, in order (zh tabs; en tabs are the English part): 汇总 Summary; one sheet per exception
type with OPEN rows, e.g. 重复扣款 DUPLICATE_DEBIT; 在途 Pending; 今日已清 Cleared; 已处理 Resolved;
结算 Settlement; 清分 Distribution; 错误行 Rejected; 文件 Inputs. The exception sheets (per type,
and Pending) start with 异常编号 and end with the decision columns 处理结果 (a dropdown of
labels.RESOLUTION_ACTIONS), 处理说明, 处理人, 对方单号, for the Excel round trip.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reports import i18n, xlsx
from reports.columns import (
    distribution_cols,
    exception_cols,
    input_cols,
    reject_cols,
    resolved_cols,
    settlement_cols,
)

# Re-exported: other modules (trace) mask with these.
from reports.masking import (  # noqa: F401
    mask_borrower,
    mask_card,
    mask_detail,
    mask_id,
    mask_name,
    mask_raw,
    mask_text,
)
from reports.summary import open_by_type, write_summary
from reports.xlsx import DATE_FORMAT, MONEY_FORMAT, PERCENT_FORMAT  # noqa: F401
from transforms.lake import CANONICAL, LINEAGE

# Urgent first: severity (1 borrower harmed), then money at stake, then age.
URGENT = (
    "severity ASC NULLS LAST, money_at_stake DESC NULLS LAST, age_days DESC NULLS LAST, "
    "biz_date, ref, exception_id"
)


@dataclass(frozen=True)
class ReportInputs:
    """Where the day's outputs are: each a Parquet file, a glob, a folder, or None.

    `bank_lines`: the date's normalized bank lines (e.g. STAGE/bank_lines/*/*.parquet), for the
    credit and debit totals of each bank file; without it those cells stay empty.
    `locale`: "zh" (Chinese first, the default) or "en". `timezone`: the zone of biz dates,
    in which a decision's time (resolved_at) is shown and dated.
    """

    exceptions: Path | None = None
    settlements: Path | None = None
    files: Path | None = None
    rejects: Path | None = None
    stats: dict[str, object] = field(default_factory=dict)
    distributions: Path | None = None
    bank_lines: Path | None = None
    locale: str = "zh"
    timezone: str = "Asia/Shanghai"
    # files of the day folder no source's glob matches (transforms.ledger.Unclaimed): listed
    # on the inputs sheet and the summary, as UNCLAIMED, so their absent rows are seen
    unclaimed: list = field(default_factory=list)


def write_workbook(
    report_date: dt.date, inputs: ReportInputs, out_path: Path, locale: str | None = None
) -> Path:
    """Render the day's workbook to `out_path` (written beside it, then renamed into place).

    `locale` overrides `inputs.locale`.
    """
    locale = i18n.check_locale(locale or inputs.locale)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with duckdb.connect() as con:
            _load(con, report_date, inputs)
            _render(con, report_date, inputs, locale, tmp)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out_path


def _load(con: duckdb.DuckDBPyConnection, report_date: dt.date, inputs: ReportInputs) -> None:
    view = xlsx.create_view
    view(con, "exc_in", inputs.exceptions, CANONICAL["exceptions"], report_date)
    # Read once: the sheets query the day's exceptions ~20 times (each type, summary).
    con.execute("CREATE TEMP TABLE exc AS SELECT * FROM exc_in")
    view(con, "stl", inputs.settlements, CANONICAL["settlements"], report_date)
    view(con, "dst", inputs.distributions, CANONICAL["distributions"], report_date)
    view(con, "fls", inputs.files, CANONICAL["files"])
    view(con, "rej", inputs.rejects, CANONICAL["rejects"] + LINEAGE)
    view(con, "bnk", inputs.bank_lines, CANONICAL["bank_lines"] + LINEAGE)
    # Each file with the credits, debits and net of its bank lines (NULL for other files). A
    # bank file's amount_total (credits plus debits) is a figure nobody reads: left out.
    con.execute(
        """
        CREATE TEMP TABLE fls_x AS
        SELECT f.* REPLACE (
                   CASE WHEN b.file_name IS NULL THEN f.amount_total END AS amount_total),
               b.credit_count, b.credit_amount, b.debit_count, b.debit_amount,
               b.credit_amount - b.debit_amount AS net_amount
        FROM fls f
        LEFT JOIN (
            SELECT source, file_name, file_sha256,
                   count(*) FILTER (WHERE direction = 'CREDIT') AS credit_count,
                   coalesce(sum(amount) FILTER (WHERE direction = 'CREDIT'), 0) AS credit_amount,
                   count(*) FILTER (WHERE direction = 'DEBIT') AS debit_count,
                   coalesce(sum(amount) FILTER (WHERE direction = 'DEBIT'), 0) AS debit_amount
            FROM bnk GROUP BY ALL
        ) b ON b.source = f.source AND b.file_name = f.file_name
           AND (f.file_sha256 IS NULL OR b.file_sha256 IS NULL OR b.file_sha256 = f.file_sha256)
        """
    )
    for u in inputs.unclaimed:
        con.execute(
            "INSERT INTO fls_x (file_name, format, status, error) VALUES (?, ?, 'UNCLAIMED', ?)",
            [u.file_name, u.format, unclaimed_text(u, inputs.locale)],
        )


def unclaimed_text(u, locale: str) -> str:
    """Why a file of the day folder has no rows in the reports, and what to do."""
    if locale == "en":
        return u.detail
    return (
        f"没有任何来源的 glob 匹配此文件，未读取（{u.size:,} 字节；{u.looks_like}）；"
        "请把它写进某个来源的 glob，或移出当日文件夹"
    )


def _render(con, report_date: dt.date, inputs: ReportInputs, locale: str, path: Path) -> None:
    wb = xlsx.new_workbook(path)
    w = xlsx.Writer(wb)
    rows = xlsx.batches

    def tab(sheet: str):
        return lambda part: i18n.sheet_tab(sheet, locale, part)

    # The first sheet, written last (once splits are known); its title and date on every page.
    summary = w.add_sheet(tab("summary")(1), title_rows=2)
    by_type = open_by_type(con)
    decisions = exception_cols(locale, decisions=True)
    for t in by_type:
        if t.count:
            sql = (
                f"SELECT * FROM exc WHERE status = 'OPEN' AND exception_type = ? ORDER BY {URGENT}"
            )
            name = lambda part, code=t.code: i18n.type_tab(code, locale, part)  # noqa: E731
            w.table(name, decisions, rows(con, sql, [t.code]), freeze_cols=1)
    by_status = f"SELECT * FROM exc WHERE status = ? ORDER BY {URGENT}"
    w.table(tab("pending"), decisions, rows(con, by_status, ["PENDING"]), freeze_cols=1)
    cleared = exception_cols(locale, decisions=False)
    w.table(tab("cleared"), cleared, rows(con, by_status, ["CLEARED"]), freeze_cols=1)
    resolved = (
        "SELECT * FROM exc WHERE status = 'RESOLVED' "
        f"ORDER BY resolved_at DESC NULLS LAST, {URGENT}"
    )
    w.table(tab("resolved"), resolved_cols(locale, inputs.timezone), rows(con, resolved), 1)
    stl = "SELECT * FROM stl ORDER BY settle_date, channel, trade_date"
    w.table(tab("settlement"), settlement_cols(locale), rows(con, stl))
    dst = "SELECT * FROM dst ORDER BY value_date, recipient"
    w.table(tab("distribution"), distribution_cols(locale), rows(con, dst))
    rej = "SELECT * FROM rej ORDER BY source, file_name, line_no"
    w.table(tab("rejected"), reject_cols(locale), rows(con, rej))
    files = "SELECT * FROM fls_x ORDER BY source, file_name"
    w.table(tab("inputs"), input_cols(locale, sheet=True), rows(con, files))
    write_summary(w, summary, con, report_date, locale, inputs.timezone, inputs.stats, by_type)
    wb.close()
