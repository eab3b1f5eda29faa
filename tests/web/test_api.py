"""GET /api/v1/trace over the reconciled demo: the same hops as `recon trace`, the exceptions
with status, severity and decision, and the sentence for the borrower."""

from __future__ import annotations

import datetime as dt

from tests.web.conftest import bearer, copy_demo, lookup
from transforms.trace import to_json, trace
from transforms.web.schema import TraceResponse


def only(body: dict) -> dict:
    (repayment,) = body["repayments"]
    return repayment


def statuses(repayment: dict) -> list[tuple[str, str]]:
    return [(h["hop"], h["status"]) for h in repayment["hops"]]


def test_normal_repayment_is_the_trace(client, web_demo, normal):
    r = lookup(client, web_demo.service, key=normal["order_no"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    TraceResponse.model_validate(body)  # the OpenAPI document describes this very answer
    assert (body["key"], body["kind"], body["count"]) == (normal["order_no"], "order_no", 1)
    same = to_json(trace(web_demo.config, normal["order_no"]))
    assert body["report_date"] == same["report_date"]
    repayment = only(body)
    (t,) = same["traces"]
    assert statuses(repayment) == [(h["hop"], h["status"]) for h in t["hops"]]
    assert [h["ref"] for h in repayment["hops"]] == [h["ref"] for h in t["hops"]]
    assert repayment["where"] == t["where"]
    assert repayment["hops"][0]["label_zh"] == "平台订单" and repayment["hops"][0]["status_zh"]
    assert repayment["exceptions"] == []
    assert "还款已成功入账" in repayment["sentence"] and "无需再次还款" in repayment["sentence"]
    amount = f"{normal['amount']:,.2f} 元"
    assert repayment["sentence"].startswith(f"已扣款 {amount}")


def test_duplicate_debit(client, web_demo):
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    body = lookup(client, web_demo.finance, key=key).json()
    TraceResponse.model_validate(body)
    repayment = only(body)
    debits = [h for h in repayment["hops"] if h["hop"] in ("channel_debit", "installment_debit")]
    assert len(debits) >= 2 and any(h["status"] == "differs" for h in debits)
    (e,) = [e for e in repayment["exceptions"] if e["exception_type"] == "DUPLICATE_DEBIT"]
    assert e["status"] == "OPEN" and e["status_zh"] == "未处理"
    assert e["severity"] == 1 and e["severity_label"] == "1 借款人受损"
    assert e["decision"] is None and e["label"] == "重复扣款"
    assert e["money_at_stake"] and e["money_at_stake"].count(".") == 1  # finance: money
    assert repayment["sentence"].startswith("重复扣款 ") and "已提交退款" in repayment["sentence"]


def test_platform_not_paid(client, web_demo):
    repayment = only(
        lookup(client, web_demo.service, key=web_demo.refs["PLATFORM_NOT_PAID"][0]).json()
    )
    assert dict(statuses(repayment))["order"] == "differs"
    assert any(e["exception_type"] == "PLATFORM_NOT_PAID" for e in repayment["exceptions"])
    assert repayment["sentence"].startswith("已扣款") and "平台入账处理中" in repayment["sentence"]


def test_missing_on_platform_and_channel_failed(client, web_demo):
    repayment = only(
        lookup(client, web_demo.service, key=web_demo.refs["MISSING_ON_PLATFORM"][0]).json()
    )
    assert dict(statuses(repayment))["order"] == "missing"
    assert "平台暂未查到对应的还款订单" in repayment["sentence"]
    repayment = only(
        lookup(client, web_demo.service, key=web_demo.refs["CHANNEL_FAILED"][0]).json()
    )
    assert "扣款未成功" in repayment["sentence"]


def test_borrower_with_several_orders(client, web_demo, several_orders):
    body = lookup(client, web_demo.service, key=several_orders).json()
    assert body["kind"] == "borrower_id" and body["count"] >= 2
    assert (
        body["count"] == len(body["repayments"]) == len({r["order_no"] for r in body["repayments"]})
    )
    for repayment in body["repayments"]:
        assert repayment["sentence"] and repayment["hops"][0]["hop"] == "order"
        assert several_orders not in repayment["facts"]["borrower"]  # masked: U1******89


def test_channel_txn_id_names_the_same_repayment(client, web_demo, normal):
    by_order = only(lookup(client, web_demo.service, key=normal["order_no"]).json())
    body = lookup(client, web_demo.service, key=normal["channel_txn_id"]).json()
    assert body["kind"] == "channel_txn_id"
    assert statuses(only(body)) == statuses(by_order)


def test_an_earlier_report_date(client, web_demo, demo_run, normal):
    day = demo_run.days[2]
    body = lookup(
        client, web_demo.service, key=web_demo.refs["DUPLICATE_DEBIT"][0], date=str(day)
    ).json()
    assert body["report_date"] == str(day)


def test_not_found_and_unpublished_date_are_404(client, web_demo, demo_run):
    r = lookup(client, web_demo.service, key="PO19990101000000001")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert "PO19990101000000001" in r.json()["message"]
    later = demo_run.days[-1] + dt.timedelta(days=30)
    r = lookup(client, web_demo.service, key="PO1", date=str(later))
    assert r.status_code == 404 and "no published report" in r.json()["message"]
    assert str(web_demo.config.data_dir) not in r.text  # no server paths in answers


def test_nothing_published_is_503(tmp_path, web_demo):
    import dataclasses

    from fastapi.testclient import TestClient

    from transforms.web import create_app, tokens

    config = dataclasses.replace(web_demo.config, data_dir=tmp_path / "empty")
    token = tokens.add(config, "agent", "service")
    with TestClient(create_app(config)) as c:
        r = c.get("/api/v1/trace", params={"key": "PO1"}, headers=bearer(token))
    assert r.status_code == 503 and r.json()["message"] == "no report date is published yet"


def test_a_finance_decision_is_shown(demo_run, tmp_path):
    """REFUNDED on the DUPLICATE_DEBIT, the date recomputed: RESOLVED with the decision, and the
    borrower is told it was refunded."""
    from fastapi.testclient import TestClient

    from tests.test_trace import answer_key
    from transforms import resolutions
    from transforms.pipeline import run_range
    from transforms.web import create_app, tokens

    config = copy_demo(demo_run, tmp_path)
    key = answer_key(demo_run)["DUPLICATE_DEBIT"][0]
    (e,) = [
        e
        for e in trace(config, key).traces[0].exceptions
        if e["exception_type"] == "DUPLICATE_DEBIT"
    ]
    decision = resolutions.Decision(
        e["exception_id"], "REFUNDED", "已退回卡号 6222021234567890123", "王会计", None
    )
    [verdict] = resolutions.record(config, [decision], None)
    assert verdict.outcome == "accepted", verdict
    last = demo_run.days[-1]
    run_range(config, last, last)
    token = tokens.add(config, "fin", "finance")
    with TestClient(create_app(config)) as c:
        repayment = only(c.get("/api/v1/trace", params={"key": key}, headers=bearer(token)).json())
    (shown,) = [x for x in repayment["exceptions"] if x["exception_type"] == "DUPLICATE_DEBIT"]
    assert shown["status"] == "RESOLVED" and shown["status_zh"] == "已处理"
    d = shown["decision"]
    assert (d["action"], d["label"], d["by"]) == ("REFUNDED", "REFUNDED 已退款", "王会计")
    assert "6222021234567890123" not in d["note"] and "6222****0123" in d["note"]  # masked
    assert d["at"]
    assert repayment["sentence"].startswith("重复扣款") and "已退款" in repayment["sentence"]


def test_openapi_document(client, web_demo):
    assert client.get("/api/v1/openapi.json").status_code == 401
    r = client.get("/api/v1/openapi.json", headers=bearer(web_demo.service))
    assert r.status_code == 200
    doc = r.json()
    trace_op = doc["paths"]["/api/v1/trace"]["get"]
    assert {p["name"] for p in trace_op["parameters"]} == {"key", "date", "view"}
    assert {"200", "400", "401", "403", "404", "429", "503"} <= set(trace_op["responses"])
    assert "TraceResponse" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert client.get("/docs").status_code == 404  # the interactive docs load from the internet


def test_page_and_static_files_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "还款查询" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    for src in ("/static/app.js", "/static/style.css"):
        assert f'"{src}"' in page.text
        assert client.get(src).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "https://" not in script  # text only, nothing fetched


def test_errors_are_json(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.json()["status"] == 404
    r = client.post("/api/v1/trace")
    assert r.status_code == 405 and r.json()["error"] == "error"
