"""Files nobody claims (issue 16): a file of a day folder that no source's glob matches is
listed, with its size and what it looks like, in the run's output, the workbook's inputs
sheet and the alert; its rows are not silently absent."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from flows.cli import main
from tests import published
from transforms import alerts, publish
from transforms.ledger import unclaimed_files

DAYS = published.DAYS


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return published.build(tmp_path_factory.mktemp("unclaimed"), published=0)


@pytest.fixture
def config(template, tmp_path):
    config = published.copy(template, tmp_path / "c")
    folder = config.inbox / DAYS[0].isoformat()
    wechat = next(p for p in sorted(folder.iterdir()) if "wechat" in p.name.lower())
    shutil.copy(wechat, folder / "supplement_renamed.csv")  # a bill under a name no glob takes
    (folder / ".hidden").write_text("editor state")  # hidden files are nobody's business
    return config


def test_an_unclaimed_file_is_identified_with_its_size(config):
    [u] = unclaimed_files(config, DAYS[0])
    assert u.file_name == "supplement_renamed.csv"
    assert u.size == (config.inbox / DAYS[0].isoformat() / u.file_name).stat().st_size
    assert u.format == "wechatpay_bill" and "looks like wechatpay_bill" in u.looks_like
    assert unclaimed_files(config, DAYS[1]) == []


def test_the_run_output_the_workbook_and_the_alert_list_it(config, capsys):
    assert main(["run", "--config", str(config.path), "--date", str(DAYS[0])]) in (0, 1)
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "supplement_renamed.csv" in x)
    assert "unclaimed" in line and "matches no source's glob" in line and "bytes" in line
    workbook = config.reports / publish.workbook_name(DAYS[0])
    wb = load_workbook(workbook, read_only=True)
    cells = [
        str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c
    ]
    assert "supplement_renamed.csv" in cells
    assert "无人认领" in cells  # its status on the inputs sheet
    assert any("没有任何来源的 glob 匹配此文件" in c for c in cells)
    exceptions = publish.current_version(config, DAYS[0]) / "exceptions" / "exceptions.parquet"
    alert = alerts.evaluate(config, DAYS[0], exceptions, [])
    assert any("supplement_renamed.csv" in r and "无人认领" in r for r in alert.reasons)


def test_a_data_dir_inside_the_inbox_is_refused(config, capsys):
    text = config.path.read_text(encoding="utf-8")
    inside = config.inbox / "recon-data"
    bad = config.path.with_name("inside.toml")
    lines = [
        f'data_dir = "{inside}"' if line.startswith("data_dir") else line
        for line in text.splitlines()
    ]
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["run", "--config", str(bad), "--date", str(DAYS[0]), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "inside the inbox" in err and err.count("\n") == 1
    assert not inside.exists()
