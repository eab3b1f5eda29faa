"""A report date after today is refused unless asked for: every date up to it would be computed
and published (a mistyped `--date 2099-01-01` once published 656 dates of MISSING_FILE reports
in 13 minutes and was still going). "Today" is the calendar date in the config's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from transforms import publish
from transforms.config import Config
from transforms.errors import UsageError
from transforms.ledger import inbox_days


def clock() -> dt.datetime:
    """Now (tests replace it with a fake clock)."""
    return dt.datetime.now(dt.UTC)


def local_today(config: Config, now: dt.datetime | None = None) -> dt.date:
    now = now or clock()
    return now.astimezone(ZoneInfo(config.timezone)).date()


def dates_created(config: Config, start: dt.date, end: dt.date) -> list[dt.date]:
    """The report dates a run of start..end would publish that are not published yet: every
    unpublished date from the first inbox date (or `start`) to `end` (as `pipeline.plan`)."""
    days = inbox_days(config)
    first = min([start, *days[:1]])
    published = set(publish.published_days(config))
    n = (end - first).days + 1
    return [d for i in range(n) if (d := first + dt.timedelta(days=i)) not in published]


def check_not_future(
    config: Config,
    start: dt.date,
    end: dt.date,
    allow: bool = False,
    now: dt.datetime | None = None,
    flag: str = "--allow-future",
) -> None:
    """UsageError (exit 2) if `end` is after today in the config's time zone, saying how many
    dates the run would create; `allow` (tests, fake clocks, a deliberate run) lets it pass."""
    today = local_today(config, now)
    if allow or end <= today:
        return
    created = dates_created(config, start, end)
    ahead = sum(1 for d in created if d > today)
    option = "--to" if end != start else "--date"
    span = f" ({created[0]} .. {created[-1]})" if created else ""
    raise UsageError(
        f"{option} {end} is after today ({today} in {config.timezone}): the run would create "
        f"{len(created):,} report date{'' if len(created) == 1 else 's'}{span}, {ahead:,} of them after today, when no file "
        f"can have arrived (every required source MISSING_FILE); expected a date up to {today} "
        f"(pass {flag} to run it anyway)"
    )
