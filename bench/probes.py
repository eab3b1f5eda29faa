"""The measured steps that run as child processes of the benchmark (so each one's wall time and
peak RSS is its own): `python -m bench.probes WHAT '{json kwargs}'`; the last stdout line is
the result as JSON.

- generate: the generator (`transforms.generate`), timed per day.
- floor: a bare DuckDB scan of one day's raw files, count(*) and a sum of the amount column of
  each. DuckDB reads UTF-8 only, so the GBK files (the Alipay bill inside its zip, the CCB
  statement) are first unzipped and transcoded to a UTF-8 copy, streaming; that step is timed
  apart (`transcode_seconds`) and is part of the floor's total.
- pandas: the obvious pandas approach over the same files: read_csv(dtype=str) of the platform
  export and every channel file, merge on the merchant order number, groupby for settlement sums
  and installments.
- workbook: `bench.workbook_bench.time_workbook(rows, out)` (when that module exists).
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import sys
import time
import zipfile
from pathlib import Path


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(p for p in folder.glob(pattern) if "resend" not in p.name)
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern} in {folder}, found {[p.name for p in found]}")
    return found[0]


def day_files(folder: Path) -> dict[str, Path]:
    return {
        "platform": _one(folder, "platform_orders_*.csv"),
        "wechat": _one(folder, "wechatpay_*.csv"),
        "allinpay": _one(folder, "allinpay_*.txt"),
        "alipay": _one(folder, "alipay_*.csv.zip"),
        "bank": _one(folder, "ccb_collection_*.csv"),
    }


def generate(out: str, start: str, days: int, orders: int, seed: int) -> dict:
    from transforms.generate import generate_counted

    config, sink = generate_counted(Path(out), dt.date.fromisoformat(start), days, orders, seed)
    return {"config": str(config), "rows": sink.rows, "seconds": sink.seconds}


def _transcode(src, target: Path, encoding: str = "gb18030") -> int:
    """Stream bytes of `encoding` from file object `src` into `target` as UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)()
    written = 0
    with open(target, "wb") as out:
        while chunk := src.read(1 << 22):
            written += out.write(decoder.decode(chunk).encode("utf-8"))
        written += out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return written


# The amount column of each file, by position (layouts vary in their header names), and the
# lines to skip before the data.
SCANS = {
    "platform": "SELECT count(*), sum(CAST(amount AS DECIMAL(18,2))) FROM read_csv('{p}', header=true, all_varchar=true)",
    "wechat": "SELECT count(*), sum(TRY_CAST(substr(column12, 2) AS DECIMAL(18,2))) FROM read_csv('{p}', header=false, skip=1, delim=',', quote='', all_varchar=true, null_padding=true)",
    "allinpay": "SELECT count(*), sum(TRY_CAST(column02 AS BIGINT)) FROM read_csv('{p}', header=false, skip=1, delim='|', quote='', all_varchar=true, null_padding=true)",
    "alipay": "SELECT count(*), sum(TRY_CAST(column12 AS DECIMAL(18,2))) FROM read_csv('{p}', header=false, skip=1, delim=',', quote='\"', all_varchar=true, null_padding=true, comment='#')",
    "bank": "SELECT count(*), sum(TRY_CAST(replace(column04, ',', '') AS DECIMAL(18,2))) FROM read_csv('{p}', header=false, skip=3, delim=',', quote='\"', all_varchar=true, null_padding=true)",
}  # fmt: skip


def floor(folder: str, work: str) -> dict:
    import duckdb

    files, work_dir = day_files(Path(folder)), Path(work)
    work_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    utf8 = work_dir / "alipay_utf8.csv"
    with zipfile.ZipFile(files["alipay"]) as zf:
        entry = next(i for i in zf.infolist() if i.filename.lower().endswith(".csv"))
        with zf.open(entry) as src:
            _transcode(src, utf8)
    bank = work_dir / "bank_utf8.csv"
    with open(files["bank"], "rb") as src:
        _transcode(src, bank)
    transcoded = time.perf_counter() - start
    scans = dict(files, alipay=utf8, bank=bank)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    parts = {}
    for name, path in scans.items():
        t = time.perf_counter()
        count, total = con.execute(SCANS[name].format(p=path)).fetchone()
        parts[name] = {
            "seconds": round(time.perf_counter() - t, 3),
            "lines": count,
            "sum": str(total),
            "bytes": files[name].stat().st_size,
        }
    scan = sum(p["seconds"] for p in parts.values())
    return {
        "transcode_seconds": round(transcoded, 3),
        "scan_seconds": round(scan, 3),
        "seconds": round(transcoded + scan, 3),
        "parts": parts,
        "bytes": sum(p.stat().st_size for p in files.values()),
    }


