from __future__ import annotations

import datetime as dt

from transforms.generate import fee_fen, generate, yuan, yuan_thousands


def test_same_seed_same_bytes(tmp_path):
    a = generate(tmp_path / "a", dt.date(2026, 11, 1), 3, 15, seed=5).parent
    b = generate(tmp_path / "b", dt.date(2026, 11, 1), 3, 15, seed=5).parent
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_scales_with_orders(tmp_path):
    small = generate(tmp_path / "s", dt.date(2026, 11, 1), 3, 10, seed=1).parent
    large = generate(tmp_path / "l", dt.date(2026, 11, 1), 3, 100, seed=1).parent

    def count(root):
        return len(
            (root / "inbox/2026-11-01/platform_orders_20261101.csv").read_text().splitlines()
        )

    assert count(large) - count(small) == 90


def test_money_text():
    assert yuan(12345) == "123.45"
    assert yuan(-5) == "-0.05"
    assert yuan_thousands(123456789) == "1,234,567.89"
    assert fee_fen("WECHAT", 600) == 4  # 0.036 yuan rounds half-up to 0.04
