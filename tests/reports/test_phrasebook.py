"""Chinese first, all of it: every sentence the pipeline writes in English reads in Chinese in a
zh workbook (reports/phrasebook.py); codes, ids, amounts and file names stay as they are."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reports import i18n
from reports.phrasebook import CATALOG, translate, translate_all, two_decimals
from reports.workbook import write_workbook
from tests.reports.helpers import DAY, column, exc, inputs

ROOT = Path(__file__).resolve().parents[2]
MATCH_SQL = sorted((ROOT / "transforms" / "match").glob("*.sql"))
FIXTURES = ROOT / "tests" / "fixtures"

# Three or more English words in a row (codes such as SUCCESS, ids, amounts, file names and
# snake_case names are not words here): the heuristic for "an English sentence".
WORD = r"[A-Za-z][a-z]+"
ENGLISH = re.compile(rf"(?<![\w.*/]){WORD}(?:[ ,:;'’-]+{WORD}){{2,}}(?![\w.*/])")
# Values for the parts of a template, to make a sample text from it.
EXAMPLES = {
    "kind": "order",
    "fields": "principal 100.00→120.00",
    "old": "platform_orders_20261101.csv:7",
    "new": "platform_orders_20261102.csv:7 (inbox 2026-11-02)",
    "direction": "CREDIT",
    "side": "from",
    "name": "record count (trailer)",
    "date": "2026-11-03",
    "n": "12",
    "failed": "record count (trailer) stated 12, read 11",
    "detail": "channel debit succeeded; no platform order",
}


def english(text: str) -> list[str]:
    return ENGLISH.findall(text)


# ---------------------------------------------------------------------------- the SQL's texts

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_CONCAT = re.compile(r"\s*\|\|\s*")


def _literal_at(sql: str, pos: int) -> tuple[str, int] | None:
    m = _LITERAL.match(sql, pos)
    return (m.group(1).replace("''", "'"), m.end()) if m else None


def sql_templates(sql: str) -> list[str]:
    """The detail texts of a SQL file: each format() string (its literals joined by ||) and
    each literal of two or more English words (followed by `|| expr`: with a {} for it)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    found, used = [], set()
    for m in re.finditer(r"format\(\s*", sql):
        parts, pos = [], m.end()
        while (lit := _literal_at(sql, pos)) is not None:
            used.add(pos)
            parts.append(lit[0])
            concat = _CONCAT.match(sql, lit[1])
            if not concat or not _LITERAL.match(sql, concat.end()):
                break
            pos = concat.end()
        found.append("".join(parts))
    for m in _LITERAL.finditer(sql):
        text = m.group(1).replace("''", "'")
        if m.start() in used or not re.search(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}", text):
            continue
        concat = _CONCAT.match(sql, m.end())
        if concat and not _LITERAL.match(sql, concat.end()) and text.endswith(" "):
            text += "{}"
        found.append(text)
    return [t.removeprefix("; ") for t in found]


def test_the_extractor_finds_the_sql_texts():
    sql = """
        SELECT format('{} of {} ' || 'and more.', a, b) AS detail, -- 'a comment with words'
               'second debit of an order matched to ' || m.id, 'SUCCESS', '%Y-%m-%d',
               'it''s nothing paid' || format('; share of {}', x)
    """
    assert sql_templates(sql) == [
        "{} of {} and more.",
        "share of {}",
        "second debit of an order matched to {}",
        "it's nothing paid",
    ]


def every_sql_template() -> list[tuple[str, str]]:
    return [(p.name, t) for p in MATCH_SQL for t in sql_templates(p.read_text(encoding="utf-8"))]


