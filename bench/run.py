"""The performance benchmark (SPEC §9): `recon bench` / `make bench`.

    recon bench [--quick] [--out DIR] [--scales 1000000,3000000,10000000] [--scale-days 3]
                [--days 30 --days-orders 1000000] [--workbook-rows 100000]
                [--dask-days 7 --dask-orders 1000000 --dask-workers 2] [--skip WHAT]
                [--record] [--keep]

Every measured step runs as its own child process; its wall time and peak RSS (ru_maxrss from
os.wait4) are its own.

1. Scale: for each scale, generate an inbox of `--scale-days` days of that many platform orders a
   day (channel volume matching, spread over the three channel formats, plus the bank day; at
   least 3 days so the injected differences age past their pending window), then
   `recon run --config C --date D` for each date in turn. The published OPEN exceptions are
   scored against the answer key, per type. In the same run: the floor (a bare DuckDB scan of the
   last date's raw files, `bench/probes.py` says exactly what), and the obvious pandas approach on
   the same files at the largest scale it survives (RLIMIT_AS `--pandas-limit-gb`; if it dies, the
   next smaller scale).
2. Series: `--days` consecutive days of `--days-orders` orders, run date by date; time and peak
   RSS of every date, and the ratio of the last date to the second.
3. Workbook: `bench.workbook_bench.time_workbook(--workbook-rows)`.
4. Dask: a backfill of `--dask-days` dates of `--dask-orders` orders a day, run as one range
   (`recon run --date D1 --to D7`) by the local runner, then again from an empty data_dir by
   the Dask runner on a LocalCluster of `--dask-workers` worker processes
   (`--runner dask --dask-workers 2`); the ratio of the two wall times, and a check that every
   Parquet of every date is byte-identical between the two. The peak RSS of the Dask run is
   the largest single process (the flow's, a worker's or the temporary Prefect server's):
   the workers are the measured process's children.

Prints a table, writes `results.json` in the output folder, and appends the table to
`bench/RESULTS.md` with the machine, date, versions and git commit (`--quick` writes to a
temporary folder and records nothing unless `--record`). Exit code 0 when every step ran and
every answer key scored 100%, else 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import measure, score
from bench.measure import ROOT, Measured
from transforms.config import load_config

START = dt.date(2026, 11, 1)
SEED = 20261101
GIB = 1 << 30
RSS_TARGET_KIB = 2 * (1 << 20)  # SPEC §9: peak memory <= 2 GB at 10M + 10M
RESULTS = ROOT / "bench" / "RESULTS.md"
STEPS = (
    "scales", "floor", "duckdb-script", "polars", "pandas", "series", "history", "lookup",
    "workbook", "dask",
)  # fmt: skip
QUICK = {
    "scales": [2_000],
    "scale_days": 3,
    "days": 4,
    "days_orders": 2_000,
    "workbook_rows": 2_000,
    "dask_days": 3,
    "dask_orders": 2_000,
    "history_days": 8,
    "history_orders": 2_000,
    "lookup_dates": 14,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="recon bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test (< 60 s)")
    p.add_argument("--out", type=Path, help="work folder (default: data/bench, or a temp folder)")
    p.add_argument("--scales", type=_ints, help="platform orders a day (default 1M,3M,10M)")
    p.add_argument("--scale-days", type=int, help="days generated per scale (default 3, min 3)")
    p.add_argument("--days", type=int, help="days of the series (default 30)")
    p.add_argument("--days-orders", type=int, help="orders a day of the series (default 1M)")
    p.add_argument("--workbook-rows", type=int, help="exception rows (default 100000)")
    p.add_argument("--dask-days", type=int, help="dates of the Dask backfill (default 7)")
    p.add_argument("--dask-orders", type=int, help="orders a day of the Dask backfill (1M)")
    p.add_argument("--dask-workers", type=int, default=2, help="LocalCluster worker processes")
    p.add_argument("--history-days", type=int, help="days of history of `history` (365)")
    p.add_argument("--history-orders", type=int, help="orders a day of `history` (1M)")
    p.add_argument("--lookup-dates", type=int, help="published dates of `lookup` (365)")
    p.add_argument("--lookup-clients", type=int, default=20, help="concurrent lookup clients")
    p.add_argument("--pandas-limit-gb", type=float, default=16.0, help="RLIMIT_AS of pandas")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--skip", action="append", default=[], choices=STEPS, help="repeatable")
    p.add_argument("--record", action="store_true", help="append to bench/RESULTS.md (quick)")
    p.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    p.add_argument("--keep", action="store_true", help="keep the generated inboxes and lakes")
    args = p.parse_args(argv)
    sizes = QUICK if args.quick else {
        "scales": [1_000_000, 3_000_000, 10_000_000], "scale_days": 3, "days": 30,
        "days_orders": 1_000_000, "workbook_rows": 100_000, "dask_days": 7,
        "dask_orders": 1_000_000, "history_days": 365, "history_orders": 1_000_000,
        "lookup_dates": 365,
    }  # fmt: skip
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.scale_days < 3 or args.days < 3 or args.dask_days < 3:
        p.error(
            "--scale-days, --days and --dask-days must be at least 3 (injected differences "
            "must age)"
        )
    return args


def _ints(text: str) -> list[int]:
    try:
        return [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas: {text!r}"
        ) from None


# ---- the scenarios --------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, out: Path):
        self.args, self.out = args, out
        self.steps: list[dict] = []  # one row of the table per measured step
        self.scores: list[dict] = []
        self.ratios: list[dict] = []
        self.ok = True

    def step(self, scenario: str, what: str, m: Measured, rows: int = 0, note: str = "") -> dict:
        row = {
            "scenario": scenario,
            "step": what,
            "seconds": m.seconds,
            "peak_rss_mb": round(m.peak_rss_mb, 1),
            "rows": rows,
            "rows_per_s": round(rows / m.seconds) if rows and m.seconds else 0,
            "ok": m.ok,
            "note": note if m.ok else f"FAILED (exit {m.returncode}, log {m.log}) {note}".strip(),
        }
        self.steps.append(row)
        self.ok &= m.ok
        print(_row_text(row), flush=True)
        return row

    def generate(self, scenario: str, folder: Path, days: int, orders: int) -> Measured:
        m = measure.run(
            "generate",
            measure.probe(
                "generate", out=folder, start=START, days=days, orders=orders, seed=self.args.seed
            ),  # fmt: skip
            self.out / "logs" / f"{folder.name}_generate.log",
        )
        per_day = m.result.get("seconds", {})
        note = f"{days} days; per day {_seconds(per_day)} s" if per_day else ""
        rows = sum(sum(r.values()) for r in m.result.get("rows", {}).values())
        self.step(scenario, f"generate {days} x {orders:,}", m, rows, note)
        return m

    def run_dates(self, scenario: str, folder: Path, days: int, rows: dict) -> list[dict]:
        config = folder / "recon.toml"
        out = []
        for i in range(days):
            day = (START + dt.timedelta(days=i)).isoformat()
            m = measure.run(
                f"run {day}",
                measure.recon("run", "--config", str(config), "--date", day),
                self.out / "logs" / f"{folder.name}_run_{day}.log",
            )
            n = sum(rows.get(day, {}).values())
            out.append(self.step(scenario, f"run {day} (day {i + 1})", m, n))
        return out

    def score(self, scenario: str, folder: Path) -> dict:
        s = score.score(folder / "recon.toml", folder / "answer_key.csv")
        s["scenario"] = scenario
        self.scores.append(s)
        self.ok &= s["perfect"]
        print(_score_text(s), flush=True)
        return s

    def scales(self) -> None:
        done: list[tuple[int, Path, dict]] = []  # (orders, folder, last run row)
        for orders in self.args.scales:
            scenario = f"scale {orders:,}"
            folder = self.out / f"scale_{orders}"
            g = self.generate(scenario, folder, self.args.scale_days, orders)
            if not g.ok:
                continue
            runs = self.run_dates(scenario, folder, self.args.scale_days, g.result["rows"])
            self.score(scenario, folder)
            last = runs[-1]
            ratio = {
                "scenario": scenario,
                "orders": orders,
                "day_seconds": last["seconds"],
                "rows_per_s": last["rows_per_s"],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "rss_vs_2gb": round(max(r["peak_rss_mb"] for r in runs) * 1024 / RSS_TARGET_KIB, 2),
            }
            if "floor" not in self.args.skip:
                day = (START + dt.timedelta(days=self.args.scale_days - 1)).isoformat()
                f = measure.run(
                    "floor",
                    measure.probe("floor", folder=folder / "inbox" / day, work=folder / "floor"),
                    self.out / "logs" / f"{folder.name}_floor.log",
                )
                r = f.result
                note = (
                    f"DuckDB scan {r.get('scan_seconds')} s + GBK unzip/transcode "
                    f"{r.get('transcode_seconds')} s; {r.get('bytes', 0) / 1e6:,.0f} MB of files"
                )
                self.step(scenario, f"floor: bare scan of {day}", f, last["rows"], note)
                if f.ok:
                    ratio["floor_seconds"] = f.seconds
                    ratio["day_over_floor"] = round(last["seconds"] / f.seconds, 2)
                    ratio["day_over_scan"] = round(last["seconds"] / r["scan_seconds"], 2)
                shutil.rmtree(folder / "floor", ignore_errors=True)
            self.peers(scenario, folder, last, ratio)
            self.ratios.append(ratio)
            done.append((orders, folder, last))
        if "pandas" not in self.args.skip:
            self.pandas(done)
        if not self.args.keep:
            for _, folder, _ in done:
                shutil.rmtree(folder, ignore_errors=True)

    def peers(self, scenario: str, folder: Path, last: dict, ratio: dict) -> None:
        """The plain DuckDB SQL script (bench/peers/) and polars, over the last date's files."""
        day = (START + dt.timedelta(days=self.args.scale_days - 1)).isoformat()
        for name, probe, label in (
            ("duckdb-script", "duckdb_script", "plain DuckDB SQL script (layers A+B)"),
            ("polars", "polars", "polars lazy scans, join, group_by"),
        ):
            if name in self.args.skip:
                continue
            m = measure.run(
                name,
                measure.probe(probe, folder=folder / "inbox" / day, work=folder / name),
                self.out / "logs" / f"{folder.name}_{name}.log",
            )
            r = m.result
            note = f"GBK transcode {r.get('transcode_seconds')} s; found {r.get('differences')}"
            self.step(scenario, f"{label} on {day}", m, r.get("rows", 0), note)
            if m.ok:
                key = name.replace("-", "_")
                ratio[f"{key}_seconds"] = m.seconds
                ratio[f"day_over_{key}"] = round(last["seconds"] / m.seconds, 2)
            shutil.rmtree(folder / name, ignore_errors=True)

    def history(self) -> None:
        """The same date after one day of published history and after `history_days` days
        (bench/history.py synthesizes the year before the first real date)."""
        days, orders = self.args.history_days, self.args.history_orders
        scenario = f"history {days}"
        folder = self.out / "history"
        g = self.generate(scenario, folder, 3, orders)
        if not g.ok:
            return
        config = folder / "recon.toml"
        second = (START + dt.timedelta(days=1)).isoformat()

        def run_second(label: str) -> list[dict]:
            rows = sum(g.result["rows"].get(second, {}).values())
            out = []
            for attempt in (1, 2):
                m = measure.run(
                    f"run {second}",
                    measure.recon("run", "--config", str(config), "--date", second),
                    self.out / "logs" / f"history_{label}_{attempt}.log",
                )
                out.append(
                    self.step(scenario, f"run {second} after {label} (run {attempt})", m, rows)
                )
            return out

        first = measure.run(
            "run first",
            measure.recon("run", "--config", str(config), "--date", START.isoformat()),
            self.out / "logs" / "history_first.log",
        )
        self.step(scenario, f"run {START} (the first real date)", first)
        short = run_second("1 day of history")
        s = measure.run(
            "synthesize",
            measure.probe("history", config=config, first=START.isoformat(), days=days),
            self.out / "logs" / "history_synthesize.log",
        )
        self.step(scenario, f"synthesize {days - 1} earlier dates", s, s.result.get("rows", 0),
                  "delta files of the first date with every date moved; catalogs rebuilt")  # fmt: skip
        long = run_second(f"{days} days of history")
        if s.ok and all(r["ok"] for r in short + long):
            t_short = min(r["seconds"] for r in short)
            t_long = min(r["seconds"] for r in long)
            m_short = min(r["peak_rss_mb"] for r in short)
            m_long = min(r["peak_rss_mb"] for r in long)
            self.ratios.append({
                "scenario": scenario, "orders": orders, "days": days,
                "long_over_short_seconds": round(t_long / t_short, 2),
                "long_over_short_rss": round(m_long / m_short, 2),
                "short_seconds": t_short, "long_seconds": t_long,
            })  # fmt: skip
        if not self.args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def lookup(self) -> None:
        """The lookup service (bench/lookup_bench.py) on a lake of `lookup_dates` dates."""
        dates, clients = self.args.lookup_dates, self.args.lookup_clients
        folder = self.out / "lookup"
        m = measure.run(
            "lookup",
            measure.probe("lookup", work=folder, dates=dates, clients=clients),
            self.out / "logs" / "lookup.log",
        )
        r = m.result
        for load in ("recent", "year_old", "recent_think", "year_old_think"):
            x = r.get(load)
            if not x:
                continue
            self.steps.append({
                "scenario": f"lookup {dates} dates", "step": f"{load}: p50 / p95 / max ms",
                "seconds": round(x["p95_ms"] / 1000, 3), "peak_rss_mb": round(m.peak_rss_mb, 1),
                "rows": x["requests"], "rows_per_s": round(x["per_second"]), "ok": True,
                "note": f"{x['p50_ms']:.0f} / {x['p95_ms']:.0f} / {x['max_ms']:.0f} ms, "
                        f"{clients} clients, target p95 <= {x['target_p95_ms']} ms: "
                        + ("met" if x["ok"] else "MISSED"),
            })  # fmt: skip
            print(_row_text(self.steps[-1]), flush=True)
        if not m.ok:
            self.step(f"lookup {dates} dates", "lookup benchmark", m)
        shutil.rmtree(folder, ignore_errors=True)

    def pandas(self, done: list[tuple[int, Path, dict]]) -> None:
        """The obvious pandas approach at the largest scale it survives."""
        limit = int(self.args.pandas_limit_gb * GIB)
        for orders, folder, last in sorted(done, key=lambda d: d[0], reverse=True):
            day = (START + dt.timedelta(days=self.args.scale_days - 1)).isoformat()
            m = measure.run(
                "pandas",
                measure.probe("pandas", folder=folder / "inbox" / day),
                self.out / "logs" / f"{folder.name}_pandas.log",
                limit_as=limit,
            )
            scenario = f"scale {orders:,}"
            if not m.ok:  # expected at some scale: record it and try the next smaller one
                self.steps.append({
                    "scenario": scenario, "step": "pandas read_csv+merge+groupby",
                    "seconds": m.seconds, "peak_rss_mb": round(m.peak_rss_mb, 1), "rows": 0,
                    "rows_per_s": 0, "ok": True,
                    "note": f"did not survive (exit {m.returncode}, RLIMIT_AS "
                            f"{self.args.pandas_limit_gb:g} GB; log {m.log})",
                })  # fmt: skip
                print(_row_text(self.steps[-1]), flush=True)
                continue
            rows = m.result.get("rows", 0)
            self.step(scenario, "pandas read_csv+merge+groupby", m, rows,
                      f"read_csv {m.result.get('read_seconds')} s")  # fmt: skip
            for ratio in self.ratios:
                if ratio["orders"] == orders:
                    ratio["pandas_seconds"] = m.seconds
                    ratio["pandas_over_ours"] = round(m.seconds / last["seconds"], 2)
            return
        self.steps.append({
            "scenario": "pandas", "step": "pandas read_csv+merge+groupby", "seconds": 0,
            "peak_rss_mb": 0, "rows": 0, "rows_per_s": 0, "ok": True,
            "note": "did not survive at any scale",
        })  # fmt: skip

    def series(self) -> None:
        days, orders = self.args.days, self.args.days_orders
        scenario = f"series {days} x {orders:,}"
        folder = self.out / "series"
        g = self.generate(scenario, folder, days, orders)
        if g.ok:
            runs = self.run_dates(scenario, folder, days, g.result["rows"])
            self.score(scenario, folder)
            second, last = runs[1], runs[-1]
            self.ratios.append({
                "scenario": scenario,
                "orders": orders,
                "last_over_second_seconds": round(last["seconds"] / second["seconds"], 2),
                "last_over_second_rss": round(last["peak_rss_mb"] / second["peak_rss_mb"], 2)
                if second["peak_rss_mb"] else None,
                "day_seconds": [r["seconds"] for r in runs],
                "day_peak_rss_mb": [r["peak_rss_mb"] for r in runs],
            })  # fmt: skip
        if not self.args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def workbook(self) -> None:
        rows = self.args.workbook_rows
        folder = self.out / "workbook"
        m = measure.run(
            "workbook",
            measure.probe("workbook", rows=rows, out=folder),
            self.out / "logs" / "workbook.log",
        )
        if "skipped" in m.result:
            self.steps.append({
                "scenario": "workbook", "step": f"workbook {rows:,} rows", "seconds": 0,
                "peak_rss_mb": 0, "rows": 0, "rows_per_s": 0, "ok": True,
                "note": m.result["skipped"],
            })  # fmt: skip
            print(_row_text(self.steps[-1]), flush=True)
        else:
            secs = m.result.get("seconds")
            note = f"write_workbook {secs} s (target <= 10 s at 100,000 rows)" if secs else ""
            self.step("workbook", f"workbook {rows:,} rows", m, rows, note)
        if not self.args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def dask(self) -> None:
        """The same backfill on the local runner and on a Dask LocalCluster: time and equality."""
        days, orders, workers = self.args.dask_days, self.args.dask_orders, self.args.dask_workers
        scenario = f"dask {days} x {orders:,}"
        folder = self.out / "dask"
        g = self.generate(scenario, folder, days, orders)
        if g.ok:
            config = folder / "recon.toml"
            first, last = START.isoformat(), (START + dt.timedelta(days=days - 1)).isoformat()
            backfill = ["run", "--config", str(config), "--date", first, "--to", last]
            rows = sum(sum(r.values()) for r in g.result["rows"].values())
            local = measure.run(
                "backfill local", measure.recon(*backfill), self.out / "logs" / "dask_local.log"
            )
            self.step(scenario, f"backfill {days} dates, local runner", local, rows)
        if g.ok and local.ok:
            data = load_config(config).data_dir
            local_data = data.with_name(data.name + "_local")
            shutil.rmtree(local_data, ignore_errors=True)
            data.rename(local_data)  # the links under current/ are relative: they still resolve
            on_dask = measure.run(
                "backfill dask",
                measure.recon(*backfill, "--runner", "dask", "--dask-workers", str(workers)),
                self.out / "logs" / "dask_dask.log",
            )
            same = on_dask.ok and published_digests(local_data) == published_digests(data)
            note = f"LocalCluster of {workers} worker processes; every Parquet of every date " + (
                "byte-identical to the local run" if same else "DIFFERS from the local run"
            )
            self.step(scenario, f"backfill {days} dates, Dask runner", on_dask, rows, note)
            self.ok &= same
            if on_dask.ok:
                self.score(scenario, folder)
                self.ratios.append({
                    "scenario": scenario, "orders": orders, "workers": workers,
                    "local_seconds": local.seconds, "dask_seconds": on_dask.seconds,
                    "dask_over_local": round(on_dask.seconds / local.seconds, 2),
                    "identical": same,
                })  # fmt: skip
        if not self.args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def published_digests(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every Parquet file of every published date (`current/D` -> its version)."""
    found = {}
    for link in sorted((data_dir / "current").iterdir()):
        version = link.resolve()
        for p in sorted(version.rglob("*.parquet")):
            found[f"{link.name}/{p.relative_to(version)}"] = hashlib.sha256(
                p.read_bytes()
            ).hexdigest()
    return found


# ---- output -----------------------------------------------------------------------------------

COLUMNS = [("scenario", 22), ("step", 34), ("seconds", 9), ("peak_rss_mb", 11), ("rows", 12),
           ("rows_per_s", 11), ("note", 0)]  # fmt: skip
HEADERS = {"seconds": "wall s", "peak_rss_mb": "peak RSS MB", "rows_per_s": "rows/s"}


def _fmt(name: str, value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if name == "seconds" else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if value else ""
    return str(value)


def _row_text(row: dict) -> str:
    cells = []
    for name, width in COLUMNS:
        text = _fmt(name, row.get(name, ""))
        right = name in ("seconds", "peak_rss_mb", "rows", "rows_per_s")
        cells.append(text.rjust(width) if right else text.ljust(width))
    return "  ".join(cells).rstrip()


def _header_text() -> str:
    cells = []
    for name, width in COLUMNS:
        label = HEADERS.get(name, name)
        right = name in ("seconds", "peak_rss_mb", "rows", "rows_per_s")
        cells.append(label.rjust(width) if right else label.ljust(width))
    return "  ".join(cells).rstrip()


def _seconds(per_day: dict) -> str:
    return ", ".join(f"{v:.1f}" for v in per_day.values())


def _score_text(s: dict) -> str:
    lines = [f"answer key, {s['scenario']}: {'100% on every type' if s['perfect'] else 'NOT 100%'}"]
    for kind, t in s["types"].items():
        lines.append(
            f"    {kind:<22} key {t['key']:>4}  found {t['found']:>4}  "
            f"precision {t['precision']:.0%}  recall {t['recall']:.0%}"
        )
    if s["extra"]:
        lines.append(f"    not injected (first 10): {s['extra']}")
    if s["missed"]:
        lines.append(f"    missed (first 10): {s['missed']}")
    return "\n".join(lines)


def ratio_lines(ratios: list[dict]) -> list[str]:
    lines = []
    for r in ratios:
        if "dask_over_local" in r:
            lines.append(
                f"{r['scenario']}: Dask ({r['workers']} workers) / local = "
                f"{r['dask_over_local']} x time ({r['dask_seconds']:.1f} s vs "
                f"{r['local_seconds']:.1f} s); outputs "
                + ("byte-identical" if r["identical"] else "DIFFER")
            )
            continue
        if "long_over_short_seconds" in r:
            lines.append(
                f"{r['scenario']}: a date after {r['days']} days of history / after 1 day = "
                f"{r['long_over_short_seconds']} x time ({r['long_seconds']:.2f} s vs "
                f"{r['short_seconds']:.2f} s), {r['long_over_short_rss']} x peak RSS "
                "(target <= 1.1)"
            )
            continue
        if "last_over_second_seconds" in r:
            lines.append(
                f"{r['scenario']}: last day / day 2 = {r['last_over_second_seconds']} x time, "
                f"{r['last_over_second_rss']} x peak RSS (target <= 1.2)"
            )
            continue
        parts = [f"{r['scenario']}: day {r['day_seconds']:.2f} s, {r['rows_per_s']:,} rows/s",
                 f"peak RSS {r['peak_rss_mb']:,.0f} MB = {r['rss_vs_2gb']} x 2 GB"]  # fmt: skip
        big = r.get("orders", 0) >= 10_000_000
        if "day_over_floor" in r:
            parts.append(
                f"day / floor = {r['day_over_floor']} x (target <= {5 if big else 4}; "
                f"{r['day_over_scan']} x the DuckDB scan alone)"
            )
        if "day_over_duckdb_script" in r:
            parts.append(
                f"day / plain DuckDB script = {r['day_over_duckdb_script']} x (target <= 1.5)"
            )
        if "day_over_polars" in r:
            parts.append(f"day / polars = {r['day_over_polars']} x (target < 1)")
        if "pandas_over_ours" in r:
            parts.append(f"pandas / ours = {r['pandas_over_ours']} x (target >= 5)")
        lines.append("; ".join(parts))
    return lines


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(
            next(line for line in meminfo.splitlines() if line.startswith("MemTotal")).split()[1]
        )
        info["memory_gib"] = round(kib / (1 << 20), 1)
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
             if line.startswith("model name")), platform.processor() or "?",
        )  # fmt: skip
    except (OSError, StopIteration, ValueError):
        info.setdefault("cpu", platform.processor() or "?")
    for module in ("duckdb", "pyarrow", "pandas"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = "-"
    info["commit"] = _git("rev-parse", "--short", "HEAD") or "?"
    if _git("status", "--porcelain"):
        info["commit"] += " (with uncommitted changes)"
    return info


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              timeout=30)  # fmt: skip
        return done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def run_mode(args: argparse.Namespace) -> str:
    mode = "quick" if args.quick else "full"
    return f"{mode}, without {', '.join(args.skip)}" if args.skip else mode


def markdown(bench: Bench, info: dict, args: argparse.Namespace) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {now} · {run_mode(args)} · commit {info['commit']}",
        "",
        f"Machine: {info['nproc']} cores, {info.get('memory_gib', '?')} GiB, {info.get('cpu')}. "
        f"Python {info['python']}, DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}, "
        f"pandas {info['pandas']}.",
        "",
        "| scenario | step | wall s | peak RSS MB | rows | rows/s | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in bench.steps:
        cells = [_fmt(k, r.get(k, "")) for k, _ in COLUMNS]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines.append("")
    for s in bench.scores:
        per_type = ", ".join(
            f"{k} {t['precision']:.0%}/{t['recall']:.0%}" for k, t in s["types"].items()
        )
        verdict = "100%" if s["perfect"] else "NOT 100%"
        lines.append(f"- answer key, {s['scenario']}: {verdict} (precision/recall: {per_type})")
    lines += [f"- {line}" for line in ratio_lines(bench.ratios)]
    return "\n".join(lines) + "\n\n"


RESULTS_HEAD = """# Benchmark results

Appended by `recon bench` (`make bench`); see `bench/run.py` for what each step measures.
Wall time and peak RSS are per child process (ru_maxrss from os.wait4).

"""


def record(path: Path, text: str) -> None:
    if not path.exists():
        path.write_text(RESULTS_HEAD, encoding="utf-8")
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp = None
    if args.out:
        out = args.out.resolve()
    elif args.quick:
        out = Path(temp := tempfile.mkdtemp(prefix="recon-bench-"))
    else:
        out = ROOT / "data" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(
        f"recon bench ({run_mode(args)}) in {out}: {info['nproc']} cores, "
        f"{info.get('memory_gib', '?')} GiB, {info.get('cpu')}; commit {info['commit']}"
    )
    print(_header_text())
    bench = Bench(args, out)
    if "scales" not in args.skip:
        bench.scales()
    if "series" not in args.skip:
        bench.series()
    if "history" not in args.skip:
        bench.history()
    if "lookup" not in args.skip:
        bench.lookup()
    if "workbook" not in args.skip:
        bench.workbook()
    if "dask" not in args.skip:
        bench.dask()
    print()
    print(_header_text())
    for row in bench.steps:
        print(_row_text(row))
    print()
    for s in bench.scores:
        print(_score_text(s))
    for line in ratio_lines(bench.ratios):
        print(line)
    results = {
        "machine": info,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "steps": bench.steps,
        "scores": bench.scores,
        "ratios": bench.ratios,
        "ok": bench.ok,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    if args.record or not args.quick:
        record(args.results, markdown(bench, info, args))
        print(f"\nappended to {args.results}")
    print(f"results: {out / 'results.json'}")
    if temp and bench.ok and not args.keep:
        shutil.rmtree(out / "logs", ignore_errors=True)
    return 0 if bench.ok else 1


if __name__ == "__main__":
    sys.exit(main())
