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

from transforms import ingest, pipeline, publish  # noqa: E402
from transforms.config import load_config  # noqa: E402
from transforms.ledger import Delivery, planned_files  # noqa: E402


@task(cache_policy=NO_CACHE)
def open_stage(config_path: str, day: dt.date) -> str:
    return str(publish.new_stage(load_config(config_path), day))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def normalize_file(
    config_path: str, source_name: str, path: str, stage: str, delivery: Delivery
) -> ingest.FileResult:
    config = load_config(config_path)
    source = config.source(source_name)
    share = ingest.INGEST_WORKERS  # as many files at once as the flow's task runner runs
    return ingest.ingest_file(config, source, Path(path), Path(stage), delivery, share=share)


@task(cache_policy=NO_CACHE)
def write_file_manifest(stage: str, results: list[ingest.FileResult]) -> None:
    ingest.write_manifest(results, Path(stage))


@task(cache_policy=NO_CACHE)
def match(config_path: str, day: dt.date, stage: str) -> pipeline.DateResult:
    return pipeline.match_into(load_config(config_path), day, Path(stage))


@task(cache_policy=NO_CACHE)
def report(config_path: str, result: pipeline.DateResult, stage: str) -> str:
    return str(pipeline.write_report(load_config(config_path), result, Path(stage)))


@task(cache_policy=NO_CACHE)
def publish_date(
    config_path: str, planned: pipeline.PlannedDate, stage: str, result: pipeline.DateResult
) -> pipeline.DateResult:
    return pipeline.publish_date(load_config(config_path), planned, Path(stage), result)


@flow(name="reconcile-date", task_runner=ThreadPoolTaskRunner(max_workers=ingest.INGEST_WORKERS))
def reconcile_date(
    config_path: str, planned: pipeline.PlannedDate, deliveries: list[Delivery]
) -> pipeline.DateResult:
    config = load_config(config_path)
    stage = open_stage(config_path, planned.day)
    plan = planned_files(config, planned.day)
    delivery = {(d.source, d.file_name): d for d in deliveries}
    futures = [
        normalize_file.submit(config_path, s.name, str(p), stage, delivery[(s.name, p.name)])
        for s, p in plan
        if p is not None
    ]
    results = [f.result() for f in futures] + [
        ingest.missing_file_result(s) for s, p in plan if p is None
    ]
    write_file_manifest(stage, results)
    result = pipeline.with_inputs(match(config_path, planned.day, stage), planned, results)
    report(config_path, result, stage)
    result = publish_date(config_path, planned, stage, result)
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


@flow(name="reconcile", task_runner=ThreadPoolTaskRunner(max_workers=ingest.INGEST_WORKERS))
def reconcile(
    config_path: str, start: dt.date, end: dt.date | None = None, wait_seconds: float = 0
) -> list[pipeline.DateResult]:
    """Reconcile each date from start to end (inclusive), in date order, first recomputing
    any earlier date whose published state is missing or stale (`recon run` through Prefect)."""
    end = end or start
    config = load_config(config_path)
    with publish.run_lock(config, wait_seconds):
        ledger, todo = pipeline.prepare(config, start, end)
        results = []
        for p in todo:
            result = reconcile_date(config_path, p, ledger.deliveries.get(p.day, []))
            ledger.record(p.day, result.files)
            results.append(result)
        ledger.save()
        return results
