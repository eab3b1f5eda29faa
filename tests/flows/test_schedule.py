"""The served deployments: `daily` on the config's Cron and time zone, `rerun` for a range."""

from __future__ import annotations

import asyncio
import datetime as dt

import duckdb

from tests.conftest import DEMO_DAYS, DEMO_START
from transforms.config import load_config
from transforms.generate import generate


def test_deployments_have_the_configured_cron_and_time_zone(tmp_path):
    from prefect.server.schemas.schedules import CronSchedule

    from flows.schedule import deployments

    config = generate(tmp_path, dt.date(2026, 11, 1), 3, 5, seed=1)
    daily, rerun = deployments(config)
    assert (daily.name, rerun.name) == ("daily", "rerun")
    [schedule] = [s.schedule for s in daily.schedules]
    assert (schedule.cron, schedule.timezone) == ("30 10 * * *", "Asia/Shanghai")  # the default
    assert not rerun.schedules
    chosen = {"config_path": str(config.resolve()), "runner": "local", "dask_address": None}
    assert daily.parameters == rerun.parameters == chosen
    start = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai: today's run is past
    dates = asyncio.run(
        CronSchedule(cron=schedule.cron, timezone=schedule.timezone).get_dates(2, start=start)
    )
    assert [d.isoformat() for d in dates] == [
        "2026-11-29T10:30:00+08:00",
        "2026-11-30T10:30:00+08:00",
    ]
    custom = tmp_path / "custom.toml"
    custom.write_text(
        config.read_text(encoding="utf-8").replace(
            'timezone = "Asia/Shanghai"', 'timezone = "Asia/Hong_Kong"'
        )
        + '\n[schedule]\ncron = "0 11 * * 1-5"\n',
        encoding="utf-8",
    )
    [schedule] = [s.schedule for s in deployments(custom)[0].schedules]
    assert (schedule.cron, schedule.timezone) == ("0 11 * * 1-5", "Asia/Hong_Kong")


def test_rerun_flow_gives_the_outputs_of_recon_run(prefect_harness, tmp_path, demo_run):
    from flows.schedule import rerun

    config_path = generate(tmp_path, DEMO_START, DEMO_DAYS, 40, seed=11)  # the demo_run inbox
    day = DEMO_START + dt.timedelta(days=3)
    workbooks = rerun(str(config_path), day, day)
    # The earlier dates had no published state: the flow computed them first, in order.
    assert [w.rsplit("/", 1)[1] for w in workbooks] == [
        f"recon_2026-11-0{d}.xlsx" for d in (1, 2, 3, 4)
    ]
    for d in (DEMO_START, day):
        rel = f"exceptions/report_date={d}/exceptions.parquet"
        q = "SELECT * FROM read_parquet('{}') ORDER BY ALL"
        ours, plain = load_config(config_path).lake / rel, demo_run.config.lake / rel
        assert duckdb.sql(q.format(ours)).fetchall() == duckdb.sql(q.format(plain)).fetchall()
