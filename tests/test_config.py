from __future__ import annotations

import pytest

from transforms.config import load_config
from transforms.errors import ConfigError

GOOD = """
inbox = "inbox"
data_dir = "data"
[[sources]]
name = "platform"
role = "platform"
format = "platform_export"
glob = "p*.csv"
"""


def write(tmp_path, text):
    (tmp_path / "inbox").mkdir(exist_ok=True)
    path = tmp_path / "recon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_live_in_one_place(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.timezone == "Asia/Shanghai"
    assert config.inbox == (tmp_path / "inbox").resolve()
    source = config.source("platform")
    assert (source.pending_days, source.settle_lag_days, source.settle_window_days) == (1, 1, 2)
    assert (config.memory_limit, config.threads, config.rematch_days) == ("1GB", 2, 2)
    assert config.spill_dir == (tmp_path / "data" / "tmp").resolve()


@pytest.mark.parametrize(
    "text, key",
    [
        (GOOD.replace('inbox = "inbox"', ""), "inbox"),
        (GOOD.replace('role = "platform"', 'role = "lender"'), "sources[0].role"),
        (GOOD.replace('format = "platform_export"', 'format = "nope"'), "sources[0].format"),
        (GOOD + "pending_days = -1\n", "sources[0].pending_days"),
        (GOOD + 'pending_days = "x"\n', "sources[0].pending_days"),
        (GOOD + "colour = 1\n", "sources[0].colour"),
        (GOOD.replace('role = "platform"', 'role = "channel"'), "sources[0].channel"),
        (GOOD + 'timezone = "Mars/Base"\n'.replace("timezone", "x"), "sources[0].x"),
        ('timezone = "Mars/Base"\n' + GOOD, "timezone"),
        (GOOD + GOOD.split("\n", 3)[3], "sources[1].name"),
        ("inbox = [", "(syntax)"),
        ('data_dri = "x"\n' + GOOD, "data_dri"),
        ('memory_limit = "lots"\n' + GOOD, "memory_limit"),
        ("memory_limit = 2\n" + GOOD, "memory_limit"),
        ("rematch_days = -1\n" + GOOD, "rematch_days"),
        ("threads = 0\n" + GOOD, "threads"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert info.value.key == key


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


CHANNEL = """
[[sources]]
name = "allinpay"
role = "channel"
format = "withholding"
glob = "allinpay_*.txt"
channel = "ALLINPAY"
"""


def channel_with(field: str, toml_value: str) -> str:
    """GOOD plus the CHANNEL source with `field = toml_value` (replacing the field if present)."""
    lines = [x for x in CHANNEL.strip().splitlines() if not x.startswith(f"{field} =")]
    return GOOD + "\n".join([*lines, f"{field} = {toml_value}"]) + "\n"


@pytest.mark.parametrize(
    "field, value, key, says",
    [
        ("name", '"a.b"', "sources[1].name", "letters, digits, _ or -"),
        ("name", f'"{"x" * 65}"', "sources[1].name", "1 to 64"),
        ("glob", '"."', "sources[1].glob", "file-name pattern"),
        ("glob", "'C:x*.txt'", "sources[1].glob", "an absolute path"),
        ("glob", '"a..txt"', "sources[1].glob", "'..'"),
        ("glob", '"x\\ty"', "sources[1].glob", "file-name pattern"),
        ("distribution_lag_days", "31", "sources[1].distribution_lag_days", "0 to 30"),
        ("distribution_window_days", "61", "sources[1].distribution_window_days", "0 to 60"),
        ("settle_window_days", "1.5", "sources[1].settle_window_days", "an integer"),
        ("bank_counterparty", '[""]', "sources[1].bank_counterparty[0]", "non-empty string"),
        ("options", "1", "sources[1].options", "a table"),
        ("options", "{ trailer = 0 }", "sources[1].options.trailer", "true or false"),
        ("account_role", '"lendr"', "sources[1].account_role", "did you mean lender?"),
    ],
)
def test_source_values_are_typed_and_ranged(tmp_path, field, value, key, says):
    path = write(tmp_path, channel_with(field, value))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key and says in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_options_get_the_declared_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD + CHANNEL))
    assert config.source("allinpay").options == {"trailer": True}
    assert config.source("platform").options == {}
    text = GOOD + CHANNEL + "options = { trailer = false }\n"
    assert load_config(write(tmp_path, text)).source("allinpay").options == {"trailer": False}


def test_every_format_declares_typed_options():
    from transforms.config import Option
    from transforms.sources import FORMATS

    for fmt in FORMATS:
        for name, option in fmt.OPTIONS.items():
            assert isinstance(option, Option), (fmt.name, name)
            assert option.check(option.default, "x", name) == option.default


def test_folders_are_checked_by_load_config_without_creating_anything(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    cases = [
        ('inbox = "inbox"', 'inbox = "file"', "inbox", "is a file"),
        ('data_dir = "data"', 'data_dir = "file/data"', "data_dir", "cannot be created"),
        ('data_dir = "data"', 'data_dir = "inbox"', "data_dir", "is the inbox"),
        ('data_dir = "data"', 'data_dir = "data"\ntemp_directory = "../file"', "temp_directory",
         "is a file"),
        ('data_dir = "data"', 'data_dir = "data"\nresolutions = "file"', "resolutions",
         "is a file"),
    ]  # fmt: skip
    for old, new, key, says in cases:
        path = write(tmp_path, GOOD.replace(old, new))
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert info.value.key == key and says in str(info.value), str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "inbox", "recon.toml"]


def test_without_folder_checks_a_config_loads_for_inspecting_files(tmp_path):
    path = tmp_path / "recon.toml"
    path.write_text(GOOD, encoding="utf-8")  # no inbox folder
    with pytest.raises(ConfigError, match="inbox: no folder"):
        load_config(path)
    assert load_config(path, check_folders=False).inbox == (tmp_path / "inbox").resolve()


def test_the_readme_configuration_is_valid(tmp_path):
    import re
    import tomllib
    from pathlib import Path

    from transforms.config import parse_config

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration (`recon.toml`)", 1)[1]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)[:2]  # the config, a mapped format
    raw = tomllib.loads(blocks[0])
    raw["formats"] = tomllib.loads(blocks[1])["formats"]
    config = parse_config(raw, tmp_path / "recon.toml")
    assert config.source("wechatpay").bank_counterparty[0] == "财付通支付科技有限公司"


@pytest.mark.parametrize(
    "dotted, value, key, says",
    [
        ("status_values", {"SUCCES": ["ok"]}, "formats.x.status_values.SUCCES", "SUCCESS?"),
        ("status_values", "ok", "formats.x.status_values", "expected a table"),
        ("time_formats", {"txn_tim": "%Y"}, "formats.x.time_formats.txn_tim", "txn_time?"),
        ("column", {"txn_time": "T"}, "formats.x.column", "did you mean columns?"),
        ("name_pattern", "in/x_*.csv", "formats.x.name_pattern", "folder separator"),
    ],
)
def test_mapped_format_keys_suggest_the_nearest(tmp_path, dotted, value, key, says):
    from transforms.config import parse_config

    spec = {
        "table": "channel_txns",
        "columns": {"channel_txn_id": "Id", "txn_time": "T", "amount": "A", "status": "S"},
        dotted: value,
    }
    raw = {"inbox": "i", "data_dir": "d", "formats": {"x": spec}, "sources": []}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, tmp_path / "recon.toml")
    assert info.value.key == key and says in str(info.value), str(info.value)
