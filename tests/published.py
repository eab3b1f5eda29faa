"""A small generated inbox reconciled once per test module, copied for each test (a copy takes
milliseconds; computing the dates again takes seconds)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from transforms.config import load_config

START = dt.date(2026, 11, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(3)]


def build(folder: Path, published: int = 3, orders: int = 5, seed: int = 2) -> Path:
    """Generate the 3-day inbox under `folder` and publish its first `published` dates."""
    from transforms.generate import generate
    from transforms.pipeline import run_range

    config = load_config(generate(folder, START, len(DAYS), orders, seed=seed))
    if published:
        run_range(config, DAYS[0], DAYS[published - 1])
    return folder


def copy(template: Path, to: Path):
    """A private copy of a built folder (links are relative: they stay inside the copy)."""
    shutil.copytree(template, to, symlinks=True)
    return load_config(to / "recon.toml")
