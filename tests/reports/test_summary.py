from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from reports import xlsx
from reports.workbook import write_workbook
from tests.reports.helpers import DAY, column, dump_sheet, exc, inputs

SUMMARY = "汇总 Summary"
YESTERDAY = DAY - dt.timedelta(days=1)


def day(tmp_path: Path, **kw):
    """Open items of several types, severities and borrowers, and every other status."""
    rows = [
        exc("PLATFORM_NOT_PAID", n=1, severity=1, borrower_id="U100000001",
            money_at_stake=Decimal("4713.43"), diff_amount=Decimal("0.00"), first_seen=DAY,
            age_days=0),
        exc("PLATFORM_NOT_PAID", n=2, severity=1, borrower_id="U100000002",
            money_at_stake=Decimal("100.00"), diff_amount=Decimal("0.00"), age_days=3),
        exc("DUPLICATE_DEBIT", n=3, severity=1, borrower_id="U100000001",
            money_at_stake=Decimal("250.00"), age_days=2),
        exc("SETTLEMENT_MISSING", n=4, severity=2, ref="WECHATPAY:2026-10-20", channel=None,
            money_at_stake=Decimal("98000.00"), age_days=14, first_seen=dt.date(2026, 10, 21)),
        exc("AMOUNT_MISMATCH", n=5, severity=2, borrower_id="U100000003",
            money_at_stake=Decimal("0.50"), age_days=14, ref="P-OLDEST-BUT-SMALL"),
        exc("REJECTED_ROW", n=6, severity=3, money_at_stake=None, ref="bill.csv:7",
            first_seen=DAY, age_days=0),
        exc("DUPLICATE_DEBIT", "PENDING", n=7, severity=1, borrower_id="U100000009"),
        exc("CHANNEL_FAILED", "CLEARED", n=8),
        exc("CHANNEL_FAILED", "CLEARED", n=9),
        exc("MISSING_ON_PLATFORM", "RESOLVED", n=10, resolution_action="CREDITED",
            resolved_at=dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)),  # 11-03 01:00 local
        exc("MISSING_ON_PLATFORM", "RESOLVED", n=11, resolution_action="REFUNDED",
            resolved_at=dt.datetime(2026, 11, 2, 15, 59, tzinfo=dt.UTC)),  # 11-02 23:59 local
    ]  # fmt: skip
    stats = {
        "platform repay orders (biz date)": 1000,
        "orders matched to a channel debit": 971,
        "order match rate": "97.1%",
        "settlement match rate": "-",
        "float share": 0.5,
    }
    return inputs(tmp_path, exceptions=rows, stats=stats, **kw)


def test_summary_snapshot(tmp_path: Path):
    path = write_workbook(DAY, day(tmp_path), tmp_path / "report.xlsx")
    assert dump_sheet(path, SUMMARY) == SNAPSHOT


SNAPSHOT = """\
## 汇总 Summary
对账报告 汇总
报告日期\t2026-11-03

今日要点
受影响借款人(人)\t2\t严重程度1(借款人受损)的未处理差异涉及的借款人, 去重
风险金额合计\t103,063.93\t全部未处理差异的风险金额之和
最久未处理(天)\t14\t结算未到账 SETTLEMENT_MISSING\tWECHATPAY:2026-10-20
未处理差异(笔)\t6
今日新增(笔)\t2\t首次发现于报告日的未处理差异
今日已清(笔)\t2\t对方记录已到, 自动消除
今日已处理(笔)\t1\t处理时间在报告日的已处理差异; 已处理表共 2 笔
在途(笔)\t1\t仍在等待期内, 尚非差异

按严重程度 (未处理)
严重程度\t笔数\t风险金额
1 借款人受损\t3\t5,063.43
2 资金缺失\t2\t98,000.50
3 账务/数据\t1

按差异类型 (未处理)
类型\t笔数\t风险金额\t差额绝对值合计\t严重程度\t类型代码\t建议处理
状态不符-扣款成功未入账\t2\t4,813.43\t0.00\t1 借款人受损\tPLATFORM_NOT_PAID\t补单
重复扣款\t1\t250.00\t100.00\t1 借款人受损\tDUPLICATE_DEBIT\t退款给借款人
结算未到账\t1\t98,000.00\t100.00\t2 资金缺失\tSETTLEMENT_MISSING\t催收渠道结算
金额不符\t1\t0.50\t100.00\t2 资金缺失\tAMOUNT_MISMATCH\t核查并调账
数据错误\t1\t\t100.00\t3 账务/数据\tREJECTED_ROW\t修正文件后重跑
平台漏单/掉单\t0\t\t\t\tMISSING_ON_PLATFORM\t补单或退款
渠道漏单\t0\t\t\t\tMISSING_ON_CHANNEL\t查询渠道, 冲正入账
状态不符-平台成功渠道失败\t0\t\t\t\tCHANNEL_FAILED\t冲正入账
退款不符\t0\t\t\t\tREFUND_UNMATCHED\t补全或冲正退款
结算差异\t0\t\t\t\tSETTLEMENT_MISMATCH\t向渠道追索差额
银行未达账\t0\t\t\t\tBANK_UNEXPLAINED\t查明付款方
清分差异\t0\t\t\t\tDISTRIBUTION_MISMATCH\t更正划款
数据冲突\t0\t\t\t\tDATA_CONFLICT\t确认真实记录
文件未到\t0\t\t\t\tMISSING_FILE\t催收文件
合计\t6\t103,063.93\t400.00

账龄 (未处理, 天)
账龄(天)\t笔数\t风险金额
0-1\t2\t4,713.43
2-3\t2\t350.00
4-7\t0
8-30\t2\t98,000.50
>30\t0

运行统计
平台还款订单(业务日)\t1000
已匹配渠道扣款的订单\t971
订单匹配率\t97.1%
结算匹配率\t-
float share\t0.5

文件
来源\t文件\t格式\t状态\t读入行数\t成功行数\t错误行数\t控制总数\t收入(贷方合计)\t支出(借方合计)\t净额(收入-支出)\t交易金额合计(渠道/平台)\t声明值与计算值\t错误

超行拆分\t无
"""


