"""The lookup service over a copy of the reconciled demo (tokens and the audit log are written
under data_dir, so the shared demo is never touched)."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_trace import answer_key, lake_sql, normal  # noqa: F401  (normal: a fixture)
from transforms.web import tokens


@dataclass
class WebDemo:
    config: object
    config_path: Path
    service: str  # a token of role service
    finance: str  # a token of role finance
    refs: dict


def copy_demo(demo_run, where: Path):
    """A copy of the demo's data_dir (its symlinks kept relative) and a config pointing at it."""
    config = dataclasses.replace(demo_run.config, data_dir=where / "data")
    shutil.copytree(demo_run.config.data_dir, config.data_dir, symlinks=True)
    return config


@pytest.fixture(scope="session")
def web_demo(demo_run, tmp_path_factory) -> WebDemo:
    config = copy_demo(demo_run, tmp_path_factory.mktemp("web"))
    return WebDemo(
        config,
        demo_run.config_path,
        tokens.add(config, "agent-1", "service"),
        tokens.add(config, "fin-1", "finance"),
        answer_key(demo_run),
    )


@pytest.fixture(scope="session")
def app(web_demo):
    from transforms.web import create_app

    return create_app(web_demo.config, rate_per_minute=0)  # test_ratelimit.py has its own


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def lookup(client, token: str | None, **params):
    return client.get("/api/v1/trace", params=params, headers=bearer(token) if token else {})


@pytest.fixture(scope="session")
def several_orders(demo_run) -> str:
    """A borrower with two or more repayment orders on the demo's dates."""
    rows = lake_sql(
        demo_run,
        """SELECT borrower_id FROM {orders} WHERE order_type = 'REPAY'
           GROUP BY 1 HAVING count(DISTINCT order_no) >= 2 ORDER BY 1 LIMIT 1""",
    )
    assert rows, "the demo has a borrower with several orders"
    return rows[0][0]


def config_file(demo_run, data_dir: Path, where: Path) -> Path:
    """The demo's recon.toml with its inbox and a data_dir of our own, for a subprocess."""
    lines = demo_run.config_path.read_text(encoding="utf-8").splitlines()
    paths = {"inbox": demo_run.config.inbox, "data_dir": data_dir}
    out = [
        f'{line.split("=")[0].strip()} = "{paths[line.split("=")[0].strip()]}"'
        if line.split("=")[0].strip() in paths
        else line
        for line in lines
    ]
    path = where / "recon.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
