"""Prefect settings for a machine without network: set before prefect is imported.

Flow runs log at INFO, so that their history in the UI (and `prefect flow-run logs`) holds
what `recon run` prints; the console handler stays at WARNING, so that a run does not print
its log besides what the command itself prints.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS": "4",
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}


def apply() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