def pandas(folder: str) -> dict:
    import pandas as pd

    files = day_files(Path(folder))
    start = time.perf_counter()
    platform = pd.read_csv(files["platform"], dtype=str)
    wechat = pd.read_csv(files["wechat"], dtype=str, encoding="utf-8-sig")
    wechat = wechat[wechat.iloc[:, 0].str.startswith("`20", na=False)]
    wechat = wechat.apply(lambda col: col.str.removeprefix("`"))
    amount_col = "应结订单金额" if "应结订单金额" in wechat.columns else "总金额"
    allinpay = pd.read_csv(files["allinpay"], sep="|", dtype=str)
    allinpay = allinpay[allinpay["通联订单号"] != "TRAILER"]
    alipay = pd.read_csv(files["alipay"], dtype=str, encoding="gb18030", comment="#")
    alipay = alipay.apply(lambda col: col.str.strip())
    read = time.perf_counter()
    channels = pd.concat(
        [
            pd.DataFrame({
                "order_no": wechat["商户订单号"], "channel": "WECHAT",
                "amount": wechat[amount_col].astype(float), "fee": wechat["手续费"].astype(float),
                "time": wechat["交易时间"]}),
            pd.DataFrame({
                "order_no": allinpay["商户订单号"], "channel": "ALLINPAY",
                "amount": allinpay["交易金额(分)"].astype(float) / 100,
                "fee": allinpay["渠道手续费(分)"].astype(float) / 100,
                "time": allinpay["交易时间"]}),
            pd.DataFrame({
                "order_no": alipay["商户订单号"], "channel": "ALIPAY",
                "amount": alipay["商家实收（元）"].astype(float),
                "fee": -alipay["服务费（元）"].astype(float), "time": alipay["完成时间"]}),
        ],
        ignore_index=True,
    )  # fmt: skip
    platform["amount"] = platform["amount"].astype(float)
    merged = platform.merge(channels, on="order_no", how="outer", indicator=True)
    both = merged["_merge"] == "both"
    findings = {
        "missing_on_channel": int(
            ((merged["_merge"] == "left_only") & (merged["status"] == "SUCCESS")).sum()
        ),
        "missing_on_platform": int((merged["_merge"] == "right_only").sum()),
        "amount_mismatch": int(
            (both & (merged["amount_x"] - merged["amount_y"]).abs().gt(0.005)).sum()
        ),
        "duplicate_debit": int((channels.groupby("order_no").size() > 1).sum()),
    }
    channels["trade_date"] = channels["time"].str[:10]
    settlement = channels.groupby(["channel", "trade_date"]).agg(
        amount=("amount", "sum"), fee=("fee", "sum"), count=("amount", "size")
    )
    paid = platform[platform["status"] == "SUCCESS"]
    installments = paid.groupby(["loan_no", "installment_no"])["amount"].sum()
    done = time.perf_counter()
    return {
        "seconds": round(done - start, 3),
        "read_seconds": round(read - start, 3),
        "rows": len(platform) + len(channels),
        "findings": findings,
        "settlement_groups": len(settlement),
        "installments": len(installments),
    }


def workbook(rows: int, out: str) -> dict:
    try:
        from bench.workbook_bench import time_workbook
    except ImportError as exc:
        return {"skipped": f"bench.workbook_bench.time_workbook is not available: {exc}"}
    result = time_workbook(rows, Path(out))
    return {k: v for k, v in result.items() if k != "path"} | {"path": str(result.get("path"))}


PROBES = {"generate": generate, "floor": floor, "pandas": pandas, "workbook": workbook}


def main(argv: list[str]) -> int:
    what, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = PROBES[what](**kwargs)
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
