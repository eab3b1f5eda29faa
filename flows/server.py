"""A self-hosted Prefect server for `recon serve` / `make serve`: SQLite under
`{data_dir}/prefect/` by default (set PREFECT_API_DATABASE_CONNECTION_URL for Postgres), on
127.0.0.1:4200 (PREFECT_SERVER_API_PORT to change). Prefect schedules deployments only against
a real server, never an ephemeral one. With PREFECT_API_URL already set, that server is used."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prefect.settings import PREFECT_API_URL, temporary_settings

from transforms.config import Config
from transforms.errors import UsageError

STARTUP_SECONDS = 120


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def self_hosted(config: Config):
    """Yield with PREFECT_API_URL pointing at a running server, started here if needed."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    home = config.data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    port = os.environ.get("PREFECT_SERVER_API_PORT", "4200")
    url = f"http://127.0.0.1:{port}/api"
    env = os.environ | {"PREFECT_HOME": str(home)}
    env.setdefault(
        "PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    )
    prefect = Path(sys.executable).with_name("prefect")
    log = open(home / "server.log", "ab")
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", port],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise UsageError(
                    f"the Prefect server did not start on {url}; see {home / 'server.log'}"
                )
            time.sleep(1)
        print(f"Prefect server: {url.removesuffix('/api')} (UI), database under {home}", flush=True)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            os.environ["PREFECT_API_URL"] = url  # for the flow runs the served process starts
            yield url
    finally:
        if os.environ.get("PREFECT_API_URL") == url:
            del os.environ["PREFECT_API_URL"]
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
