"""Masking of borrower data in what the workbook shows (SPEC §7), by field and by pattern.

Fields whose meaning is known are masked as what they are: a card (`mask_card`), a borrower
(`mask_borrower`: a name as 张*, an id as U1******89). Free text (details, raw rejected lines,
reasons, file names, notes) is masked by pattern, `mask_text`:

- card numbers: runs of 13-19 digits (also grouped by 4 with spaces or dashes) that pass the
  Luhn check -> 6222****1234;
- resident ID numbers: 18 characters (17 digits and a digit or X) with a valid check character
  -> 110101********1234; legacy 15-digit numbers with a plausible birth date -> 110101*****1234;
- mobile numbers: 1[3-9] and 9 more digits -> 138****5678;
- borrower ids (U and 6-12 digits) -> U1******89 (as the borrower column);
- a number labelled as an account or card (账号, 账户, 卡号, account, acct, card ...) whatever its
  check digit: 3100****1234; a name labelled as one (户名, 姓名, 付款人, payer ...): 张*.

A run counts only as a whole: digits glued to letters or to _ (PO20261101000000042; U-ids
aside) or to more digits (a 28-digit txn id) are ids and stay, as do timestamps
(20261101100000: a run starting with a valid yyyymmdd is never a card), amounts, and runs that
fail the checks above. CJK text around a run does not glue it (还款13812345678代收 is masked).
`mask_detail` also reads the bank-line detail of BANK_UNEXPLAINED (counterparty name and
account), and `mask_raw` masks, in a delimited raw line, the fields that are personal names.
"""

from __future__ import annotations

import datetime as dt
import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_NAME = re.compile(rf"[{_CJK}·•]+")


def mask_card(card: str | None) -> str | None:
    """6222021234567890123 -> 6222****0123 (first 4, ****, last 4)."""
    if card is None:
        return None
    s = re.sub(r"[\s-]", "", str(card))
    if len(s) > 8:
        return f"{s[:4]}****{s[-4:]}"
    return "****" + s[-4:] if len(s) > 4 else "****"


def mask_name(name: str | None) -> str | None:
    """张三 -> 张*: the first character, then one *."""
    if not name:
        return name
    s = str(name).strip()
    return s[0] + "*" if s else s


def mask_id(value: str | None) -> str | None:
    """Keep the first 2 and last 2 characters, mask the middle: B123456789 -> B1******89."""
    if value is None:
        return None
    s = str(value)
    return s[:2] + "*" * (len(s) - 4) + s[-2:] if len(s) > 4 else "*" * len(s)


def mask_borrower(value: str | None) -> str | None:
    """A CJK name is masked as a name, anything else as an id."""
    if value is None:
        return None
    s = str(value).strip()
    return mask_name(s) if _CJK_NAME.fullmatch(s) else mask_id(s)


