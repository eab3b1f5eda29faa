"""The daily job as plain functions: ingest -> match -> publish -> report.

`run_date` is a pure function of the inbox folders up to the date: running
dates one by one, as a range, or again later gives the same outputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from transforms import lake
from transforms.config import Config
from transforms.duck import sql_path
from transforms.ingest import FileResult, ingest_day, ingest_missing_days
from transforms.match.runner import run_matching


@dataclass
class DateResult:
    report_date: dt.date
    files: list[FileResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # OPEN exceptions by type
    pending: int = 0
    cleared: int = 0
    stats: dict[str, object] = field(default_factory=dict)
    workbook: Path | None = None
    exceptions_path: Path | None = None

    @property
    def file_errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "ERROR"]


def _copy_sql(select: str, path: Path) -> str:
    return f"COPY ({select}) TO {sql_path(path)} (FORMAT parquet)"


def _exception_columns() -> str:
    return ", ".join(n for n, _ in lake.CANONICAL["exceptions"])


def previous_open(config: Config, day: dt.date):
    """OPEN exceptions of the day before, recomputed from the inputs (not read from old outputs)."""
    con = run_matching(config, day - dt.timedelta(days=1))
    table = con.sql(
        f"SELECT {_exception_columns()} FROM exceptions WHERE status = 'OPEN'"
    ).to_arrow_table()
    con.close()
    return table


def match_and_publish(config: Config, day: dt.date) -> DateResult:
    result = DateResult(day)
    prev = previous_open(config, day)
    con = run_matching(config, day)
    con.register("prev_open", prev)
    cols = _exception_columns()
    con.execute(
        f"""
        CREATE OR REPLACE TABLE report_exceptions AS
        SELECT {cols} FROM exceptions
        UNION ALL
        SELECT * REPLACE (
            (SELECT as_of FROM params) AS report_date, 'CLEARED' AS status,
            CAST(datediff('day', biz_date, (SELECT as_of FROM params)) AS INTEGER) AS age_days)
        FROM prev_open p
        WHERE NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.status = 'OPEN'
                          AND e.exception_type = p.exception_type AND e.ref = p.ref)
        """
    )
    result.counts = dict(
        con.execute(
            "SELECT exception_type, count(*) FROM report_exceptions WHERE status = 'OPEN' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    result.pending, result.cleared = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'PENDING'), count(*) FILTER (WHERE status = 'CLEARED') "
        "FROM report_exceptions"
    ).fetchall()[0]
    result.stats = report_stats(con, day)
    key = f"report_date={day.isoformat()}"
    order = "ORDER BY status, exception_type, ref"
    with lake.staged_partition(config.lake / "exceptions" / key) as stage:
        con.execute(
            _copy_sql(f"SELECT {cols} FROM report_exceptions {order}", stage / "exceptions.parquet")
        )
    settle_cols = ", ".join(n for n, _ in lake.CANONICAL["settlements"])
    with lake.staged_partition(config.lake / "settlements" / key) as stage:
        con.execute(
            _copy_sql(
                f"SELECT {settle_cols} FROM settlements ORDER BY channel, settle_date",
                stage / "settlements.parquet",
            )
        )
    with lake.staged_partition(config.lake / "matches" / key) as stage:
        con.execute(_copy_sql(matches_sql(), stage / "matches.parquet"))
    con.close()
    result.exceptions_path = config.lake / "exceptions" / key / "exceptions.parquet"
    return result


def matches_sql() -> str:
    return """
        SELECT (SELECT as_of FROM params) AS report_date, m.order_no, m.channel, m.channel_txn_id, m.matched_by,
               o.amount AS platform_amount, t.amount AS channel_amount,
               o.status AS platform_status, t.status AS channel_status
        FROM match_orders m
        JOIN stg_platform_orders o USING (order_no)
        JOIN stg_channel_txns t ON t.channel = m.channel AND t.channel_txn_id = m.channel_txn_id
             AND t.txn_type = 'PAY'
        ORDER BY m.order_no
    """


def report_stats(con, day: dt.date) -> dict[str, object]:
    orders, matched, txns, settle_total, settle_matched = con.execute(
        """
        SELECT (SELECT count(*) FROM stg_platform_orders WHERE biz_date = p.as_of AND order_type = 'REPAY'),
               (SELECT count(*) FROM stg_platform_orders o JOIN match_orders m USING (order_no)
                 WHERE o.biz_date = p.as_of),
               (SELECT count(*) FROM stg_channel_txns WHERE biz_date = p.as_of),
               (SELECT count(*) FROM settlements WHERE settle_date = p.as_of),
               (SELECT count(*) FROM settlements WHERE settle_date = p.as_of AND status = 'MATCHED')
        FROM params p
        """
    ).fetchall()[0]

    def rate(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "-"

    return {
        "platform repay orders (biz date)": orders,
        "orders matched to a channel debit": matched,
        "order match rate": rate(matched, orders),
        "channel transactions (biz date)": txns,
        "settlements due today": settle_total,
        "settlements matched": settle_matched,
        "settlement match rate": rate(settle_matched, settle_total),
    }


def write_report(config: Config, result: DateResult) -> Path:
    from reports.workbook import ReportInputs, write_workbook

    day = result.report_date
    key = f"report_date={day.isoformat()}"
    inputs = ReportInputs(
        exceptions=config.lake / "exceptions" / key / "exceptions.parquet",
        settlements=config.lake / "settlements" / key / "settlements.parquet",
        files=config.lake / "files" / f"inbox_date={day.isoformat()}" / "*.parquet",
        rejects=config.lake / "rejects" / f"inbox_date={day.isoformat()}" / "*" / "*.parquet",
        stats=result.stats,
    )
    out = config.reports / f"recon_{day.isoformat()}.xlsx"
    write_workbook(day, inputs, out)
    return out


def run_date(config: Config, day: dt.date) -> DateResult:
    ingest_missing_days(config, day - dt.timedelta(days=1))
    files = ingest_day(config, day)
    result = match_and_publish(config, day)
    result.files = files
    result.workbook = write_report(config, result)
    return result


def run_range(config: Config, start: dt.date, end: dt.date) -> list[DateResult]:
    if end < start:
        raise ValueError(f"--to {end} is before --date {start}")
    days = (end - start).days + 1
    return [run_date(config, start + dt.timedelta(days=i)) for i in range(days)]
