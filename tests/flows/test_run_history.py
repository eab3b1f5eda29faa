"""A flow run's history in the Prefect UI says what `recon run` prints: per date the OPEN and
PENDING counts, the money at stake per type, the workbook, and the files with errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

from reports import console
from tests.conftest import DEMO_START
from transforms.config import load_config
from transforms.generate import generate

ROOT = Path(__file__).resolve().parents[2]


def _history(flow_run_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    async def read():
        async with get_client() as client:
            logs = await client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
            return logs, artifacts

    return asyncio.run(read())


def test_the_flow_run_logs_and_artifacts_say_what_the_cli_prints(prefect_harness, tmp_path):
    from prefect.logging.handlers import APILogWorker

    from flows.reconcile import reconcile

    config_path = generate(tmp_path, DEMO_START, 3, 8, seed=5)
    day = DEMO_START + dt.timedelta(days=2)
    bad = load_config(config_path).inbox / day.isoformat() / "platform_orders_20261103.csv"
    bad.write_bytes(b"\x00\x01 not a platform export")  # a file that cannot be read
    state = reconcile(str(config_path), day, day, return_state=True)
    results = state.result()
    assert [r.report_date for r in results] == [DEMO_START, DEMO_START + dt.timedelta(1), day]
    APILogWorker.drain_all()
    logs, artifacts = _history(state.state_details.flow_run_id)

    info = "\n".join(log.message for log in logs if log.level == logging.INFO)
    last = results[-1]
    assert sum(last.counts.values()) > 0
    for r in results:  # the line `recon run` prints per date: counts and workbook
        assert console.workbook_lines([r]) in info
    closing = console.closing_summary(last)  # money at stake per type
    assert "money at stake" in closing and closing in info
    assert console.summary_table(results) in info
    assert f"{DEMO_START}: computed because no published state" in info
    warnings = [log.message for log in logs if log.level == logging.WARNING]
    assert any(m.startswith("error: ") and "platform_orders_20261103.csv" in m for m in warnings)

    [report] = [a for a in artifacts if a.key == f"recon-summary-{day}-report"]
    opened = sum(last.counts.values())
    assert f"**OPEN {opened}**" in report.data and f"PENDING {last.pending}" in report.data
    assert "## Money at stake by type" in report.data
    total = closing.splitlines()[-1].split()  # total  OPEN  money  PENDING  money
    assert f"| total | {total[1]} | {total[2]} |" in report.data
    assert str(last.workbook) in report.data
    assert "## Files with errors" in report.data and "platform_orders_20261103.csv" in report.data
    [table] = [a for a in artifacts if a.key == f"recon-summary-{day}"]
    assert "open_money_at_stake" in table.data


def test_flow_runs_log_at_info_and_the_console_stays_quiet():
    """As `recon` imports the flow (settings first): the flow-run logger passes INFO on to
    the API, the console handler only warnings."""
    code = (
        "import logging, flows.reconcile\n"
        "from prefect.logging.configuration import setup_logging\n"
        "setup_logging()\n"
        "print(logging.getLogger('prefect.flow_runs').getEffectiveLevel())\n"
        "print(min(h.level for h in logging.getLogger().handlers))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(logging.INFO), str(logging.WARNING)]
