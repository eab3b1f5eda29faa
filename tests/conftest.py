from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS", "2")

DEMO_START = dt.date(2026, 11, 1)
DEMO_DAYS = 10


@dataclass
class DemoRun:
    out: Path
    config_path: Path
    config: object
    results: list

    @property
    def days(self) -> list[dt.date]:
        return [DEMO_START + dt.timedelta(days=i) for i in range(DEMO_DAYS)]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """A generated multi-day inbox, reconciled once for every date (shared: it is the slow part)."""
    from transforms.config import load_config
    from transforms.generate import generate
    from transforms.pipeline import run_range

    out = tmp_path_factory.mktemp("demo")
    config_path = generate(out, DEMO_START, DEMO_DAYS, 40, seed=11)
    config = load_config(config_path)
    results = run_range(config, DEMO_START, DEMO_START + dt.timedelta(days=DEMO_DAYS - 1))
    return DemoRun(out, config_path, config, results)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
