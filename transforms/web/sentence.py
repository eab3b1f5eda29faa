"""One plain Chinese sentence a service agent can read to the borrower, derived from a trace's
hops and the exceptions that name them (nothing else is looked up).

What the borrower cares about comes first: money taken twice, taken and not credited, not
taken; then whether the repayment is complete. Differences between the platform, the
channel and the banks after the money was credited (settlement, 清分) are the platform's
business: they do not change what the borrower is told. A finance decision (RESOLVED with
REFUNDED or CREDITED) turns "being handled" into "done"; FALSE_POSITIVE drops the exception.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from transforms.trace.model import DIFFERS, DONE, PENDING, Hop, OrderTrace

ACTIVE = ("OPEN", "PENDING")
INTERNAL = ("settlement", "bank_credit", "distribution")


def yuan(value) -> str:
    return f"{Decimal(value):,.2f} 元"


class Facts:
    """What the rules read: the hops by kind, the exceptions by type, the amounts."""

    def __init__(self, t: OrderTrace):
        self.t = t
        self.order = next((h for h in t.hops if h.kind == "order"), None)
        self.debits = [h for h in t.hops if h.kind in ("channel_debit", "installment_debit")]
        self.paid = [h for h in self.debits if _succeeded(h)]
        self.refunds = [h for h in t.hops if h.kind == "refund"]
        self.by_type: dict[str, dict] = {}
        for e in t.exceptions:  # OPEN first (read_exceptions' order): the first one counts
            if e.get("status") == "RESOLVED" and e.get("resolution_action") == "FALSE_POSITIVE":
                continue
            if e.get("status") in (*ACTIVE, "RESOLVED"):
                self.by_type.setdefault(e["exception_type"], e)

    def exception(self, code: str) -> dict | None:
        return self.by_type.get(code)

    def decided(self, code: str) -> str | None:
        e = self.exception(code)
        return e.get("resolution_action") if e and e.get("status") == "RESOLVED" else None

    @property
    def taken(self) -> Decimal | None:
        """What the first successful debit took from the borrower."""
        first = next((h for h in self.paid if h.kind == "channel_debit"), None)
        if first and first.amount is not None:
            return Decimal(first.amount)
        amount = self.t.facts.get("amount")
        return Decimal(amount) if amount is not None and self.paid else None

    @property
    def refunded(self) -> Decimal:
        paid_back = [
            h.row.get("amount")
            for h in self.refunds
            if h.row and h.row.get("status") == "SUCCESS" and h.row.get("amount") is not None
        ]
        return sum((Decimal(a) for a in paid_back), Decimal(0))


def _succeeded(hop: Hop) -> bool:
    if hop.row is not None:
        return hop.row.get("status") == "SUCCESS"
    return hop.kind == "installment_debit" and hop.status in (DONE, DIFFERS)


def _taken(f: Facts) -> str:
    return f"已扣款 {yuan(f.taken)}" if f.taken is not None else "已扣款"


def _duplicate(f: Facts) -> str | None:
    e = f.exception("DUPLICATE_DEBIT")
    if e is None:
        return None
    amount = e.get("money_at_stake") or e.get("diff_amount")
    twice = f"重复扣款 {yuan(amount)}" if amount else "重复扣款"
    if f.decided("DUPLICATE_DEBIT") == "REFUNDED":
        return f"{twice}，已退款，原路退回您的付款账户。"
    if f.decided("DUPLICATE_DEBIT"):
        return f"{twice}，财务已处理。"
    return f"{twice}，已提交退款，将原路退回您的付款账户。"


def _not_credited(f: Facts) -> str | None:
    for code in ("MISSING_ON_PLATFORM", "PLATFORM_NOT_PAID"):
        if f.exception(code) is None:
            continue
        decision = f.decided(code)
        if decision == "CREDITED":
            return f"{_taken(f)}，已为您补记还款，无需再次还款。"
        if decision == "REFUNDED":
            return f"{_taken(f)}，已退款，原路退回您的付款账户。"
        if code == "MISSING_ON_PLATFORM":
            return f"{_taken(f)}，平台暂未查到对应的还款订单，已提交核查，将为您补记还款或退款。"
        return f"{_taken(f)}，平台入账处理中，将为您补记还款，请勿重复还款。"
    if f.order and f.order.status == DIFFERS and f.paid:  # still inside its pending window
        return f"{_taken(f)}，平台入账处理中，请勿重复还款。"
    return None


def _amount(f: Facts) -> str | None:
    if f.exception("AMOUNT_MISMATCH") is None or f.decided("AMOUNT_MISMATCH"):
        return None
    due = f.t.facts.get("amount")
    owed = f"，与应还 {yuan(due)}不一致" if due is not None else "，金额与订单不一致"
    return f"{_taken(f)}{owed}，正在核对，差额将为您处理。"


def _not_taken(f: Facts) -> str | None:
    if f.exception("CHANNEL_FAILED") and not f.decided("CHANNEL_FAILED"):
        return "支付渠道显示本次扣款未成功，款项未从您的账户扣除，平台的还款记录正在更正。"
    if f.exception("MISSING_ON_CHANNEL") and not f.decided("MISSING_ON_CHANNEL"):
        return "平台显示已还款，但支付渠道暂无扣款记录，正在与渠道核实，请以您的银行扣款记录为准。"
    return None


def _refund(f: Facts) -> str | None:
    if f.exception("REFUND_UNMATCHED") is None or f.decided("REFUND_UNMATCHED"):
        return None
    return "退款处理中，正在与支付渠道核对，到账时间以渠道为准。"


def _in_progress(f: Facts) -> str | None:
    """Nothing taken yet: failed, still processing, or not seen at the channel yet."""
    if f.order is None or f.paid:
        return None
    status = (f.order.row or {}).get("status")
    debit = next((h for h in f.debits if h.kind == "channel_debit"), None)
    if status == "FAILED":
        return "本次还款未成功，未从您的账户扣款。"
    if status == "PROCESSING" or (debit and debit.status == PENDING):
        return "还款处理中，扣款结果待支付渠道确认，请稍后再查。"
    if status == "SUCCESS":
        return "平台显示已还款，扣款记录正在与支付渠道核实，请以您的银行扣款记录为准。"
    return None


def _complete(f: Facts) -> str | None:
    if not f.paid or f.order is None or f.order.status != DONE:
        return None
    text = f"{_taken(f)}，还款已成功入账"
    text += f"（{f.order.date}）" if f.order.date else ""
    if f.refunded:
        text += f"，已退款 {yuan(f.refunded)}"
    return text + "，无需再次还款。"


RULES: tuple[Callable[[Facts], str | None], ...] = (
    _duplicate,
    _not_credited,
    _amount,
    _not_taken,
    _refund,
    _in_progress,
    _complete,
)
FALLBACK = "已查到这笔还款，正在核对中，请稍后再查。"


def borrower_sentence(t: OrderTrace) -> str:
    f = Facts(t)
    for rule in RULES:
        if text := rule(f):
            return text
    return FALLBACK
