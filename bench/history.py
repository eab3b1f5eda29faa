"""A year of published history for the `history 365` scenario of the benchmark (SPEC §9: after
a year of history a date costs <= 1.1 x the same date after one day, in time and memory).

Running 365 days of 1M orders would take hours, so the history before the first real date is
synthesized from that date's published state, as runs leave it: for every earlier date S, the
real first date's delta files (order keys, transaction keys, bank keys, refunds, installment
collections: what a date publishes of what left play, a million rows a day at 1M orders) are
written again with every date moved to S: DATE columns, and the dates inside keys and names
(PO20261101..., LN20261101..., 4200020261101..., TL261101..., file names), so each synthetic
date holds other keys than every other date, in the same order, sizes and row groups. Each is
published as a version (`current/S`) with its manifest; the real first date's history catalog
is then written again over the whole year, as a run that had lived through it would have left
it. What a date's run never reads of earlier dates (their carried state, normalized inputs,
report tables, workbooks) is left out: it reads the previous date's carried state and, through
the catalog, the deltas.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from transforms import lake, publish
from transforms.config import load_config
from transforms.duck import connect, sql_path
from transforms.state import DELTAS, rebuild_catalogs, state_file


def synthesize(config_path: Path, first_real: dt.date, days: int, workers: int = 2) -> int:
    """`days - 1` published dates before `first_real` (so `days` dates of history up to it);
    returns the number of delta rows written."""
    config = load_config(config_path)
    source = publish.current_version(config, first_real)
    jobs = [
        (str(config_path), str(source), first_real, first_real - dt.timedelta(days=i))
        for i in range(1, days)
    ]
    rows = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for day, version, n in pool.map(_one, jobs, chunksize=4):
            rows += n
            link = publish.pointer(config, day)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(version, link.parent), link)
    versions = [(d, publish.current_version(config, d)) for d in publish.published_days(config)]
    con = connect(threads=2)
    try:
        rebuild_catalogs(con, [(d, v) for d, v in versions if d <= first_real])
    finally:
        con.close()
    return rows


def _one(job) -> tuple[dt.date, str, int]:
    config_path, source, real, day = job
    config = load_config(Path(config_path))
    source = Path(source)
    stage = publish.versions_dir(config, day) / f".staging-{uuid.uuid4().hex[:12]}"
    (stage / "state").mkdir(parents=True)
    shift = (day - real).days
    dates = [
        (real.strftime("%Y%m%d"), day.strftime("%Y%m%d")),
        (real.strftime("%y%m%d"), day.strftime("%y%m%d")),
        (real.isoformat(), day.isoformat()),
    ]
    con = connect(threads=1)
    rows = 0
    try:
        for d in DELTAS:
            src = state_file(source, d.name)
            if not src.exists():
                continue
            cols = []
            for name, typ in lake.STATE[d.name]:
                expr = name
                if typ == "VARCHAR":
                    for old, new in dates:  # 8-digit dates first: they hold the 6-digit ones
                        expr = f"replace({expr}, '{old}', '{new}')"
                elif typ == "DATE":
                    expr = f"CAST({name} + {shift} AS DATE)"
                cols.append(f"{expr} AS {name}")
            (n,) = con.execute(f"SELECT count(*) FROM read_parquet({sql_path(src)})").fetchone()
            rows += n
            # keys of one series move together, so the file stays in its key order
            con.execute(
                f"COPY (SELECT {', '.join(cols)} FROM read_parquet({sql_path(src)})) "
                f"TO {sql_path(state_file(stage, d.name))} ({lake.PARQUET})"
            )
    finally:
        con.close()
    manifest = {"report_date": day.isoformat(), "synthetic": {"from": real.isoformat()}}
    (stage / publish.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    version = stage.with_name(uuid.uuid4().hex[:12])
    os.rename(stage, version)
    return day, str(version), rows
