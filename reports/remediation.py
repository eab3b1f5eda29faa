"""Remediation files of a report date: proposals for a person to approve; nothing is sent.

`remediation_D/` holds one workbook with a sheet per list, each ending in a totals row:
the platform's 补单 list, refund requests (one sheet per channel), claims to channels and
corrections to lenders, and the 补单 list once more as a CSV in the platform export's own
columns, ready to load. The lists are computed by transforms/match/93_remediation.sql from the
OPEN exceptions, so a resolved item is off them.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from xlsxwriter import Workbook

from reports import i18n
from reports.masking import mask_card, mask_detail
from transforms import csvsafe
from transforms.duck import sql_path

LISTS = ("platform", "refunds", "claims", "corrections")
PLATFORM_COLUMNS = (
    "order_no,order_type,orig_order_no,loan_no,installment_no,borrower_id,lender_code,channel,"
    "channel_txn_id,amount,principal,interest,fee,penalty,installment_due,status,created_at,paid_at"
).split(",")

# (sheet, table, [(header, column, kind)], the money column that is totalled)
SHEETS = [
    (
        "补单 Platform",
        "platform",
        [("订单号 order_no", "order_no", "text"), ("渠道 channel", "channel", "text"),
         ("渠道流水号 channel_txn_id", "channel_txn_id", "text"), ("金额 amount", "amount", "money"),
         ("支付时间 paid_at", "paid_at", "text"), ("借据号 loan_no", "loan_no", "text"),
         ("期数 installment", "installment_no", "int"), ("处理 action", "action", "text"),
         ("类型 type", "exception_type", "text"), ("异常编号", "exception_id", "text")],
        "amount",
    ),
    (
        "渠道索赔 Claims",
        "claims",
        [("渠道 channel", "channel", "text"), ("结算日 settle_date", "settle_date", "date"),
         ("应结算 expected", "expected_amount", "money"), ("实到账 credited", "credited_amount", "money"),
         ("索赔金额 claim", "claim_amount", "money"), ("银行流水号 bank_txn_id", "bank_txn_id", "text"),
         ("说明 reason", "reason", "text"), ("异常编号", "exception_id", "text")],
        "claim_amount",
    ),
    (
        "清分更正 Corrections",
        "corrections",
        [("收款方 recipient", "recipient", "text"), ("起息日 value_date", "value_date", "date"),
         ("应清分 expected", "expected_amount", "money"), ("已划付 paid", "paid_amount", "money"),
         ("更正金额 correction", "correction_amount", "money"), ("说明 reason", "reason", "text"),
         ("异常编号", "exception_id", "text")],
        "correction_amount",
    ),
]  # fmt: skip
REFUND_COLUMNS = [
    ("渠道流水号 channel_txn_id", "channel_txn_id", "text"),
    ("商户订单号 merchant_order_no", "merchant_order_no", "text"),
    ("退款金额 refund_amount", "refund_amount", "money"),
    ("卡号 card", "card_no", "card"),
    ("业务日期 biz_date", "biz_date", "date"),
    ("原因 reason", "reason", "text"),
    ("异常编号", "exception_id", "text"),
]


def write_remediation(
    day: dt.date, lists: Path, out: Path, timezone: str, locale: str = "zh"
) -> Path:
    """From the lists' Parquet files in `lists/` write `out/` (workbook and 补单 CSV); times are
    shown in the local `timezone`, as the platform export writes them, and the reasons in the
    reader's language (`locale`)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        rows = {name: _rows(con, lists / f"{name}.parquet") for name in LISTS}
    finally:
        con.close()
    tz = ZoneInfo(timezone)
    for r in rows["platform"]:
        for key in ("created_at", "paid_at"):
            if isinstance(r.get(key), dt.datetime):
                r[key] = r[key].astimezone(tz).replace(tzinfo=None)
    for listed in rows.values():
        for r in listed:
            for key in ("reason", "action"):
                if isinstance(r.get(key), str):
                    r[key] = i18n.sentence(mask_detail(r[key]), locale)
    _write_platform_csv(rows["platform"], out / f"补单_platform_{day.isoformat()}.csv")
    path = out / f"remediation_{day.isoformat()}.xlsx"
    tmp = path.with_name(f".{path.name}.tmp")
    wb = Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    formats = {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "total": wb.add_format({"bold": True, "num_format": "#,##0.00", "top": 1}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
    }
    _sheet(wb, formats, *SHEETS[0][:3], rows["platform"], SHEETS[0][3])
    channels = sorted({r["channel"] for r in rows["refunds"]}) or [""]
    for channel in channels:
        mine = [r for r in rows["refunds"] if r["channel"] == channel]
        title = f"退款 {channel}".strip() if channel else "退款 Refunds"
        _sheet(wb, formats, title[:31], "refunds", REFUND_COLUMNS, mine, "refund_amount")
    for title, name, columns, total in SHEETS[1:]:
        _sheet(wb, formats, title, name, columns, rows[name], total)
    wb.close()
    os.replace(tmp, path)
    return path


def _rows(con, path: Path) -> list[dict]:
    if not path.exists():
        return []
    rel = con.sql(f"SELECT * FROM read_parquet({sql_path(path)})")
    names = rel.columns
    return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]


def _write_platform_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csvsafe.writer(f, lineterminator="\n")  # input text never becomes a formula
        w.writerow(PLATFORM_COLUMNS)
        for r in rows:
            w.writerow([_csv_value(r.get(c)) for c in PLATFORM_COLUMNS])


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _sheet(wb, formats, title, _name, columns, rows, total_column) -> None:
    ws = wb.add_worksheet(title)
    for c, (header, _col, kind) in enumerate(columns):
        ws.write_string(0, c, header, formats["head"])
        ws.set_column(c, c, 14 if kind in ("money", "date", "int") else 24)
    for i, r in enumerate(rows, start=1):
        for c, (_header, col, kind) in enumerate(columns):
            _cell(ws, i, c, r.get(col), kind, formats)
    last = len(rows) + 1
    ws.write_string(last, 0, f"合计 Total: {len(rows)}", formats["head"])
    where = next(c for c, (_h, col, _k) in enumerate(columns) if col == total_column)
    total = sum((r.get(total_column) or Decimal(0) for r in rows), Decimal(0))
    ws.write_number(last, where, float(total), formats["total"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)


def _cell(ws, row: int, col: int, value, kind: str, formats) -> None:
    if value is None:
        return
    if kind == "money":
        ws.write_number(row, col, float(value), formats["money"])
    elif kind == "int":
        ws.write_number(row, col, int(value))
    elif kind == "date" and isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats["date"])
    elif kind == "card":
        ws.write_string(row, col, mask_card(str(value)) or "")
    else:
        text = value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else str(value)
        ws.write_string(row, col, mask_detail(text) or "")