def test_every_detail_template_of_the_matching_sql_has_a_translation():
    templates = every_sql_template()
    assert len(templates) > 30  # the extractor still finds them
    by_sql = {p.sql: p for p in CATALOG}
    missing, still_english = [], []
    for name, template in templates:
        if "{}" in template:
            phrase = by_sql.get(template)
            if phrase is None:
                missing.append(f"{name}: {template!r}")
                continue
            values = [EXAMPLES.get(n, f"X{i}") for i, n in enumerate(phrase.names)]
            sample = template
            for value in values:
                sample = sample.replace("{}", value, 1)
        else:
            sample = template
        zh = translate(sample)
        if zh == sample or english(zh):
            still_english.append(f"{name}: {sample!r} -> {zh!r}")
    assert not missing, "no phrase in reports/phrasebook.py for:\n" + "\n".join(missing)
    assert not still_english, "\n".join(still_english)


# ---------------------------------------------------------------------------- the formats' texts


def golden_sections() -> tuple[list[str], list[str]]:
    """Reject reasons and control-check names of every golden file of tests/fixtures."""
    reasons, checks = [], []
    for golden in sorted(FIXTURES.glob("*/*.golden.csv")):
        text = golden.read_text(encoding="utf-8")
        rejects = text.split("# rejects\n", 1)[1].split("# checks\n", 1)
        reasons += [row[1] for row in csv.reader(io.StringIO(rejects[0])) if len(row) > 1]
        checks += [row[0] for row in csv.reader(io.StringIO(rejects[1])) if row]
    return reasons, checks


def test_reject_reasons_and_check_names_of_the_samples_read_in_chinese():
    reasons, checks = golden_sections()
    assert reasons and len(checks) > 40
    left = [(t, translate(t)) for t in reasons + checks if english(translate(t))]
    assert not left, "\n".join(f"{en!r} -> {zh!r}" for en, zh in left)


@pytest.mark.parametrize(
    "en, zh",
    [
        (
            "requested; no published state",
            "按请求计算；尚无已发布的结果",
        ),
        (
            "platform SUCCESS; no channel debit found; bill_20261101.csv failed its control "
            "totals and may have lost this row",
            "平台状态为成功(SUCCESS)，未找到渠道扣款；bill_20261101.csv 控制总数不符，可能缺失此行",
        ),
        (
            "amount: expected yuan like 1234.56, found '12.3.4'",
            "金额(amount)：应为元金额（如 1234.56），实为 '12.3.4'",
        ),
        (
            "byte-identical to allinpay_20261101.txt delivered 2026-11-02; counted once",
            "与 2026-11-02 收到的 allinpay_20261101.txt 完全相同；只计一次",
        ),
        (
            "incomplete file: its control totals differ from the rows read (手续费总金额 stated "
            "408.21000, read 408.20000); rows may be missing",
            "文件不完整：控制总数与读入的行不符（手续费总金额 声明 408.21，读入 408.20）；可能缺行",
        ),
        (
            "bank.csv, line 3: 交易日期: required, found empty",
            "bank.csv 第 3 行：交易日期：必填，但为空",
        ),
        (
            "SETTLEMENT_MISSING: 3 transactions of 2026-11-01: pays 300.00 - refunds 0.00 - fees "
            "1.50; no credit in the settle window",
            "SETTLEMENT_MISSING：2026-11-01 交易 3 笔：支付 300.00 - 退款 0.00 - 手续费 1.50；"
            "结算期内无银行入账",
        ),
    ],
)
def test_translations(en: str, zh: str):
    assert translate(en) == zh


def test_unknown_text_is_kept_as_it_is():
    unknown = "a sentence nobody has taught the phrasebook; with a second part"
    assert translate(unknown) == unknown
    assert translate("") == "" and translate("张三 1234.00") == "张三 1234.00"
    # a known segment is translated, an unknown one beside it is kept word for word
    assert translate("requested; the moon changed") == "按请求计算；the moon changed"
    assert translate_all([None, "requested", "requested"]) == [None, "按请求计算", "按请求计算"]
    assert i18n.sentence("requested", "en") == "requested"


