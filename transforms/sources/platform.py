"""The platform's own repayment-order export (SPEC §3): UTF-8 CSV, local times, yuan."""

from __future__ import annotations

from pathlib import Path

from transforms.sources import sql
from transforms.sources.base import FileContext, Format, Normalized, Verdict, no, yes
from transforms.textio import head_text, iter_lines, stage_delimited

HEADER = (
    "order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,"
    "channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at"
).split(",")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MONEY_COLUMNS = ["amount", "principal", "interest", "fee", "penalty", "installment_due"]


class PlatformExport(Format):
    name = "platform_export"
    table = "platform_orders"
    description = "platform repayment-order export (CSV, header order_no,order_type,...)"

    def identify(self, path: Path, head: bytes) -> Verdict:
        if path.suffix.lower() != ".csv":
            return no("file name does not end in .csv")
        first = head_text(head).splitlines()[0] if head else ""
        if [c.strip() for c in first.split(",")] != HEADER:
            return no(
                "first line is not the platform export header (order_no,order_type,...,paid_at)"
            )
        return yes("platform export header")

    def normalize(self, ctx: FileContext) -> Normalized:
        lines = iter_lines(ctx.path, "utf-8")
        _, header = next(lines, (0, ""))
        if [c.strip() for c in header.split(",")] != HEADER:
            from transforms.errors import InputFileError

            raise InputFileError(
                ctx.path, 1, f"expected header {','.join(HEADER)}; found {header[:200]!r}"
            )
        rows = stage_delimited(
            ctx.con, ctx.workdir, ctx.t("lines"), (x for x in lines if x[1].strip()), HEADER
        )
        c = {name: sql.clean(name) for name in HEADER}
        created = sql.local_time(c["created_at"], TIME_FORMAT)
        paid = sql.local_time(c["paid_at"], TIME_FORMAT)
        money = {m: sql.money(c[m]) for m in MONEY_COLUMNS}
        tz = ctx.timezone
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            SELECT line_no, raw,
                {c["order_no"]} AS order_no,
                upper({c["order_type"]}) AS order_type,
                {c["orig_order_no"]} AS orig_order_no,
                {c["loan_no"]} AS loan_no,
                {sql.integer(c["installment_no"])} AS installment_no,
                {c["borrower_id"]} AS borrower_id,
                {c["lender_code"]} AS lender_code,
                {c["channel"]} AS channel,
                {c["channel_txn_id"]} AS channel_txn_id,
                {", ".join(f"{expr} AS {m}" for m, expr in money.items())},
                upper({c["status"]}) AS status,
                {sql.instant(created, tz)} AS created_at,
                {sql.instant(paid, tz)} AS paid_at,
                CAST(coalesce({paid}, {created}) AS DATE) AS biz_date,
                coalesce(reject_reason, {
                sql.first_reason(
                    sql.required(
                        [
                            ("order_no", c["order_no"]),
                            ("order_type", c["order_type"]),
                            ("amount", c["amount"]),
                            ("status", c["status"]),
                            ("created_at", c["created_at"]),
                        ]
                    ),
                    sql.field_checks(
                        [(m, c[m], money[m]) for m in MONEY_COLUMNS]
                        + [
                            (
                                "installment_no",
                                c["installment_no"],
                                sql.integer(c["installment_no"]),
                            ),
                            ("created_at", c["created_at"], created),
                            ("paid_at", c["paid_at"], paid),
                        ]
                    ),
                    f"CASE WHEN upper({c['order_type']}) NOT IN ('REPAY','REFUND') "
                    f"THEN 'order_type: expected REPAY or REFUND, found ' || {c['order_type']} END",
                    f"CASE WHEN upper({c['status']}) NOT IN ('SUCCESS','FAILED','PROCESSING') "
                    f"THEN 'status: expected SUCCESS, FAILED or PROCESSING, found ' || {c['status']} END",
                    f"CASE WHEN upper({c['order_type']}) = 'REPAY' AND {money['amount']} "
                    f"<> {money['principal']} + {money['interest']} + {money['fee']} + {money['penalty']} "
                    "THEN 'amount: expected principal + interest + fee + penalty' END",
                )
            }) AS reject_reason
            FROM {rows}
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchone()[0]
        return Normalized(self.table, typed, rows_in)
