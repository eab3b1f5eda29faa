"""The benchmark's quick size as a smoke test: it completes, every answer key scores 100% and the
table has every step. No timing assertions (SPEC §9: measured by the benchmark, not by tests)."""

from __future__ import annotations

import json

from bench.run import RESULTS, main


def test_quick_benchmark(tmp_path, capsys):
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    # The Dask step (a LocalCluster and a Prefect server) is left to tests/flows/test_dask_runner.py,
    # the lookup step to tests/web/test_lookup_bench.py.
    assert main(["--quick", "--out", str(tmp_path), "--skip", "dask", "--skip", "lookup"]) == 0
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["ok"]
    assert [s["scenario"] for s in results["scores"]] == ["scale 2,000", "series 4 x 2,000"]
    for s in results["scores"]:
        assert s["perfect"], s
        assert all(t["precision"] == t["recall"] == 1.0 for t in s["types"].values()), s
    types = set(results["scores"][1]["types"])
    assert {"MISSING_ON_PLATFORM", "PLATFORM_NOT_PAID", "MISSING_ON_CHANNEL", "AMOUNT_MISMATCH",
            "DUPLICATE_DEBIT", "SETTLEMENT_MISMATCH", "SETTLEMENT_MISSING",
            "BANK_UNEXPLAINED"} <= types  # fmt: skip
    steps = [(r["scenario"], r["step"]) for r in results["steps"]]
    expected = (
        [("scale 2,000", "generate 3 x 2,000")]
        + [("scale 2,000", f"run 2026-11-0{d} (day {d})") for d in (1, 2, 3)]
        + [("scale 2,000", "floor: bare scan of 2026-11-03"),
           ("scale 2,000", "plain DuckDB SQL script (layers A+B) on 2026-11-03"),
           ("scale 2,000", "polars lazy scans, join, group_by on 2026-11-03"),
           ("scale 2,000", "pandas read_csv+merge+groupby"),
           ("series 4 x 2,000", "generate 4 x 2,000")]
        + [("series 4 x 2,000", f"run 2026-11-0{d} (day {d})") for d in (1, 2, 3, 4)]
        + [("history 8", "generate 3 x 2,000"),
           ("history 8", "run 2026-11-01 (the first real date)")]
        + [("history 8", f"run 2026-11-02 after 1 day of history (run {n})") for n in (1, 2)]
        + [("history 8", "synthesize 7 earlier dates")]
        + [("history 8", f"run 2026-11-02 after 8 days of history (run {n})") for n in (1, 2)]
        + [("workbook", "workbook 2,000 rows")]
    )  # fmt: skip
    assert steps == expected
    for scenario, step in expected:
        assert any(scenario in line and step in line for line in out.splitlines()), step
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in results["steps"][:-1])
    ratios = {r["scenario"]: r for r in results["ratios"]}
    assert {"day_over_floor", "day_over_duckdb_script", "day_over_polars", "pandas_over_ours",
            "rows_per_s", "rss_vs_2gb"} <= set(ratios["scale 2,000"])  # fmt: skip
    assert {"long_over_short_seconds", "long_over_short_rss"} <= set(ratios["history 8"])
    assert len(ratios["series 4 x 2,000"]["day_seconds"]) == 4
    for phrase in (
        "last day / day 2",
        "day / floor",
        "day / plain DuckDB script",
        "day / polars",
        "pandas / ours",
        "after 8 days of history / after 1 day",
    ):
        assert phrase in out, phrase
    # --quick records nothing unless asked to.
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before
