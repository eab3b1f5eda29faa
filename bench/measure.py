"""Run one step as a child process and measure it: wall time and peak RSS (os.wait4)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measured:
    name: str
    seconds: float
    peak_rss_kib: int  # ru_maxrss of the child (KiB on Linux)
    returncode: int
    result: dict = field(default_factory=dict)  # the JSON the child printed last, if any
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kib / 1024

    def as_dict(self) -> dict:
        return asdict(self)


def child_env() -> dict[str, str]:
    """The child imports this checkout (not whatever is installed), and stays quiet."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def recon(*args: str) -> list[str]:
    """The `recon` command of this checkout (the same as the installed entry point)."""
    return python("-m", "flows.cli", *args)


def probe(what: str, **kwargs) -> list[str]:
    """A measured step of bench/probes.py."""
    return python("-m", "bench.probes", what, json.dumps(kwargs, default=str))


def run(name: str, cmd: list[str], log: Path, limit_as: int | None = None) -> Measured:
    """Run `cmd` to completion; stdout+stderr go to `log`. With `limit_as` (bytes) the child's
    address space is capped (RLIMIT_AS) so it fails with MemoryError instead of taking the
    machine down."""

    def limit() -> None:
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=child_env(),
            preexec_fn=limit if limit_as else None,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    return Measured(
        name=name,
        seconds=round(seconds, 3),
        peak_rss_kib=int(usage.ru_maxrss),
        returncode=proc.returncode,
        result=_last_json(text),
        log=str(log),
    )


def _last_json(text: str) -> dict:
    for line in reversed(text.splitlines()):
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                return {}
    return {}
