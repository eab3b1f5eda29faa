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
    found = sorted(
        p for p in folder.glob(pattern) if not any(w in p.name for w in ("resend", "amend"))
    )
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


def _utf8_copies(files: dict[str, Path], work_dir: Path) -> tuple[Path, Path]:
    """The day's GBK files (the Alipay bill inside its zip, the bank export) as UTF-8 copies
    in `work_dir`: what the floor and the peers read (DuckDB and polars read no GB18030)."""
    alipay = work_dir / "alipay_utf8.csv"
    with zipfile.ZipFile(files["alipay"]) as zf:
        entry = next(i for i in zf.infolist() if i.filename.lower().endswith(".csv"))
        with zf.open(entry) as src:
            _transcode(src, alipay)
    bank = work_dir / "bank_utf8.csv"
    with open(files["bank"], "rb") as src:
        _transcode(src, bank)
    return alipay, bank


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
    utf8, bank = _utf8_copies(files, work_dir)
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


PEERS = Path(__file__).parent / "peers"


def duckdb_script(folder: str, work: str, threads: int = 2) -> dict:
    """The plain DuckDB SQL script of `bench/peers/plain_duckdb.sql` over the day's files: the
    GBK files transcoded to UTF-8 first (timed, as in the floor), then the script."""
    import duckdb

    files, work_dir = day_files(Path(folder)), Path(work)
    out = work_dir / "plain_duckdb_out"
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    alipay, bank = _utf8_copies(files, work_dir)
    transcoded = time.perf_counter() - start
    sql = (PEERS / "plain_duckdb.sql").read_text(encoding="utf-8")
    with open(files["wechat"], encoding="utf-8-sig") as f:  # its layout: which column is which
        header = [c.strip() for c in f.readline().split(",")]
    wx = {name: f"c{header.index(name)}" for name in header if name}
    wx["金额"] = wx.get("应结订单金额", wx.get("总金额"))
    for name, column in wx.items():
        sql = sql.replace("{wx:" + name + "}", column)
    for name, path in dict(files, alipay=alipay, bank=bank, out=out).items():
        sql = sql.replace("{" + name + "}", str(path).replace("'", "''"))
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    con.execute(sql)
    found = dict(
        con.execute("SELECT kind, count(*) FROM differences GROUP BY kind ORDER BY kind").fetchall()
    )
    settled = dict(
        con.execute("SELECT status, count(*) FROM settlement GROUP BY status").fetchall()
    )
    rows = con.execute(
        "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM txns)"
    ).fetchone()[0]
    done = time.perf_counter()
    return {
        "seconds": round(done - start, 3),
        "transcode_seconds": round(transcoded, 3),
        "rows": rows,
        "differences": found,
        "settlement": settled,
    }


