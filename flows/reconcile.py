"""The Prefect flow: ingest -> normalize -> match -> report -> publish. No logic here:
each task calls one plain function and passes file paths, never data frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows import settings

settings.apply()

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from transforms import ingest, pipeline  # noqa: E402
from transforms.config import load_config  # noqa: E402


@task(cache_policy=NO_CACHE)
def catch_up_earlier_days(config_path: str, before: dt.date) -> list[str]:
    config = load_config(config_path)
    return [
        d.isoformat() for d in ingest.ingest_missing_days(config, before - dt.timedelta(days=1))
    ]


@task(cache_policy=NO_CACHE)
def open_stage(config_path: str, day: dt.date) -> str:
    return str(ingest.new_stage(load_config(config_path), day))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def normalize_file(config_path: str, source_name: str, path: str, stage: str) -> ingest.FileResult:
    config = load_config(config_path)
    return ingest.ingest_file(config, config.source(source_name), Path(path), Path(stage))


@task(cache_policy=NO_CACHE)
def publish_inputs(
    config_path: str, day: dt.date, stage: str, results: list[ingest.FileResult], fingerprint: str
):
    ingest.finish_day(load_config(config_path), day, Path(stage), results, fingerprint)


@task(cache_policy=NO_CACHE)
def match(config_path: str, day: dt.date) -> pipeline.DateResult:
    return pipeline.match_and_publish(load_config(config_path), day)


@task(cache_policy=NO_CACHE)
def report(config_path: str, result: pipeline.DateResult) -> str:
    return str(pipeline.write_report(load_config(config_path), result))


@flow(name="reconcile-date")
def reconcile_date(config_path: str, day: dt.date) -> pipeline.DateResult:
    config = load_config(config_path)
    catch_up_earlier_days(config_path, day)
    fingerprint = ingest.folder_fingerprint(ingest.day_folder(config, day))
    stage = open_stage(config_path, day)
    plan = ingest.planned_files(config, day)
    futures = [
        normalize_file.submit(config_path, s.name, str(p), stage) for s, p in plan if p is not None
    ]
    results = [f.result() for f in futures] + [
        ingest.missing_file_result(s) for s, p in plan if p is None
    ]
    publish_inputs(config_path, day, stage, results, fingerprint)
    result = match(config_path, day)
    result.files = results
    result.workbook = Path(report(config_path, result))
    publish_summary(result)
    return result


def publish_summary(result: pipeline.DateResult) -> None:
    rows = [{"exception_type": t, "open": n} for t, n in sorted(result.counts.items())]
    key = f"recon-summary-{result.report_date.isoformat()}"
    create_table_artifact(
        rows or [{"exception_type": "-", "open": 0}], key=key, description="Open exceptions by type"
    )
    stats = "\n".join(f"| {k} | {v} |" for k, v in result.stats.items())
    create_markdown_artifact(
        f"# Reconciliation {result.report_date}\n\n| metric | value |\n|---|---|\n{stats}\n"
        f"| pending | {result.pending} |\n| cleared today | {result.cleared} |\n\n"
        f"Workbook: `{result.workbook}`\n",
        key=f"{key}-report",
    )


@flow(name="reconcile", task_runner=ThreadPoolTaskRunner(max_workers=4))
def reconcile(config_path: str, start: dt.date, end: dt.date | None = None) -> list[str]:
    """Reconcile each date from start to end (inclusive), in date order. Returns workbook paths."""
    end = end or start
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [str(reconcile_date(config_path, day).workbook) for day in days]
