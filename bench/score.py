"""Score published exceptions against a generated answer key: precision and recall per type."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

EXCEPTIONS_GLOB = "lake/exceptions/report_date=*/*.parquet"


def data_dir(config: Path) -> Path:
    with open(config, "rb") as f:
        settings = tomllib.load(f)
    return (config.parent / settings.get("data_dir", "data")).resolve()


def answer_key(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return {(r["exception_type"], r["ref"]) for r in csv.DictReader(f)}


def open_exceptions(data: Path) -> set[tuple[str, str]]:
    """Distinct (exception_type, ref) published OPEN on any report date."""
    import duckdb

    if not any(data.glob(EXCEPTIONS_GLOB)):
        return set()
    rows = duckdb.sql(
        f"SELECT DISTINCT exception_type, ref FROM read_parquet('{data / EXCEPTIONS_GLOB}') "
        "WHERE status = 'OPEN'"
    ).fetchall()
    return {(t, r) for t, r in rows}


def score(config: Path, key_path: Path) -> dict:
    """{"perfect": bool, "types": {type: {key, found, hit, precision, recall}}, extra/missed samples}."""
    key, found = answer_key(key_path), open_exceptions(data_dir(config))
    types = {}
    for kind in sorted({t for t, _ in key | found}):
        k = {r for t, r in key if t == kind}
        f = {r for t, r in found if t == kind}
        hit = len(k & f)
        types[kind] = {
            "key": len(k),
            "found": len(f),
            "hit": hit,
            "precision": hit / len(f) if f else (1.0 if not k else 0.0),
            "recall": hit / len(k) if k else 1.0,
        }
    return {
        "perfect": key == found,
        "types": types,
        "extra": sorted(found - key)[:10],
        "missed": sorted(key - found)[:10],
    }
