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
