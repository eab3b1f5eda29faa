"""Bank statements of the collection, lender and fee accounts: a few lines a day, written
from `BankLine` objects (CCB GBK CSV and XLSX, SWIFT MT940, ISO 20022 camt.053)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from transforms.generate.model import BankLine, yuan, yuan_thousands

BANK_HEADER = (
    "账号,账户名称,交易时间,借方发生额（支取）,贷方发生额（收入）,余额,币种,对方户名,对方账号,对方开户机构,"
    "记账日期,摘要,备注,账户明细编号-交易流水号"
)


def ccb_rows(account: tuple[str, str], day: dt.date, lines: list[BankLine], opening: int):
    """CCB corporate statement rows: title rows, header, one row per line, 合计 footer."""
    rows = [
        ["中国建设银行单位客户账户交易明细"],
        [f"账号:{account[0]}", f"起始日期:{day:%Y%m%d}", f"截止日期:{day:%Y%m%d}"],
        BANK_HEADER.split(","),
    ]
    balance, debits, credits = opening, 0, 0
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        debits += max(-b.amount, 0)
        credits += max(b.amount, 0)
        rows.append(
            [account[0], account[1], b.time.strftime("%Y%m%d %H:%M:%S"),
             yuan_thousands(-b.amount) if b.amount < 0 else "",
             yuan_thousands(b.amount) if b.amount > 0 else "",
             yuan_thousands(balance), "人民币", b.counterparty[0], b.counterparty[1], "",
             f"{day:%Y%m%d}", b.narrative, "", b.txn_id]
        )  # fmt: skip
    rows.append(["合计", "", "", yuan_thousands(debits), yuan_thousands(credits)] + [""] * 9)
    return rows, balance


def write_bank_csv(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """CCB-style corporate export in GBK: title rows, 借方/贷方, thousands separators, 合计 footer."""
    rows, balance = ccb_rows(account, day, lines, opening)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    with open(path, "w", encoding="gb18030", newline="") as f:
        f.write(out.getvalue())
    return balance


def write_bank_xlsx(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """The same CCB corporate layout as an XLSX download (all cells text, as the bank writes them)."""
    import xlsxwriter

    rows, balance = ccb_rows(account, day, lines, opening)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    book.set_properties({"created": dt.datetime(2026, 1, 1)})  # fixed: same seed, same bytes
    sheet = book.add_worksheet("交易明细")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return balance


def _mt940_amount(fen: int) -> str:
    return f"{abs(fen) // 100},{abs(fen) % 100:02d}"


def write_mt940(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """SWIFT MT940, one statement: :60F: opening, one :61:/:86: pair per line, :62F: closing."""
    d = f"{day:%y%m%d}"
    out = [":20:STMT" + f"{day:%Y%m%d}", f":25:{account[0]}", f":28C:{day:%j}/1",
           f":60F:{'C' if opening >= 0 else 'D'}{d}CNY{_mt940_amount(opening)}"]  # fmt: skip
    balance = opening
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        mark = "C" if b.amount > 0 else "D"
        out.append(
            f":61:{d}{day:%m%d}{mark}{_mt940_amount(b.amount)}NTRF{b.txn_id[-16:]}//{b.txn_id}"
        )
        out.append(f":86:{b.narrative} {b.counterparty[0]} {b.counterparty[1]}")
    out.append(f":62F:{'C' if balance >= 0 else 'D'}{d}CNY{_mt940_amount(balance)}")
    out.append("-")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(out) + "\r\n")
    return balance


def write_camt053(path: Path, account, day: dt.date, lines: list[BankLine], opening: int) -> int:
    """ISO 20022 camt.053.001.08 with one statement: OPBD and CLBD balances, one Ntry per line."""
    from xml.sax.saxutils import escape

    def bal(code: str, fen: int) -> str:
        ind = "CRDT" if fen >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"CNY\">{yuan(abs(fen))}</Amt>"
                f"<CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")  # fmt: skip

    entries, balance = [], opening
    for b in sorted(lines, key=lambda b: b.time):
        balance += b.amount
        ind = "CRDT" if b.amount > 0 else "DBIT"
        party = "Dbtr" if b.amount > 0 else "Cdtr"
        entries.append(
            f'<Ntry><Amt Ccy="CNY">{yuan(abs(b.amount))}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>{b.time.isoformat()}+08:00</DtTm></BookgDt>"
            f"<ValDt><Dt>{day.isoformat()}</Dt></ValDt><AcctSvcrRef>{b.txn_id}</AcctSvcrRef>"
            f"<BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><RltdPties>"
            f"<{party}><Pty><Nm>{escape(b.counterparty[0])}</Nm></Pty></{party}>"
            f"<{party}Acct><Id><Othr><Id>{b.counterparty[1]}</Id></Othr></Id></{party}Acct>"
            f"</RltdPties></TxDtls></NtryDtls><AddtlNtryInf>{escape(b.narrative)}</AddtlNtryInf></Ntry>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>CAMT{day:%Y%m%d}</MsgId><CreDtTm>{day.isoformat()}T23:59:59+08:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>STMT{day:%Y%m%d}</Id><CreDtTm>{day.isoformat()}T23:59:59+08:00</CreDtTm>"
        f"<Acct><Id><Othr><Id>{account[0]}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
        + bal("OPBD", opening)
        + bal("CLBD", balance)
        + "\n".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    )
    path.write_text(xml, encoding="utf-8")
    return balance
