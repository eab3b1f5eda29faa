"""The configuration corpus: every bad recon.toml of tests/corpus/config is refused by
`recon run` with exit 2 and the one-line message of tests/corpus/config/EXPECTED.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.cli import main
from transforms.config import load_config
from transforms.generate import config_text

CORPUS = Path(__file__).parent / "config"
CREATE = "# corpus: create file "


def expected() -> dict[str, str]:
    """case file -> message, from the table of EXPECTED.md (cells in backticks)."""
    rows = {}
    for line in (CORPUS / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            case, message = (cell.strip()[1:-1] for cell in line.strip("|").split(" | ", 1))
            rows[case] = message
    return rows


CASES = expected()


def test_every_case_has_an_expected_message_and_every_message_a_case():
    assert sorted(CASES) == sorted(p.name for p in CORPUS.glob("*.toml"))
    assert len(CASES) >= 19


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_config_is_one_line_exit_2(case, tmp_path, capsys):
    source = CORPUS / case
    (tmp_path / "inbox").mkdir()
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith(CREATE):
            (tmp_path / line.removeprefix(CREATE).strip()).write_text("x\n", encoding="utf-8")
    config = tmp_path / case
    shutil.copy(source, config)
    before = sorted(tmp_path.rglob("*"))

    code = main(["run", "--config", str(config), "--date", "2026-11-01"])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    message = CASES[case].replace("{dir}", str(tmp_path))
    assert err.strip() == f"error: {config}: {message}"
    assert sorted(tmp_path.rglob("*")) == before  # refused before anything was created


def test_the_generated_config_still_loads(tmp_path):
    (tmp_path / "inbox").mkdir()
    path = tmp_path / "recon.toml"
    path.write_text(config_text(), encoding="utf-8")
    config = load_config(path)
    assert len(config.sources) == 8
    assert config.source("allinpay").options == {"trailer": True}  # the declared default
    assert not (tmp_path / "data").exists()  # validation only: data_dir is created by a run


def test_each_generated_source_alone_still_loads(tmp_path):
    """Every [[sources]] table of the generated config is valid on its own too."""
    (tmp_path / "inbox").mkdir()
    head, *tables = config_text().split("[[sources]]")
    for i, table in enumerate(tables):
        path = tmp_path / f"recon_{i}.toml"
        path.write_text(head + "[[sources]]" + table, encoding="utf-8")
        assert len(load_config(path).sources) == 1