def test_headline_is_what_the_sheets_contain(tmp_path: Path):
    path = write_workbook(DAY, day(tmp_path), tmp_path / "report.xlsx")
    wb = load_workbook(path)
    type_sheets = [n for n in wb.sheetnames if re.search(r" [A-Z_]+$", n)]
    assert len(type_sheets) == 5
    rows = []
    for name in type_sheets:
        ws = wb[name]
        head = [c.value for c in ws[1]]
        rows += [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    ws = wb[SUMMARY]
    value = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2) for r in range(1, 14)}

    harmed = {r["借款人"] for r in rows if r["严重程度"].startswith("1 ") and r["借款人"]}
    assert value["受影响借款人(人)"].value == len(harmed) == 2
    at_risk = sum(Decimal(str(r["风险金额"])) for r in rows if r["风险金额"] is not None)
    assert Decimal(str(value["风险金额合计"].value)) == at_risk == Decimal("103063.93")
    oldest = max(rows, key=lambda r: (r["账龄(天)"], -int(r["严重程度"][0]), r["风险金额"] or 0))
    cell = value["最久未处理(天)"]
    assert cell.value == oldest["账龄(天)"] == 14
    assert cell.offset(column=1).value.endswith(oldest["类型代码"])
    assert cell.offset(column=2).value == oldest["对账键"] == "WECHATPAY:2026-10-20"
    assert value["未处理差异(笔)"].value == len(rows)
    new = [r for r in rows if r["首次发现"] == dt.datetime.combine(DAY, dt.time())]
    assert value["今日新增(笔)"].value == len(new) == 2
    assert value["今日已清(笔)"].value == len(column(wb["今日已清 Cleared"], "异常编号")) == 2
    assert value["在途(笔)"].value == len(column(wb["在途 Pending"], "异常编号")) == 1
    decided = column(wb["已处理 Resolved"], "处理时间")
    assert value["今日已处理(笔)"].value == sum(d.date() == DAY for d in decided) == 1
    for key in ["受影响借款人(人)", "风险金额合计", "最久未处理(天)", "今日新增(笔)"]:
        assert value[key].data_type == "n", key
    assert value["风险金额合计"].number_format == xlsx.MONEY_FORMAT


def test_numbers_are_numbers_with_formats(tmp_path: Path):
    path = write_workbook(DAY, day(tmp_path), tmp_path / "report.xlsx")
    ws = load_workbook(path)[SUMMARY]
    cells = {c.value: c.offset(column=1) for row in ws.iter_rows(max_col=1) for c in row}
    rate = cells["订单匹配率"]
    assert rate.data_type == "n" and rate.value == 0.971 and rate.number_format == "0.0%"
    assert cells["平台还款订单(业务日)"].value == 1000
    assert cells["结算匹配率"].value == "-"  # no rate without a denominator
    typ = cells["状态不符-扣款成功未入账"]
    assert typ.value == 2 and typ.data_type == "n"
    stake = typ.offset(column=1)
    assert stake.value == 4813.43 and stake.number_format == xlsx.MONEY_FORMAT
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                assert not re.fullmatch(r"[\d,.]+%?", c.value), (c.coordinate, c.value)
    assert ws.freeze_panes == "A3"


def test_chart_beside_the_headline_plots_only_open_types(tmp_path: Path):
    path = write_workbook(DAY, day(tmp_path), tmp_path / "report.xlsx")
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
        drawing = z.read("xl/drawings/drawing1.xml").decode()
    anchor = re.search(r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing)
    assert anchor and (int(anchor[1]), int(anchor[2])) == (7, 2)  # H3, beside the headline
    cats = re.search(r"<c:cat>.*?<c:f>'汇总 Summary'!\$A\$(\d+):\$A\$(\d+)</c:f>", chart)
    assert cats
    first, last = int(cats[1]), int(cats[2])
    ws = load_workbook(path)[SUMMARY]
    plotted = [ws.cell(row=r, column=2).value for r in range(first, last + 1)]
    assert plotted == [2, 1, 1, 1, 1]  # the five types with OPEN rows, most urgent first
    assert ws.cell(row=first - 1, column=1).value == "类型"
    # the wide Inputs table starts below the chart
    inputs_row = next(
        r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "文件"
    )
    bottom = re.search(r"<xdr:to><xdr:col>\d+</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing)
    assert bottom and inputs_row > int(bottom[1]) + 1


def test_english_summary(tmp_path: Path):
    path = write_workbook(DAY, day(tmp_path), tmp_path / "report.xlsx", locale="en")
    text = dump_sheet(path, "Summary")
    assert "Borrowers affected\t2\t" in text
    assert "Money at risk\t103,063.93\t" in text
    assert "Oldest open item (days)\t14\tSETTLEMENT_MISSING\tWECHATPAY:2026-10-20\n" in text
    assert (
        "Platform not paid\t2\t4,813.43\t0.00\t1 borrower harmed\tPLATFORM_NOT_PAID\tmark paid\n"
        in text
    )
    assert "order match rate\t97.1%\n" in text
