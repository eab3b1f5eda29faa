"""The scheduled run as plain functions: waiting for files until the deadline, fetching,
catch-up after a gap, and alerts to a local webhook receiver."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from transforms.config import load_config
from transforms.daily import dates_due, run_daily
from transforms.generate import generate
from transforms.pipeline import run_range
from transforms.waiting import wait_for_files

START = dt.date(2026, 11, 1)
TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """A fake clock: sleeping moves it forward, and may run a callback once."""

    def __init__(self, at: dt.datetime):
        self.at = at
        self.slept = 0.0
        self.on_sleep = None

    def now(self) -> dt.datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.at += dt.timedelta(seconds=seconds)
        if self.on_sleep:
            self.on_sleep()
            self.on_sleep = None


@pytest.fixture
def receiver():
    """A local HTTP server that records the JSON bodies posted to it."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()


def scheduled(tmp_path: Path, days: int, extra: str = "") -> tuple[Path, Path]:
    """A generated inbox with a [schedule] section; returns (config path, inbox)."""
    config = generate(tmp_path, START, days, 20, seed=3)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text + '\n[schedule]\ndeadline = "12:00"\npoll_seconds = 60\n' + extra, encoding="utf-8"
    )
    return config, tmp_path / "inbox"


def local(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=TZ)


def test_a_file_arriving_before_the_deadline_is_waited_for(tmp_path):
    path, inbox = scheduled(tmp_path, 3)
    day = START + dt.timedelta(days=1)  # not the last day: its lender_b file is missing by design
    late = next((inbox / day.isoformat()).glob("wechatpay_*"))
    kept = tmp_path / late.name
    shutil.move(late, kept)
    clock = Clock(local(day + dt.timedelta(days=1), 10, 30))
    clock.on_sleep = lambda: shutil.move(kept, late)
    waited = wait_for_files(load_config(path), day, now=clock.now, sleep=clock.sleep)
    assert waited.missing == [] and clock.slept == 60


def test_after_the_deadline_the_run_goes_on_and_alerts(tmp_path, receiver):
    url, got = receiver
    path, inbox = scheduled(tmp_path, 3, f'alert_webhook = "{url}"\n')
    day = START + dt.timedelta(days=1)  # not the last day: its lender_b file is missing by design
    next((inbox / day.isoformat()).glob("wechatpay_*")).unlink()
    clock = Clock(local(day + dt.timedelta(days=1), 10, 30))
    config = load_config(path)

    def runner(config, start, end):
        return [str(r.workbook) for r in run_range(config, start, end)]

    outcome = run_daily(config, runner, now=clock.now, sleep=clock.sleep)
    assert outcome.waited.missing == ["wechatpay"]
    assert clock.at >= local(day + dt.timedelta(days=1), 12)  # waited until the deadline
    assert (outcome.start, outcome.end) == (day, day)
    assert outcome.alert_sent and len(got) == 1
    assert "wechatpay" in got[0]["text"]["content"] and got[0]["msgtype"] == "text"
    missing = duckdb.sql(
        f"SELECT ref FROM read_parquet('{config.lake}/exceptions/report_date={day}/*.parquet') "
        "WHERE exception_type = 'MISSING_FILE'"
    ).fetchall()
    assert missing == [(f"wechatpay:{day}",)]


def test_a_fetch_command_runs_first_and_is_retried(tmp_path):
    path, inbox = scheduled(tmp_path, 3)
    day = START + dt.timedelta(days=1)  # not the last day: its lender_b file is missing by design
    wanted = next((inbox / day.isoformat()).glob("wechatpay_*"))
    stash = tmp_path / "sftp"
    stash.mkdir()
    shutil.move(wanted, stash / wanted.name)
    script = tmp_path / "fetch.sh"
    marker = tmp_path / "tried"
    # Fails the first time, copies the file the second time.
    script.write_text(
        f'if [ ! -e {marker} ]; then touch {marker}; exit 1; fi\ncp {stash}/*.csv "$RECON_DAY_FOLDER/"\n'
    )
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'name = "wechatpay"', f'name = "wechatpay"\nfetch = "sh {script}"\nfetch_retries = 2', 1
    )
    path.write_text(text, encoding="utf-8")
    clock = Clock(local(day + dt.timedelta(days=1), 10, 30))
    waited = wait_for_files(load_config(path), day, now=clock.now, sleep=clock.sleep)
    assert waited.missing == [] and waited.fetch_errors == [] and wanted.exists()


def test_catch_up_after_a_gap_equals_daily_runs(tmp_path):
    path, _ = scheduled(tmp_path, 5)
    config = load_config(path)
    run_range(config, START, START)
    clock = Clock(local(START + dt.timedelta(days=5), 10, 30))  # three days later than usual
    assert dates_due(config, clock.now()) == (
        START + dt.timedelta(days=1),
        START + dt.timedelta(days=4),
    )

    def runner(config, start, end):
        return [str(r.workbook) for r in run_range(config, start, end)]

    outcome = run_daily(config, runner, now=clock.now, sleep=clock.sleep)
    assert len(outcome.workbooks) == 4
    other = tmp_path / "daily"
    shutil.copytree(tmp_path / "inbox", other / "inbox")
    shutil.copy(path, other / "recon.toml")
    daily = load_config(other / "recon.toml")
    for i in range(5):
        run_range(daily, START + dt.timedelta(days=i), START + dt.timedelta(days=i))
    for i in range(5):
        rel = f"exceptions/report_date={START + dt.timedelta(days=i)}/exceptions.parquet"
        assert (config.lake / rel).read_bytes() == (daily.lake / rel).read_bytes()


def test_money_at_risk_threshold(tmp_path, receiver):
    url, got = receiver
    path, _ = scheduled(tmp_path, 3, f'alert_webhook = "{url}"\nalert_money_at_risk = 1.00\n')
    config = load_config(path)
    clock = Clock(local(START + dt.timedelta(days=3), 10, 30))
    run_daily(
        config,
        lambda c, s, e: [str(r.workbook) for r in run_range(c, s, e)],
        clock.now,
        clock.sleep,
    )
    assert any("money at risk" in r for r in got[0]["reasons"])