def test_two_decimals_only_drops_zeros():
    assert two_decimals("408.21000") == "408.21"
    assert two_decimals("3.67086") == "3.67086"
    assert two_decimals("-0.02000 and 12") == "-0.02 and 12"
    assert two_decimals("PO2026.10000") == "PO2026.10000"  # not an amount: glued to letters


# ---------------------------------------------------------------------------- in the workbook


def test_zh_workbook_shows_details_reasons_errors_and_checks_in_chinese(tmp_path: Path):
    data = inputs(
        tmp_path,
        exceptions=[
            exc("DUPLICATE_DEBIT", detail="second successful debit of an order already matched "
                "to 4200000001"),
            exc("BANK_UNEXPLAINED", n=2, detail="CREDIT 1234.00 from 张三 6222021234567890123: "
                "还款"),
        ],  # fmt: skip
        rejects=[{"source": "p", "file_name": "p.csv", "line_no": 3,
                  "reason": "amount: expected yuan like 1234.56, found '1.2.3'", "raw": "x"}],
        files=[
            {"source": "bank", "file_name": "b.csv", "status": "OK", "control_ok": False,
             "checks": '[{"name": "running balance breaks", "stated": "0", "computed": "2", '
                       '"ok": false}, {"name": "手续费总金额", "stated": "408.21000", '
                       '"computed": "408.21000", "ok": true}]'},
            {"source": "lender_b", "status": "MISSING", "error": "no file matched lender_b_*.xml"},
        ],
        stats={"computed because": "requested; no published state"},
    )  # fmt: skip
    wb = load_workbook(write_workbook(DAY, data, tmp_path / "zh.xlsx"))
    assert column(wb["重复扣款 DUPLICATE_DEBIT"], "说明") == [
        "重复的成功扣款：该订单已匹配渠道流水 4200000001"
    ]
    # masked on the English (whose shape the masking knows), then translated
    assert column(wb["银行未达账 BANK_UNEXPLAINED"], "说明") == [
        "收入 1234.00，付款方 张* 6222****0123：还款"
    ]
    assert column(wb["错误行 Rejected"], "原因") == [
        "金额(amount)：应为元金额（如 1234.56），实为 '1.2.3'"
    ]
    inputs_sheet = wb["文件 Inputs"]
    assert column(inputs_sheet, "错误") == [None, "没有文件匹配 lender_b_*.xml"]
    assert column(inputs_sheet, "声明值与计算值")[0] == (
        "余额不连续处: 声明 0 / 计算 2 (不符); 手续费总金额: 声明 408.21 / 计算 408.21 (一致)"
    )
    summary = [c.value for row in wb["汇总 Summary"].iter_rows() for c in row]
    assert "按请求计算；尚无已发布的结果" in summary

    en = load_workbook(write_workbook(DAY, data, tmp_path / "en.xlsx", locale="en"))
    assert column(en["DUPLICATE_DEBIT"], "detail") == [
        "second successful debit of an order already matched to 4200000001"
    ]
    assert column(en["Inputs"], "stated vs computed")[0].endswith(
        "手续费总金额: stated 408.21 vs computed 408.21 (ok)"
    )


def test_no_cell_of_the_zh_demo_workbooks_is_an_english_sentence(demo_run):
    """Every workbook and remediation workbook of the 10-day demo (locale zh, the default)."""
    paths = [r.workbook for r in demo_run.results]
    paths += sorted(Path(demo_run.config.reports).glob("remediation_*/*.xlsx"))
    assert len(paths) >= 2 * len(demo_run.days)
    found = []
    for path in paths:
        for ws in load_workbook(path, read_only=True).worksheets:
            rows = ws.iter_rows(values_only=True)
            head = list(next(rows, ()))
            raw = {i for i, h in enumerate(head) if h in ("原始内容",)}  # input lines verbatim
            for row in rows:
                for i, value in enumerate(row):
                    if isinstance(value, str) and i not in raw and english(value):
                        found.append(f"{Path(path).name} {ws.title}: {value}")
    assert not found, "\n".join(sorted(set(found))[:40])
