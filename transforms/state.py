"""The state one report date hands to the next: named tables in, named tables out.

The matching steps read the previous date's state as `prev_*` tables (items still in
play) and `hist_*` / `recent_*` views (what left play on earlier dates: keys and sums,
one delta file per date), and write the next state as `next_*` tables. A date's state
lives in its published version folder under `state/`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from transforms import lake
from transforms.duck import sql_path


@dataclass(frozen=True)
class Carried:
    name: str  # file name under state/ and key of lake.STATE
    prev: str  # table the steps read
    next: str  # table the steps write
    order: str  # a unique sort key: the same state gives the same bytes


@dataclass(frozen=True)
class Delta:
    name: str
    hist: str  # view over every earlier date's delta
    recent: str | None  # view over the deltas of the re-match window only
    next: str
    order: str


CARRIED = (
    Carried("orders", "prev_orders", "next_orders", "order_no"),
    Carried("txns", "prev_txns", "next_txns", "channel, channel_txn_id, txn_type"),
    Carried("bank", "prev_bank", "next_bank", "account_no, bank_txn_id"),
    Carried("settle_frozen", "prev_settle_frozen", "next_settle_frozen", "channel, trade_date"),
    Carried(
        "settle_match",
        "prev_settle_match",
        "next_settle_match",
        "channel, settle_date, account_no, bank_txn_id",
    ),
    Carried(
        "share_frozen", "prev_share_frozen", "next_share_frozen", "channel, trade_date, recipient"
    ),
    Carried(
        "dist_match", "prev_dist_match", "next_dist_match", "recipient, value_date, bank_txn_id"
    ),
    Carried(
        "input_findings",
        "prev_input_findings",
        "next_input_findings",
        "exception_type, ref, biz_date, file_name, line_no, detail, channel_txn_id",
    ),
)
DELTAS = (
    Delta("order_keys", "hist_order_keys", "recent_order_keys", "next_order_keys", "order_no"),
    Delta(
        "txn_keys",
        "hist_txn_keys",
        "recent_txn_keys",
        "next_txn_keys",
        "channel, channel_txn_id, txn_type",
    ),
    Delta("bank_keys", "hist_bank_keys", None, "next_bank_keys", "account_no, bank_txn_id"),
    Delta("refunds", "hist_refunds", None, "next_refunds", "orig_order_no, order_no"),
    Delta(
        "installments",
        "hist_installments",
        None,
        "next_installments",
        "loan_no, installment_no, settled_on, owed, collected",  # every column: rows may repeat
    ),
)


def _typed_empty(name: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.STATE[name])
    return f"SELECT {cols} WHERE false"


def _typed_read(name: str, files: list[Path]) -> str:
    if not files:
        return _typed_empty(name)
    cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.STATE[name])
    listed = ", ".join(sql_path(f) for f in files)
    return f"SELECT {cols} FROM read_parquet([{listed}])"


def state_file(version: Path, name: str) -> Path:
    return version / "state" / f"{name}.parquet"


def load_state(con, prev: Path | None, history: list[tuple[dt.date, Path]], recent_from) -> None:
    """Create the prev_*, hist_* and recent_* relations the steps read.

    `prev` is the previous date's published version (None on the first date);
    `history` lists (date, version) of every earlier date, oldest first.
    """
    for c in CARRIED:
        files = [state_file(prev, c.name)] if prev else []
        con.execute(f"CREATE OR REPLACE TABLE {c.prev} AS {_typed_read(c.name, files)}")
    for d in DELTAS:
        files = [state_file(v, d.name) for _, v in history]
        con.execute(f"CREATE OR REPLACE VIEW {d.hist} AS {_typed_read(d.name, files)}")
        if d.recent:
            recent = [state_file(v, d.name) for day, v in history if day >= recent_from]
            con.execute(f"CREATE OR REPLACE VIEW {d.recent} AS {_typed_read(d.name, recent)}")
    typed = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.CANONICAL["exceptions"])
    body = (
        f"SELECT {typed} FROM read_parquet({sql_path(prev / 'exceptions' / 'exceptions.parquet')})"
        if prev
        else "SELECT "
        + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake.CANONICAL["exceptions"])
        + " WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TABLE prev_exceptions AS {body}")


def history_views(con, history: list[tuple[dt.date, Path]], names) -> None:
    """Only the hist_* views of the deltas `names` (for a connection matching one bucket)."""
    for d in DELTAS:
        if d.name in names:
            files = [state_file(v, d.name) for _, v in history]
            con.execute(f"CREATE OR REPLACE VIEW {d.hist} AS {_typed_read(d.name, files)}")


def write_state(con, version: Path) -> None:
    """COPY every next_* table into `version/state/`, typed and sorted."""
    (version / "state").mkdir(parents=True, exist_ok=True)
    for name, table, order in [(c.name, c.next, c.order) for c in CARRIED] + [
        (d.name, d.next, d.order) for d in DELTAS
    ]:
        cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.STATE[name])
        con.execute(
            f"COPY (SELECT {cols} FROM {table} ORDER BY {order}) "
            f"TO {sql_path(state_file(version, name))} (FORMAT parquet)"
        )
