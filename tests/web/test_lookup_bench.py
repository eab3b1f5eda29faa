"""bench/lookup_bench.py at a toy size: the synthesized lake answers every lookup (no timing
assertions: SPEC §9 is measured by the benchmark, not by tests)."""

from __future__ import annotations

from bench.lookup_bench import lookup_bench


def test_lookup_bench_smoke(tmp_path):
    result = lookup_bench(
        tmp_path, dates=12, clients=4, requests=16, orders=40, real_days=4, think_s=0.1
    )
    assert result["dates"] == 12
    for name in ("recent", "year_old", "recent_think", "year_old_think"):
        m = result[name]
        assert m["failures"] == {} and m["requests"] > 0, (name, m)
        assert 0 < m["p50_ms"] <= m["p95_ms"] <= m["max_ms"]
    assert len(list((tmp_path / "data" / "current").iterdir())) == 12
