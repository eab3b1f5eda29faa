"""The same flow on a Dask cluster (prefect-dask) gives the local run's outputs, byte for byte,
with layer A in buckets matched on the workers."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from tests.conftest import DEMO_DAYS, DEMO_START
from transforms import publish
from transforms.config import load_config
from transforms.generate import generate


def published(config, days: list[dt.date]) -> dict[str, bytes]:
    """Every Parquet file of every date's published version (what `lake/<table>/<part>=D/`
    links to: inputs, rejects, file manifest, exceptions, settlements, distributions,
    matches, remediation lists and state), and its MANIFEST.json."""
    found = {}
    for day in days:
        version = publish.current_version(config, day)
        for p in sorted(version.rglob("*.parquet")):
            found[f"{day}/{p.relative_to(version)}"] = p.read_bytes()
        found[f"{day}/{publish.MANIFEST}"] = (version / publish.MANIFEST).read_bytes()
    return found


def lake_links(config) -> list[str]:
    return sorted(str(p.relative_to(config.lake)) for p in config.lake.glob("*/*=*"))


def test_two_dask_workers_give_the_local_outputs_byte_for_byte(prefect_harness, tmp_path, demo_run):
    """Normalization of every file and layer A in 3 buckets on two worker processes."""
    from distributed import Client, LocalCluster, get_task_stream

    from flows.reconcile import local_cluster_kwargs, with_runner

    path = generate(tmp_path, DEMO_START, DEMO_DAYS, 40, seed=11)  # demo_run's inbox
    # Layer A in 3 buckets of related rows, each matched on a worker (demo_run: in one piece).
    path.write_text("match_buckets = 3\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(path)
    last = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    with LocalCluster(**local_cluster_kwargs(2)) as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream:
            results = with_runner("dask", cluster.scheduler_address)(
                str(config.path), DEMO_START, last
            )
    # Every delivered file of every date went through a worker process (a DUPLICATE is only
    # listed there), and both workers took some.
    normalized = [t for t in stream.data if t["key"].startswith("normalize_file")]
    delivered = [f for r in results for f in r.files if f.status != "MISSING"]
    assert len(normalized) == len(delivered) > DEMO_DAYS
    assert len({t["worker"] for t in normalized}) == 2
    buckets = [t for t in stream.data if t["key"].startswith("match_bucket")]
    assert len(buckets) == 3 * DEMO_DAYS

    assert [r.report_date for r in results] == demo_run.days
    # The file manifest, the byte-identical re-deliveries (DUPLICATE) and the row accounting.
    assert [r.files for r in results] == [r.files for r in demo_run.results]
    assert any(f.status == "DUPLICATE" for r in results for f in r.files)
    assert [(r.counts, r.pending, r.cleared) for r in results] == [
        (r.counts, r.pending, r.cleared) for r in demo_run.results
    ]
    ours, local = published(config, demo_run.days), published(demo_run.config, demo_run.days)
    assert len(ours) > 10 * DEMO_DAYS and ours.keys() == local.keys()
    assert [k for k in ours if ours[k] != local[k]] == []
    assert lake_links(config) == lake_links(demo_run.config)
    # Nothing left behind: no staging folder, one version per date.
    assert [v.name for d in (config.data_dir / "versions").iterdir() for v in d.iterdir()
            if v.name.startswith(publish.STAGING_PREFIX)] == []  # fmt: skip
    manifest = json.loads((publish.current_version(config, last) / publish.MANIFEST).read_text())
    assert manifest["report_date"] == last.isoformat()


# ---------------------------------------------------------------------------- choosing a runner


def test_the_runner_is_chosen_by_name():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.reconcile import task_runner

    assert isinstance(task_runner(), ThreadPoolTaskRunner)
    sized = task_runner("dask")
    assert isinstance(sized, DaskTaskRunner) and sized.address is None
    kwargs = sized.cluster_kwargs
    assert kwargs["n_workers"] == (os.cpu_count() or 1) and kwargs["threads_per_worker"] == 1
    assert kwargs["processes"] is True and kwargs["memory_limit"] > 0
    assert task_runner("dask", workers=3).cluster_kwargs["n_workers"] == 3
    assert task_runner("dask", "tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--dask-address", "tcp://127.0.0.1:8786"], "--dask-address needs --runner dask"),
        (["--dask-workers", "2"], "--dask-workers needs --runner dask"),
        (["--runner", "dask", "--dask-address", "tcp://h:1", "--dask-workers", "2"], "sizes a new"),
        (["--runner", "spark"], "invalid choice"),
        (["--runner", "dask", "--dask-workers", "0"], "expected at least 1"),
    ],
)
def test_runner_options_are_checked_before_anything_runs(tmp_path, capsys, extra, says):
    from flows.cli import main

    argv = ["run", "--config", str(tmp_path / "recon.toml"), "--date", "2026-11-01", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_scheduler_that_does_not_answer_exits_2(tmp_path, capsys, monkeypatch):
    import socket

    from flows import cli

    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(cli, "SCHEDULER_TIMEOUT", "1s")
    config = generate(tmp_path, DEMO_START, 3, 5, seed=1)
    argv = ["run", "--config", str(config), "--date", "2026-11-01", "--runner", "dask"]
    assert cli.main([*argv, "--dask-address", f"tcp://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert "no Dask scheduler answered" in err and "Traceback" not in err
    assert not (tmp_path / "data" / "current").exists()


def test_a_failing_date_removes_the_stages_of_every_date_not_published(
    prefect_harness, tmp_path, monkeypatch
):
    """Every date's stage is opened before the files are normalized; a failure while matching
    one date leaves the dates before it published and no stage of any later date behind."""
    from flows.reconcile import reconcile
    from transforms import pipeline

    config = load_config(generate(tmp_path, DEMO_START, 4, 5, seed=1))
    real = pipeline.match_into

    def match_into(config, day, stage, *args):
        if day == DEMO_START + dt.timedelta(days=1):
            raise RuntimeError("a bug while matching")
        return real(config, day, stage, *args)

    monkeypatch.setattr(pipeline, "match_into", match_into)
    with pytest.raises(RuntimeError, match="a bug while matching"):
        reconcile(str(config.path), DEMO_START, DEMO_START + dt.timedelta(days=3))
    assert publish.published_days(config) == [DEMO_START]
    left = [v for d in (config.data_dir / "versions").iterdir() for v in d.iterdir()]
    assert [v.parent.name for v in left] == [DEMO_START.isoformat()]
    assert not any(v.name.startswith(publish.STAGING_PREFIX) for v in left)
