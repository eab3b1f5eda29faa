from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from reports import labels, workbook
from reports.workbook import (
    CLEARED,
    DISTRIBUTION,
    INPUTS,
    PENDING,
    REJECTED,
    SETTLEMENT,
    SUMMARY,
    ReportInputs,
    mask_borrower,
    mask_card,
    mask_id,
    mask_name,
    mask_text,
    write_workbook,
)
from transforms.lake import CANONICAL, LINEAGE

DAY = dt.date(2026, 11, 3)
ARROW = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
}
FILES = CANONICAL["files"]


def write_parquet(path: Path, cols: list[tuple[str, str]], rows: list[dict]) -> Path:
    schema = pa.schema([(name, ARROW[typ]) for name, typ in cols])
    table = pa.table({n: [r.get(n) for r in rows] for n in schema.names}, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def exc(exception_type: str, status: str = "OPEN", **kw) -> dict:
    n = kw.pop("n", 1)
    row = {
        "exception_id": f"E{exception_type[:3]}{status[0]}{n:03d}",
        "report_date": DAY,
        "exception_type": exception_type,
        "ref": f"R{n:03d}",
        "status": status,
        "biz_date": dt.date(2026, 11, 2),
        "first_seen": dt.date(2026, 11, 2),
        "age_days": 1,
        "channel": "wechatpay",
        "order_no": f"P{n:05d}",
        "expected_amount": Decimal("100.00"),
        "actual_amount": Decimal("0.00"),
        "diff_amount": Decimal("-100.00"),
    }
    return row | kw


def inputs(tmp_path: Path, exceptions=(), settlements=(), files=(), rejects=(), stats=None):
    return ReportInputs(
        exceptions=write_parquet(tmp_path / "exc.parquet", CANONICAL["exceptions"], exceptions),
        settlements=write_parquet(tmp_path / "stl.parquet", CANONICAL["settlements"], settlements),
        files=write_parquet(tmp_path / "files" / "manifest.parquet", FILES, files),
        rejects=write_parquet(
            tmp_path / "rej" / "source=a" / "r.parquet", CANONICAL["rejects"] + LINEAGE, rejects
        ),
        stats=stats or {},
    )


def dump_workbook(path: Path) -> str:
    """Each sheet's name, then its rows as tab-separated text, values as Excel displays them."""
    lines = []
    for ws in load_workbook(path).worksheets:
        lines.append(f"## {ws.title}")
        for row in ws.iter_rows():
            lines.append("\t".join(map(_text, row)).rstrip("\t"))
    return "\n".join(lines) + "\n"


def _text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and cell.number_format == workbook.DATE_FORMAT:
        return value.date().isoformat()
    if isinstance(value, int | float) and cell.number_format == workbook.MONEY_FORMAT:
        return f"{value:,.2f}"
    return str(value)


def header(ws) -> list:
    return [c.value for c in ws[1]]


def column(ws, name: str) -> list:
    idx = header(ws).index(name)
    return [row[idx] for row in ws.iter_rows(min_row=2, values_only=True)]


# ------------------------------------------------------------------------------ masking


def test_masking():
    assert mask_card("6222021234567890123") == "6222****0123"
    assert mask_card("6222 0212 3456 7890") == "6222****7890"
    assert mask_card("6222****0123") == "6222****0123"
    assert mask_card("12345") == "****2345"
    assert mask_card(None) is None
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧*"
    assert mask_id("B123456789") == "B1******89"
    assert mask_id("abcd") == "****"
    assert mask_borrower("张三") == "张*"
    assert mask_borrower("买买提·艾力") == "买*"
    assert mask_borrower("B123456789") == "B1******89"
    assert mask_text("x,6222021234567890123,张三") == "x,6222****0123,张三"
    assert mask_text("order 4200001234202611031234567890") == "order 4200001234202611031234567890"


def test_labels_cover_spec_codes():
    assert len(labels.EXCEPTION_TYPES) == 14
    assert list(labels.EXCEPTION_TYPES)[0] == "MISSING_ON_PLATFORM"
    assert labels.label("MISSING_ON_PLATFORM") == "平台漏单/掉单"
    assert labels.action("MISSING_ON_PLATFORM") == "补单或退款 / credit the loan or refund"
    assert labels.label("MISSING_FILE") == "文件未到"
    assert labels.label("SOMETHING_NEW") == "SOMETHING_NEW"
    assert all(len(code) <= 31 for code in labels.EXCEPTION_TYPES)
    assert set(labels.SETTLEMENT_STATUS) == {"MATCHED", "MISMATCH", "MISSING", "PENDING"}


# ------------------------------------------------------------------------------ workbook


@pytest.fixture
def day_inputs(tmp_path: Path) -> ReportInputs:
    checks = [
        {"name": "应结订单总金额", "stated": "300.00", "computed": "300.00", "ok": True},
        {"name": "退款总金额", "stated": "10.00", "computed": "0.00", "ok": False},
    ]
    return inputs(
        tmp_path,
        exceptions=[
            exc(
                "MISSING_ON_PLATFORM", n=1, borrower_id="B123456789", card_no="6222021234567890123"
            ),
            exc("MISSING_ON_PLATFORM", n=2, age_days=9, borrower_id="张三"),
            exc("AMOUNT_MISMATCH", n=3, age_days=40, diff_amount=Decimal("1234567.89")),
            exc("SETTLEMENT_MISSING", "PENDING", n=4),
            exc("CHANNEL_FAILED", "CLEARED", n=5),
            exc("DATA_CONFLICT", n=6, report_date=dt.date(2026, 11, 2)),  # another report date
        ],
        settlements=[
            {
                "report_date": DAY,
                "channel": "wechatpay",
                "settle_date": DAY,
                "trade_date": dt.date(2026, 11, 2),
                "txn_count": 3,
                "pay_amount": Decimal("300.00"),
                "refund_amount": Decimal("0.00"),
                "fee_amount": Decimal("1.80"),
                "expected_net": Decimal("298.20"),
                "bank_amount": Decimal("298.20"),
                "diff_amount": Decimal("0.00"),
                "status": "MATCHED",
            }
        ],
        files=[
            {
                "source": "wechatpay",
                "file_name": "bill.csv",
                "format": "wechatpay_bill",
                "status": "OK",
                "rows_in": 4,
                "rows_ok": 3,
                "rows_rejected": 1,
                "control_ok": False,
                "checks": json.dumps(checks, ensure_ascii=False),
                "amount_total": Decimal("300.00"),
            },
            {"source": "bank", "file_name": None, "status": "MISSING", "checks": "[]"},
        ],
        rejects=[
            {
                "reason": "bad amount",
                "raw": "x,6222021234567890123,abc",
                "source": "wechatpay",
                "file_name": "bill.csv",
                "line_no": 7,
            }
        ],
        stats={"platform orders": 1234, "matched": 1200, "match rate": "97.2%"},
    )


def test_sheets_headers_formats_and_masking(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "out" / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [
        SUMMARY,
        "MISSING_ON_PLATFORM",
        "AMOUNT_MISMATCH",
        PENDING,
        CLEARED,
        SETTLEMENT,
        DISTRIBUTION,
        REJECTED,
        INPUTS,
    ]
    ws = wb["MISSING_ON_PLATFORM"]
    assert header(ws) == [
        "ref", "类型", "biz_date", "first_seen", "age_days", "channel", "order_no",
        "channel_txn_id", "bank_txn_id", "expected", "actual", "diff", "borrower", "card",
        "detail", "file", "line", "exception_id", "suggested action",
    ]  # fmt: skip
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:S3"
    assert column(ws, "ref") == ["R002", "R001"]  # oldest first
    assert column(ws, "borrower") == ["张*", "B1******89"]
    assert column(ws, "card") == [None, "6222****0123"]
    assert column(ws, "类型") == ["平台漏单/掉单"] * 2
    diff = ws.cell(row=2, column=header(ws).index("diff") + 1)
    assert diff.data_type == "n" and diff.value == -100.0
    assert diff.number_format == "#,##0.00"
    biz = ws.cell(row=2, column=3)
    assert biz.value == dt.datetime(2026, 11, 2) and biz.number_format == "yyyy-mm-dd"

    big = wb["AMOUNT_MISMATCH"].cell(row=2, column=12)
    assert big.value == 1234567.89 and big.number_format == "#,##0.00"
    assert column(wb[PENDING], "type") == ["SETTLEMENT_MISSING"]
    assert column(wb[CLEARED], "type") == ["CHANNEL_FAILED"]
    assert column(wb[SETTLEMENT], "状态") == ["已对平"]
    assert column(wb[REJECTED], "raw") == ["x,6222****0123,abc"]
    assert column(wb[INPUTS], "control totals") == ["n/a 无校验", "different 不符"]
    for name in wb.sheetnames[1:]:
        assert wb[name].freeze_panes == "A2" and wb[name].auto_filter.ref

    with zipfile.ZipFile(path) as z:
        assert "xl/charts/chart1.xml" in z.namelist()
    assert not list(path.parent.glob(".*.tmp"))


def test_summary_snapshot(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "report.xlsx")
    summary = dump_workbook(path).split("## MISSING_ON_PLATFORM")[0]
    assert summary == SUMMARY_SNAPSHOT


SUMMARY_SNAPSHOT = """\
## Summary
对账报告 汇总 Reconciliation summary
Report date 报告日期\t2026-11-03

Headline 概览
platform orders\t1234
matched\t1200
match rate\t97.2%

Inputs 文件
source\tfile\tformat\tstatus\trows in\trows ok\trows rejected\tcontrol totals\tstated vs computed\terror
bank\t\t\tMISSING\t\t\t\tn/a 无校验
wechatpay\tbill.csv\twechatpay_bill\tOK\t4\t3\t1\tdifferent 不符\t\
应结订单总金额: stated 300.00 vs computed 300.00 (ok); 退款总金额: stated 10.00 vs computed 0.00 (DIFF)

Exceptions by type 差异分类 (OPEN)
code\t类型\tcount\ttotal |diff|\tsuggested action
MISSING_ON_PLATFORM\t平台漏单/掉单\t2\t200.00\t补单或退款 / credit the loan or refund
PLATFORM_NOT_PAID\t状态不符-扣款成功未入账\t0\t\t补单 / mark paid
MISSING_ON_CHANNEL\t渠道漏单\t0\t\t查询渠道, 冲正入账 / query channel; reverse the credit
CHANNEL_FAILED\t状态不符-平台成功渠道失败\t0\t\t冲正入账 / reverse the credit
AMOUNT_MISMATCH\t金额不符\t1\t1,234,567.89\t核查并调账 / investigate; adjust
DUPLICATE_DEBIT\t重复扣款\t0\t\t退款给借款人 / refund the borrower
REFUND_UNMATCHED\t退款不符\t0\t\t补全或冲正退款 / complete or reverse the refund
SETTLEMENT_MISMATCH\t结算差异\t0\t\t向渠道追索差额 / claim the difference from channel
SETTLEMENT_MISSING\t结算未到账\t0\t\t催收渠道结算 / chase the channel
BANK_UNEXPLAINED\t银行未达账\t0\t\t查明付款方 / identify the payer
DISTRIBUTION_MISMATCH\t清分差异\t0\t\t更正划款 / correct the transfer
DATA_CONFLICT\t数据冲突\t0\t\t确认真实记录 / confirm the true record
REJECTED_ROW\t数据错误\t0\t\t修正文件后重跑 / fix the file, re-run
MISSING_FILE\t文件未到\t0\t\t催收文件 / chase the sender
Total 合计\t\t3\t1,234,767.89

Ageing 账龄 (OPEN, days 天)
age_days\tcount\ttotal |diff|
0-1\t1\t100.00
2-3\t0
4-7\t0
8-30\t1\t100.00
>30\t1\t1,234,567.89

Pending 在途\t1
Cleared today 今日已清\t1

Sheets over the row limit 超行拆分\tnone 无
"""


def test_untrusted_text_is_never_a_formula_or_link(tmp_path: Path):
    evil = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1", "-2+3", "http://example.com"]
    data = inputs(
        tmp_path,
        exceptions=[
            exc("DATA_CONFLICT", n=i, ref=text, detail=text, order_no=text)
            for i, text in enumerate(evil)
        ],
        rejects=[{"reason": text, "raw": text, "source": "s", "line_no": 1} for text in evil],
        stats={"=1+1": '=HYPERLINK("http://x","y")'},
    )
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    ws = wb["DATA_CONFLICT"]
    cells = [ws.cell(row=r, column=c) for r in range(2, 2 + len(evil)) for c in (1, 7, 15)]
    rejected = [c for row in wb[REJECTED].iter_rows(min_row=2, max_col=5) for c in row[3:]]
    for cell in cells + rejected:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert cell.hyperlink is None
    assert sorted({c.value for c in cells}) == sorted(evil)
    stat = [c for row in wb[SUMMARY].iter_rows() for c in row if c.value == "=1+1"]
    assert stat and stat[0].data_type == "s"
    assert stat[0].offset(column=1).data_type == "s"
    for ws in wb.worksheets:
        assert not ws._hyperlinks
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_sheet_continues_past_row_limit(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    rows = [exc("MISSING_ON_CHANNEL", n=i, age_days=10 - i) for i in range(7)]
    rows += [exc("AMOUNT_MISMATCH", n=i) for i in range(3)]  # exactly the limit: no split
    path = write_workbook(DAY, inputs(tmp_path, exceptions=rows), tmp_path / "report.xlsx")
    wb = load_workbook(path)
    parts = ["MISSING_ON_CHANNEL", "MISSING_ON_CHANNEL (2)", "MISSING_ON_CHANNEL (3)"]
    assert wb.sheetnames[1:5] == [*parts, "AMOUNT_MISMATCH"]
    assert [column(wb[p], "ref") for p in parts] == [
        ["R000", "R001", "R002"],
        ["R003", "R004", "R005"],
        ["R006"],
    ]
    for p in parts:
        assert header(wb[p])[0] == "ref" and wb[p].freeze_panes == "A2"
    assert wb["MISSING_ON_CHANNEL (3)"].auto_filter.ref == "A1:S2"
    text = dump_workbook(path)
    assert (
        "Sheets over the row limit 超行拆分\t"
        "MISSING_ON_CHANNEL continues on MISSING_ON_CHANNEL (2), MISSING_ON_CHANNEL (3)\n"
    ) in text
    assert "AMOUNT_MISMATCH continues" not in text


@pytest.mark.parametrize("kind", ["none", "empty_glob"])
def test_missing_inputs_give_a_valid_workbook(tmp_path: Path, kind: str):
    if kind == "none":
        data = ReportInputs()
    else:
        nothing = tmp_path / "nothing" / "report_date=*" / "*.parquet"
        data = ReportInputs(nothing, nothing, nothing, nothing, {})
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [SUMMARY, PENDING, CLEARED, SETTLEMENT, DISTRIBUTION, REJECTED, INPUTS]
    for name in wb.sheetnames[1:]:
        assert wb[name].max_row == 1 and header(wb[name])[0]
    assert header(wb[SETTLEMENT])[:2] == ["channel", "settle_date"]
    assert "Cleared today 今日已清\t0\n" in dump_workbook(path)


def test_hive_partitioned_glob_keeps_only_the_report_date(tmp_path: Path):
    root = tmp_path / "exceptions"
    cols = [c for c in CANONICAL["exceptions"] if c[0] != "report_date"]
    for day, n in [(DAY, 1), (DAY - dt.timedelta(days=1), 2)]:
        path = root / f"report_date={day}" / "part-0.parquet"
        write_parquet(path, cols, [exc("BANK_UNEXPLAINED", n=n)])
    data = ReportInputs(exceptions=root / "report_date=*" / "*.parquet")
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    assert column(load_workbook(path)["BANK_UNEXPLAINED"], "ref") == ["R001"]


def test_replaces_existing_file_atomically(tmp_path: Path):
    out = tmp_path / "report.xlsx"
    out.write_text("old")
    assert write_workbook(DAY, ReportInputs(), out) == out
    assert load_workbook(out).sheetnames[0] == SUMMARY
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


# ------------------------------------------------------------------------------ fast rows


TRICKY_TEXT = [
    "plain",
    "",
    " leading space",
    "trailing tab\t",
    "\u3000全角空格\u3000",
    "a & b < c > d \"quoted\" 'single'",
    "ctrl \x01\x07\x1f and\nnewline",
    "literal _x0041_ escape",
    "non-char \ufffe\uffff",
    '=HYPERLINK("http://x","y")',
    "emoji 😀 and 中文",
    "x" * 20_000 + "😀" * 8_000,  # over Excel's 32,767 UTF-16 units: cut as XlsxWriter does
]


def tricky_inputs(tmp_path: Path) -> ReportInputs:
    rows = []
    for i, text in enumerate(TRICKY_TEXT):
        rows.append(
            exc(
                "DATA_CONFLICT",
                n=i,
                age_days=i - 3,
                ref=text,
                detail=text,
                borrower_id=text or None,
                card_no="6222 0212 3456 7890" if i % 2 else None,
                biz_date=dt.date(1900, 1, 1 + i) if i < 3 else dt.date(2026, 11, 2),
                expected_amount=Decimal("9999999999999999.99") if i == 1 else Decimal(i),
                actual_amount=None if i == 2 else Decimal("-0.01") * i,
                line_no=12345678901234567 if i == 3 else i,
            )
        )
    rows += [exc("BANK_UNEXPLAINED", status, n=i) for i in range(5) for status in ("OPEN",)]
    rows += [exc("SOMETHING_NEW", "PENDING", n=i, channel=None) for i in range(4)]
    rejects = [{"raw": text, "reason": text, "line_no": i} for i, text in enumerate(TRICKY_TEXT)]
    rejects.append({})  # every cell empty: no row element at all
    return inputs(tmp_path, exceptions=rows, rejects=rejects, settlements=[{"channel": "x"}])


def sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/")}


def test_fast_rows_write_what_xlsxwriter_writes(tmp_path: Path, monkeypatch):
    """The data rows rendered in bulk are byte for byte XlsxWriter's own per-cell output."""
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)  # splits, also in the middle of a batch
    monkeypatch.setattr(workbook, "BATCH_ROWS", 2)
    data = tricky_inputs(tmp_path)
    monkeypatch.setattr(workbook, "FAST_ROWS", False)
    slow = sheet_parts(write_workbook(DAY, data, tmp_path / "slow.xlsx"))
    monkeypatch.setattr(workbook, "FAST_ROWS", True)
    fast = sheet_parts(write_workbook(DAY, data, tmp_path / "fast.xlsx"))
    assert sorted(fast) == sorted(slow)
    assert "xl/worksheets/sheet12.xml" in fast  # several split sheets
    for name in slow:
        assert fast[name] == slow[name], name


def test_fast_rows_keep_rich_text_lookalikes_literal(tmp_path: Path):
    text = "<r><t>looks like rich text</t></r>"
    data = inputs(tmp_path, exceptions=[exc("DATA_CONFLICT", detail=text)])
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    assert column(load_workbook(path)["DATA_CONFLICT"], "detail") == [text]
