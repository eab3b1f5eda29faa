"""The platform's own repayment-order export (SPEC §3): UTF-8 CSV, local times, yuan.

    order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,
    channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at

Columns are mapped by header name (extra columns are ignored, a missing one is a
file error). Blank lines are not data lines; every other line after the header is
a row or a reject. A second header line (files concatenated) is rejected as such.
Python only numbers the lines; splitting and typing happen in DuckDB.

Amounts are unsigned (order_type gives the direction): an amount of zero or less,
or a negative principal/interest/fee/penalty/installment_due, is a reject. A file
of the header alone fails a control check: the export states no count, and an
empty one is most likely one cut short.
"""

from __future__ import annotations

from pathlib import Path

from transforms import fastcsv
from transforms.errors import InputFileError
from transforms.sources import sql
from transforms.sources.base import (
    ControlCheck,
    FileContext,
    Format,
    Normalized,
    Verdict,
    no,
    yes,
)
from transforms.textio import (
    check_width,
    first_line,
    iter_lines,
    joined_fields,
    stage_delimited,
)

HEADER = (
    "order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,"
    "channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at"
).split(",")
TEXT_COLUMNS = [
    "order_no",
    "order_type",
    "orig_order_no",
    "loan_no",
    "installment_no",
    "borrower_id",
    "lender_code",
    "channel",
    "channel_txn_id",
    "status",
    "created_at",
    "paid_at",
]
MONEY_COLUMNS = ["amount", "principal", "interest", "fee", "penalty", "installment_due"]
ORDER_TYPES = ("REPAY", "REFUND")
STATUSES = ("SUCCESS", "FAILED", "PROCESSING")
TIME_TEXT = "YYYY-MM-DD HH:MM:SS"
MIN_HEADER_MATCH = 12  # of the 18 names, for identify() to claim the file
HEADER_ONLY = "data rows: none after the header (an export cut short?)"
PARTS = ("principal", "interest", "fee", "penalty", "installment_due")  # never negative


def header_names(line: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in line.split(",")]


class PlatformExport(Format):
    name = "platform_export"
    table = "platform_orders"
    description = "platform repayment-order export (CSV, header order_no,order_type,...)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() != ".csv":
            return no("file name does not end in .csv")
        names = header_names(first_line(head)) if head else []
        known = [n for n in names if n in HEADER]
        if "order_no" not in names or len(set(known)) < MIN_HEADER_MATCH:
            return no(
                "first line is not the platform export header (order_no,order_type,...,paid_at); "
                f"found {[n[:40] for n in names[:6]]}"
            )
        return yes("platform export header")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = iter_lines(ctx.path, "utf-8")
        _, header = next(lines, (0, ""))
        names = header_names(header)
        missing = [c for c in HEADER if c not in names]
        doubled = sorted({n for n in names if n in HEADER and names.count(n) > 1})
        if missing or doubled:
            problem = f"missing {missing}" if missing else f"repeated {doubled}"
            raise InputFileError(
                ctx.path,
                1,
                f"expected a header with the columns {','.join(HEADER)}; {problem}; "
                f"found {names if header.strip() else 'an empty line'}",
            )
        check_width(ctx.path, 1, len(names))
        cols = [f"c{i}" for i in range(len(names))]
        src = {name: f"c{names.index(name)}" for name in HEADER}
        text = ", ".join(f"{sql.trimmed(src[c])} AS {c}" for c in TEXT_COLUMNS + MONEY_COLUMNS)
        parsed = ", ".join(
            [f"{sql.yuan_text(c)} AS _{c}" for c in MONEY_COLUMNS]
            + [
                f"{sql.iso_local_ts('created_at')} AS _created",
                f"{sql.iso_local_ts('paid_at')} AS _paid",
                "TRY_CAST(installment_no AS INTEGER) AS _installment_no",
                "upper(order_type) AS _order_type",
                "upper(status) AS _status",
            ]
        )
        reason = sql.first_reason(
            sql.required(
                [(c, c) for c in ("order_no", "order_type", "amount", "status", "created_at")]
            ),
            *[sql.unreadable(m, m, f"_{m}", "yuan like 1234.56") for m in MONEY_COLUMNS],
            sql.unreadable("installment_no", "installment_no", "_installment_no", "a whole number"),
            sql.unreadable("created_at", "created_at", "_created", f"a local time {TIME_TEXT}"),
            sql.unreadable("paid_at", "paid_at", "_paid", f"a local time {TIME_TEXT}"),
            f"CASE WHEN _order_type NOT IN {ORDER_TYPES} "
            "THEN 'order_type: expected REPAY or REFUND, found ' || order_type END",
            f"CASE WHEN _status NOT IN {STATUSES} "
            "THEN 'status: expected SUCCESS, FAILED or PROCESSING, found ' || status END",
            "CASE WHEN _amount <= 0 THEN 'amount: expected a positive amount, found ' || amount END",
            f"CASE WHEN least({', '.join(f'_{m}' for m in PARTS)}) < 0 THEN concat_ws('; ', "
            + ", ".join(
                f"CASE WHEN _{m} < 0 THEN '{m}: expected zero or more, found ' || {m} END"
                for m in PARTS
            )
            + ") END",
            "CASE WHEN _order_type = 'REPAY' AND _amount <> _principal + _interest + _fee + _penalty "
            "THEN 'amount: expected principal + interest + fee + penalty = ' "
            "|| (_principal + _interest + _fee + _penalty) || ', found ' || _amount END",
        )
        tz = ctx.timezone
        is_header = "(ltrim(order_no, '\ufeff') = 'order_no' AND order_type = 'order_type')"
        typed = ctx.t("typed")

        def build(staged: str) -> str:
            ctx.con.execute(
                f"""
            CREATE OR REPLACE TABLE {typed} AS
            {sql.typed_rows_cte(staged, cols, text, parsed, is_header, reason, names, ",")}
            SELECT line_no,
                order_no, _order_type AS order_type, orig_order_no, loan_no,
                _installment_no AS installment_no, borrower_id, lender_code, channel,
                channel_txn_id,
                {", ".join(f"_{m} AS {m}" for m in MONEY_COLUMNS)},
                _status AS status,
                {sql.instant("_created", tz)} AS created_at,
                {sql.instant("_paid", tz)} AS paid_at,
                CAST(coalesce(_paid, _created) AS DATE) AS biz_date,
                _reason AS reject_reason,
                CASE WHEN _reason IS NOT NULL THEN coalesce(raw, {joined_fields(cols)}) END AS raw
            FROM r
            """
            )
            return typed

        def careful() -> str:
            return stage_delimited(
                ctx.con,
                ctx.workdir,
                ctx.t("lines"),
                lines,
                cols,
                delim=",",
                quote='"',
                materialize=False,
                skip_blank=True,
            )

        path, scan = fastcsv.prepare(ctx.path, ctx.workdir, "utf-8", quote='"')
        layout = fastcsv.Layout(cols, ",", '"', data_start=2)
        staged = fastcsv.stage_typed(ctx.con, ctx.t("lines"), path, layout, scan, build, careful)
        rows_in = sql.count_accounted(ctx.con, ctx.path, typed, staged)
        # The export states no count: a header and nothing else is most likely one cut short.
        checks = [] if rows_in else [ControlCheck(HEADER_ONLY, None, 0)]
        return Normalized(self.table, typed, rows_in, checks)
