from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import build_parser, main
from transforms.errors import ConfigError, UsageError

SAMPLES = Path(__file__).parent / "fixtures"
START = dt.date(2026, 11, 1)
README = Path(__file__).parent.parent / "README.md"


def test_inspect_prints_counts_and_totals(capsys):
    code = main(["inspect", str(SAMPLES / "wechatpay_bill" / "wxjava_tradebill_ALL.csv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "wechatpay_bill" in out and "read 1, ok 1, rejected 0" in out
    assert "DIFF row count" in out  # the abridged sample states 48 orders


def test_bad_config_exits_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "recon.toml"
    bad.write_text('inbox = "x"\n', encoding="utf-8")
    assert main(["run", "--config", str(bad), "--date", "2026-11-01"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "data_dir" in err


def test_unrecognized_file_exits_2(tmp_path, capsys):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["inspect", str(junk)]) == 2
    assert "unrecognized format" in capsys.readouterr().err


def test_every_command_is_in_the_readme():
    text = README.read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"recon {name}" in text, name


def test_inspect_works_on_every_sample(capsys):
    from tests.sources.test_goldens import samples

    for sample in samples():
        assert main(["inspect", str(sample)]) == 0, sample
        assert f"format:   {sample.parent.name}" in capsys.readouterr().out


def test_unreadable_input_exits_2_and_keeps_everything_else(tmp_path, capsys):
    import duckdb

    from transforms.generate import generate

    config = generate(tmp_path, dt.date(2026, 11, 1), 3, 10, seed=3)
    broken = tmp_path / "inbox/2026-11-01/platform_orders_20261101.csv"
    broken.write_text("this is not,the platform export\n1,2\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--date", "2026-11-01"]) == 2
    err = capsys.readouterr().err
    assert "platform_orders_20261101.csv" in err and "platform_export" in err
    lake = tmp_path / "data/lake"
    rows = duckdb.sql(
        f"SELECT exception_type, ref FROM read_parquet('{lake}/exceptions/*/*.parquet') "
        "WHERE exception_type = 'REJECTED_ROW'"
    ).fetchall()
    assert rows == [("REJECTED_ROW", "platform_orders_20261101.csv:0")]
    kept = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/channel_txns/*/*/*.parquet')"
    ).fetchall()
    assert kept[0][0] > 0
    assert (tmp_path / "data/reports/recon_2026-11-01.xlsx").exists()


def test_a_range_ending_before_it_starts_exits_2(tmp_path, capsys):
    config = tmp_path / "recon.toml"
    config.write_text(
        'inbox = "inbox"\ndata_dir = "data"\n[[sources]]\nname = "p"\nrole = "platform"\n'
        'format = "platform_export"\nglob = "p*.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "inbox").mkdir()
    code = main(["run", "--config", str(config), "--date", "2026-11-05", "--to", "2026-11-01"])
    assert code == 2 and "--to 2026-11-01 is before --date 2026-11-05" in capsys.readouterr().err


# ---------------------------------------------------------------------------- user errors


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["generate", "--out", "{tmp}/g", "--days", "0"], "--days: expected at least 3"),
        (["generate", "--out", "{tmp}/g", "--days", "-1"], "--days: expected at least 3"),
        (["generate", "--out", "{tmp}/g", "--days", "2"], "found 2"),
        (["generate", "--out", "{tmp}/g", "--orders", "-5"], "--orders: expected at least 0"),
        (["generate", "--out", "{tmp}/file.txt"], "is a file; expected a folder"),
        (["demo", "--out", "{tmp}/d", "--days", "0"], "--days: expected at least 3"),
        (["demo", "--out", "{tmp}/d", "--days", "-1"], "--days: expected at least 3"),
        (["inspect", "{tmp}/no-such.csv"], "no-such.csv: no such file"),
        (["inspect", "{tmp}"], "is a folder; expected one file"),
        (["run", "--config", "{tmp}/nope.toml", "--date", "2026-11-01"], "not found"),
        (["run", "--config", "{tmp}", "--date", "2026-11-01"], "is a folder; expected the recon"),
        (["run", "--config", "{tmp}/bin.toml", "--date", "2026-11-01"], "not UTF-8 text"),
        (["run", "--config", "{tmp}/x.toml", "--date", "2026-13-01"], "expected a date YYYY-MM-DD"),
        (["run", "--config", "{tmp}/x.toml", "--date", "20261101"], "expected a date YYYY-MM-DD"),
        (["run", "--config", "{tmp}/x.toml", "--date", "2026-11-01", "--to", "11/05"], "--to"),
        (["run", "--config", "{tmp}/x.toml", "--date", "2026-11-01", "--wait", "-1"], "--wait"),
        (["run", "--date", "2026-11-01"], "required: --config"),
        (["trace", "PO1", "--config", "{tmp}/nope.toml"], "not found"),
        (["trace", "PO1", "--config", "{tmp}/x.toml", "--days", "0"], "--days"),
        (["inspect", "{tmp}/file.txt", "--config", "{tmp}/nope.toml"], "not found"),
        (["no-such-command"], "invalid choice"),
        ([], "COMMAND"),
    ],
)
def test_every_user_error_exits_2_with_one_line(tmp_path, capsys, argv, says):
    (tmp_path / "file.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    assert says in one_line_error(capsys)


@pytest.fixture
def short_inbox(tmp_path) -> Path:
    """A generated 3-day inbox (40 orders a day) and its recon.toml."""
    from transforms.generate import generate

    return generate(tmp_path, START, 3, 40, seed=5)


def test_a_date_before_the_first_inbox_folder_exits_2(short_inbox, capsys):
    assert main(["run", "--config", str(short_inbox), "--date", "2026-10-25"]) == 2
    err = one_line_error(capsys)
    assert "--date 2026-10-25 is before the first inbox folder" in err and "2026-11-01" in err
    assert not (short_inbox.parent / "data" / "current").exists()


def test_a_config_whose_data_dir_is_a_file_exits_2(short_inbox, capsys):
    bad = short_inbox.with_name("bad.toml")
    text = short_inbox.read_text(encoding="utf-8").replace(
        'data_dir = "data"', 'data_dir = "recon.toml"'
    )
    bad.write_text(text, encoding="utf-8")
    assert main(["run", "--config", str(bad), "--date", "2026-11-01"]) == 2
    assert "data_dir" in one_line_error(capsys)


@pytest.mark.parametrize(
    "error",
    [
        UsageError("resolve: no exception EX123 on 2026-11-05"),
        ConfigError("recon.toml", "resolutions", "expected a folder path (string)"),
    ],
)
def test_any_command_raising_a_recon_error_exits_2_without_traceback(monkeypatch, capsys, error):
    """The generic handler: e.g. `recon resolve`'s UsageError and ConfigError."""
    from flows import cli

    def failing(args):
        raise error

    monkeypatch.setitem(cli.COMMANDS, "inspect", failing)
    assert main(["inspect", "whatever.csv"]) == 2
    assert one_line_error(capsys) == f"error: {error}"


def test_the_installed_command_prints_no_traceback(tmp_path):
    for argv in (
        ["inspect", str(tmp_path / "missing.csv")],
        ["inspect", str(tmp_path)],
        ["generate", "--out", str(tmp_path / "g"), "--days", "2"],
        ["run", "--config", str(tmp_path), "--date", "2026-11-01"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", *argv], capture_output=True, text=True
        )
        assert done.returncode == 2, (argv, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert done.stdout == ""


# ---------------------------------------------------------------------------- a run's output


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """`recon run` as a process over 3 generated dates whose last inbox folder is missing."""
    from transforms.generate import generate

    out = tmp_path_factory.mktemp("cli-run")
    config = generate(out, START, 3, 40, seed=5)
    shutil.rmtree(out / "inbox" / "2026-11-03")
    cmd = [sys.executable, "-m", "flows.cli", "run", "--config", str(config)]
    done = subprocess.run(
        cmd + ["--date", "2026-11-01", "--to", "2026-11-03"], capture_output=True, text=True
    )
    return out, config, done


def test_a_date_without_inbox_folder_warns(ran):
    out, _, done = ran
    assert done.returncode == 0, done.stderr
    folder = out / "inbox" / "2026-11-03"
    expected = f"warning: no inbox folder {folder}; every required source will be MISSING_FILE"
    assert expected in done.stderr.splitlines()
    assert "2026-11-01;" not in done.stderr and "2026-11-02;" not in done.stderr


def test_run_prints_the_workbook_of_every_computed_date(ran):
    out, _, done = ran
    lines = done.stdout.splitlines()
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        workbook = out / "data" / "reports" / f"recon_{day}.xlsx"
        assert workbook.exists()
        (line,) = [x for x in lines if x.startswith(day) and x.endswith(str(workbook))]
        assert "OPEN" in line and "PENDING" in line


def test_run_closes_with_counts_and_money_per_type(ran):
    _, _, done = ran
    text = done.stdout
    assert "on 2026-11-03" in text and "money at stake" in text
    (total,) = [x for x in text.splitlines() if x.startswith("total ")]
    assert any("." in cell for cell in total.split()[1:]), total  # an amount like 1,234.56
    (missing,) = [x for x in text.splitlines() if x.startswith("MISSING_FILE ")]
    assert int(missing.split()[1]) > 0  # the missing folder's required sources


def test_no_progress_when_stderr_is_not_a_terminal(ran):
    _, _, done = ran
    assert "recon 2026-11-0" not in done.stderr and "matching step" not in done.stderr


def test_progress_forced_goes_to_stderr_only(ran):
    _, config, _ = ran
    cmd = [sys.executable, "-m", "flows.cli", "run", "--config", str(config)]
    done = subprocess.run(
        cmd + ["--date", "2026-11-02", "--progress"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (
        "2026-11-02  ingest" in done.stderr and "files," in done.stderr and " rows" in done.stderr
    )
    assert "matching step" in done.stderr and "publish" in done.stderr
    assert "matching step" not in done.stdout and "ingest" not in done.stdout
    quiet = subprocess.run(
        cmd + ["--date", "2026-11-02", "--quiet"], capture_output=True, text=True
    )
    assert quiet.returncode == 0 and "matching step" not in quiet.stderr


def test_demo_prints_every_workbook_and_the_answer_key(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--days", "3", "--orders", "20"]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        workbook = tmp_path / "data" / "reports" / f"recon_{day}.xlsx"
        assert any(x.startswith(day) and x.endswith(str(workbook)) for x in out), day
    assert f"answer key: {tmp_path / 'answer_key.csv'}" in out
    assert out[-1] == f"workbook:   {tmp_path / 'data' / 'reports' / 'recon_2026-11-03.xlsx'}"
    assert captured.err == ""  # stderr is not a terminal: no progress


# ---------------------------------------------------------------------------- --help


def test_help_shows_formats_defaults_and_where_the_config_is_documented(capsys):
    from transforms.sources import format_names

    for command in ("run", "inspect"):
        assert main([command, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for name in format_names():
            assert name in out, (command, name)
        assert "README.md" in out and "Configuration" in out
    assert main(["run", "--help"]) == 0
    assert "(default: 0)" in " ".join(capsys.readouterr().out.split())  # --wait
    assert main(["generate", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 2026-11-01)" in out and "(default: 5)" in out and "(default: 200)" in out
    assert main(["demo", "--help"]) == 0
    assert "(default: data/demo)" in " ".join(capsys.readouterr().out.split())


# ---------------------------------------------------------------------------- progress display


def test_progress_follows_the_phases():
    from transforms.progress import Progress
    from transforms.timing import phase

    stream = io.StringIO()
    with Progress(stream, live=False, delay=0, files_of=lambda day: 2, steps=3):
        with phase("2026-11-01 ingest"):
            for name, rows in (("a.csv", 10), ("b.csv", 1200)):
                with phase(f"  ingest {name}") as p:
                    p.note = f"{rows:,} rows"
        with phase("2026-11-01 match and write state"):
            for step in ("01_x", "02_y"):
                with phase(f"  match step {step}"):
                    pass
        with phase("2026-11-01 workbook"):
            pass
    text = stream.getvalue()
    assert "2026-11-01  ingest 2/2 files, 1,210 rows" in text
    assert "matching step 2/3 - 02_y" in text and "2026-11-01  workbook" in text
    assert "\r" not in text  # not a terminal: one line per change


def test_progress_on_a_terminal_redraws_one_line_and_clears_it():
    from transforms.progress import Progress
    from transforms.timing import phase

    stream = io.StringIO()
    with Progress(stream, live=True, delay=0, interval=0.01):
        with phase("2026-11-01 publish"):
            pass
    text = stream.getvalue()
    assert "\r[0:00] recon 2026-11-01  publish" in text and "\n" not in text
    assert text.endswith("\r\x1b[K")


def test_a_failing_listener_never_breaks_a_phase():
    from transforms.timing import listening, phase

    def broken(event, p, seconds):
        raise RuntimeError("display bug")

    with listening(broken):
        with phase("2026-11-01 workbook"):
            pass


def test_money_falls_back_to_the_difference_without_money_at_stake(tmp_path):
    import duckdb

    from flows.cli import money_by_type

    path = tmp_path / "exceptions.parquet"
    duckdb.sql(
        "SELECT * FROM (VALUES ('OPEN', 'AMOUNT_MISMATCH', -12.50::DECIMAL(18,2)), "
        "('OPEN', 'AMOUNT_MISMATCH', 2.00::DECIMAL(18,2)), ('CLEARED', 'X', 1::DECIMAL(18,2))) "
        "t(status, exception_type, diff_amount)"
    ).write_parquet(str(path))
    found = money_by_type(path)
    assert list(found) == [("OPEN", "AMOUNT_MISMATCH")]
    n, amount = found[("OPEN", "AMOUNT_MISMATCH")]
    assert n == 2 and float(amount) == 14.50
