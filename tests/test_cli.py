from __future__ import annotations

from pathlib import Path

from flows.cli import build_parser, main

SAMPLES = Path(__file__).parent / "fixtures"
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
    import datetime as dt

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
    code = main(["run", "--config", str(config), "--date", "2026-11-05", "--to", "2026-11-01"])
    assert code == 2 and "--to 2026-11-01 is before --date 2026-11-05" in capsys.readouterr().err
