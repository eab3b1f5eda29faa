"""A run for a date after today (in the config's time zone) is refused unless asked for, saying
how many dates it would create (issue 16: `--date 2099-01-01` published 656 dates and went on)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from flows.cli import main
from tests import published
from transforms import future, publish
from transforms.errors import UsageError

DAYS = published.DAYS


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return published.build(tmp_path_factory.mktemp("future"), published=2)


@pytest.fixture
def config(template, tmp_path):
    return published.copy(template, tmp_path / "c")


def at(when: str) -> dt.datetime:
    return dt.datetime.fromisoformat(when)


def test_a_run_after_today_exits_2_saying_how_many_dates_it_would_create(config, capsys):
    args = ["run", "--config", str(config.path), "--quiet"]
    assert main([*args, "--date", "2099-01-01"]) == 2
    err = capsys.readouterr().err
    today = future.local_today(config)
    created = (dt.date(2099, 1, 1) - DAYS[1]).days  # from the day after the last published one
    ahead = (dt.date(2099, 1, 1) - today).days
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"--date 2099-01-01 is after today ({today} in Asia/Shanghai)" in err
    assert f"would create {created:,} report dates ({DAYS[2]} .. 2099-01-01)" in err
    assert f"{ahead:,} of them after today" in err and "--allow-future" in err
    assert publish.published_days(config) == DAYS[:2]  # nothing was computed
    assert main([*args, "--date", str(DAYS[0]), "--to", "2099-01-01"]) == 2
    assert "--to 2099-01-01 is after today" in capsys.readouterr().err


def test_a_fake_clock_and_allow_future(config, monkeypatch, capsys):
    """With the clock on DAYS[1] the inbox's last date is tomorrow: refused, unless asked."""
    monkeypatch.setattr(future, "clock", lambda: at(f"{DAYS[1]}T12:00:00+08:00"))
    args = ["run", "--config", str(config.path), "--date", str(DAYS[2]), "--quiet"]
    assert main(args) == 2
    assert (
        f"would create 1 report date ({DAYS[2]} .. {DAYS[2]}), 1 of them" in capsys.readouterr().err
    )
    assert main([*args, "--allow-future"]) == 0
    assert publish.published_days(config) == DAYS


def test_today_is_the_date_in_the_configured_time_zone(config):
    evening_utc = at("2026-12-02T17:00:00+00:00")  # already 2026-12-03 in Shanghai
    future.check_not_future(config, DAYS[0], dt.date(2026, 12, 3), now=evening_utc)
    in_utc = dataclasses.replace(config, timezone="UTC")
    with pytest.raises(UsageError, match=r"after today \(2026-12-02 in UTC\)"):
        future.check_not_future(in_utc, DAYS[0], dt.date(2026, 12, 3), now=evening_utc)
    future.check_not_future(in_utc, DAYS[0], dt.date(2026, 12, 3), allow=True, now=evening_utc)
