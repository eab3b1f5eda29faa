"""Bearer tokens and roles: who may see what, tokens stored only as salted hashes."""

from __future__ import annotations

import json
import stat

import pytest

from flows.cli import main
from tests.web.conftest import bearer, lookup
from transforms.errors import UsageError
from transforms.web import tokens


def test_no_or_bad_token_is_401(client, web_demo):
    r = lookup(client, None, key="PO1")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["message"]
    last = web_demo.service[-1]
    one_off = web_demo.service[:-1] + ("B" if last == "A" else "A")
    for header in (
        "Bearer rw_000000000000_" + "x" * 43,  # well-formed, unknown
        "Bearer " + one_off,  # one character off
        "Bearer nonsense",
        "Basic " + web_demo.service,
        "Bearer",
    ):
        r = client.get("/api/v1/trace", params={"key": "PO1"}, headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json()["error"] == "unauthorized"


def test_service_sees_masked_data_without_lineage_or_money(client, web_demo):
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    service = lookup(client, web_demo.service, key=key).json()
    finance = lookup(client, web_demo.finance, key=key).json()
    assert (service["view"], finance["view"]) == ("service", "finance")
    (s,), (f,) = service["repayments"], finance["repayments"]
    assert s["facts"] == f["facts"] and "*" in s["facts"]["borrower"]  # masked for both
    assert all("sources" not in h and "lineage" not in h for h in s["hops"])
    assert all("money_at_stake" not in e and "detail" not in e for e in s["exceptions"])
    assert "found_in" not in s and "window" not in s
    internal = [h for h in s["hops"] if h["hop"] in ("settlement", "bank_credit", "distribution")]
    assert internal and all(h["amount"] is None and h["detail"] == [] for h in internal)
    own = [h for h in s["hops"] if h["hop"] in ("order", "channel_debit")]
    assert all(h["amount"] for h in own), "the borrower's own amounts are shown"
    lineage = [x for h in f["hops"] for x in h["lineage"]]
    assert lineage and all(":" in x for x in lineage)  # file:line
    assert all(e["money_at_stake"] for e in f["exceptions"])
    people = [d for h in s["hops"] for d in h["detail"] if "payer " in d or "card " in d]
    assert people and all("*" in d for d in people), "cards and payers masked as in the workbook"


def test_service_may_not_ask_for_the_finance_view(client, web_demo):
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    r = lookup(client, web_demo.service, key=key, view="finance")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert lookup(client, web_demo.finance, key=key, view="service").json()["view"] == "service"
    assert lookup(client, web_demo.finance, key=key, view="admin").status_code == 400


def test_audit_endpoint_is_for_finance(client, web_demo):
    key = web_demo.refs["PLATFORM_NOT_PAID"][0]
    assert lookup(client, web_demo.service, key=key).status_code == 200
    r = client.get("/api/v1/audit", params={"key": key}, headers=bearer(web_demo.service))
    assert r.status_code == 403
    r = client.get("/api/v1/audit", params={"key": key}, headers=bearer(web_demo.finance))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] >= 1 and all(e["key"] == key for e in body["entries"])
    assert any(e["who"] == "agent-1" and e["status"] == 200 for e in body["entries"])
    bad = client.get("/api/v1/audit", params={"month": "2026-13"}, headers=bearer(web_demo.finance))
    assert bad.status_code == 400


def test_tokens_are_stored_as_salted_hashes(web_demo):
    path = tokens.store_path(web_demo.config.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    text = path.read_text(encoding="utf-8")
    for token in (web_demo.service, web_demo.finance):
        secret = tokens.TOKEN.fullmatch(token).group(2)  # the secret itself may hold '_'
        assert token not in text and secret not in text
    records = json.loads(text)["tokens"]
    assert len({r["salt"] for r in records}) == len(records)
    assert {(r["name"], r["role"]) for r in records} >= {
        ("agent-1", "service"),
        ("fin-1", "finance"),
    }


def test_revoked_token_stops_at_once(client, web_demo):
    token = tokens.add(web_demo.config, "temp-agent", "service")
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    assert lookup(client, token, key=key).status_code == 200
    tokens.revoke(web_demo.config, "temp-agent")
    assert lookup(client, token, key=key).status_code == 401  # no restart needed
    assert lookup(client, web_demo.service, key=key).status_code == 200


def test_token_names_and_roles_are_checked(web_demo):
    for name in ("", "a b", "../x", "x" * 65, "名字"):
        with pytest.raises(UsageError):
            tokens.add(web_demo.config, name, "service")
    with pytest.raises(UsageError):
        tokens.add(web_demo.config, "root", "admin")
    with pytest.raises(UsageError, match="already has a token"):
        tokens.add(web_demo.config, "agent-1", "service")
    with pytest.raises(UsageError, match="no token named"):
        tokens.revoke(web_demo.config, "nobody")


def test_web_token_commands(demo_run, tmp_path, capsys):
    toml = tmp_path / "recon.toml"  # the demo's configuration, an empty inbox and data_dir
    toml.write_text(demo_run.config_path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    args = ["--config", str(toml)]
    assert main(["web-token", "add", "bot-1", "--role", "service", *args]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert tokens.TOKEN.fullmatch(token) and "shown this once" in err
    store = tokens.TokenStore(tmp_path / "data")
    assert store.verify(token) == tokens.Principal("bot-1", "service")
    assert main(["web-token", "list", *args]) == 0
    listed = capsys.readouterr().out
    assert "bot-1  service" in listed and token not in listed
    assert main(["web-token", "add", "bot-1", "--role", "finance", *args]) == 2
    assert "already has a token" in capsys.readouterr().err
    assert main(["web-token", "add", "x", "--role", "admin", *args]) == 2
    capsys.readouterr()
    assert main(["web-token", "revoke", "bot-1", *args]) == 0
    assert store.verify(token) is None
    assert main(["web-token", "revoke", "bot-1", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no token named 'bot-1'" in err
