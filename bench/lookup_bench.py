"""The lookup service's benchmark (SPEC §9, §10): latency of `GET /api/v1/trace` under
`clients` concurrent clients, for keys of the last month and keys a year old, on a lake of
`dates` published dates.

    python -m bench.lookup_bench [--work DIR] [--dates 365] [--clients 20] [--requests 400]
                                 [--orders 1000] [--real-days 7] [--think 1.0] [--keep]

prints the result of `lookup_bench()` as JSON.

How the lake is made (a year of real runs would take hours):

1. `real_days` dates (default 7) are generated (`recon generate`, `orders` a day, every
   injected anomaly) and reconciled by the real pipeline (`run_range`), ending on END.
2. The `dates - real_days` dates before them are *synthesized* from those published versions,
   tiled backwards: the synthetic date S copies the real version T = S + k * real_days (the k
   that puts T among the real dates), with every date shifted by S - T: DATE and TIMESTAMP
   columns, and the dates written inside strings (order numbers PO20261101..., channel ids
   4200020261101..., TL261101..., refs WECHAT:2026-11-02, settle items, file names). Each
   block of `real_days` synthetic dates is the real run moved back in time, so every key is
   unique, refs agree across tables, and each date has the same shape as a real one: its
   normalized partitions, settlements, distributions and exceptions, and its `state/`
   files (carried state and the per-date deltas the trace searches newest first). What a
   lookup never reads (rejects, file manifests, matches, remediation lists, workbooks) is
   left out. The versions are published as a run publishes them (`current/S` pointing at
   `versions/S/<id>`, the familiar lake symlinks through it).
3. The service runs as `recon web` in a subprocess (rate limit off), with a service-role
   token. "recent" keys are order numbers and channel txn ids of dates in the last 30 days,
   "year_old" ones of dates 335-364 days back (4 in 5 order numbers, 1 in 5 channel ids).
   Two loads, each with `clients` threads keeping one HTTP connection each: back to back
   (a client sends its next lookup the moment it has an answer: the worst case for 20
   agents, and what `ok` judges), then as agents who read each answer (a pause of 0.5-1.5 x
   `think_s` after it: `*_think`, judged by `ok_think`).

What this does not model: key shape. The generator's keys carry their date, so a date's
delta files do not overlap others' key ranges and DuckDB skips them from Parquet min/max;
keys with no date in them (random ids) make every lookup read one row group of every delta
file it opens (`transforms/trace/__init__.py` measures that case).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

END = dt.date(2026, 11, 7)  # the last (real) published date
SEED = 20261107
SKIP = ("rejects", "files", "matches", "remediation_lists")  # tables a lookup never reads
NEAR_DAYS = 20  # dates written in a file within this many days of its own date are shifted
RECENT_DAYS = 30
OLD_DAYS = (335, 364)
KEYS_PER_CLASS = 200
TARGET_MS = {"recent": 200, "year_old": 1000}  # SPEC §9: p95
THINK_S = 1.0  # an agent's pause between lookups, in the second load
TOKEN = re.compile(
    r"20\d\d-[01]\d-[0-3]\d"  # ISO date
    r"|20\d\d[01]\d[0-3]\d"  # yyyymmdd
    r"|(?<=[A-Z])\d\d[01]\d[0-3]\d(?=\d{12})"  # yymmdd after a prefix (TL261101000000000001)
)


# ---------------------------------------------------------------------------- the lake


def build_lake(
    work: Path, dates: int = 365, orders: int = 1000, real_days: int = 7, end: dt.date = END
) -> Path:
    """Generate and run `real_days` dates ending on `end`, synthesize the rest; the config."""
    from transforms.config import load_config
    from transforms.generate import generate
    from transforms.pipeline import run_range

    start = end - dt.timedelta(days=real_days - 1)
    config_path = generate(work, start, real_days, orders, seed=SEED)
    config = load_config(config_path)
    run_range(config, start, end)
    synthesize(config, start, real_days, dates - real_days)
    rebuild_catalogs(config)
    return config_path


def rebuild_catalogs(config) -> None:
    """Every date's history catalog, written afresh over the whole synthesized year (a copied
    catalog would list only the days of the real block it was copied from)."""
    from transforms import publish
    from transforms.duck import connect
    from transforms.state import rebuild_catalogs as rebuild

    versions = [(d, publish.current_version(config, d)) for d in publish.published_days(config)]
    con = connect(threads=2)
    try:
        rebuild(con, versions)
    finally:
        con.close()


def synthesize(config, first_real: dt.date, real_days: int, count: int, workers: int = 2):
    """`count` published dates before `first_real`, tiled from the real ones."""
    from transforms import publish

    jobs = []
    for i in range(1, count + 1):
        day = first_real - dt.timedelta(days=i)
        block = (i - 1) // real_days + 1
        template = day + dt.timedelta(days=block * real_days)
        version = publish.current_version(config, template)
        jobs.append((str(version), template, day, str(publish.versions_dir(config, day))))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for day, version in zip(
            [j[2] for j in jobs], pool.map(_synthesize_one, jobs, chunksize=8), strict=True
        ):
            link = publish.pointer(config, day)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(version, link.parent), link)
            publish.ensure_links(config, day)


def _synthesize_one(job) -> str:
    source, template, day, versions = job
    source, versions = Path(source), Path(versions)
    stage = versions / f".staging-{uuid.uuid4().hex[:12]}"
    for path in sorted(Path(source).rglob("*.parquet")):
        rel = path.relative_to(source)
        if rel.parts[0] in SKIP:
            continue
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shift_file(path, stage / rel, template, (day - template).days)
    manifest = {
        "synthetic": {"template": template.isoformat(), "shift_days": (day - template).days}
    }
    (stage / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    version = versions / uuid.uuid4().hex[:12]
    os.rename(stage, version)
    return str(version)


def shift_file(src: Path, dst: Path, around: dt.date, days: int) -> None:
    """The Parquet file with every date `days` later (earlier if negative): date and time
    columns, and dates within NEAR_DAYS of `around` written inside strings."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    by = dt.timedelta(days=days)

    def token(m: re.Match) -> str:
        text = m.group(0)
        fmt = "%Y-%m-%d" if "-" in text else "%Y%m%d" if len(text) == 8 else "%y%m%d"
        try:
            d = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            return text
        return (d + by).strftime(fmt) if abs((d - around).days) <= NEAR_DAYS else text

    columns = []
    for field, col in zip(table.schema, table.columns, strict=True):
        t = field.type
        if pa.types.is_date32(t):
            col = pc.add(col.cast(pa.int32()), pa.scalar(days, pa.int32())).cast(t)
        elif pa.types.is_timestamp(t):
            col = pc.add(col, pa.scalar(by, pa.duration(t.unit)))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            encoded = pc.dictionary_encode(col).combine_chunks()
            values = [
                None if v is None else TOKEN.sub(token, v) for v in encoded.dictionary.to_pylist()
            ]
            col = pc.take(pa.array(values, t), encoded.indices)
        columns.append(col)
    pq.write_table(pa.Table.from_arrays(columns, schema=table.schema), dst)