# ---------------------------------------------------------------------------- checks


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_ok(value: str) -> bool:
    """An 18-character PRC resident ID number with a valid check character (GB 11643)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def legacy_id_ok(value: str) -> bool:
    """A 15-digit (pre-1999) resident ID: region code, then a yymmdd birth date of 19yy."""
    if len(value) != 15 or not value.isdigit() or value[0] not in "12345678":
        return False
    return _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))


def _timestamp_like(digits: str) -> bool:
    """Starts with a yyyymmdd date of 1900-2099 (20261101100000): a time or a dated id."""
    return digits[:2] in ("19", "20") and _valid_date(
        int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    )


def mask_digit_run(run: str) -> str:
    """One whole run of digits (or U-id) as it is shown: masked if it is personal data."""
    if run[0] in "Uu":
        return mask_id(run) or run
    digits = run.replace(" ", "").replace("-", "")
    n = len(digits)
    if n == 11 and digits[0] == "1" and digits[1] in "3456789" and run == digits:
        return f"{digits[:3]}****{digits[-4:]}"
    if n == 18 and resident_id_ok(digits):
        return f"{digits[:6]}********{digits[-4:]}"
    if n == 15 and legacy_id_ok(digits):
        return f"{digits[:6]}*****{digits[-4:]}"
    if 13 <= n <= 19 and digits.isdigit() and not _timestamp_like(digits) and luhn_ok(digits):
        return f"{digits[:4]}****{digits[-4:]}"
    return run


def mask_account(value: str) -> str:
    """An account or card number that is labelled as one: first 4, ****, last 4."""
    return mask_card(value) or value


# ---------------------------------------------------------------------------- free text

# Two passes, each a regex that the engine scans fast (a literal or a boundary first; one
# regex with both kinds of branch is ten times slower on 100k details).
_ACCOUNT_WORDS = ("账号", "帐号", "账户", "帐户", "卡号", "户号", "account", "acct", "a/c", "card")
_NAME_WORDS = ("户名", "姓名", "付款人", "收款人", "payer", "payee", "holder")


def _spellings(words: tuple[str, ...]) -> list[str]:
    return [v for w in words for v in dict.fromkeys((w, w.capitalize(), w.upper()))]


_LABELLED = re.compile(
    f"({'|'.join(map(re.escape, _spellings(_ACCOUNT_WORDS + _NAME_WORDS)))})"
    r"(\s*(?:[Nn]o\.?|[Nn]umber|NO\.?)?\s*[:：=#]?\s*)"
    rf"(\d{{8,30}}(?![0-9A-Za-z])|[{_CJK}][{_CJK}·•]{{1,5}})"
)
_NAME_SPELLINGS = frozenset(_spellings(_NAME_WORDS))
# Whole runs (ASCII word boundaries: CJK text around a number is a boundary, a letter is not):
# 11-19 digits (an 18th character may be X), 4-digit groups of a card, U-ids.
_RUN = re.compile(
    r"\b(?:\d{4}(?:\d{7,15}[Xx]?|(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)|[Uu]\d{6,12})\b", re.ASCII
)


def _mask_labelled(m: re.Match[str]) -> str:
    word, sep, value = m.groups()
    if value[0].isdigit():
        return m.group() if word in _NAME_SPELLINGS else word + sep + mask_account(value)
    return word + sep + (mask_name(value) or value) if word in _NAME_SPELLINGS else m.group()


def _mask_run(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    if text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit():
        return m.group()  # the integer part of an amount
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return m.group()  # the decimals of one
    return mask_digit_run(m.group())


def _mask(text: str) -> str:
    return _RUN.sub(_mask_run, _LABELLED.sub(_mask_labelled, text))


def mask_text(text: str | None) -> str | None:
    """Free text with every card, ID, mobile, borrower id, labelled account or name masked."""
    if text is None:
        return None
    return _mask(str(text))


def mask_texts(values: list[str | None]) -> list[str | None]:
    """`mask_text` of a whole column; the regexes run once over the column, not once a cell."""
    present = [v for v in values if v is not None]
    if not present or any("\x00" in v for v in present):
        return list(map(mask_text, values))
    masked = iter(_mask("\x00".join(present)).split("\x00"))
    return [None if v is None else next(masked) for v in values]


# ---------------------------------------------------------------------------- names

# Characters of organisations and of bill vocabulary, rare in given names.
_ORG_CHARS = re.compile(
    "[公司行银社局院部厅所队店厂校馆团网络技支付商贸款额账单易功败收退转费息期日年类型态码卡状订"
    "户结算汇总计备注摘要充值提现扣还贷借融险券托]"
)
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "令狐",
    "慕容",
    "夏侯",
    "尉迟",
    "公孙",
    "长孙",
    "宇文",
    "司徒",
    "轩辕",
    "端木",
    "独孤",
    "南宫",
    "西门",
)
_PERSON = re.compile(rf"[{_CJK}]{{2,4}}|[{_CJK}]{{1,6}}[·•][{_CJK}]{{1,8}}")


def looks_like_person_name(value: str | None) -> bool:
    """2-4 CJK characters that start with a common surname and read as no word of a bill.

    A heuristic for fields of unknown meaning (a raw line's cells, a bank counterparty):
    张三 and 欧阳娜娜 are names, 支付成功, 财付通支付科技有限公司 and 还款 are not.
    """
    if not value:
        return False
    s = value.strip()
    if not _PERSON.fullmatch(s):
        return False
    if "·" in s or "•" in s:  # transliterated names: 买买提·艾力
        return True
    if s[:2] in _COMPOUND_SURNAMES:
        return len(s) >= 3 and not _ORG_CHARS.search(s[2:])
    return s[0] in _SURNAMES and not _ORG_CHARS.search(s[1:])


_FIELD = re.compile(r'(?P<q>["\']?)(?P<v>[^,|\t"\']+)(?P=q)(?=[,|\t]|$)')


def _mask_name_fields(text: str) -> str:
    if not _CJK_NAME.search(text):
        return text
    return _FIELD.sub(
        lambda m: (
            m.group("q") + (mask_name(m.group("v")) or "") + m.group("q")
            if looks_like_person_name(m.group("v"))
            else m.group()
        ),
        text,
    )


def mask_raw(raw: str | None) -> str | None:
    """A raw input line: its name-like delimited fields masked, then `mask_text`."""
    return None if raw is None else _mask(_mask_name_fields(str(raw)))


def mask_raws(values: list[str | None]) -> list[str | None]:
    return mask_texts([None if v is None else _mask_name_fields(v) for v in values])


# ---------------------------------------------------------------------------- details

# The bank-line detail of BANK_UNEXPLAINED (transforms/match/46_findings_bank.sql):
# "CREDIT 1234.00 from <counterparty name> <counterparty account>: <narrative>"
_BANK_DETAIL = re.compile(
    r"(?P<head>(?:CREDIT|DEBIT) \S+ (?:from|to) )(?P<name>.*?) (?P<acct>[^\s:]*): ",
    re.DOTALL,
)


def _mask_bank_detail(m: re.Match[str]) -> str:
    name, acct = m.group("name"), m.group("acct")
    if _PERSON.fullmatch(name) and not _ORG_CHARS.search(name[1:]):  # a field that is a name
        name = mask_name(name) or name
    if sum(c.isdigit() for c in acct) >= 8:
        acct = mask_account(acct)
    return f"{m.group('head')}{name} {acct}: "


def mask_detail(text: str | None) -> str | None:
    """An exception's detail: a bank line's counterparty masked as such, then `mask_text`."""
    if text is None:
        return None
    s = str(text)
    if s.startswith(("CREDIT ", "DEBIT ")):
        s = _BANK_DETAIL.sub(_mask_bank_detail, s, count=1)
    return mask_text(s)


def mask_details(values: list[str | None]) -> list[str | None]:
    if not any(v is not None and v.startswith(("CREDIT ", "DEBIT ")) for v in values):
        return mask_texts(values)
    return list(map(mask_detail, values))
