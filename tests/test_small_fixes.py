"""The smaller items of issue 16, each as it was seen: CSV cells that would be formulas, the
lock holder's command cut short, `recon trace ... --json | head` ending in a traceback."""

from __future__ import annotations

import csv
import io
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reports.remediation import _write_platform_csv
from transforms import csvsafe, publish


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-12.50", "-12.50"),  # a number stays a number
        ("+3", "+3"),
        ("PO20261101", "PO20261101"),
        (12, "12"),
    ],
)
def test_every_csv_cell_that_would_be_a_formula_is_text(cell, written):
    out = io.StringIO()
    csvsafe.writer(out).writerow([cell])
    [[back]] = list(csv.reader(io.StringIO(out.getvalue())))
    assert back == written


def test_the_platform_remediation_csv_neutralises_input_text(tmp_path):
    path = tmp_path / "补单.csv"
    _write_platform_csv([{"order_no": '=HYPERLINK("http://x","y")', "loan_no": "+1+1"}], path)
    text = path.read_text(encoding="utf-8")
    assert '\'=HYPERLINK(""http://x"",""y"")' in text and ",'+1+1," in text


def test_the_lock_records_the_holders_whole_command():
    argv = ["recon", "run", "--config", "/srv/recon/一个很长的路径/recon.toml", "--date",
            "2026-11-01", "--to", "2026-11-30", "--runner", "dask", "--dask-workers", "2"]  # fmt: skip
    assert publish.holder_command(argv) == shlex.join(argv)  # whole, quoted as a shell takes it
    long = ["recon"] + ["x" * 100] * 50
    assert len(publish.holder_command(long)) == publish.HOLDER_COMMAND_CHARS


def test_trace_json_into_a_closed_pipe_ends_quietly(demo_run):
    import duckdb

    day = demo_run.days[-1]
    [(key,)] = duckdb.sql(
        f"SELECT ref FROM read_parquet('{demo_run.config.lake}/exceptions/report_date={day}/"
        "*.parquet') WHERE exception_type = 'DUPLICATE_DEBIT' ORDER BY ref LIMIT 1"
    ).fetchall()
    recon = [sys.executable, "-m", "flows.cli", "trace", key, "--json",
             "--config", str(demo_run.config.path)]  # fmt: skip
    # `true` exits without reading: the trace writes its JSON into a closed pipe
    shell = subprocess.run(
        " ".join(f"'{c}'" for c in recon) + " | true; echo ${PIPESTATUS[0]}",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert "Traceback" not in shell.stderr and "BrokenPipeError" not in shell.stderr
    assert shell.stdout.strip() == "141", shell.stderr
