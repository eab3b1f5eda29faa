from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from xlsxwriter.utility import xl_col_to_name

from reports import i18n, labels, xlsx
from reports.workbook import ReportInputs, write_workbook
from tests.reports.helpers import (
    DAY,
    column,
    dump_workbook,
    exc,
    header,
    inputs,
    write_parquet,
)
from transforms.lake import CANONICAL

FIXED_ZH = [
    "汇总 Summary",
    "在途 Pending",
    "今日已清 Cleared",
    "已处理 Resolved",
    "结算 Settlement",
    "清分 Distribution",
    "错误行 Rejected",
    "文件 Inputs",
]
FIXED_EN = [
    "Summary",
    "Pending",
    "Cleared",
    "Resolved",
    "Settlement",
    "Distribution",
    "Rejected",
    "Inputs",
]
EXCEPTION_HEADERS_ZH = [
    "异常编号", "严重程度", "风险金额", "账龄(天)", "类型", "类型代码", "对账键", "业务日期",
    "首次发现", "渠道", "订单号", "渠道流水号", "银行流水号", "借款人", "卡号", "应有金额",
    "实际金额", "差额", "说明", "建议处理", "文件", "行号", "处理结果", "处理说明", "处理人",
    "对方单号",
]  # fmt: skip
DECISIONS = ["处理结果", "处理说明", "处理人", "对方单号"]


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
                "MISSING_ON_PLATFORM",
                n=1,
                severity=1,
                borrower_id="B123456789",
                card_no="6222021234567890123",
                money_at_stake=Decimal("100.00"),
            ),
            exc(
                "MISSING_ON_PLATFORM",
                n=2,
                severity=1,
                age_days=9,
                borrower_id="张三",
                money_at_stake=Decimal("100.00"),
            ),
            exc(
                "AMOUNT_MISMATCH",
                n=3,
                age_days=40,
                diff_amount=Decimal("1234567.89"),
                money_at_stake=Decimal("1234567.89"),
            ),
            exc("SETTLEMENT_MISSING", "PENDING", n=4),
            exc("CHANNEL_FAILED", "CLEARED", n=5),
            exc("DATA_CONFLICT", n=6, report_date=dt.date(2026, 11, 2)),  # another report date
            exc(
                "DUPLICATE_DEBIT",
                "RESOLVED",
                n=7,
                severity=1,
                resolution_id="RS1",
                resolution_action="REFUNDED",
                resolution_note="退回原卡",
                resolved_by="王芳",
                resolved_at=dt.datetime(2026, 11, 3, 1, 30, tzinfo=dt.UTC),
            ),
        ],  # fmt: skip
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
        stats={"platform repay orders (biz date)": 1234, "order match rate": "97.2%"},
    )


