"""The English sentences the pipeline writes, in Chinese: details, reasons, file errors, checks.

The matching SQL, the formats and the planner write their explanations in English, and the
Parquet keeps them so (they are the machine's record). The workbook shows them in the reader's
language: with locale "zh" each text is translated here, when it is rendered.

A text is read as segments joined by "; " (the SQL builds details that way: a finding, then
"; share of ...", "; reopened: ..."). Each segment is matched against the catalog: an English
template whose {parts} are the variable pieces (ids, amounts, dates, file:line) and its Chinese
template with the same parts. Parts listed as `nested` are translated again (a check's name,
the message of a file error). A segment no template knows stays as it is, in English: a
translation may leave English behind, it never drops a word of the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

ANY = r".+?"  # a part, by default: the shortest text that lets the rest of the template match
REST = r".+"  # a part that runs to the end of the text
NUMBER = r"[-+]?[\d,]+(?:\.\d+)?"
DATE = r"\d{4}-\d{2}-\d{2}"
SEPARATOR = "; "
SEPARATOR_ZH = "；"
_TOKEN = re.compile(r"[^\s;,(]+")
_PART = re.compile(r"\{(\w+)\}")
_ENGLISH = re.compile(r"[A-Za-z]{2}")
_TRAILING_ZEROS = re.compile(r"(?<![\w.])([-+]?\d[\d,]*\.\d\d)0+(?![\d.])")


def two_decimals(text: str) -> str:
    """Amounts written with zeros past the cents, 408.21000, as 408.21 (3.67086 stays)."""
    return _TRAILING_ZEROS.sub(r"\1", text)


class Phrase:
    """One English template and its Chinese; `parts` overrides the regex of a part, `shown`
    maps a part's value for display, `nested` names the parts translated again."""

    def __init__(
        self,
        en: str,
        zh: str,
        nested: Iterable[str] = (),
        shown: dict[str, Callable[[str], str]] | None = None,
        **parts: str,
    ):
        self.en, self.zh = en, zh
        self.nested = frozenset(nested)
        self.shown = shown or {}
        pieces = _PART.split(en)
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>{parts.get(p, ANY)})"
            for i, p in enumerate(pieces)
        )
        self.names = pieces[1::2]
        self.pattern = re.compile(regex + r"(?=; |\Z)", re.DOTALL)
        # Templates are looked up by their first word; one that starts with a part (or whose
        # first word runs into a part) is "open": tried only where its first literal occurs.
        token = _TOKEN.match(pieces[0])
        glued = token is not None and token.end() == len(pieces[0]) and len(pieces) > 1
        self.token = token.group() if token and not glued else None
        self.needle = next((p for p in pieces[::2] if p.strip()), "")

    @property
    def sql(self) -> str:
        """The template as the SQL's format() writes it: each part as {}."""
        return _PART.sub("{}", self.en)

    def render(self, m: re.Match[str]) -> str:
        values = {}
        for name in self.names:
            value = m.group(name)
            if name in self.nested:
                value = translate(value)
            if name in self.shown:
                value = self.shown[name](value)
            values[name] = value
        return self.zh.format(**values)


def _label(table: dict[str, str]) -> Callable[[str], str]:
    return lambda value: table.get(value, value)


def _field(name: str) -> str:
    """A canonical column in Chinese, its own name kept: 本金(principal)."""
    return f"{FIELDS[name]}({name})" if name in FIELDS else name


FIELDS = {
    "order_type": "订单类型",
    "orig_order_no": "原订单号",
    "loan_no": "借据号",
    "installment_no": "期数",
    "borrower_id": "借款人",
    "lender_code": "资金方",
    "channel": "渠道",
    "amount": "金额",
    "principal": "本金",
    "interest": "利息",
    "fee": "手续费",
    "penalty": "罚息",
    "installment_due": "本期应还",
    "status": "状态",
    "merchant_order_no": "商户订单号",
    "orig_channel_txn_id": "原渠道流水号",
    "biz_date": "业务日期",
    "value_date": "起息日",
    "direction": "借贷方向",
    "counterparty_account": "对方账号",
    "created_at": "创建时间",
    "paid_at": "支付时间",
}
_LABEL = {"label": _field}  # a reject reason's column: a canonical name, shown in Chinese


# ---------------------------------------------------------------------------- the catalog

