"""Borrower data at rest: data_dir owner/group-only, every file 0640 whatever the umask, and an
output folder that cannot be written is refused before anything is swapped in."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from transforms import publish
from transforms.config import load_config
from transforms.errors import UsageError
from transforms.generate import generate
from transforms.pipeline import run_range

START = dt.date(2026, 11, 1)


def test_everything_written_is_owner_and_group_only(tmp_path):
    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    before = os.umask(0)  # the most permissive umask a user could have
    try:
        run_range(config, START, START + dt.timedelta(days=2))
    finally:
        os.umask(before)
    assert stat.S_IMODE(config.data_dir.stat().st_mode) == 0o750
    for root, dirs, files in os.walk(config.data_dir):
        for name in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) & 0o027 == 0, name
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                assert stat.S_IMODE(os.stat(path).st_mode) & 0o137 == 0, path


def test_an_unwritable_reports_folder_is_refused_before_anything_changes(tmp_path, monkeypatch):
    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    run_range(config, START, START)
    published = sorted(p.name for p in (config.data_dir / "versions" / str(START)).iterdir())
    real = os.access
    monkeypatch.setattr(
        publish.os,
        "access",
        lambda p, mode: False if str(p) == str(config.reports) else real(p, mode),
    )
    with pytest.raises(UsageError, match=f"{config.reports}: cannot write there"):
        run_range(config, START, START + dt.timedelta(days=1))
    assert (
        sorted(p.name for p in (config.data_dir / "versions" / str(START)).iterdir()) == published
    )
    assert publish.published_days(config) == [START]