def test_sheets_headers_and_formats(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "out" / "report.xlsx")
    wb = load_workbook(path)
    assert (
        wb.sheetnames
        == [
            "汇总 Summary",
            "平台漏单-掉单 MISSING_ON_PLATFORM",  # severity 1 first; '/' may not be in a tab
            "金额不符 AMOUNT_MISMATCH",
            *FIXED_ZH[1:],
        ]
    )
    ws = wb["平台漏单-掉单 MISSING_ON_PLATFORM"]
    assert header(ws) == EXCEPTION_HEADERS_ZH
    assert ws.freeze_panes == "B2"  # the header row and 异常编号 stay in view
    assert ws.auto_filter.ref == "A1:Z3"
    assert column(ws, "对账键") == ["R002", "R001"]  # same severity and money: oldest first
    assert column(ws, "类型") == ["平台漏单/掉单"] * 2
    assert column(ws, "类型代码") == ["MISSING_ON_PLATFORM"] * 2
    assert column(ws, "严重程度") == ["1 借款人受损"] * 2
    assert column(ws, "借款人") == ["张*", "B1******89"]
    assert column(ws, "卡号") == [None, "6222****0123"]
    assert column(ws, "建议处理") == ["补单或退款"] * 2
    for name in DECISIONS:
        assert column(ws, name) == [None, None]
    diff = ws.cell(row=2, column=header(ws).index("差额") + 1)
    assert diff.data_type == "n" and diff.value == -100.0
    assert diff.number_format == "#,##0.00"
    stake = ws.cell(row=2, column=header(ws).index("风险金额") + 1)
    assert stake.value == 100.0 and stake.number_format == "#,##0.00"
    biz = ws.cell(row=2, column=header(ws).index("业务日期") + 1)
    assert biz.value == dt.datetime(2026, 11, 2) and biz.number_format == "yyyy-mm-dd"
    age = ws.cell(row=2, column=header(ws).index("账龄(天)") + 1)
    assert age.value == 9 and age.data_type == "n"

    big = wb["金额不符 AMOUNT_MISMATCH"].cell(row=2, column=3)
    assert big.value == 1234567.89 and big.number_format == "#,##0.00"
    assert header(wb["在途 Pending"]) == EXCEPTION_HEADERS_ZH
    assert column(wb["在途 Pending"], "类型代码") == ["SETTLEMENT_MISSING"]
    assert column(wb["今日已清 Cleared"], "类型代码") == ["CHANNEL_FAILED"]
    assert header(wb["今日已清 Cleared"]) == EXCEPTION_HEADERS_ZH[:-4]  # nothing to decide
    assert column(wb["结算 Settlement"], "状态") == ["已对平"]
    assert column(wb["结算 Settlement"], "状态代码") == ["MATCHED"]
    assert column(wb["错误行 Rejected"], "原始内容") == ["x,6222021234567890123,abc"]  # no Luhn
    assert column(wb["文件 Inputs"], "控制总数") == ["无校验", "不符"]
    assert column(wb["文件 Inputs"], "状态") == ["未到", "正常"]
    for name in wb.sheetnames[1:]:
        assert wb[name].freeze_panes in ("A2", "B2") and wb[name].auto_filter.ref
        assert all(h and len(h) < 20 for h in header(wb[name]))
    with zipfile.ZipFile(path) as z:
        assert "xl/charts/chart1.xml" in z.namelist()
    assert not list(path.parent.glob(".*.tmp"))


def test_english_locale(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "report.xlsx", locale="en")
    wb = load_workbook(path)
    assert wb.sheetnames == [
        "Summary",
        "MISSING_ON_PLATFORM",
        "AMOUNT_MISMATCH",
        *FIXED_EN[1:],
    ]
    head = header(wb["MISSING_ON_PLATFORM"])
    assert head[:8] == [
        "异常编号",  # the importer's key: the same in every locale
        "severity",
        "money at stake",
        "age (days)",
        "type",
        "exception_type",
        "ref",
        "business date",
    ]
    assert head[-4:] == DECISIONS  # the importer reads these in every locale
    ws = wb["MISSING_ON_PLATFORM"]
    assert column(ws, "type") == ["Missing on platform"] * 2
    assert column(ws, "severity") == ["1 borrower harmed"] * 2
    assert column(ws, "suggested action") == ["credit the loan or refund"] * 2
    assert wb["Summary"]["A1"].value == "Reconciliation summary"
    assert column(wb["Settlement"], "status") == ["MATCHED"]
    # the locale of ReportInputs is the default of write_workbook
    en = ReportInputs(**{**day_inputs.__dict__, "locale": "en"})
    assert load_workbook(write_workbook(DAY, en, tmp_path / "en.xlsx")).sheetnames[0] == "Summary"
    with pytest.raises(ValueError, match="unknown locale"):
        write_workbook(DAY, day_inputs, tmp_path / "x.xlsx", locale="fr")


