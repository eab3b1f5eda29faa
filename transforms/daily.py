"""The scheduled daily run, as plain functions: catch up every business date since the last
published report (not just yesterday), wait for the newest date's files until the deadline,
reconcile in date order, then alert. flows/schedule.py runs this under Prefect."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from transforms import alerts, publish
from transforms.config import Config
from transforms.waiting import Waited, wait_for_files


@dataclass
class DailyOutcome:
    start: dt.date
    end: dt.date
    waited: Waited | None = None
    workbooks: list[str] = field(default_factory=list)
    alert: alerts.Alert | None = None
    alert_sent: bool = False


def dates_due(config: Config, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """(first, last) business date to reconcile at `now`: last is yesterday in the config's
    time zone; first is the day after the last published report (catch-up after a gap), or
    yesterday itself. Earlier dates whose inputs changed are recomputed by the plan anyway."""
    yesterday = now.astimezone(ZoneInfo(config.timezone)).date() - dt.timedelta(days=1)
    published = [d for d in publish.published_days(config) if d <= yesterday]
    first = published[-1] + dt.timedelta(days=1) if published else yesterday
    return min(first, yesterday), yesterday


def run_daily(
    config: Config,
    runner: Callable[[Config, dt.date, dt.date], list[str]],
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> DailyOutcome:
    """Wait, reconcile `dates_due` with `runner` (returns workbook paths), alert."""
    start, end = dates_due(config, now())
    outcome = DailyOutcome(start, end)
    outcome.waited = wait_for_files(config, end, now=now, sleep=sleep)
    outcome.workbooks = runner(config, start, end)
    exceptions = config.lake / "exceptions" / f"report_date={end}" / "exceptions.parquet"
    workbook = str(config.reports / publish.workbook_name(end))
    outcome.alert = alerts.evaluate(config, end, exceptions, outcome.waited.missing, workbook)
    outcome.alert.reasons += [f"取数失败 {e}" for e in outcome.waited.fetch_errors]
    outcome.alert_sent = alerts.send(config, outcome.alert)
    return outcome
