"""The per-token rate limit: a bucket of `burst` requests refilled at the rate a minute."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import lookup
from transforms.web import create_app
from transforms.web.ratelimit import RateLimiter


def test_bucket_refills_at_the_rate():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == 1  # one a second
    assert limiter.take("b") is None, "another token has its own bucket"
    now[0] += 1.0
    assert limiter.take("a") is None and limiter.take("a") == 1
    now[0] += 60
    assert [limiter.take("a") for _ in range(4)] == [None, None, None, 1], "burst is the cap"
    assert RateLimiter(0).take("a") is None  # 0: no limit


def test_429_past_the_limit(web_demo):
    key = web_demo.refs["PLATFORM_NOT_PAID"][0]
    with TestClient(create_app(web_demo.config, rate_per_minute=6, burst=2)) as c:
        assert [lookup(c, web_demo.service, key=key).status_code for _ in range(2)] == [200, 200]
        r = lookup(c, web_demo.service, key=key)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"] == "too_many_requests" and "agent-1" in r.json()["message"]
        assert lookup(c, web_demo.finance, key=key).status_code == 200, "per token"


def test_workers_share_one_bucket_per_token(tmp_path):
    """`recon web --workers N`: the processes' limiters map one file, so a token's limit is
    one limit whichever process answers it."""
    from transforms.web.ratelimit import SharedRateLimiter

    path = tmp_path / "ratelimit"
    SharedRateLimiter.create(path)
    now = [0.0]
    one, two = (SharedRateLimiter(path, 60, 3, clock=lambda: now[0]) for _ in range(2))
    assert [one.take("a"), two.take("a"), one.take("a")] == [None, None, None]
    assert two.take("a") == 1 and one.take("a") == 1
    assert two.take("b") is None, "another token has its own bucket"
    now[0] += 1.0
    assert two.take("a") is None and one.take("a") == 1
    many = [one.take(f"t{i}") for i in range(5000)]  # more tokens than slots: still answers
    assert many == [None] * 5000
