"""Every lookup, answered or refused, is one line of the month's audit file: append-only,
0640, never interleaved."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading

from tests.web.conftest import lookup
from transforms.web.audit import KEY_CHARS, AuditLog, month_file


def entries(web_demo) -> list[dict]:
    log = AuditLog(web_demo.config.data_dir, web_demo.config.timezone)
    return log.read(log.now().strftime("%Y-%m"))


def test_each_lookup_is_audited(client, web_demo):
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    before = len(entries(web_demo))
    lookup(client, web_demo.service, key=key)
    lookup(client, None, key=key)
    lookup(client, web_demo.finance, key="PO19990101000000001")
    lookup(client, web_demo.service, key="x' OR 1=1")
    lookup(client, web_demo.service, key="P" * 10_000)
    new = entries(web_demo)[before:]
    assert [(e["who"], e["role"], e["status"]) for e in new] == [
        ("agent-1", "service", 200),
        (None, None, 401),
        ("fin-1", "finance", 404),
        ("agent-1", "service", 400),
        ("agent-1", "service", 400),
    ]
    ok = new[0]
    assert ok["key"] == key and ok["results"] == 1 and ok["view"] == "service"
    assert ok["path"] == "/api/v1/trace" and ok["client"] == "testclient"
    assert ok["report_date"] and dt.datetime.fromisoformat(ok["at"]).tzinfo is not None
    assert new[3]["key"] == "x' OR 1=1"  # as asked, as JSON text
    assert len(new[4]["key"]) == KEY_CHARS and new[4]["key_length"] == 10_000


def test_file_is_monthly_private_and_append_only(web_demo, tmp_path):
    log = AuditLog(tmp_path, "Asia/Shanghai")
    path = month_file(tmp_path, log.now().strftime("%Y-%m"))
    path.parent.mkdir()
    path.write_text('{"earlier": "line"}\n', encoding="utf-8")
    path.chmod(0o644)
    assert log.append({"who": "a", "key": 'PO1\n{"forged": true}'}) == path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"earlier": "line"}' and len(lines) == 2  # a newline in a key is escaped
    assert json.loads(lines[1])["key"] == 'PO1\n{"forged": true}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.name.startswith("lookups-") and path.name.endswith(".jsonl")
    live = month_file(web_demo.config.data_dir, log.now().strftime("%Y-%m"))
    if live.exists():
        assert stat.S_IMODE(live.stat().st_mode) == 0o640
        assert stat.S_IMODE(live.parent.stat().st_mode) == 0o750


def test_concurrent_appends_never_interleave(tmp_path):
    log = AuditLog(tmp_path, "UTC")

    def write(n: int):
        for i in range(200):
            log.append({"who": f"t{n}", "key": f"K{i}", "detail": "x" * 500})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (path,) = (tmp_path / "audit").iterdir()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1600 and all(json.loads(line)["detail"] == "x" * 500 for line in lines)
