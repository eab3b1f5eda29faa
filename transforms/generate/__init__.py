"""Seeded, deterministic demo/test/benchmark data: a multi-day inbox in every generated format,
a recon.toml for it, and answer_key.csv listing each injected difference.

Fast enough for 10 million orders a day: ordinary orders are drawn as numpy columns and
written as text by Arrow kernels, one chunk at a time, one day at a time (memory is bounded by
a chunk, not by the day or the history); only the few dozen hand-made rows a day (noise and
injected differences) and the bank statements are Python objects. `world.py` says what is
generated, one module per format says how it is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import time
from pathlib import Path

from transforms.generate.alipay import ALIPAY_ACCOUNT, ALIPAY_HEADER, AlipayWriter, write_alipay
from transforms.generate.allinpay import ALLINPAY_HEADER, AllinpayWriter, write_allinpay
from transforms.generate.banks import (
    BANK_HEADER,
    ccb_rows,
    write_bank_csv,
    write_bank_xlsx,
    write_camt053,
    write_mt940,
)
from transforms.generate.columns import OrderCols, TxnCols
from transforms.generate.model import (
    ALIPAY,
    ALLINPAY,
    CHANNELS,
    COLLECTION_ACCOUNT,
    COLLECTION_NAME,
    COUNTERPARTY,
    FEE,
    FEE_ACCOUNT,
    FEE_PER_MILLE,
    LENDER_ACCOUNTS,
    LENDERS,
    WECHAT,
    BankLine,
    Order,
    Txn,
    World,
    allinpay_file,
    amend_file,
    fee_fen,
    platform_file,
    yuan,
    yuan_thousands,
)
from transforms.generate.platform import PLATFORM_HEADER, PlatformWriter, write_platform
from transforms.generate.recon_toml import config_text
from transforms.generate.wechat import (
    WECHAT_HEADER,
    WECHAT_LEGACY_HEADER,
    WECHAT_LEGACY_SUMMARY,
    WECHAT_SUMMARY,
    WechatWriter,
    write_wechat,
)
from transforms.generate.world import CHUNK_ORDERS, Extras, Generator

__all__ = [
    "ALIPAY", "ALIPAY_ACCOUNT", "ALIPAY_HEADER", "ALLINPAY", "ALLINPAY_HEADER", "BANK_HEADER",
    "CHANNELS", "CHUNK_ORDERS", "COLLECTION_ACCOUNT", "COLLECTION_NAME", "COUNTERPARTY", "FEE",
    "FEE_ACCOUNT", "FEE_PER_MILLE", "LENDER_ACCOUNTS", "LENDERS", "PLATFORM_HEADER", "WECHAT",
    "WECHAT_HEADER", "WECHAT_LEGACY_HEADER", "WECHAT_LEGACY_SUMMARY", "WECHAT_SUMMARY",
    "BankLine", "Extras", "FileSink", "Generator", "Order", "Txn", "World", "allinpay_file",
    "amend_file", "ccb_rows", "config_text", "fee_fen", "generate", "generate_counted",
    "platform_file", "write_alipay", "write_allinpay", "write_bank_csv", "write_bank_xlsx",
    "write_camt053", "write_mt940", "write_platform", "write_wechat", "yuan", "yuan_thousands",
]  # fmt: skip

STATEMENTS = [  # (file name prefix, writer, account, suffix)
    ("ccb_collection", write_bank_csv, (COLLECTION_ACCOUNT, COLLECTION_NAME), "csv"),
    ("lender_a", write_mt940, LENDER_ACCOUNTS["LENDER_A"], "sta"),
    ("lender_b", write_camt053, LENDER_ACCOUNTS["LENDER_B"], "xml"),
    ("fee_account", write_bank_xlsx, FEE_ACCOUNT, "xlsx"),
]
OPENING_BALANCE = 5_000_000_00


class FileSink:
    """Streams each day into `inbox/YYYY-MM-DD/`: one open writer per channel-format file."""

    def __init__(self, inbox: Path):
        self.inbox = inbox
        self.balances = {prefix: OPENING_BALANCE for prefix, *_ in STATEMENTS}
        self.previous: Path | None = None
        self.rows: dict[str, dict[str, int]] = {}  # per day: rows written per file kind
        self.seconds: dict[str, float] = {}  # per day: time to generate and write it

    def _count(self, day: dt.date, kind: str, n: int) -> None:
        counts = self.rows.setdefault(day.isoformat(), dict.fromkeys(("platform", *CHANNELS), 0))
        counts[kind] += n

    def begin_day(self, day: dt.date, legacy: bool, orders: int) -> None:
        self.started = time.perf_counter()
        self.folder = self.inbox / day.isoformat()
        self.folder.mkdir(parents=True)
        stamp = f"{day:%Y%m%d}"
        self.platform = PlatformWriter(self.folder / platform_file(day))
        self.channels = {
            WECHAT: WechatWriter(self.folder / f"wechatpay_All_{stamp}.csv", legacy),
            ALIPAY: AlipayWriter(self.folder / f"alipay_{stamp}.csv.zip", day, orders // 3),
            ALLINPAY: AllinpayWriter(self.folder / allinpay_file(day)),
        }
        self.undelivered: list[str] = []

    def orders(self, day: dt.date, cols: OrderCols) -> None:
        self._count(day, "platform", len(cols))
        self.platform.write(cols)

    def txns(self, day: dt.date, cols: TxnCols) -> None:
        self._count(day, cols.channel, len(cols))
        self.channels[cols.channel].write(cols)

    def extras(self, day: dt.date, extras: Extras) -> None:
        if extras.bad_lines:
            self.platform.write_raw(extras.bad_lines)
        if extras.amend is not None:
            of_day, cols = extras.amend
            w = PlatformWriter(self.folder / amend_file(of_day))
            w.write(cols)
            w.close()
        if extras.unlisted:
            self.channels[ALLINPAY].unlisted(TxnCols.from_txns(ALLINPAY, extras.unlisted))
        self.undelivered = list(extras.undelivered)

    def bank(self, day: dt.date, lines: list[BankLine]) -> None:
        for prefix, writer, account, suffix in STATEMENTS:
            mine = [b for b in lines if b.account == account[0]]
            if prefix in self.undelivered:  # the bank booked the lines; the file never came
                self.balances[prefix] += sum(b.amount for b in mine)
                continue
            path = self.folder / f"{prefix}_{day:%Y%m%d}.{suffix}"
            self.balances[prefix] = writer(path, account, day, mine, self.balances[prefix])

    def end_day(self, day: dt.date) -> None:
        self.platform.close()
        for w in self.channels.values():
            w.close()
        if self.previous is not None:
            # The channel re-sends yesterday's file unchanged: it must count once.
            yesterday = day - dt.timedelta(days=1)
            shutil.copyfile(self.previous, self.folder / f"allinpay_{yesterday:%Y%m%d}_resend.txt")
        self.previous = self.folder / allinpay_file(day)
        self.seconds[day.isoformat()] = round(time.perf_counter() - self.started, 3)


def generate(out: Path, start: dt.date, days: int, orders: int, seed: int) -> Path:
    """Write out/inbox, out/recon.toml and out/answer_key.csv. Returns the config path."""
    return generate_counted(out, start, days, orders, seed)[0]


def generate_counted(
    out: Path, start: dt.date, days: int, orders: int, seed: int
) -> tuple[Path, FileSink]:
    """`generate`, also returning the sink: `.rows` holds the data rows written per day and file
    kind (platform and each channel; re-sent files not counted), `.seconds` the time per day."""
    out = Path(out)
    gen = Generator(start, days, orders, seed)
    inbox = out / "inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    sink = FileSink(inbox)
    gen.run(sink)
    config = out / "recon.toml"
    config.write_text(config_text(), encoding="utf-8")
    with open(out / "answer_key.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["exception_type", "ref", "biz_date"])
        w.writerows(sorted(gen.world.answers))
    return config, sink
