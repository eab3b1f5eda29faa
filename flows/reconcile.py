"""The Prefect flow: plan -> normalize every file of every date -> match, report and publish
each date in order. No logic here: each task calls one plain function and passes file paths,
never data frames.

The task runner is chosen when the flow is run (`with_runner`): the local thread pool (the
default: two files at a time) or a Dask cluster through prefect-dask (a `LocalCluster` sized
to the machine, or an existing scheduler's address). Two kinds of work go to the task runner:
every file of every planned date is submitted up front, so on a cluster the files of many
dates normalize in parallel ahead of matching, each task writing into its date's staging
folder on the storage the workers share; and, with `match_buckets` > 1, the layer-A buckets
of the date being matched. The dates are matched, reported and published in date order in
the flow's own process, each on the previous date's state.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flows import settings

settings.apply()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner  # noqa: E402

from reports import console  # noqa: E402
from transforms import ingest, pipeline, publish  # noqa: E402
from transforms.config import load_config  # noqa: E402
from transforms.errors import UsageError  # noqa: E402
from transforms.ledger import Delivery, planned_files  # noqa: E402
from transforms.match import runner  # noqa: E402

RUNNERS = ("local", "dask")


# ---------------------------------------------------------------------------- task runners


def local_cluster_kwargs(workers: int | None = None) -> dict:
    """A `distributed.LocalCluster` sized to the machine: one single-threaded worker process
    per core (DuckDB and the Python line work of a file hold the GIL in turns, so processes,
    not threads), the machine's memory shared equally between them, no dashboard."""
    from distributed.system import MEMORY_LIMIT  # the machine's (or cgroup's) memory

    n = workers or os.cpu_count() or 1
    return {
        "n_workers": n,
        "processes": True,
        "threads_per_worker": 1,
        "memory_limit": MEMORY_LIMIT // n,
        "dashboard_address": ":0",
    }


def task_runner(
    runner: str = "local", address: str | None = None, workers: int | None = None
) -> TaskRunner:
    """The task runner of `runner`: "local" (threads of this process) or "dask" (a new
    LocalCluster of `workers` processes, default one per core, or the cluster at `address`)."""
    if runner not in RUNNERS:
        raise UsageError(f"runner {runner!r} is unknown; expected one of {', '.join(RUNNERS)}")
    if runner == "local":
        if address or workers:
            raise UsageError("a Dask address or worker count needs the dask runner (--runner dask)")
        return ThreadPoolTaskRunner(max_workers=ingest.INGEST_WORKERS)
    from prefect_dask import DaskTaskRunner

    if address:
        if workers:
            raise UsageError(
                "a worker count sizes a new LocalCluster; the cluster at an address has its own"
            )
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster", cluster_kwargs=local_cluster_kwargs(workers)
    )


def with_runner(runner: str = "local", address: str | None = None, workers: int | None = None):
    """The `reconcile` flow on the chosen task runner."""
    return reconcile.with_options(task_runner=task_runner(runner, address, workers))


# ---------------------------------------------------------------------------- tasks


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def normalize_file(
    config_path: str, source_name: str, path: str, stage: str, delivery: Delivery
) -> ingest.FileResult:
    config = load_config(config_path)
    source = config.source(source_name)
    # Each file gets the share of DuckDB's memory and threads it gets in the local run (two
    # files at once), whatever runs it: the same settings write the same Parquet bytes.
    share = ingest.INGEST_WORKERS
    return ingest.ingest_file(config, source, Path(path), Path(stage), delivery, share=share)


@task(cache_policy=NO_CACHE)
def write_file_manifest(stage: str, results: list[ingest.FileResult]) -> None:
    ingest.write_manifest(results, Path(stage))


@task(cache_policy=NO_CACHE)
def match(config_path: str, day: dt.date, stage: str) -> pipeline.DateResult:
    # Runs in the flow's process; with match_buckets > 1 the layer-A buckets go to the flow's
    # task runner (the Dask workers) as match_bucket tasks.
    return pipeline.match_into(load_config(config_path), day, Path(stage), submit_buckets)


