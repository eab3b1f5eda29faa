"""The shapes of the API's answers, for the OpenAPI document (`/api/v1/openapi.json`).

The routes return what `payload.py` builds; a test validates real answers against these
models (extra fields forbidden), so the document and the answers cannot drift apart.
Money is an exact decimal string ("2664.63"), dates are ISO (YYYY-MM-DD)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Strict):
    status: int = Field(description="the HTTP status, again")
    error: str = Field(description="bad_request | unauthorized | forbidden | not_found | ...")
    message: str = Field(description="what was wrong and what was expected")


class Source(Strict):
    source: str | None
    file_name: str | None
    line_no: int | None
    inbox_date: str | None = Field(description="null: read from a history delta")


class Hop(Strict):
    hop: str = Field(description="order | channel_debit | installment_debit | refund | "
                     "settlement | bank_credit | distribution")  # fmt: skip
    label: str
    label_zh: str
    status: str = Field(description="done | pending | missing | differs | n/a | not available")
    status_zh: str
    date: str | None
    amount: str | None = Field(description="service view: null on settlement, bank, 清分 hops")
    ref: str | None
    detail: list[str]
    exceptions: list[str]
    sources: list[Source] | None = Field(None, description="finance view only")
    lineage: list[str] | None = Field(None, description="finance view only: file:line")


class Decision(Strict):
    action: str = Field(description="REFUNDED | CREDITED | WRITTEN_OFF | FALSE_POSITIVE | "
                        "MATCHED_MANUALLY")  # fmt: skip
    label: str | None
    note: str | None
    by: str | None
    at: str | None


class ExceptionRow(Strict):
    exception_id: str | None
    exception_type: str
    label: str | None
    ref: str | None
    status: str = Field(description="OPEN | PENDING | CLEARED | RESOLVED")
    status_zh: str | None
    severity: int | None = Field(description="1 borrower harmed, 2 money missing, 3 bookkeeping")
    severity_label: str | None
    first_seen: str | None
    age_days: int | None
    action: str | None = Field(description="the suggested action")
    decision: Decision | None = Field(description="what finance decided, if anything")
    money_at_stake: str | None = Field(None, description="finance view only")
    expected_amount: str | None = Field(None, description="finance view only")
    actual_amount: str | None = Field(None, description="finance view only")
    diff_amount: str | None = Field(None, description="finance view only")
    detail: str | None = Field(None, description="finance view only")


class Repayment(Strict):
    order_no: str | None
    sentence: str = Field(description="one plain Chinese sentence to read to the borrower")
    where: str = Field(description="where the borrower's money is (资金位置)")
    facts: dict[str, str | None]
    notes: list[str]
    hops: list[Hop]
    exceptions: list[ExceptionRow]
    found_in: str | None = Field(None, description="finance view only")
    window: list[str] | None = Field(None, description="finance view only: inbox dates read")


class Lookup(Strict):
    elapsed_ms: float
    queries: int
    files_read: int
    published_dates: int


class TraceResponse(Strict):
    key: str
    kind: str = Field(description="order_no | channel_txn_id | borrower_id")
    report_date: str
    view: str = Field(description="service | finance")
    count: int = Field(description="how many repayments the key names")
    repayments: list[Repayment]
    lookup: Lookup


class AuditResponse(Strict):
    month: str
    key: str | None
    count: int
    entries: list[dict]
