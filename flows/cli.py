"""The `recon` command: the same plain functions the Prefect flows call.

Exit codes: 0 done (differences found are a normal result), 2 bad configuration
or an unreadable input (named in the message), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from transforms.errors import ReconError

DEMO_START = dt.date(2026, 11, 1)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon", description="Repayment settlement and statement matching"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser(
        "generate", help="write a realistic demo inbox, recon.toml and answer_key.csv"
    )
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--start", type=_date, default=DEMO_START)
    g.add_argument("--days", type=int, default=5)
    g.add_argument("--orders", type=int, default=200, help="platform orders per day")
    g.add_argument("--seed", type=int, default=42)

    r = sub.add_parser("run", help="reconcile one date, or a range of dates in order")
    r.add_argument("--config", type=Path, required=True)
    r.add_argument("--date", type=_date, required=True)
    r.add_argument("--to", type=_date, default=None, help="last date of a range (inclusive)")
    r.add_argument(
        "--verbose", action="store_true", help="log the wall time of every phase to stderr"
    )
    r.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="if another run holds the data_dir lock, wait this long for it (default: exit 2 at once)",
    )

    d = sub.add_parser("demo", help="generate a small multi-day inbox and reconcile it")
    d.add_argument("--out", type=Path, default=Path("data/demo"))
    d.add_argument("--days", type=int, default=10)
    d.add_argument("--orders", type=int, default=200)
    d.add_argument("--seed", type=int, default=42)

    i = sub.add_parser(
        "inspect", help="identify and normalize one file; print counts, totals, rejects"
    )
    i.add_argument("file", type=Path)
    i.add_argument("--config", type=Path, default=None)

    t = sub.add_parser(
        "trace", help="every hop of one repayment: order, channel, settlement, bank, 清分"
    )
    t.add_argument("key", help="a platform order_no, a channel_txn_id or a borrower_id")
    t.add_argument("--config", type=Path, required=True)
    t.add_argument(
        "--date", type=_date, default=None, help="report date (default: the latest published)"
    )
    t.add_argument(
        "--days",
        type=int,
        default=31,
        help="a borrower_id is looked up in this many inbox dates up to --date (default 31)",
    )
    t.add_argument("--json", action="store_true", help="print JSON instead of the text table")

    s = sub.add_parser(
        "serve", help="run the daily schedule (Prefect), 06:00 in the config's time zone"
    )
    s.add_argument("--config", type=Path, required=True)
    s.add_argument("--cron", default="0 6 * * *")

    sub.add_parser(  # its options are parsed by bench/run.py: `recon bench --help`
        "bench", add_help=False, help="the performance benchmark (SPEC §9); see recon bench --help"
    )
    return parser


def cmd_generate(args) -> int:
    from transforms.generate import generate

    config = generate(args.out, args.start, args.days, args.orders, args.seed)
    print(f"wrote {args.out / 'inbox'}, {config} and {args.out / 'answer_key.csv'}")
    return 0


def cmd_run(args) -> int:
    from transforms.config import load_config
    from transforms.pipeline import run_range

    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    config = load_config(args.config)
    results = run_range(config, args.date, args.to or args.date, wait_seconds=args.wait)
    print(summary_table(results))
    print_recomputed(results)
    if results:
        print(f"workbook:   {results[-1].workbook}")
    return report_file_errors(results)


def cmd_demo(args) -> int:
    from transforms.config import load_config
    from transforms.generate import generate
    from transforms.pipeline import run_range

    config_path = generate(args.out, DEMO_START, args.days, args.orders, args.seed)
    config = load_config(config_path)
    end = DEMO_START + dt.timedelta(days=args.days - 1)
    results = run_range(config, DEMO_START, end)
    print(summary_table(results))
    print(f"\nanswer key: {args.out / 'answer_key.csv'}")
    print(f"workbook:   {results[-1].workbook}")
    return report_file_errors(results)


def cmd_inspect(args) -> int:
    from transforms.config import load_config
    from transforms.inspect import inspect_file, report_text

    config = load_config(args.config) if args.config else None
    print(report_text(inspect_file(args.file, config=config)))
    return 0


def cmd_trace(args) -> int:
    import json

    from transforms.config import load_config
    from transforms.trace import render_text, to_json, trace

    config = load_config(args.config)
    result = trace(config, args.key, args.date, days=args.days)
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False, indent=1))
    else:
        print(render_text(result))
    return 0


def cmd_serve(args) -> int:
    from flows.schedule import serve

    serve(str(args.config), args.cron)
    return 0


def summary_table(results) -> str:
    types = sorted({t for r in results for t in r.counts})
    header = ["report_date"] + types + ["OPEN", "PENDING", "CLEARED"]
    rows = [
        [r.report_date.isoformat()]
        + [str(r.counts.get(t, 0)) for t in types]
        + [str(sum(r.counts.values())), str(r.pending), str(r.cleared)]
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def print_recomputed(results) -> None:
    for r in results:
        if r.reason != "requested":
            print(f"{r.report_date}: computed because {r.reason}")


def report_file_errors(results) -> int:
    errors = [f for r in results for f in r.file_errors]
    for f in errors:
        print(f"error: {f.error}", file=sys.stderr)
    return 2 if errors else 0


COMMANDS = {
    "generate": cmd_generate,
    "run": cmd_run,
    "demo": cmd_demo,
    "inspect": cmd_inspect,
    "trace": cmd_trace,
    "serve": cmd_serve,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from bench.run import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ReconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
