"""Files that look like statements but are not ours must be refused clearly, not half-read.

The samples are personal exports (Alipay, GBK; WeChat) from deb-sig/double-entry-generator
(Apache-2.0), copied from ../shared/samples/wrong_format/ to tests/refused/ with their licence. Every
format registered at run time is asked, so formats added later are covered too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms import sources
from transforms.errors import UnrecognizedFormat
from transforms.inspect import inspect_file

SAMPLES = Path(__file__).resolve().parents[1] / "refused"
FILES = ["alipay_personal_export_gbk.csv", "wechat_personal_export.csv"]


@pytest.fixture(params=FILES)
def sample(request) -> Path:
    path = SAMPLES / request.param
    if not path.exists():
        pytest.skip(f"{path} not present (shared samples folder)")
    return path


def test_every_format_declines_with_a_reason(sample):
    head = sample.read_bytes()[:16384]
    for fmt in sources.FORMATS:
        verdict = fmt.identify(sample, head)
        assert not verdict, f"{fmt.name} accepted {sample.name}: {verdict.reason}"
        assert verdict.reason.strip(), f"{fmt.name} declined without saying why"


def test_inspect_refuses_listing_every_format_tried(sample, monkeypatch):
    def must_not_normalize(self, ctx):
        raise AssertionError(f"{type(self).__name__}.normalize called for a refused file")

    for fmt in sources.FORMATS:
        monkeypatch.setattr(type(fmt), "normalize", must_not_normalize)
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(sample)
    names = [f.name for f in sources.FORMATS]
    assert [name for name, _ in exc.value.reasons] == names
    message = str(exc.value)
    assert sample.name in message and "unrecognized format" in message
    for name, why in exc.value.reasons:
        assert f"  - {name}: {why}" in message


def test_cn_bank_says_it_is_a_personal_payment_export(sample):
    (why,) = [w for n, w in _reasons(sample) if n == "cn_bank"]
    assert "personal payment-app export" in why and "收/支" in why


def _reasons(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path)
    return exc.value.reasons