def polars(folder: str, work: str) -> dict:
    """The same work as the plain DuckDB script with polars (lazy scans, join, group_by), over
    the same files, the GBK ones transcoded first (timed)."""
    import polars as pl

    files, work_dir = day_files(Path(folder)), Path(work)
    out = work_dir / "polars_out"
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    alipay, bank = _utf8_copies(files, work_dir)
    transcoded = time.perf_counter() - start
    money = pl.Decimal(18, 2)
    amounts = ("amount", "principal", "interest", "fee", "penalty", "installment_due")
    orders = (
        pl.scan_csv(files["platform"], infer_schema=False)
        .filter(  # a row that does not parse is set aside
            pl.all_horizontal(pl.col(c).str.contains(r"^\d+(\.\d{1,2})?$") for c in amounts)
        )
        .with_columns(
            *(pl.col(c).cast(money) for c in amounts),
            pl.col("installment_no").cast(pl.Int32, strict=False),
        )
    )
    wx = pl.scan_csv(files["wechat"], infer_schema=False, quote_char=None)
    header = wx.collect_schema().names()
    amount = "应结订单金额" if "应结订单金额" in header else "总金额"
    wechat = (
        wx.filter(pl.col(header[0]).str.starts_with("`20"))
        .select(pl.all().str.strip_chars_start("`"))
        .select(
            pl.lit("WECHAT").alias("channel"),
            pl.col("微信订单号").alias("channel_txn_id"),
            pl.col("商户订单号").alias("merchant_order_no"),
            pl.when(pl.col("交易状态") == "REFUND")
            .then(pl.lit("REFUND"))
            .otherwise(pl.lit("PAY"))
            .alias("txn_type"),
            pl.when(pl.col("交易状态") == "REFUND")
            .then(pl.col("退款金额"))
            .otherwise(pl.col(amount))
            .cast(money)
            .alias("amount"),
            pl.col("手续费").cast(pl.Decimal(24, 6)).round(2).cast(money).alias("fee"),
            pl.lit("SUCCESS").alias("status"),
            pl.col(header[0]).str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date().alias("trade_date"),
        )
    )
    ali = (
        pl.scan_csv(alipay, infer_schema=False, has_header=False, skip_rows=5, comment_prefix="#")
        .select(
            pl.col("column_1").str.strip_chars().alias("trade_no"),
            pl.col("column_2").str.strip_chars().alias("order_no"),
            pl.col("column_3").alias("kind"),
            pl.col("column_6").alias("done"),
            pl.col("column_12").alias("amount"),
            pl.col("column_22").str.strip_chars().alias("refund_no"),
            pl.col("column_23").alias("fee"),
        )
        .select(
            pl.lit("ALIPAY").alias("channel"),
            pl.when(pl.col("kind") == "退款")
            .then(pl.col("trade_no") + "_" + pl.col("refund_no"))
            .otherwise(pl.col("trade_no"))
            .alias("channel_txn_id"),
            pl.when(pl.col("kind") == "退款")
            .then(pl.col("refund_no"))
            .otherwise(pl.col("order_no"))
            .alias("merchant_order_no"),
            pl.when(pl.col("kind") == "退款")
            .then(pl.lit("REFUND"))
            .otherwise(pl.lit("PAY"))
            .alias("txn_type"),
            pl.col("amount").cast(money).abs().alias("amount"),
            (-pl.col("fee").cast(money)).alias("fee"),
            pl.lit("SUCCESS").alias("status"),
            pl.col("done").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date().alias("trade_date"),
        )
    )
    allin = (
        pl.scan_csv(files["allinpay"], separator="|", infer_schema=False, quote_char=None)
        .filter(pl.col("通联订单号") != "TRAILER")
        .select(
            pl.lit("ALLINPAY").alias("channel"),
            pl.col("通联订单号").alias("channel_txn_id"),
            pl.col("商户订单号").alias("merchant_order_no"),
            pl.when(pl.col("订单类型").is_in(["退货", "退款"]))
            .then(pl.lit("REFUND"))
            .otherwise(pl.lit("PAY"))
            .alias("txn_type"),
            (pl.col("交易金额(分)").cast(pl.Int64).cast(pl.Decimal(18, 0)) / 100)
            .cast(money)
            .alias("amount"),
            (pl.col("渠道手续费(分)").cast(pl.Int64).cast(pl.Decimal(18, 0)) / 100)
            .cast(money)
            .alias("fee"),
            pl.lit("SUCCESS").alias("status"),
            pl.col("交易时间").str.to_datetime("%Y%m%d%H%M%S").dt.date().alias("trade_date"),
        )
    )
    txns = pl.concat([wechat, ali, allin]).collect()
    orders = orders.collect()
    pays = txns.filter(pl.col("txn_type") == "PAY")
    pairs = orders.filter(pl.col("order_type") == "REPAY").join(
        pays, left_on="order_no", right_on="merchant_order_no", how="inner", suffix="_c"
    )
    found = {
        "AMOUNT_MISMATCH": pairs.filter(
            (pl.col("status") == "SUCCESS") & (pl.col("amount") != pl.col("amount_c"))
        ).height,
        "MISSING_ON_CHANNEL": orders.filter(
            (pl.col("order_type") == "REPAY") & (pl.col("status") == "SUCCESS")
        )
        .join(pays, left_on="order_no", right_on="merchant_order_no", how="anti")
        .height,
        "MISSING_ON_PLATFORM": pays.join(
            orders, left_on="merchant_order_no", right_on="order_no", how="anti"
        ).height,
        "DUPLICATE_DEBIT": pairs.group_by("order_no").len().filter(pl.col("len") > 1).height
        + pairs.filter(pl.col("status") == "SUCCESS")
        .group_by("loan_no", "installment_no")
        .agg(pl.col("amount").sum(), pl.col("installment_due").max())
        .filter(pl.col("amount") > pl.col("installment_due"))
        .height,
    }
    settlement = txns.group_by("channel", "trade_date").agg(
        (
            pl.when(pl.col("txn_type") == "PAY")
            .then(pl.col("amount"))
            .otherwise(-pl.col("amount"))
            .sum()
            - pl.col("fee").sum()
        ).alias("expected")
    )
    bank_lines = pl.read_csv(bank, infer_schema=False, has_header=False, skip_rows=3)
    credits = bank_lines.filter(
        pl.col("column_5").is_not_null() & (pl.col("column_1") != "合计")
    ).select(
        pl.col("column_8").alias("counterparty"),
        pl.col("column_11").str.to_date("%Y%m%d").alias("value_date"),
        pl.col("column_5").str.replace_all(",", "").cast(money).alias("amount"),
    )
    orders.write_parquet(out / "orders.parquet")
    txns.write_parquet(out / "channel_txns.parquet")
    settlement.write_parquet(out / "settlement.parquet")
    done = time.perf_counter()
    return {
        "seconds": round(done - start, 3),
        "transcode_seconds": round(transcoded, 3),
        "rows": orders.height + txns.height,
        "differences": found,
        "settlement_rows": settlement.height,
        "credits": credits.height,
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


def history(config: str, first: str, days: int) -> dict:
    from bench.history import synthesize

    start = time.perf_counter()
    rows = synthesize(Path(config), dt.date.fromisoformat(first), days)
    return {"seconds": round(time.perf_counter() - start, 3), "rows": rows}


def lookup(work: str, dates: int, clients: int) -> dict:
    from bench.lookup_bench import lookup_bench

    return lookup_bench(Path(work), dates=dates, clients=clients)


PROBES = {
    "generate": generate,
    "floor": floor,
    "duckdb_script": duckdb_script,
    "polars": polars,
    "pandas": pandas,
    "workbook": workbook,
    "history": history,
    "lookup": lookup,
}


def main(argv: list[str]) -> int:
    what, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = PROBES[what](**kwargs)
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
