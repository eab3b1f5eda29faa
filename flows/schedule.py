"""`recon serve`: run the reconcile flow every morning for yesterday's business date."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flows import settings

settings.apply()

from prefect import flow  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.reconcile import reconcile  # noqa: E402
from transforms.config import load_config  # noqa: E402


@flow(name="daily-reconcile")
def daily_reconcile(config_path: str) -> list[str]:
    tz = ZoneInfo(load_config(config_path).timezone)
    yesterday = dt.datetime.now(tz).date() - dt.timedelta(days=1)
    return reconcile(config_path, yesterday)


def serve(config_path: str, cron: str = "0 6 * * *") -> None:
    timezone = load_config(config_path).timezone
    daily_reconcile.serve(
        name="daily-reconcile",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"config_path": str(config_path)},
    )
