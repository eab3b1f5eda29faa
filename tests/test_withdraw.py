"""`recon withdraw`: published dates created by mistake leave whole (pointer, stable links,
version), only from the end, each withdrawal in the append-only audit trail."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tests import published
from transforms import publish
from transforms.pipeline import run_range

DAYS = published.DAYS


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return published.build(tmp_path_factory.mktemp("withdraw"))


@pytest.fixture
def config(template, tmp_path):
    return published.copy(template, tmp_path / "c")


def stable_paths(config, day) -> list:
    return [path for path, _ in publish.stable_links(config, day) if path.is_symlink()]


def withdraw(config, *dates: str, by="王芳", reason="run for the wrong dates") -> list[str]:
    args = ["withdraw", "--config", str(config.path), "--date", dates[0], "--by", by]
    return [*args, *(["--to", dates[1]] if len(dates) > 1 else []), "--reason", reason]


def test_the_last_dates_leave_whole_and_the_audit_trail_says_who_why_and_which(config, capsys):
    versions = {str(d): publish.current_version(config, d).name for d in DAYS}
    exceptions = config.lake / "exceptions" / f"report_date={DAYS[1]}" / "exceptions.parquet"
    before = exceptions.read_bytes()
    assert main(withdraw(config, str(DAYS[1]), str(DAYS[2]))) == 0
    out = capsys.readouterr().out
    assert f"withdrew 2 published report dates {DAYS[1]} .. {DAYS[2]}" in out
    assert publish.published_days(config) == DAYS[:1]
    for day in DAYS[1:]:
        assert stable_paths(config, day) == []
        assert not publish.versions_dir(config, day).exists()
    assert len(stable_paths(config, DAYS[0])) == len(publish.stable_links(config, DAYS[0]))
    [line] = (config.data_dir / "audit" / "withdrawals.jsonl").read_text("utf-8").splitlines()
    record = json.loads(line)
    assert record["by"] == "王芳" and record["reason"] == "run for the wrong dates"
    assert record["dates"] == [str(DAYS[1]), str(DAYS[2])]
    assert record["versions"] == {d: versions[d] for d in record["dates"]}
    assert record["withdrawn_at"] and "withdraw" in record["command"]
    # Append-only: a second withdrawal adds a line; a withdrawn date is computed again, the same.
    assert main(withdraw(config, str(DAYS[0]), reason="all of it")) == 0
    assert (
        len((config.data_dir / "audit" / "withdrawals.jsonl").read_text("utf-8").splitlines()) == 2
    )
    assert publish.published_days(config) == []
    run_range(config, DAYS[0], DAYS[1])
    assert exceptions.read_bytes() == before


def test_a_date_that_later_dates_are_built_on_is_refused_and_nothing_changes(config, capsys):
    assert main(withdraw(config, str(DAYS[0]))) == 2
    err = capsys.readouterr().err
    assert f"{DAYS[1]} .. {DAYS[2]} (2 dates) are published and built on {DAYS[0]}" in err
    assert f"--to {DAYS[2]}" in err and "Traceback" not in err
    assert publish.published_days(config) == DAYS
    assert not (config.data_dir / "audit" / "withdrawals.jsonl").exists()


@pytest.mark.parametrize(
    "dates, by, reason, message",
    [
        (("2026-10-01", "2026-10-05"), "王芳", "x", "no published report date in 2026-10-01 .. "),
        (("2026-11-03", "2026-11-02"), "王芳", "x", "is before --date"),
        (("2026-11-03",), " ", "x", "who withdraws?"),
        (("2026-11-03",), "王芳", "", "why?"),
    ],
)
def test_bad_requests_exit_2(config, capsys, dates, by, reason, message):
    assert main(withdraw(config, *dates, by=by, reason=reason)) == 2
    assert message in capsys.readouterr().err
    assert publish.published_days(config) == DAYS


def test_a_crash_midway_leaves_only_what_the_next_run_cleans_up(config):
    """Pointer gone, links and version still there: the clean-up of the next run removes them."""
    publish.pointer(config, DAYS[2]).unlink()
    publish.clean_leftovers(config)
    assert stable_paths(config, DAYS[2]) == []
    assert list(publish.versions_dir(config, DAYS[2]).iterdir()) == []
    assert len(stable_paths(config, DAYS[1])) == len(publish.stable_links(config, DAYS[1]))