@task(cache_policy=NO_CACHE)
def match_bucket(job: dict) -> str:
    """Layer A on one bucket of related rows (files in, files out: see runner.match_bucket)."""
    return runner.match_bucket(job, job["memory_limit"], 1, job["spill"])


def submit_buckets(jobs: list[dict]) -> list[str]:
    futures = [match_bucket.submit(job) for job in jobs]
    return [f.result() for f in futures]


@task(cache_policy=NO_CACHE)
def report(config_path: str, result: pipeline.DateResult, stage: str) -> str:
    return str(pipeline.write_report(load_config(config_path), result, Path(stage)))


@task(cache_policy=NO_CACHE)
def publish_date(
    config_path: str, planned: pipeline.PlannedDate, stage: str, result: pipeline.DateResult
) -> pipeline.DateResult:
    return pipeline.publish_date(load_config(config_path), planned, Path(stage), result)


# ---------------------------------------------------------------------------- flows


def reconcile_date(
    config_path: str, planned: pipeline.PlannedDate, stage: str, files: list[ingest.FileResult]
) -> pipeline.DateResult:
    """One date whose files are normalized into `stage`: manifest, match, report, publish
    (tasks of the flow run, so that match can hand layer-A buckets to its task runner)."""
    write_file_manifest(stage, files)
    result = pipeline.with_inputs(match(config_path, planned.day, stage), planned, files)
    report(config_path, result, stage)
    result = publish_date(config_path, planned, stage, result)
    publish_summary(result)
    return result


def publish_summary(result: pipeline.DateResult) -> None:
    """What `recon run` prints about the date, in the flow run's logs (INFO; the files that
    could not be read as warnings) and artifacts, for whoever reads the run in the UI."""
    log = get_run_logger()
    log.info(console.date_summary(result, errors=False))
    for line in console.file_error_lines([result]):
        log.warning(line)
    key = f"recon-summary-{result.report_date.isoformat()}"
    create_table_artifact(
        console.type_rows(result), key=key, description="OPEN and PENDING exceptions by type"
    )
    create_markdown_artifact(
        console.date_markdown(result),
        key=f"{key}-report",
        description=f"OPEN {sum(result.counts.values())}, workbook {result.workbook}",
    )


@flow(name="reconcile", task_runner=ThreadPoolTaskRunner(max_workers=ingest.INGEST_WORKERS))
def reconcile(
    config_path: str, start: dt.date, end: dt.date | None = None, wait_seconds: float = 0
) -> list[pipeline.DateResult]:
    """Reconcile each date from start to end (inclusive), in date order, first recomputing
    any earlier date whose published state is missing or stale. `with_runner` runs it on
    another task runner (a Dask cluster)."""
    end = end or start
    config_path = str(Path(config_path).resolve())  # the workers' working folder may differ
    config = load_config(config_path)
    with publish.run_lock(config, wait_seconds):
        ledger, todo = pipeline.prepare(config, start, end)
        plans = {p.day: planned_files(config, p.day) for p in todo}
        stages = pipeline.open_stages(config, todo)
        futures = {}
        try:
            for day, source, path in pipeline.file_jobs(plans):
                futures[(day, source.name, path)] = normalize_file.submit(
                    config_path,
                    source.name,
                    str(path),
                    str(stages[day]),
                    ledger.delivery(day, source.name, path.name),
                )
            results = []
            for p in todo:
                files = ingest.in_plan_order(
                    plans[p.day], lambda s, path, d=p.day: futures[(d, s.name, path)].result()
                )
                result = reconcile_date(config_path, p, str(stages[p.day]), files)
                del stages[p.day]  # published: the stage is the date's version now
                ledger.record(p.day, result.files)
                results.append(result)
        except BaseException:
            _settle(futures.values())
            pipeline.drop_stages(stages.values())
            raise
        ledger.save()
        if results:
            get_run_logger().info(console.summary_table(results))
        return results


def _settle(futures) -> None:
    """Cancel the normalizations not started and wait for the running ones, so the stages
    are not removed under a task still writing into them."""
    for f in futures:
        wrapped = getattr(f, "wrapped_future", None)
        if wrapped is not None:
            wrapped.cancel()
    for f in futures:
        try:
            f.wait()
        except BaseException:  # its outcome no longer matters: the run is failing
            pass
