"""The served deployments: `daily` (Cron in the config's time zone: wait for the files, catch
up every date since the last report, alert) and `rerun` (a date range, from the UI or
`prefect deployment run rerun/rerun -p start=... -p end=...`). `recon serve` / `make serve`
starts a self-hosted Prefect server first (flows/server.py) unless PREFECT_API_URL is set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows import settings

settings.apply()

from prefect import flow  # noqa: E402
from prefect import serve as prefect_serve  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.reconcile import with_runner  # noqa: E402
from transforms.config import load_config  # noqa: E402
from transforms.daily import run_daily  # noqa: E402


@flow(name="daily")
def daily(config_path: str, runner: str = "local", dask_address: str | None = None) -> list[str]:
    """Every business date since the last published report, yesterday's after waiting for its
    files until the deadline; then the alert (transforms/daily.py). `runner="dask"` runs the
    normalization on a Dask cluster (`dask_address`, else a LocalCluster sized to the machine)."""
    reconcile = with_runner(runner, dask_address)

    def run(_config, start: dt.date, end: dt.date) -> list[str]:
        return [str(r.workbook) for r in reconcile(config_path, start, end)]

    outcome = run_daily(load_config(config_path), run)
    if outcome.alert and outcome.alert.reasons:
        create_markdown_artifact(
            outcome.alert.text, key=f"recon-alert-{outcome.end}", description="alert sent"
        )
    return outcome.workbooks


@flow(name="rerun")
def rerun(
    config_path: str,
    start: dt.date,
    end: dt.date | None = None,
    runner: str = "local",
    dask_address: str | None = None,
) -> list[str]:
    """Reconcile start..end (inclusive) again, in date order, locally or on a Dask cluster."""
    results = with_runner(runner, dask_address)(config_path, start, end)
    return [str(r.workbook) for r in results]


def deployments(
    config_path: str | Path,
    cron: str | None = None,
    runner: str = "local",
    dask_address: str | None = None,
) -> list:
    config = load_config(config_path)
    path = str(Path(config_path).resolve())
    cron = cron or config.schedule.cron
    chosen = {"runner": runner, "dask_address": dask_address}
    return [
        daily.to_deployment(
            name="daily",
            schedules=[Cron(cron, timezone=config.timezone)],
            parameters={"config_path": path, **chosen},
            description=f"{cron} {config.timezone}: wait for the files, catch up, alert",
        ),
        rerun.to_deployment(
            name="rerun",
            parameters={"config_path": path, **chosen},
            description="reconcile a date range again: set start and end",
        ),
    ]


def serve(
    config_path: str | Path,
    cron: str | None = None,
    runner: str = "local",
    dask_address: str | None = None,
) -> None:
    from flows.server import self_hosted

    with self_hosted(load_config(config_path)):
        prefect_serve(*deployments(config_path, cron, runner, dask_address))
