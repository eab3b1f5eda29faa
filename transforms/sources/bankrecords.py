"""What the tree-shaped bank formats (MT940, camt.053) share: the record layout they
build in Python and the stable id of an entry that carries no reference."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
CENT = Decimal("0.01")

BANK_RECORD_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("account_no", pa.string()),
    ("bank_txn_id", pa.string()),
    ("value_date", pa.date32()),
    ("txn_time", pa.timestamp("us", tz="UTC")),
    ("direction", pa.string()),
    ("amount", MONEY),
    ("currency", pa.string()),
    ("counterparty_name", pa.string()),
    ("counterparty_account", pa.string()),
    ("narrative", pa.string()),
]


def stable_id(prefix: str, *parts: object) -> str:
    """An id for an entry without a bank reference: the same entry gets the same id in every delivery."""
    digest = hashlib.sha256(
        "|".join("" if p is None else str(p) for p in parts).encode()
    ).hexdigest()
    return f"{prefix}{digest[:20]}"


def local_midnight_utc(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT)
