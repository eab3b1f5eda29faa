"""The sentence for the borrower follows the finance decision."""

from __future__ import annotations

from transforms.trace import trace
from transforms.web.sentence import borrower_sentence


def decided(t, code: str, action: str):
    for e in t.exceptions:
        if e["exception_type"] == code:
            e.update(status="RESOLVED", resolution_action=action)
    return t


def test_decisions_change_the_sentence(web_demo):
    config, refs = web_demo.config, web_demo.refs
    (t,) = trace(config, refs["PLATFORM_NOT_PAID"][0]).traces
    assert "平台入账处理中" in borrower_sentence(t)
    assert "已为您补记还款" in borrower_sentence(decided(t, "PLATFORM_NOT_PAID", "CREDITED"))
    (t,) = trace(config, refs["MISSING_ON_PLATFORM"][0]).traces
    assert "已退款" in borrower_sentence(decided(t, "MISSING_ON_PLATFORM", "REFUNDED"))
    (t,) = trace(config, refs["DUPLICATE_DEBIT"][0]).traces
    assert borrower_sentence(t).startswith("重复扣款")
    # a false positive is no duplicate: the repayment itself went through
    assert not borrower_sentence(decided(t, "DUPLICATE_DEBIT", "FALSE_POSITIVE")).startswith("重复")