def pick_keys(config, end: dt.date, lo: int, hi: int, n: int, rng: random.Random) -> list[str]:
    """Order numbers (4 in 5) and channel txn ids (1 in 5) of repayments dated lo..hi days
    before `end` that a lookup can find: settled ones (in the deltas) and those still in play
    on `end`. (A synthesized block drops the items still in play at its end: they never
    settle and are in no later state.) Read through the trace's own `Lake`, as it reads."""
    from transforms.trace.lake import Lake, lit

    first, last = end - dt.timedelta(days=hi), end - dt.timedelta(days=lo)
    dated = f"biz_date BETWEEN {lit(first)} AND {lit(last)}"
    lake = Lake(config, end)
    try:
        orders = lake.delta_since("order_keys", first, f"{dated} AND order_type = 'REPAY'")
        orders += lake.state("orders", f"{dated} AND order_type = 'REPAY'")
        txns = lake.delta_since("txn_keys", first, f"{dated} AND txn_type = 'PAY'")
        txns += lake.state("txns", f"{dated} AND txn_type = 'PAY'")
    finally:
        lake.close()
    order_nos = sorted({r["order_no"] for r in orders})
    txn_ids = sorted({r["channel_txn_id"] for r in txns})
    n_txn = min(n // 5, len(txn_ids))
    return rng.sample(order_nos, min(n - n_txn, len(order_nos))) + rng.sample(txn_ids, n_txn)


# ---------------------------------------------------------------------------- the service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(
    config_path: Path, port: int, token: str, timeout: float = 60, workers: int = 1, rate: int = 0
):
    """`recon web` in a subprocess, once it answers `token` (rate: its --rate-limit)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "web",
            "--config",
            str(config_path),
            "--port",
            str(port),
            "--rate-limit",
            str(rate),
            "--workers",
            str(workers),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"recon web exited {proc.returncode}: {proc.stderr.read()!r}")
        try:
            r = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/openapi.json",
                headers={"Authorization": f"Bearer {token}"},
                timeout=2,
            )
            if r.status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("recon web did not answer in time")


def service_rss_mb(proc) -> float:
    """Peak resident memory of the service: its process and its worker processes (MB)."""
    pids, total = [proc.pid], 0
    try:
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM")), 0)
    return round(total / 1024, 1)


def stop_service(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def fire(
    port: int, token: str, keys: list[str], clients: int, requests: int, think_s: float = 0
) -> dict:
    """`requests` lookups of `keys` (in turn) from `clients` threads, each pausing a random
    0.5-1.5 x `think_s` after each answer (0: back to back)."""
    import http.client
    from urllib.parse import quote

    todo = [keys[i % len(keys)] for i in range(requests)]
    lock = threading.Lock()
    latencies: list[float] = []
    failures: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}

    def client(seed: int):
        # http.client over one kept-alive connection: a load generator on the same cores as
        # the service should cost as little as it can (httpx took 6 ms of CPU a request,
        # a third of what the service spent answering it)
        pause = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    key = todo.pop()
                started = time.perf_counter()
                try:
                    conn.request("GET", f"/api/v1/trace?key={quote(key)}", headers=headers)
                    answer = conn.getresponse()
                    answer.read()
                    status = answer.status
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                    conn.close()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        failures[str(status)] = failures.get(str(status), 0) + 1
                if think_s:
                    time.sleep(think_s * pause.uniform(0.5, 1.5))
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[max(0, math.ceil(p * len(latencies)) - 1)], 1)

    return {
        "requests": len(latencies),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "max_ms": round(latencies[-1], 1),
        "per_second": round(len(latencies) / wall, 1),
        "failures": failures,
    }


# ---------------------------------------------------------------------------- the benchmark


def lookup_bench(
    work: Path,
    dates: int = 365,
    clients: int = 20,
    requests: int = 400,
    orders: int = 1000,
    real_days: int = 7,
    think_s: float = THINK_S,
    workers: int | None = None,
) -> dict:
    """Build the lake in `work` (an empty or missing folder), start the service, measure.

    Two loads of `clients` concurrent clients, each for "recent" and "year_old" keys: back
    to back (`recent`, `year_old`: `requests` lookups, a client sends the next as soon as it
    has an answer) and as agents reading each answer (`recent_think`, `year_old_think`:
    `requests` / 2 lookups, a pause of 0.5-1.5 x `think_s` after each). Each has p50/p95/max
    in ms, lookups a second, failures, and whether p95 meets its SPEC §9 target; `ok` is the
    back-to-back verdict, `ok_think` the other."""
    workers = workers or os.cpu_count() or 1
    from transforms.config import load_config
    from transforms.web import tokens

    if dates <= real_days:
        raise ValueError(f"dates: expected more than real_days ({real_days}), found {dates}")
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    config_path = build_lake(work, dates, orders, real_days)
    built = time.perf_counter() - t0
    config = load_config(config_path)
    rng = random.Random(SEED)
    oldest = min(OLD_DAYS[1], dates - 1)
    keys = {
        "recent": pick_keys(config, END, 0, RECENT_DAYS - 1, KEYS_PER_CLASS, rng),
        "year_old": pick_keys(config, END, min(OLD_DAYS[0], oldest), oldest, KEYS_PER_CLASS, rng),
    }
    token = tokens.add(config, "bench", "service")
    port = free_port()
    proc = start_service(config_path, port, token, workers=workers)
    measured = {}
    try:
        fire(port, token, keys["recent"][:20] + keys["year_old"][:20], clients, 40)  # warm up
        for name, ks in keys.items():
            measured[name] = fire(port, token, ks, clients, requests)
        for name, ks in keys.items():
            measured[f"{name}_think"] = fire(port, token, ks[::-1], clients, requests // 2, think_s)
        service_mb = service_rss_mb(proc)
    finally:
        stop_service(proc)
    for name, m in measured.items():
        m["target_p95_ms"] = TARGET_MS[name.removesuffix("_think")]
        m["ok"] = m["p95_ms"] <= m["target_p95_ms"] and not m["failures"]
    return {
        "dates": dates,
        "real_dates": real_days,
        "orders_per_day": orders,
        "clients": clients,
        "think_s": think_s,
        "workers": workers,
        "service_peak_rss_mb": service_mb,
        "lake_build_s": round(built, 1),
        **measured,
        "ok": measured["recent"]["ok"] and measured["year_old"]["ok"],
        "ok_think": measured["recent_think"]["ok"] and measured["year_old_think"]["ok"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.lookup_bench", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for the lake (default: a temporary one, removed)",
    )
    p.add_argument("--dates", type=int, default=365)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=400, help="lookups per key class")
    p.add_argument("--orders", type=int, default=1000, help="platform orders per real date")
    p.add_argument("--real-days", type=int, default=7)
    p.add_argument(
        "--workers", type=int, default=None, help="recon web --workers (default: one per core)"
    )
    p.add_argument(
        "--think", type=float, default=THINK_S, help="seconds between lookups (2nd load)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="recon-lookup-bench-"))
    try:
        result = lookup_bench(
            work,
            args.dates,
            args.clients,
            args.requests,
            args.orders,
            args.real_days,
            args.think,
            args.workers,
        )
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
