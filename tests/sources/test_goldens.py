"""Golden pairs: every sample under tests/fixtures/<format>/ normalizes to its .golden.csv.

Regenerate with `make goldens` (RECON_REGENERATE_GOLDENS=1), then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from transforms.inspect import golden_text, inspect_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
SKIP = (".golden.csv", ".md", ".toml")


def samples() -> list[Path]:
    out = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for f in sorted(folder.iterdir()):
            if f.is_file() and not f.name.endswith(SKIP) and not f.name.startswith("LICENSE"):
                out.append(f)
    return out


@pytest.mark.parametrize("sample", samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_matches_golden(sample: Path):
    result = inspect_file(sample)
    assert result.format == sample.parent.name, f"{sample} identified as {result.format}"
    text = golden_text(result)
    golden = sample.with_name(sample.name + ".golden.csv")
    if os.environ.get("RECON_REGENERATE_GOLDENS") or not golden.exists():
        golden.write_text(text, encoding="utf-8")
        if not os.environ.get("RECON_REGENERATE_GOLDENS"):
            pytest.fail(f"{golden} did not exist; written now, review and commit it")
    assert text == golden.read_text(encoding="utf-8")