P = Phrase
CATALOG: list[Phrase] = [
    # ---- exceptions (transforms/match/*.sql)
    P("{kind} delivered again with different content: {fields}. Earlier: {old}; later: {new}. "
      "Matching uses the later delivery.",
      "{kind}再次送达且内容不同：{fields}。先前：{old}；后来：{new}。匹配采用后来送达的版本。",
      nested=("kind", "fields", "old", "new"), kind="order|channel transaction|bank line"),
    P("order", "订单"),
    P("channel transaction", "渠道交易"),
    P("bank line", "银行流水"),
    P("{field} {old}→{new}", "{field} {old}→{new}", shown={"field": _field}, field=r"[a-z_]+"),
    P("{file}:{line} (inbox {date})", "{file}:{line}（收件日 {date}）", line=r"\d+|\?", date=DATE),
    P("platform {expected} vs channel {actual}", "平台金额 {expected}，渠道金额 {actual}"),
    P("platform {status} while the channel debit succeeded",
      "渠道扣款成功，但平台订单状态为 {status}", status=r"\S+"),
    P("channel status {status}", "渠道状态为 {status}"),
    P("platform SUCCESS; no channel debit found", "平台状态为成功(SUCCESS)，未找到渠道扣款"),
    P("second successful debit of an order already matched to {txn}",
      "重复的成功扣款：该订单已匹配渠道流水 {txn}"),
    P("second successful debit of an order matched to {txn} on {date}",
      "重复的成功扣款：该订单已于 {date} 匹配渠道流水 {txn}", date=DATE),
    P("channel debit succeeded; no platform order", "渠道扣款成功，平台无此订单"),
    P("installment owed {owed}; debits so far {paid}", "本期应还 {owed}，累计扣款 {paid}"),
    P("platform refund with no channel refund", "平台有退款，渠道无对应退款"),
    P("channel refund with no platform refund", "渠道有退款，平台无对应退款"),
    P("refund: platform {expected} vs channel {actual}", "退款：平台金额 {expected}，渠道金额 {actual}"),
    P("refunds of {order} total {refunded}, more than its amount {amount}",
      "原订单 {order} 的退款合计 {refunded}，超过其金额 {amount}"),
    P("refund names no original repayment", "退款未注明原还款订单"),
    P("refund of {order}, which is not in the inputs", "退款的原订单 {order} 不在输入数据中"),
    P("refund of {order}, which is {status}", "退款的原订单 {order} 状态为 {status}"),
    P("{n} transactions of {date}: pays {pays} - refunds {refunds} - fees {fees}",
      "{date} 交易 {n} 笔：支付 {pays} - 退款 {refunds} - 手续费 {fees}", n=r"\d+"),
    P("no credit in the settle window", "结算期内无银行入账"),
    P("paid with {others} other settle dates by {txns} (batch expected {expected}, credited {credited})",
      "与另外 {others} 个结算日合并入账，银行流水 {txns}（批次应结 {expected}，实际入账 {credited}）"),
    P("nearest credit {txns} of {amount} on {date}",
      "最接近的入账：{date} 银行流水 {txns}，金额 {amount}", date=DATE),
    P("nothing paid from the collection account", "归集账户未划出"),
    P("paid {amount} ({txns} on {date}) against a share of {share}",
      "{date} 划出 {amount}（银行流水 {txns}），应分金额 {share}", date=DATE),
    P("paid {amount} on {date} ({txns}) but not on the recipient's statement",
      "{date} 划出 {amount}（银行流水 {txns}），但收款方对账单上未见到账", date=DATE),
    P("paid {amount} on {date}, received as {txns}", "{date} 划出 {amount}，到账流水 {txns}",
      date=DATE),
    P("share of {items}", "对应结算 {items}"),
    P("{direction} {amount} {side} {name} {account}: {narrative}",
      "{direction} {amount}，{side} {name} {account}：{narrative}",
      shown={"direction": _label({"CREDIT": "收入", "DEBIT": "支出"}),
             "side": _label({"from": "付款方", "to": "收款方"})},
      direction="CREDIT|DEBIT", amount=r"\S+", side="from|to", account=r"[^\s:]*",
      narrative=r".*?"),
    P("incomplete file: its control totals differ from the rows read ({failed}); "
      "rows may be missing",
      "文件不完整：控制总数与读入的行不符（{failed}）；可能缺行", nested=("failed",)),
    P("{name} stated {stated}, read {computed}", "{name} 声明 {stated}，读入 {computed}",
      nested=("name",), shown={"stated": two_decimals, "computed": two_decimals},
      stated=r"[^,;]+?", computed=r"[^;)]+?"),
    P("nothing", "无"),
    P("{file} failed its control totals and may have lost this row",
      "{file} 控制总数不符，可能缺失此行"),
    P("reopened: resolved as {action} by {by} on {date}, but its amounts changed since",
      "已重新打开：{by} 曾于 {date} 处理为 {action}，但此后金额有变", date=DATE),
    # ---- remediation (93_remediation.sql)
    P("渠道扣款成功, 平台无订单: 补录订单 / create the order", "渠道扣款成功, 平台无订单: 补录订单"),
    P("渠道扣款成功, 平台未入账: 置为成功 / mark paid", "渠道扣款成功, 平台未入账: 置为成功"),
    P("重复扣款 duplicate debit: {detail}", "重复扣款：{detail}", nested=("detail",), detail=REST),
    P("超额扣款 installment over-collected: {detail}", "超额扣款：{detail}", nested=("detail",),
      detail=REST),
    P("重复扣款 duplicate debit", "重复扣款"),
    P("超额扣款 installment over-collected", "超额扣款"),
    P("{code}: {detail}", "{code}：{detail}", nested=("detail",), code=r"[A-Z][A-Z_]{2,}",
      detail=REST),
    # ---- why a date was computed (transforms/pipeline.py)
    P("requested", "按请求计算"),
    P("no published state", "尚无已发布的结果"),
    P("configuration or program version changed", "配置或程序版本已变更"),
    P("finance decisions recorded for this date", "本日期有新记录的财务处理"),
    P("built on an earlier date that changed", "所依据的之前日期已变更"),
    P("an earlier date changed", "之前的日期已变更"),
    P("{file} removed", "{file} 已移除"),
    P("{file} added", "{file} 新增"),
    P("{file} changed (sha256 {before} -> {after})", "{file} 已变更（sha256 {before} -> {after}）"),
    P("no file for this date: every required source is MISSING_FILE",
      "本日期没有文件：每个必需来源都是 MISSING_FILE"),
    # ---- files (transforms/ingest.py, transforms/errors.py)
    P("no file matched {glob}", "没有文件匹配 {glob}"),
    P("byte-identical to {file} delivered {date}", "与 {date} 收到的 {file} 完全相同", date=DATE),
    P("counted once", "只计一次"),
    P("source {source} expects format {format}: {why}", "来源 {source} 应为 {format} 格式：{why}",
      nested=("why",), why=REST),
    P("cannot be read as {format} ({error})", "无法按 {format} 格式读取（{error}）"),
    P("cannot be opened: {error}", "无法打开：{error}"),
    P("{path}, line {line}: {message}", "{path} 第 {line} 行：{message}", nested=("message",),
      path=r"[^;]+?", line=r"\d+", message=REST),
    P("{path}: unrecognized format; formats tried:{tried}", "{path}：无法识别格式；已尝试的格式：{tried}",
      tried=REST),
    P("{path}: {message}", "{path}：{message}", nested=("message",),
      path=r"[^\s:;]+\.[A-Za-z0-9]{2,5}", message=REST),
    # ---- rejected rows (transforms/sources/sql.py, textio.py, tabular.py and the formats)
    P("{label}: cannot read '{text}'", "{label}：无法读取 '{text}'", label=r"[^:;]+?", shown=_LABEL),
    P("{label}: required, found empty", "{label}：必填，但为空", label=r"[^:;]+?", shown=_LABEL),
    P("{label}: required {when}, found empty", "{label}：必填（{when}），但为空",
      nested=("when",), label=r"[^:;]+?", shown=_LABEL),
    P("on a {kind} row", "{kind} 行"),
    P("(or {other})", "或填 {other}"),
    P("(the direction of the amount)", "金额的方向"),
    P("{label}: expected one of them, found both {a} and {b}",
      "{label}：只应有其一，实际两者都有：{a} 和 {b}", label=r"[^:;]+?", shown=_LABEL),
    P("{label}: expected {what}, found {found}", "{label}：应为{what}，实为 {found}",
      nested=("what",), label=r"[^:;]+?", shown=_LABEL),
    P("expected {what}, found {found}", "应为{what}，实为 {found}", nested=("what",)),
    P("yuan like {example}", "元金额（如 {example}）"),
    P("whole fen like {example}", "整数分（如 {example}）"),
    P("a whole number", "整数"),
    P("a local time {layout}", "本地时间 {layout}"),
    P("a positive amount", "正数金额"),
    P("a positive amount on a {kind} row", "{kind} 行的正数金额"),
    P("a positive amount on a REFUND row (WeChat writes refunds unsigned)",
      "REFUND 行的正数金额（微信的退款金额不带符号）"),
    P("a positive whole fen amount", "正整数分金额"),
    P("a non-zero amount", "非零金额"),
    P("zero or more", "零或正数"),
    P("the amount refunded (negative, as Alipay writes it)", "退款金额（负数，支付宝即如此记载）"),
    P("principal + interest + fee + penalty = {total}", "本金 + 利息 + 手续费 + 罚息 = {total}"),
    P("one of {choices}", "{choices} 之一"),
    P("a {label} amount", "{label} 金额"),
    P("a {debit} or {credit} amount", "{debit} 或 {credit} 金额"),
    P("{a} or {b}", "{a} 或 {b}", b=r"\S+"),
    P("none", "无"),
    P("expected {n} fields, found {found}", "应有 {n} 个字段，实有 {found} 个", n=r"\d+"),
    P("expected {n} fields: {message}", "应有 {n} 个字段：{message}", n=r"\d+"),
    P("expected {n} columns, found {found}: cells beyond the header",
      "应有 {n} 列，实有 {found} 列：超出表头的单元格", n=r"\d+"),
    P("malformed quoting: {message}", "引号格式错误：{message}"),
    P("line too long to be a record: {length} without a line break",
      "行过长，不是一条记录：{length} 无换行", nested=("length",)),
    P("{n} bytes", "{n} 字节", n=NUMBER),
    P("more than {n} bytes", "超过 {n} 字节", n=NUMBER),
    P("expected at most {n}", "最多应为 {n}", n=NUMBER),
    P("a NUL byte at character {n}: binary content, not a line of text",
      "第 {n} 个字符为 NUL 字节：二进制内容，不是文本行", n=r"\d+"),
    P("cannot be split into fields ({error})", "无法拆分为字段（{error}）"),
    P("expected a row whose cells hold at most {n} characters", "每个单元格最多应有 {n} 个字符",
      n=NUMBER),
    P("entry {entry} line {line}: {reason}", "分录 {entry}（第 {line} 行）：{reason}",
      nested=("reason",), reason=REST),
    P(":61: expected value date YYMMDD, optional entry date MMDD, mark C/D/RC/RD, an amount "
      "with at most 2 decimals after a decimal comma (C1234,56, D9, or C500) and a transaction "
      "type such as NTRF",
      ":61: 应为起息日 YYMMDD、可选的记账日 MMDD、借贷标记 C/D/RC/RD、小数逗号后最多 2 位的金额"
      "（C1234,56、D9 或 C500）及交易类型（如 NTRF）"),
    P("found {found}", "实为 {found}"),
    P(":61: value date {value} is not a date YYMMDD", ":61: 起息日 {value} 不是 YYMMDD 日期"),
    P(":61: amount {amount} has more than 2 decimals", ":61: 金额 {amount} 超过 2 位小数"),
    P("after the last statement (which ends on line {line}): {n} line(s) that are not part of "
      "an MT940 statement",
      "最后一份对账单（止于第 {line} 行）之后：{n} 行不属于任何 MT940 对账单", n=r"\d+"),
    P("expected nothing after its closing '-'", "其结尾的 '-' 之后不应再有内容"),
    P("{n} line(s) outside any statement: {problem}", "{n} 行不在任何对账单内：{problem}",
      nested=("problem",), n=r"\d+"),
    P("a control character ({code}) at character {n}: binary content, not MT940 text",
      "第 {n} 个字符为控制字符（{code}）：二进制内容，不是 MT940 文本"),
    # ---- control checks (transforms/sources/*: ControlCheck names)
    P("statement {n} ({number}) closing balance :62F:", "对账单 {n}（{number}）期末余额 :62F:"),
    P("statement {n} closing balance CLBD", "对账单 {n} 期末余额 CLBD"),
    P("statement {n} closing balance CLBD (no readable OPBD and CLBD; computed = net of entries)",
      "对账单 {n} 期末余额 CLBD（无可读的 OPBD 与 CLBD；计算值 = 分录净额）"),
    P("statement {n} entries (TxsSummry)", "对账单 {n} 分录笔数 (TxsSummry)"),
    P("statement {n} credit entries (TxsSummry)", "对账单 {n} 贷方笔数 (TxsSummry)"),
    P("statement {n} debit entries (TxsSummry)", "对账单 {n} 借方笔数 (TxsSummry)"),
    P("statement {n} credit entries sum (TxsSummry)", "对账单 {n} 贷方合计 (TxsSummry)"),
    P("statement {n} debit entries sum (TxsSummry)", "对账单 {n} 借方合计 (TxsSummry)"),
    P("statement {n} net of entries (TxsSummry)", "对账单 {n} 分录净额 (TxsSummry)"),
    P("running balance breaks", "余额不连续处"),
    P("running balance breaks (first at line {line}: {before} + {amount} is not {after})",
      "余额不连续处（首次在第 {line} 行：{before} + {amount} ≠ {after}）", line=r"\d+"),
    P("{column} unreadable, left empty (first at line {line}: {text})",
      "{column} 无法读取，已留空（首次在第 {line} 行：{text}）", line=r"\d+", text=REST),
    P("record count (trailer)", "记录数（尾记录）"),
    P("{name} total (trailer)", "{name} 合计（尾记录）"),
    P("trailer line (TRAILER|count|total fen|fee fen): none found, the file may be truncated",
      "尾记录行（TRAILER|笔数|总金额分|手续费分）：未找到，文件可能不完整"),
    P("{name} (footer)", "{name}（表尾）"),
    P("row count ({name})", "行数（{name}）"),
    P("summary lines ({names}): none found, the bill may be truncated",
      "汇总行（{names}）：未找到，账单可能不完整"),
    P("{label} count ({gone})", "{label} 笔数（{gone}）", nested=("gone",)),
    P("{label} {column} ({gone})", "{label} {column}（{gone}）", nested=("gone",),
      column="商家实收|服务费"),
    P("{marker} footer line: none found, the bill may be truncated",
      "{marker} 表尾行：未找到，账单可能不完整"),
    P("{label} count", "{label} 笔数"),
    P("data rows: none after the header (an export cut short?)", "数据行：表头之后没有数据（导出不完整？）"),
]  # fmt: skip

