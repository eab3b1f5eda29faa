"""The benchmark's quick size as a smoke test: it completes, every answer key scores 100% and the
table has every step. No timing assertions (SPEC §9: measured by the benchmark, not by tests)."""

from __future__ import annotations

import json

from bench.run import RESULTS, main


def test_quick_benchmark(tmp_path, capsys):
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    # The Dask step (a LocalCluster and a Prefect server) is left to tests/flows/test_dask_runner.py.
    assert main(["--quick", "--out", str(tmp_path), "--skip", "dask"]) == 0
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
           ("scale 2,000", "pandas read_csv+merge+groupby"),
           ("series 4 x 2,000", "generate 4 x 2,000")]
        + [("series 4 x 2,000", f"run 2026-11-0{d} (day {d})") for d in (1, 2, 3, 4)]
        + [("workbook", "workbook 2,000 rows")]
    )  # fmt: skip
    assert steps == expected
    for scenario, step in expected:
        assert any(scenario in line and step in line for line in out.splitlines()), step
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in results["steps"][:-1])
    ratios = {r["scenario"]: r for r in results["ratios"]}
    assert {"day_over_floor", "pandas_over_ours", "rows_per_s", "rss_vs_2gb"} <= set(
        ratios["scale 2,000"]
    )
    assert len(ratios["series 4 x 2,000"]["day_seconds"]) == 4
    assert "last day / day 2" in out and "day / floor" in out and "pandas / ours" in out
    # --quick records nothing unless asked to.
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before
