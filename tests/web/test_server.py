"""`recon web` for real: uvicorn on a free port, in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from bench.lookup_bench import free_port, start_service, stop_service
from tests.web.conftest import bearer, config_file
from transforms.web import tokens


@pytest.fixture(scope="module")
def server(web_demo, demo_run, tmp_path_factory):
    path = config_file(demo_run, web_demo.config.data_dir, tmp_path_factory.mktemp("server"))
    port = free_port()
    proc = start_service(path, port, web_demo.service)
    yield path, port
    stop_service(proc)


def raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_real_server_answers(server, web_demo):
    _, port = server
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        r = http.get("/api/v1/trace", params={"key": key}, headers=bearer(web_demo.service))
        assert r.status_code == 200 and r.json()["repayments"][0]["sentence"].startswith("重复扣款")
        assert http.get("/api/v1/trace", params={"key": key}).status_code == 401
        page = http.get("/")
        assert page.status_code == 200 and "还款查询" in page.text
        r = http.get(
            "/api/v1/trace", params={"key": "P" * 10_000}, headers=bearer(web_demo.service)
        )
        assert r.status_code == 400


def test_raw_bytes_on_the_wire(server, web_demo):
    _, port = server
    auth = f"Authorization: Bearer {web_demo.service}\r\n".encode()
    for target in (
        b"/api/v1/trace?key=PO\xff\xfe1",
        b"/api/v1/trace?key=%ff'%22;--",
        b"/api/v1/trace?key=../../etc/passwd",
    ):
        answer = raw(
            port,
            b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n",
        )
        status = int(answer.split(b" ", 2)[1])
        assert status in (400, 404), (target, answer[:200])
        assert b"HTTP/1.1 500" not in answer


def test_busy_port_exits_2(server, capsys):
    path, port = server
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "web", "--config", str(path), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"--port {port}" in proc.stderr


def test_tokens_are_checked_by_the_running_server(server, web_demo):
    _, port = server
    token = tokens.add(web_demo.config, "late-agent", "service")
    url = f"http://127.0.0.1:{port}/api/v1/trace"
    assert httpx.get(url, params={"key": "PO1"}, headers=bearer(token)).status_code == 404
    tokens.revoke(web_demo.config, "late-agent")
    assert httpx.get(url, params={"key": "PO1"}, headers=bearer(token)).status_code == 401


def test_workers_answer_and_share_the_rate_limit(web_demo, demo_run, tmp_path):
    """`--workers 2`: two processes behind one port answer, and the rate limit holds across
    them (a new connection each request, so either may answer; the shared bucket itself:
    test_ratelimit.py)."""
    path = config_file(demo_run, web_demo.config.data_dir, tmp_path)
    port = free_port()
    proc = start_service(path, port, web_demo.service, workers=2, rate=6)
    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    try:
        statuses = [
            httpx.get(
                f"http://127.0.0.1:{port}/api/v1/trace",
                params={"key": key},
                headers=bearer(web_demo.finance),
                timeout=30,
            ).status_code
            for _ in range(8)
        ]
        # burst 6 // 4 = 1 and 6 a minute for the finance token: one answer, then 429s
        assert statuses[0] == 200 and statuses.count(200) == 1 and 429 in statuses, statuses
    finally:
        stop_service(proc)
