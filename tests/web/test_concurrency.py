"""Reads never block runs and runs never break reads: lookups while a run re-publishes the
dates they read see the whole old version or the whole new one, never an error."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid

from fastapi.testclient import TestClient

from tests.web.conftest import bearer, copy_demo
from transforms import publish
from transforms.trace import lake as trace_lake
from transforms.web import create_app, tokens


def republish(config, day) -> None:
    """What a re-run does to a date: a new version, `current/D` swapped, the old one removed."""
    old = publish.current_version(config, day)
    new = old.with_name(uuid.uuid4().hex[:12])
    shutil.copytree(old, new, symlinks=True)
    link = publish.pointer(config, day)
    tmp = link.with_name(f".{link.name}.tmp")
    os.symlink(os.path.relpath(new, link.parent), tmp)
    os.replace(tmp, link)
    shutil.rmtree(old)


def shape(body: dict) -> list:
    return [
        (r["order_no"], [(h["hop"], h["status"], h["ref"]) for h in r["hops"]], r["sentence"])
        for r in body["repayments"]
    ]


def test_a_date_republished_mid_lookup_is_read_again(demo_run, tmp_path, monkeypatch):
    config = copy_demo(demo_run, tmp_path)
    token = tokens.add(config, "agent", "service")
    key = next(iter(_keys(demo_run)))
    with TestClient(create_app(config, rate_per_minute=0)) as c:
        before = c.get("/api/v1/trace", params={"key": key}, headers=bearer(token)).json()
        read, lakes = trace_lake.Lake.read, []

        def racing_read(self, dated, where):
            if self not in lakes:  # the first read of each lookup attempt
                lakes.append(self)
                if len(lakes) == 1:
                    republish(config, self.day)
            return read(self, dated, where)

        monkeypatch.setattr(trace_lake.Lake, "read", racing_read)
        r = c.get("/api/v1/trace", params={"key": key}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert len(lakes) == 2, "the lookup saw the swap and read the new version"
    assert shape(r.json()) == shape(before)


def test_lookups_while_a_run_republishes(demo_run, tmp_path):
    from transforms.pipeline import run_range

    config = copy_demo(demo_run, tmp_path)
    token = tokens.add(config, "agent", "service")
    keys = _keys(demo_run)
    with TestClient(create_app(config, rate_per_minute=0)) as c:

        def get(key):
            return c.get("/api/v1/trace", params={"key": key}, headers=bearer(token))

        expected = {k: shape(get(k).json()) for k in keys}
        answers: list[tuple[str, int, dict]] = []
        done = threading.Event()

        def loop():
            while not done.is_set():
                for key in keys:
                    r = get(key)
                    answers.append((key, r.status_code, r.json()))

        reader = threading.Thread(target=loop)
        reader.start()
        try:
            last = demo_run.days[-1]
            run_range(config, last - dt.timedelta(days=1), last)
        finally:
            done.set()
            reader.join()
    assert len(answers) >= len(keys), "lookups ran during the run"
    for key, status, body in answers:
        assert status in (200, 503), (key, status, body)
        if status == 200:
            assert shape(body) == expected[key], key  # the same answer: re-runs are identical
        else:
            assert body["message"]


def _keys(demo_run) -> list[str]:
    from tests.test_trace import answer_key

    refs = answer_key(demo_run)
    return [refs["DUPLICATE_DEBIT"][0], refs["PLATFORM_NOT_PAID"][0], refs["AMOUNT_MISMATCH"][-1]]
