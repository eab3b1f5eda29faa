"""Canonical table schemas: the lake's tables, the state tables, and typed selects of them."""

from __future__ import annotations

MONEY = "DECIMAL(18,2)"
# How every Parquet file is written (measured on a 1M-row day: version 2 pages take 15% less
# CPU to write than version 1, zstd the same CPU as snappy for files half the size).
PARQUET = "FORMAT parquet, PARQUET_VERSION v2, COMPRESSION zstd, COMPRESSION_LEVEL 1"
INSTANT = "TIMESTAMPTZ"  # UTC instant; biz_date carries the local calendar date

LINEAGE = [
    ("source", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("file_sha256", "VARCHAR"),
    ("line_no", "BIGINT"),
]

CANONICAL: dict[str, list[tuple[str, str]]] = {
    "platform_orders": [
        ("order_no", "VARCHAR"),
        ("order_type", "VARCHAR"),  # REPAY | REFUND
        ("orig_order_no", "VARCHAR"),
        ("loan_no", "VARCHAR"),
        ("installment_no", "INTEGER"),
        ("borrower_id", "VARCHAR"),
        ("lender_code", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),
        ("amount", MONEY),
        ("principal", MONEY),
        ("interest", MONEY),
        ("fee", MONEY),
        ("penalty", MONEY),
        ("installment_due", MONEY),
        ("status", "VARCHAR"),  # SUCCESS | FAILED | PROCESSING
        ("created_at", INSTANT),
        ("paid_at", INSTANT),
        ("biz_date", "DATE"),
    ],
    "channel_txns": [
        ("channel", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),
        ("merchant_order_no", "VARCHAR"),
        ("orig_channel_txn_id", "VARCHAR"),
        ("orig_merchant_order_no", "VARCHAR"),
        ("txn_type", "VARCHAR"),  # PAY | REFUND
        ("amount", MONEY),  # always positive; txn_type gives the direction
        ("fee", MONEY),  # channel fee charged on this transaction (negative = fee returned)
        ("status", "VARCHAR"),  # SUCCESS | FAILED
        ("txn_time", INSTANT),
        ("biz_date", "DATE"),
        ("card_no", "VARCHAR"),
        ("payer_name", "VARCHAR"),
    ],
    "bank_lines": [
        ("account_no", "VARCHAR"),
        ("bank_txn_id", "VARCHAR"),
        ("value_date", "DATE"),
        ("txn_time", INSTANT),
        ("direction", "VARCHAR"),  # CREDIT (money in) | DEBIT (money out)
        ("amount", MONEY),  # always positive
        ("balance", MONEY),
        ("currency", "VARCHAR"),
        ("counterparty_name", "VARCHAR"),
        ("counterparty_account", "VARCHAR"),
        ("narrative", "VARCHAR"),
    ],
    # One row per difference (OPEN, or CLEARED on the day it cleared) or pending item, per report date.
    "exceptions": [
        ("exception_id", "VARCHAR"),  # stable: same difference, same id, on every run
        ("report_date", "DATE"),
        ("exception_type", "VARCHAR"),  # a code of reports.labels.EXCEPTION_TYPES
        ("ref", "VARCHAR"),  # natural key of the difference (SPEC §8)
        ("status", "VARCHAR"),  # OPEN | PENDING | CLEARED | RESOLVED
        ("severity", "INTEGER"),  # 1 borrower harmed, 2 money missing, 3 bookkeeping
        ("money_at_stake", MONEY),  # what is actually at risk (>= 0); NULL for input problems
        ("biz_date", "DATE"),  # the item's own date: biz_date, settle date or value date
        ("first_seen", "DATE"),
        ("age_days", "INTEGER"),
        ("channel", "VARCHAR"),
        ("order_no", "VARCHAR"),  # platform side key
        ("channel_txn_id", "VARCHAR"),  # channel side key
        ("bank_txn_id", "VARCHAR"),  # bank side key
        ("expected_amount", MONEY),
        ("actual_amount", MONEY),
        ("diff_amount", MONEY),  # actual - expected
        ("borrower_id", "VARCHAR"),
        ("card_no", "VARCHAR"),
        ("detail", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("line_no", "BIGINT"),
        # The finance decision in force on the report date (status RESOLVED), if any.
        ("resolution_id", "VARCHAR"),
        (
            "resolution_action",
            "VARCHAR",
        ),  # REFUNDED | CREDITED | WRITTEN_OFF | FALSE_POSITIVE | MATCHED_MANUALLY
        ("resolution_ref", "VARCHAR"),  # the counterpart's ref, for MATCHED_MANUALLY
        ("resolution_note", "VARCHAR"),
        ("resolved_by", "VARCHAR"),
        ("resolved_at", INSTANT),
    ],
    # Layer B: one row per (channel, settle date) expected settlement, per report date.
    "settlements": [
        ("report_date", "DATE"),
        ("channel", "VARCHAR"),
        ("settle_date", "DATE"),
        ("trade_date", "DATE"),
        ("txn_count", "BIGINT"),
        ("pay_amount", MONEY),
        ("refund_amount", MONEY),
        ("fee_amount", MONEY),
        ("expected_net", MONEY),
        ("bank_txn_id", "VARCHAR"),  # the first credit of its group
        ("bank_value_date", "DATE"),  # the latest credit of its group
        ("bank_amount", MONEY),  # the group's credits, summed
        ("diff_amount", MONEY),  # bank_amount - group_expected
        ("status", "VARCHAR"),  # MATCHED | MISMATCH | MISSING | PENDING
        ("group_id", "VARCHAR"),  # items and credits matched together (batch or split)
        ("bank_txn_ids", "VARCHAR"),  # every credit of the group, comma-separated
        ("group_expected", MONEY),  # the expected nets of the group's items, summed
    ],
    # Layer C: one row per (recipient, value date) of 清分, per report date. A recipient is a
    # lender code, or FEE for the platform fee account.
    "distributions": [
        ("report_date", "DATE"),
        ("recipient", "VARCHAR"),
        ("account_no", "VARCHAR"),
        ("value_date", "DATE"),
        ("expected_amount", MONEY),  # the recipient's share of the settlements that arrived
        ("paid_amount", MONEY),  # the debit from the collection account
        ("paid_bank_txn_ids", "VARCHAR"),
        ("paid_value_date", "DATE"),
        ("received_amount", MONEY),  # the credit on the recipient's own statement, if it has one
        ("received_bank_txn_ids", "VARCHAR"),
        ("diff_amount", MONEY),  # paid - expected
        ("status", "VARCHAR"),  # MATCHED | MISMATCH | MISSING | PENDING
        ("settle_items", "VARCHAR"),  # CHANNEL:settle date items whose shares it distributes
        ("detail", "VARCHAR"),
    ],
    # Layer A pairs: platform order <-> channel transaction, per report date.
    "matches": [
        ("report_date", "DATE"),
        ("order_no", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),
        ("matched_by", "VARCHAR"),  # merchant_order_no | channel_txn_id
        ("platform_amount", MONEY),
        ("channel_amount", MONEY),
        ("platform_status", "VARCHAR"),
        ("channel_status", "VARCHAR"),
    ],
    # One row per delivered file (or per source that delivered none) and inbox day.
    "files": [
        ("source", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("file_sha256", "VARCHAR"),
        ("format", "VARCHAR"),
        ("status", "VARCHAR"),  # OK | ERROR | MISSING
        ("error", "VARCHAR"),
        ("rows_in", "BIGINT"),
        ("rows_ok", "BIGINT"),
        ("rows_rejected", "BIGINT"),
        ("control_ok", "BOOLEAN"),
        ("checks", "VARCHAR"),  # JSON list of {name, stated, computed, ok}
        ("amount_total", MONEY),
    ],
    "rejects": [
        ("reason", "VARCHAR"),
        ("raw", "VARCHAR"),
    ],
}


def _in_play(table: str) -> list[tuple[str, str]]:
    return columns(table) + [("inbox_date", "DATE")]


# The state a report date publishes for the next one (transforms/state.py). Carried
# tables hold the items still in play; delta tables hold, per date, the keys and sums
# of what left play that day (the history is the union of the dates' deltas).
STATE: dict[str, list[tuple[str, str]]] = {
    "orders": [],  # filled below: platform_orders + lineage + inbox_date
    "txns": [],
    "bank": [],
    "settle_frozen": [
        ("channel", "VARCHAR"),
        ("trade_date", "DATE"),
        ("txn_count", "BIGINT"),
        ("pay_amount", MONEY),
        ("refund_amount", MONEY),
        ("fee_amount", MONEY),
        ("last_inbox_date", "DATE"),
    ],
    "settle_match": [
        ("channel", "VARCHAR"),
        ("settle_date", "DATE"),
        ("account_no", "VARCHAR"),
        ("bank_txn_id", "VARCHAR"),
        ("bank_value_date", "DATE"),
        ("bank_amount", MONEY),
        ("group_id", "VARCHAR"),
    ],
    # Per (channel, trade date, recipient): the 清分 shares of transactions that left play.
    "share_frozen": [
        ("channel", "VARCHAR"),
        ("trade_date", "DATE"),
        ("recipient", "VARCHAR"),
        ("amount", MONEY),
    ],
    # Layer C pairings kept from one date to the next.
    "dist_match": [
        ("recipient", "VARCHAR"),
        ("value_date", "DATE"),
        ("account_no", "VARCHAR"),
        ("bank_txn_id", "VARCHAR"),
        ("paid_value_date", "DATE"),
        ("paid_amount", MONEY),
        ("received_account_no", "VARCHAR"),
        ("received_bank_txn_id", "VARCHAR"),
        ("received_value_date", "DATE"),
        ("received_amount", MONEY),
    ],
    # Differences that stay open until resolved: input problems and data conflicts.
    "input_findings": [
        ("exception_type", "VARCHAR"),
        ("ref", "VARCHAR"),
        ("biz_date", "DATE"),
        ("pending_days", "INTEGER"),
        ("evidence_date", "DATE"),
        ("channel", "VARCHAR"),
        ("order_no", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),
        ("bank_txn_id", "VARCHAR"),
        ("expected_amount", MONEY),
        ("actual_amount", MONEY),
        ("detail", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("line_no", "BIGINT"),
    ],
    "order_keys": [
        ("order_no", "VARCHAR"),
        ("order_type", "VARCHAR"),
        ("status", "VARCHAR"),
        ("amount", MONEY),
        ("channel", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),  # what it was matched to; NULL if never matched
        ("biz_date", "DATE"),
        ("loan_no", "VARCHAR"),
        ("installment_no", "INTEGER"),
        # the rest of the content, so a re-delivery that differs is a DATA_CONFLICT
        ("orig_order_no", "VARCHAR"),
        ("borrower_id", "VARCHAR"),
        ("lender_code", "VARCHAR"),
        ("principal", MONEY),
        ("interest", MONEY),
        ("fee", MONEY),
        ("penalty", MONEY),
        ("installment_due", MONEY),
        ("file_name", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("settled_on", "DATE"),
    ],
    "txn_keys": [
        ("channel", "VARCHAR"),
        ("channel_txn_id", "VARCHAR"),
        ("txn_type", "VARCHAR"),
        ("merchant_order_no", "VARCHAR"),
        ("status", "VARCHAR"),
        ("amount", MONEY),
        ("biz_date", "DATE"),
        ("fee", MONEY),
        ("orig_channel_txn_id", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("settled_on", "DATE"),
    ],
    "bank_keys": [
        ("account_no", "VARCHAR"),
        ("bank_txn_id", "VARCHAR"),
        ("value_date", "DATE"),
        ("direction", "VARCHAR"),
        ("amount", MONEY),
        ("counterparty_account", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("settled_on", "DATE"),
    ],
    # Successful platform refunds that left play: what each original has had refunded.
    "refunds": [
        ("orig_order_no", "VARCHAR"),
        ("order_no", "VARCHAR"),
        ("amount", MONEY),
        ("settled_on", "DATE"),
    ],
    "installments": [
        ("loan_no", "VARCHAR"),
        ("installment_no", "INTEGER"),
        ("owed", MONEY),
        ("collected", MONEY),
        ("settled_on", "DATE"),
    ],
    # The history catalog (transforms/state.py): one row per delta file of every date so far.
    "catalog": [
        ("kind", "VARCHAR"),  # order_keys, txn_keys, bank_keys, refunds, installments
        ("day", "DATE"),
        ("rows", "BIGINT"),
        ("min_key", "VARCHAR"),  # of the column the kind is looked up by
        ("max_key", "VARCHAR"),
    ],
}


def arrow_schema(table: str):
    """The Arrow schema of a canonical table's own columns (no lineage)."""
    import pyarrow as pa

    arrow = {
        "VARCHAR": pa.string(),
        "DATE": pa.date32(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "BOOLEAN": pa.bool_(),
        MONEY: pa.decimal128(18, 2),
        INSTANT: pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(name, arrow[typ]) for name, typ in CANONICAL[table]])


ROLE_TABLE = {"platform": "platform_orders", "channel": "channel_txns", "bank": "bank_lines"}


def columns(table: str) -> list[tuple[str, str]]:
    return CANONICAL[table] + LINEAGE


STATE["orders"] = _in_play("platform_orders")
STATE["txns"] = _in_play("channel_txns")
STATE["bank"] = _in_play("bank_lines")


def canonical_select_sql(
    table: str, relation: str, lineage: dict[str, str], available: set[str]
) -> str:
    """SELECT every canonical column of `table` from `relation`, cast to its exact type.

    Columns a format does not produce become typed NULLs; lineage values are literals.
    """
    parts = []
    for name, typ in columns(table):
        if name in lineage:
            value = lineage[name].replace("'", "''")
            parts.append(f"CAST('{value}' AS {typ}) AS {name}")
        elif name in available:
            parts.append(f"CAST({name} AS {typ}) AS {name}")
        else:
            parts.append(f"CAST(NULL AS {typ}) AS {name}")
    return f"SELECT {', '.join(parts)} FROM {relation}"
