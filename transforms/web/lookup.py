"""A lookup as the service does it: check the key's and the date's shape, then `trace` (the
same function `recon trace` calls), its errors as HTTP statuses.

The key is checked before anything reads the lake: an order_no, a channel_txn_id or a
borrower_id is 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit (WeChat
Pay and Alipay merchant order numbers are at most 32 and 64 of these). Quotes, SQL, shell
metacharacters, path separators, control characters, non-UTF-8 bytes (decoded as U+FFFD) and
longer keys are a 400 naming what was wrong; the trace never sees them. (It would not matter
to it: it passes keys to DuckDB as escaped literals, never as SQL text, and reads files it
lists itself.)
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from transforms.config import Config
from transforms.errors import ReconError
from transforms.trace import TraceResult, trace
from transforms.trace.model import DateNotPublished, KeyNotFound, LakeBusy, NothingPublished

KEY_CHARS = 64
KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]*")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ApiError(Exception):
    """An answer other than 200: its status, a short code and a message for the caller."""

    CODES = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        429: "too_many_requests",
        503: "unavailable",
    }

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    @property
    def code(self) -> str:
        return self.CODES.get(self.status, "error")


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ApiError(400, "expected ?key=KEY: an order_no, a channel_txn_id or a borrower_id")
    key = key.strip()
    if len(key) > KEY_CHARS:
        raise ApiError(400, f"key is {len(key)} characters long; expected at most {KEY_CHARS}")
    if not KEY.fullmatch(key):
        bad = next((c for c in key if not (c.isascii() and (c.isalnum() or c in "_.-"))), key[0])
        raise ApiError(
            400,
            f"key holds {bad!r}; expected an order_no, a channel_txn_id or a borrower_id: "
            "letters, digits, '_', '-' and '.' only, starting with a letter or digit",
        )
    return key


def check_date(text: str | None) -> dt.date | None:
    if text is None or text == "":
        return None
    if len(text) > 10 or not DATE.fullmatch(text):
        raise ApiError(400, f"date: expected YYYY-MM-DD, found {text[:20]!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, f"date: {text!r} is no calendar date ({exc})") from None


def run_trace(
    config: Config, key: str, day: dt.date | None, con: duckdb.DuckDBPyConnection, cache=None
) -> TraceResult:
    """The trace, or an ApiError saying why there is none (`cache`: a trace.lake.FileCache)."""
    try:
        return trace(config, key, day, con=con, cache=cache)
    except KeyNotFound:
        raise ApiError(
            404, f"{key!r} is no order_no, channel_txn_id or borrower_id in the published reports"
        ) from None
    except DateNotPublished as exc:
        raise ApiError(404, _without_paths(str(exc), config)) from None
    except NothingPublished:
        raise ApiError(503, "no report date is published yet", {"Retry-After": "60"}) from None
    except LakeBusy:
        raise ApiError(
            503, "the report dates are being re-published; try again", {"Retry-After": "1"}
        ) from None
    except ReconError as exc:  # any other refusal of the trace's (a usage error)
        raise ApiError(400, _without_paths(str(exc), config)) from None


def _without_paths(message: str, config: Config) -> str:
    """Callers are told what was wrong, not where the lake lives on the server."""
    return message.replace(f" in {config.data_dir}", "").replace(str(config.data_dir), "data_dir")