_KEYED: dict[str, list[Phrase]] = {}
_OPEN: list[Phrase] = []
for _p in CATALOG:
    (_KEYED.setdefault(_p.token, []) if _p.token else _OPEN).append(_p)


def _match(text: str, pos: int) -> tuple[re.Match[str], Phrase] | None:
    token = _TOKEN.match(text, pos)
    for phrase in _KEYED.get(token.group(), ()) if token else ():
        m = phrase.pattern.match(text, pos)
        if m:
            return m, phrase
    rest = None
    for phrase in _OPEN:
        if phrase.needle:
            rest = text[pos:] if rest is None else rest
            if phrase.needle not in rest:
                continue
        m = phrase.pattern.match(text, pos)
        if m:
            return m, phrase
    return None


def translate(text: str) -> str:
    """`text` in Chinese, segment by segment; segments no template knows stay as they are."""
    if not text or not _ENGLISH.search(text):
        return text
    out: list[str] = []
    pos, known = 0, False
    while True:
        found = _match(text, pos)
        if found:
            m, phrase = found
            out.append(phrase.render(m))
            pos, known = m.end(), True
        else:
            end = text.find(SEPARATOR, pos)
            end = len(text) if end < 0 else end
            out.append(text[pos:end])
            pos = end
        if pos >= len(text):
            break
        out.append(SEPARATOR_ZH)
        pos += len(SEPARATOR)
    return "".join(out) if known else text


def translate_all(values: list[str | None]) -> list[str | None]:
    """`translate` of a column; each distinct text is translated once."""
    done: dict[str, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        t = done.get(v)
        if t is None:
            t = done[v] = translate(v)
        out.append(t)
    return out
