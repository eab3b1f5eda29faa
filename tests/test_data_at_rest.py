"""Borrower data at rest: data_dir owner/group-only, every file 0640 whatever the umask, and an
output folder that cannot be written is refused before anything is swapped in."""

from __future__ import annotations

import datetime as dt
import os
import shutil
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


def private(path) -> bool:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    return mode & (0o027 if os.path.isdir(path) else 0o137) == 0


def test_recon_resolve_writes_owner_and_group_only_like_a_run(tmp_path):
    import duckdb

    from flows.cli import main

    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    run_range(config, START, START + dt.timedelta(days=2))
    [(exception_id,)] = duckdb.sql(
        f"SELECT exception_id FROM read_parquet('{config.lake}/exceptions/report_date="
        f"{START + dt.timedelta(days=2)}/*.parquet') WHERE status = 'OPEN' LIMIT 1"
    ).fetchall()
    before = os.umask(0o022)  # the usual umask: 0644 files, 0755 folders
    try:
        args = ["resolve", exception_id, "--config", str(config.path), "--by", "王芳"]
        assert main([*args, "--action", "FALSE_POSITIVE", "--note", "测试"]) == 0
    finally:
        os.umask(before)
    store = config.lake / "resolutions"
    assert private(store) and [p.name for p in store.iterdir() if not private(p)] == []


# Root ignores permission bits: a path that is a file where a folder is expected fails for
# everyone, so it stands in for a folder that cannot be written.
@pytest.mark.parametrize("where", ["exceptions", "platform_orders", "reports"])
def test_a_folder_the_publish_needs_is_checked_before_any_work(tmp_path, capsys, where):
    from flows.cli import main

    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    run_range(config, START, START)
    folder = config.reports if where == "reports" else config.lake / where
    shutil.rmtree(folder)
    folder.write_text("not a folder", encoding="utf-8")
    day = START + dt.timedelta(days=1)
    code = main(["run", "--config", str(config.path), "--date", str(day), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{folder}: a file where a folder is expected; nothing was changed" in err
    assert publish.published_days(config) == [START]
    assert not publish.versions_dir(config, day).exists()


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes read-only folders; the test above covers it"
)
def test_a_read_only_lake_table_folder_is_refused_before_any_work(tmp_path):
    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    run_range(config, START, START)
    folder = config.lake / "exceptions"
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(UsageError, match=f"{folder}: cannot write there"):
            run_range(config, START, START + dt.timedelta(days=1))
    finally:
        os.chmod(folder, 0o750)
    assert publish.published_days(config) == [START]


def test_a_link_that_fails_at_publish_leaves_the_date_wholly_invisible(tmp_path, monkeypatch):
    """Past the check (a folder gone bad mid-run): the links are made before the swap, so the
    failing one stops the publish with nothing of the date visible and nothing left behind."""
    config = load_config(generate(tmp_path, START, 3, 5, seed=2))
    run_range(config, START, START)
    monkeypatch.setattr(publish, "check_writable", lambda folders: None)
    folder = config.lake / "exceptions"
    shutil.rmtree(folder)
    folder.write_text("not a folder", encoding="utf-8")
    day = START + dt.timedelta(days=1)
    with pytest.raises(OSError):
        run_range(config, START, day)
    assert publish.published_days(config) == [START]
    assert [p for p, _ in publish.stable_links(config, day) if p.is_symlink()] == []
    versions = publish.versions_dir(config, day)
    assert not versions.exists() or list(versions.iterdir()) == []  # no version, no stage
