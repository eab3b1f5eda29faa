"""Before the daily run: fetch the day's files where a source says how, and wait for every
required source's file until the deadline; what has not arrived by then is MISSING_FILE (a
file that arrives later is picked up by the next run, which recomputes that date)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from transforms.config import Config, Source
from transforms.ledger import day_folder, source_files

log = logging.getLogger("recon")
FETCH_TIMEOUT_SECONDS = 600


@dataclass
class Waited:
    day: dt.date
    missing: list[str] = field(default_factory=list)  # required sources without a file
    fetch_errors: list[str] = field(default_factory=list)
    waited_seconds: float = 0.0


def missing_required(config: Config, day: dt.date) -> list[Source]:
    return [s for s in config.sources if s.required and not source_files(config, s, day)]


def fetch(
    config: Config, source: Source, day: dt.date, sleep: Callable[[float], None] = time.sleep
) -> str | None:
    """Run the source's `fetch` command for `day` (retried); None when it succeeded, else why
    it failed. The command gets RECON_DATE, RECON_SOURCE and RECON_DAY_FOLDER, and runs in the
    folder of the configuration file."""
    folder = day_folder(config, day)
    folder.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "RECON_DATE": day.isoformat(),
        "RECON_SOURCE": source.name,
        "RECON_DAY_FOLDER": str(folder),
    }
    why = ""
    for attempt in range(1, source.fetch_retries + 2):
        try:
            done = subprocess.run(
                shlex.split(source.fetch),
                cwd=config.path.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=FETCH_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = str(exc)
        else:
            if done.returncode == 0:
                return None
            why = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
        log.warning("fetch %s for %s, attempt %d: %s", source.name, day, attempt, why)
        if attempt <= source.fetch_retries:
            sleep(config.schedule.poll_seconds)
    return f"{source.name}: fetch failed after {source.fetch_retries + 1} attempts ({why})"


def deadline_of(config: Config, day: dt.date, now: dt.datetime) -> dt.datetime:
    """The deadline of the run for business date `day`: the configured local time on the day
    the run starts (the morning after `day`, normally)."""
    tz = ZoneInfo(config.timezone)
    local = now.astimezone(tz)
    return dt.datetime.combine(local.date(), config.schedule.deadline, tzinfo=tz)


def wait_for_files(
    config: Config,
    day: dt.date,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Waited:
    """Fetch, then poll the day folder until every required source has a file or the deadline
    passes."""
    started = now()
    deadline = deadline_of(config, day, started)
    result = Waited(day)
    for source in config.sources:
        if source.fetch and not source_files(config, source, day):
            error = fetch(config, source, day, sleep)
            if error:
                result.fetch_errors.append(error)
    while True:
        missing = missing_required(config, day)
        if not missing or now() >= deadline:
            break
        log.info("waiting for %s of %s until %s", ", ".join(s.name for s in missing), day, deadline)
        sleep(max(0.0, min(config.schedule.poll_seconds, (deadline - now()).total_seconds())))
    result.missing = [s.name for s in missing]
    result.waited_seconds = (now() - started).total_seconds()
    return result