def test_urgent_first(tmp_path: Path):
    """Severity, then money at stake (largest first), then age (oldest first)."""
    rows = [
        exc("DUPLICATE_DEBIT", n=1, severity=2, money_at_stake=Decimal("500.00"), age_days=10),
        exc("DUPLICATE_DEBIT", n=2, severity=1, money_at_stake=Decimal("100.00"), age_days=1),
        exc("DUPLICATE_DEBIT", n=3, severity=1, money_at_stake=Decimal("300.00"), age_days=2),
        exc("DUPLICATE_DEBIT", n=4, severity=1, money_at_stake=Decimal("300.00"), age_days=5),
        exc("DUPLICATE_DEBIT", n=5, severity=None, money_at_stake=Decimal("9000.00"), age_days=50),
        exc("DUPLICATE_DEBIT", n=6, severity=1, money_at_stake=None, age_days=99),
        exc("BANK_UNEXPLAINED", n=7, severity=2, money_at_stake=Decimal("9999.00")),
        exc("REJECTED_ROW", n=8, severity=3, money_at_stake=None),
        exc("MISSING_FILE", n=9, severity=3, money_at_stake=None),
    ]
    rows += [{**r, "status": "PENDING", "exception_id": r["exception_id"] + "P"} for r in rows[:6]]
    path = write_workbook(DAY, inputs(tmp_path, exceptions=rows), tmp_path / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[1:5] == [
        "重复扣款 DUPLICATE_DEBIT",
        "银行未达账 BANK_UNEXPLAINED",
        "数据错误 REJECTED_ROW",
        "文件未到 MISSING_FILE",
    ]
    expected = ["R004", "R003", "R002", "R006", "R001", "R005"]
    assert column(wb["重复扣款 DUPLICATE_DEBIT"], "对账键") == expected
    assert column(wb["在途 Pending"], "对账键") == expected


def test_decision_columns_have_the_dropdown(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    choices = '"' + ",".join(labels.resolution_choices()) + '"'
    assert (
        choices
        == '"REFUNDED 已退款,CREDITED 补单已处理,WRITTEN_OFF 核销,FALSE_POSITIVE 误报,MATCHED_MANUALLY 手工匹配"'
    )
    for name in ["平台漏单-掉单 MISSING_ON_PLATFORM", "金额不符 AMOUNT_MISMATCH", "在途 Pending"]:
        ws = wb[name]
        col = xl_col_to_name(header(ws).index("处理结果"))
        rules = ws.data_validations.dataValidation
        assert len(rules) == 1, name
        rule = rules[0]
        assert rule.type == "list" and rule.formula1 == choices
        last = max(ws.max_row, 2)
        assert str(rule.sqref) == (f"{col}2:{col}{last}" if last > 2 else f"{col}2")
        assert header(ws)[-4:] == DECISIONS
    for name in ["今日已清 Cleared", "已处理 Resolved", "结算 Settlement"]:
        assert not wb[name].data_validations.dataValidation
        assert "处理结果" not in header(wb[name])  # never read back as a new decision


def test_resolved_sheet_lists_the_decisions(tmp_path: Path, day_inputs: ReportInputs):
    path = write_workbook(DAY, day_inputs, tmp_path / "report.xlsx")
    ws = load_workbook(path)["已处理 Resolved"]
    assert header(ws)[:8] == [
        "异常编号", "处理方式", "对应单号", "处理备注", "经办人", "处理时间", "处理编号", "严重程度",
    ]  # fmt: skip
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1
    assert rows[0][:8] == (
        "EDUPR007",
        "REFUNDED 已退款",
        None,
        "退回原卡",
        "王芳",
        dt.datetime(2026, 11, 3, 9, 30),  # 01:30 UTC shown in Asia/Shanghai
        "RS1",
        "1 借款人受损",
    )
    assert ws.cell(row=2, column=6).number_format == xlsx.DATETIME_FORMAT
    assert column(ws, "类型代码") == ["DUPLICATE_DEBIT"]


def test_inputs_show_bank_credits_and_debits(tmp_path: Path):
    files = [
        {"source": "bank", "file_name": "ccb.csv", "file_sha256": "aa", "status": "OK",
         "rows_in": 3, "rows_ok": 3, "rows_rejected": 0, "amount_total": Decimal("350.00")},
        {"source": "wechatpay", "file_name": "bill.csv", "status": "OK", "rows_in": 1,
         "amount_total": Decimal("80.00")},
    ]  # fmt: skip
    lines = [
        {"direction": "CREDIT", "amount": Decimal("100.00")},
        {"direction": "CREDIT", "amount": Decimal("200.00")},
        {"direction": "DEBIT", "amount": Decimal("50.00")},
    ]
    lineage = {"source": "bank", "file_name": "ccb.csv", "file_sha256": "aa"}
    data = inputs(tmp_path, files=files, bank_lines=[line | lineage for line in lines])
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    ws = wb["文件 Inputs"]
    assert column(ws, "收入笔数") == [2, None]
    assert column(ws, "收入(贷方合计)") == [300.0, None]
    assert column(ws, "支出笔数") == [1, None]
    assert column(ws, "支出(借方合计)") == [50.0, None]
    assert column(ws, "净额(收入-支出)") == [250.0, None]
    # credits plus debits (350.00) is no figure anyone reads; a channel's total is its own
    assert column(ws, "交易金额合计(渠道/平台)") == [None, 80.0]
    for row, name in [
        (2, "收入(贷方合计)"),
        (2, "净额(收入-支出)"),
        (3, "交易金额合计(渠道/平台)"),
    ]:
        cell = ws.cell(row=row, column=header(ws).index(name) + 1)
        assert cell.number_format == xlsx.MONEY_FORMAT
    summary = dump_workbook(path)
    assert "bank\tccb.csv\t\t正常\t3\t3\t0\t无校验\t300.00\t50.00\t250.00\n" in summary
    assert "wechatpay\tbill.csv\t\t正常\t1\t\t\t无校验\t\t\t\t80.00\n" in summary


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
    ws = wb["数据冲突 DATA_CONFLICT"]
    cols = [header(ws).index(h) + 1 for h in ("对账键", "订单号", "说明")]
    cells = [ws.cell(row=r, column=c) for r in range(2, 2 + len(evil)) for c in cols]
    rejected = [c for row in wb["错误行 Rejected"].iter_rows(min_row=2, max_col=5) for c in row[3:]]
    for cell in cells + rejected:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert cell.hyperlink is None
    assert sorted({c.value for c in cells}) == sorted(evil)
    stat = [c for row in wb["汇总 Summary"].iter_rows() for c in row if c.value == "=1+1"]
    assert stat and stat[0].data_type == "s"
    assert stat[0].offset(column=1).data_type == "s"
    for ws in wb.worksheets:
        assert not ws._hyperlinks
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_sheet_continues_past_row_limit(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    rows = [exc("PLATFORM_NOT_PAID", n=i, age_days=10 - i) for i in range(7)]
    rows += [exc("AMOUNT_MISMATCH", n=i, severity=3) for i in range(3)]  # the limit: no split
    path = write_workbook(DAY, inputs(tmp_path, exceptions=rows), tmp_path / "report.xlsx")
    wb = load_workbook(path)
    parts = [
        "状态不符-扣款成功未入账 PLATFORM_NOT_PAID",  # 30 characters
        "状态不符-扣款成功 PLATFORM_NOT_PAID (2)",  # the label is shortened, not the code
        "状态不符-扣款成功 PLATFORM_NOT_PAID (3)",
    ]
    assert wb.sheetnames[1:5] == [*parts, "金额不符 AMOUNT_MISMATCH"]
    assert all(len(p) <= 31 for p in wb.sheetnames)
    assert [column(wb[p], "对账键") for p in parts] == [
        ["R000", "R001", "R002"],
        ["R003", "R004", "R005"],
        ["R006"],
    ]
    for p in parts:
        assert header(wb[p]) == EXCEPTION_HEADERS_ZH and wb[p].freeze_panes == "B2"
        assert len(wb[p].data_validations.dataValidation) == 1
    assert wb[parts[2]].auto_filter.ref == "A1:Z2"
    text = dump_workbook(path)
    assert f"超行拆分\t{parts[0]} 续见 {parts[1]}, {parts[2]}\n" in text
    assert "AMOUNT_MISMATCH 续见" not in text


def test_tab_names_stay_short_valid_and_unique():
    for code in [*labels.EXCEPTION_TYPES, "A_VERY_LONG_CODE_NOBODY_KNOWS_ABOUT_YET"]:
        for locale in i18n.LOCALES:
            names = [i18n.type_tab(code, locale, part) for part in range(1, 12)]
            assert len(set(names)) == len(names)
            for name in names:
                assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\"), name
    assert i18n.type_tab("DUPLICATE_DEBIT", "zh") == "重复扣款 DUPLICATE_DEBIT"
    assert i18n.type_tab("DUPLICATE_DEBIT", "zh", 2) == "重复扣款 DUPLICATE_DEBIT (2)"
    assert i18n.type_tab("DUPLICATE_DEBIT", "en") == "DUPLICATE_DEBIT"


def test_unknown_code_named_like_a_fixed_sheet(tmp_path: Path):
    data = inputs(tmp_path, exceptions=[exc("Pending"), exc("SOMETHING_NEW", n=2)])
    wb = load_workbook(write_workbook(DAY, data, tmp_path / "r.xlsx", locale="en"))
    assert wb.sheetnames[:4] == ["Summary", "Pending", "SOMETHING_NEW", "Pending~2"]


@pytest.mark.parametrize("kind", ["none", "empty_glob"])
def test_missing_inputs_give_a_valid_workbook(tmp_path: Path, kind: str):
    if kind == "none":
        data = ReportInputs()
    else:
        nothing = tmp_path / "nothing" / "report_date=*" / "*.parquet"
        data = ReportInputs(nothing, nothing, nothing, nothing, {}, nothing, nothing)
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == FIXED_ZH
    for name in wb.sheetnames[1:]:
        assert wb[name].max_row == 1 and header(wb[name])[0]
    assert header(wb["结算 Settlement"])[:2] == ["渠道", "结算日期"]
    text = dump_workbook(path)
    assert "今日已清(笔)\t0\t" in text and "最久未处理(天)\t无\n" in text
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if "chart" in n]  # nothing to plot


def test_hive_partitioned_glob_keeps_only_the_report_date(tmp_path: Path):
    root = tmp_path / "exceptions"
    cols = [c for c in CANONICAL["exceptions"] if c[0] != "report_date"]
    for day, n in [(DAY, 1), (DAY - dt.timedelta(days=1), 2)]:
        path = root / f"report_date={day}" / "part-0.parquet"
        write_parquet(path, cols, [exc("BANK_UNEXPLAINED", n=n)])
    data = ReportInputs(exceptions=root / "report_date=*" / "*.parquet")
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    assert column(load_workbook(path)["银行未达账 BANK_UNEXPLAINED"], "对账键") == ["R001"]


def test_replaces_existing_file_atomically(tmp_path: Path):
    out = tmp_path / "report.xlsx"
    out.write_text("old")
    assert write_workbook(DAY, ReportInputs(), out) == out
    assert load_workbook(out).sheetnames[0] == "汇总 Summary"
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
                severity=(i % 3) + 1 if i % 4 else None,
            )
        )
    rows += [exc("BANK_UNEXPLAINED", status, n=i) for i in range(5) for status in ("OPEN",)]
    rows += [exc("SOMETHING_NEW", "PENDING", n=i, channel=None) for i in range(4)]
    rows += [
        exc("DUPLICATE_DEBIT", "RESOLVED", n=i, resolution_action="CREDITED",
            resolved_at=dt.datetime(2026, 11, 1 + i, 10, 0, 1, 500, tzinfo=dt.UTC) if i else None)
        for i in range(3)
    ]  # fmt: skip
    rejects = [{"raw": text, "reason": text, "line_no": i} for i, text in enumerate(TRICKY_TEXT)]
    rejects.append({})  # every cell empty: no row element at all
    return inputs(tmp_path, exceptions=rows, rejects=rejects, settlements=[{"channel": "x"}])


def sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/")}


def test_fast_rows_write_what_xlsxwriter_writes(tmp_path: Path, monkeypatch):
    """The data rows rendered in bulk are byte for byte XlsxWriter's own per-cell output."""
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # splits, also in the middle of a batch
    monkeypatch.setattr(xlsx, "BATCH_ROWS", 2)
    data = tricky_inputs(tmp_path)
    monkeypatch.setattr(xlsx, "FAST_ROWS", False)
    slow = sheet_parts(write_workbook(DAY, data, tmp_path / "slow.xlsx"))
    monkeypatch.setattr(xlsx, "FAST_ROWS", True)
    fast = sheet_parts(write_workbook(DAY, data, tmp_path / "fast.xlsx"))
    assert sorted(fast) == sorted(slow)
    assert "xl/worksheets/sheet12.xml" in fast  # several split sheets
    for name in slow:
        assert fast[name] == slow[name], name


def test_fast_rows_keep_rich_text_lookalikes_literal(tmp_path: Path):
    text = "<r><t>looks like rich text</t></r>"
    data = inputs(tmp_path, exceptions=[exc("DATA_CONFLICT", detail=text)])
    path = write_workbook(DAY, data, tmp_path / "report.xlsx")
    assert column(load_workbook(path)["数据冲突 DATA_CONFLICT"], "说明") == [text]
