"""The `recon` command: the same plain functions the Prefect flows call.

Exit codes: 0 done (differences found are a normal result), 2 a usage error, bad
configuration or an unreadable input (one line on stderr naming it, no traceback),
1 an unexpected failure (a bug).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

from transforms.errors import ConfigError, ReconError, UsageError

DEMO_START = dt.date(2026, 11, 1)
MIN_GENERATED_DAYS = 3  # injected differences must age past their pending window
README = Path(__file__).resolve().parent.parent / "README.md"
PROGRESS_DELAY = 2.0  # seconds before a terminal shows the progress line
SCHEDULER_TIMEOUT = "10s"  # how long --dask-address may take to answer
LOADED: dict[str, Path] = {}  # the data_dir of the configuration this command loaded


# ---------------------------------------------------------------------------- arguments


def _date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a date YYYY-MM-DD, found {text!r}: {exc}"
        ) from None


def _whole(minimum: int, why: str = ""):
    """An argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}{why}, found {value}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, found {text!r}")
    return value


_generated_days = _whole(
    MIN_GENERATED_DAYS, " (injected differences must age past their pending window)"
)


class _Parser(argparse.ArgumentParser):
    """Errors are one line on stderr (exit 2), with where to find the usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default (unless it has none), keeps the epilog's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or action.required
            or any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


def _formats_epilog() -> str:
    from transforms.sources import format_names

    names = format_names()
    lines, line = [], " "
    for name in names:
        if len(line) + len(name) + 2 > 78:
            lines.append(line.rstrip())
            line = " "
        line += f" {name},"
    lines.append(line.rstrip(","))
    where = README if README.exists() else Path("README.md")
    return (
        "built-in formats (a source's `format`; a [formats.NAME] table of the config maps a new\n"
        "layout):\n" + "\n".join(lines) + "\n\n"
        f"The configuration (recon.toml) is documented in {where},\n"
        'section "Configuration (`recon.toml`)"; its formats under "Formats".'
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="recon",
        description="Repayment settlement and statement matching",
        epilog="exit codes: 0 done (differences are a normal result), 2 usage error, bad "
        "configuration\nor unreadable input (one line on stderr), 1 an unexpected failure (a bug).",
        formatter_class=_Help,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, epilog: str | None = None, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help, description=help, epilog=epilog, formatter_class=_Help, **kw
        )

    formats = _formats_epilog()

    g = command("generate", "write a realistic demo inbox, recon.toml and answer_key.csv")
    g.add_argument("--out", type=Path, required=True, help="folder to write into")
    g.add_argument("--start", type=_date, default=DEMO_START, help="first date (YYYY-MM-DD)")
    _generation_options(g, days=5)

    r = command("run", "reconcile one date, or a range of dates in order", formats)
    r.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    r.add_argument("--date", type=_date, required=True, help="report date (YYYY-MM-DD)")
    r.add_argument(
        "--to", type=_date, default=None, help="last date of a range (inclusive; default: --date)"
    )
    r.add_argument(
        "--verbose", action="store_true", help="log the wall time of every phase to stderr"
    )
    r.add_argument(
        "--allow-future",
        action="store_true",
        help="run a date after today (in the config's time zone) anyway: without it such a run "
        "exits 2 saying how many dates it would create (for tests and fake clocks)",
    )
    r.add_argument(
        "--wait",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="if another run holds the data_dir lock, wait this long for it; 0 exits 2 at once",
    )
    _runner_options(r)
    _progress_options(r)

    d = command("demo", "generate a small multi-day inbox and reconcile it")
    d.add_argument("--out", type=Path, default=Path("data/demo"), help="folder to write into")
    _generation_options(d, days=10)
    _progress_options(d)

    i = command(
        "inspect", "identify and normalize one file; print counts, totals, rejects", formats
    )
    i.add_argument("file", type=Path, help="one inbox file")
    i.add_argument(
        "--config",
        type=Path,
        default=None,
        help="a recon.toml: its sources' globs pick the format first, and its mapped formats "
        "are tried too (default: built-in formats only)",
    )

    t = command("trace", "every hop of one repayment: order, channel, settlement, bank, 清分")
    t.add_argument("key", help="a platform order_no, a channel_txn_id or a borrower_id")
    t.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    t.add_argument(
        "--date", type=_date, default=None, help="report date (default: the latest published)"
    )
    t.add_argument(
        "--days",
        type=_whole(1),
        default=31,
        help="a borrower_id is looked up in this many inbox dates up to --date",
    )
    t.add_argument("--json", action="store_true", help="print JSON instead of the text table")

    v = command(
        "resolve",
        "record a finance decision on an exception; the next run shows it RESOLVED",
    )
    v.add_argument("exception_id", help="the exception's id (异常编号 in the workbook)")
    v.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    v.add_argument(
        "--action",
        default=None,
        help="REFUNDED | CREDITED | WRITTEN_OFF | FALSE_POSITIVE | MATCHED_MANUALLY",
    )
    v.add_argument("--by", required=True, help="who decided (处理人)")
    v.add_argument(
        "--note", default="", help="what was done (处理说明); why, with --supersede or --revoke"
    )
    fix = v.add_mutually_exclusive_group()
    fix.add_argument(
        "--supersede",
        action="store_true",
        help="correct a decision recorded in error: --action replaces the one in force "
        "(appended; the earlier record is kept)",
    )
    fix.add_argument(
        "--revoke",
        action="store_true",
        help="withdraw the decision in force (appended as REVOKED): the exception is OPEN again",
    )
    v.add_argument("--ref", default=None, help="the counterpart's ref, for MATCHED_MANUALLY")
    v.add_argument(
        "--date",
        type=_date,
        default=None,
        help="the report the decision is taken on, and its effective date (default: the latest)",
    )

    x = command(
        "withdraw",
        "take back published report dates created by mistake (the last ones published), kept "
        "in the audit trail",
    )
    x.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    x.add_argument("--date", type=_date, required=True, help="first date to withdraw")
    x.add_argument(
        "--to",
        type=_date,
        default=None,
        help="last date to withdraw (default: --date); no published date may come after it",
    )
    x.add_argument("--by", required=True, help="who withdraws them")
    x.add_argument("--reason", required=True, help="why (kept in the audit trail)")

    s = command(
        "serve",
        "start a self-hosted Prefect server (unless PREFECT_API_URL is set) and serve the "
        "`daily` (waits for the files, catches up, alerts) and `rerun` deployments",
    )
    s.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    s.add_argument(
        "--cron",
        default=None,
        help="when the daily run starts, in the config's time zone "
        "(default: [schedule] cron, else 30 10 * * *)",
    )
    _runner_options(s, workers=False)

    w = command(
        "web",
        "the lookup service for customer service and the bot: GET /api/v1/trace?key=KEY "
        "and a page, bearer tokens, every lookup audited (README: Lookup service)",
    )
    w.add_argument("--config", type=Path, required=True, help="the recon.toml file")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on")
    w.add_argument("--port", type=int, default=8750, help="port to listen on")
    w.add_argument(
        "--rate-limit",
        type=_whole(0),
        default=120,
        metavar="N",
        help="requests a minute per token (0: no limit)",
    )
    w.add_argument(
        "--workers",
        type=_whole(1),
        default=1,
        metavar="N",
        help="processes answering lookups, each holding its own copy of the recent files "
        "(default: 1; one per core for many concurrent agents)",
    )

    wt = command("web-token", "create, revoke or list the bearer tokens of `recon web`")
    wt_sub = wt.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    wt_add = wt_sub.add_parser(
        "add", help="create a token for NAME and print it (once: only its hash is kept)"
    )
    wt_add.add_argument("name", help="who uses it: a person or a system (e.g. bot-1)")
    wt_add.add_argument("--role", required=True, choices=("service", "finance"))
    wt_revoke = wt_sub.add_parser("revoke", help="revoke NAME's token; it stops working at once")
    wt_revoke.add_argument("name")
    wt_list = wt_sub.add_parser("list", help="names, roles and creation times (nothing secret)")
    for p in (wt_add, wt_revoke, wt_list):
        p.add_argument("--config", type=Path, required=True, help="the recon.toml file")

    sub.add_parser(  # its options are parsed by bench/run.py: `recon bench --help`
        "bench", add_help=False, help="the performance benchmark (SPEC §9); see recon bench --help"
    )
    return parser


def _generation_options(p: argparse.ArgumentParser, days: int) -> None:
    """The size and seed of a generated inbox (generate, demo)."""
    p.add_argument(
        "--days",
        type=_generated_days,
        default=days,
        help=f"number of inbox dates, at least {MIN_GENERATED_DAYS}",
    )
    p.add_argument("--orders", type=_whole(0), default=200, help="platform orders per day")
    p.add_argument("--seed", type=int, default=42, help="random seed")


def _runner_options(p: argparse.ArgumentParser, workers: bool = True) -> None:
    p.add_argument(
        "--runner",
        choices=("local", "dask"),
        default="local",
        help="local: this process (two files at a time); dask: the Prefect flow on a Dask "
        "cluster, which normalizes the files of every date of the run in parallel ahead of "
        "matching (README: Scaling out)",
    )
    p.add_argument(
        "--dask-address",
        default=None,
        metavar="ADDR",
        help="with --runner dask: an existing scheduler (tcp://HOST:8786) whose workers share "
        "the inbox and data_dir; default: a LocalCluster of one worker process per core",
    )
    if workers:
        p.add_argument(
            "--dask-workers",
            type=_whole(1),
            default=None,
            metavar="N",
            help="with --runner dask and no address: worker processes of the LocalCluster "
            "(default: one per core)",
        )


def check_runner(args) -> None:
    if args.runner == "dask":
        if args.dask_address and getattr(args, "dask_workers", None):
            raise UsageError(
                "--dask-workers sizes a new LocalCluster; the cluster at --dask-address has its "
                "own workers"
            )
        return
    for flag, value in (
        ("--dask-address", args.dask_address),
        ("--dask-workers", getattr(args, "dask_workers", None)),
    ):
        if value:
            raise UsageError(f"{flag} needs --runner dask")


def check_scheduler(address: str) -> None:
    """A scheduler that cannot be reached, or has no worker, is the user's to fix (exit 2)
    rather than a flow that waits forever."""
    from distributed import Client

    try:
        with Client(address, timeout=SCHEDULER_TIMEOUT, set_as_default=False) as client:
            workers = client.scheduler_info().get("workers", {})
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"--dask-address {address}: no Dask scheduler answered ({exc}); expected the "
            "address a running `dask scheduler` prints, such as tcp://10.0.0.5:8786"
        ) from None
    if not workers:
        raise UsageError(
            f"--dask-address {address}: the scheduler has no worker; start some with "
            f"`dask worker {address}` on machines that share the inbox and data_dir"
        )


def _progress_options(p: argparse.ArgumentParser) -> None:
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        help="show progress on stderr even when it is not a terminal (default: only on a "
        f"terminal, once a run takes more than {PROGRESS_DELAY:g} s)",
    )
    shown.add_argument("--quiet", action="store_true", help="no progress display")


# ---------------------------------------------------------------------------- helpers


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def load_config(path: Path, check_folders: bool = True):
    """The configuration, or a ConfigError naming the file (never a traceback)."""
    from transforms.config import load_config as load

    if path.is_dir():
        raise ConfigError(path, "(file)", "is a folder; expected the recon.toml file")
    try:
        config = load(path, check_folders=check_folders)
        LOADED["data_dir"] = config.data_dir  # named by an operating error (a full disk)
        return config
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(path, "(file)", f"cannot be read: {exc.strerror or exc}") from None


def check_folders(config) -> None:
    """data_dir must be (or can become) a writable folder; inbox, if it exists, a folder."""
    d = config.data_dir
    existing = next((p for p in [d, *d.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(config.path, "data_dir", f"{existing} is a file; expected a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(config.path, "data_dir", f"{existing} is not writable")
    if config.inbox.exists() and not config.inbox.is_dir():
        raise ConfigError(config.path, "inbox", f"{config.inbox} is a file; expected a folder")


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive dates as (first, last) runs."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def warn_missing_folders(config, days: list[dt.date]) -> None:
    """One warning per missing inbox folder (a run of consecutive ones is one line)."""
    if not config.inbox.is_dir():
        if days:
            warn(
                f"no inbox folder {config.inbox} (the inbox of {config.path}); every "
                "required source will be MISSING_FILE"
            )
        return
    missing = [d for d in days if not (config.inbox / d.isoformat()).is_dir()]
    for first, last in _runs(missing):
        if first == last:
            where = f"no inbox folder {config.inbox / first.isoformat()}"
        else:
            n = (last - first).days + 1
            where = (
                f"no inbox folders {config.inbox / first.isoformat()} .. {last.isoformat()} "
                f"({n} dates)"
            )
        warn(f"{where}; every required source will be MISSING_FILE")


def check_range(config, start: dt.date, end: dt.date) -> None:
    """Refuse what would end in a failure or silently rewrite history."""
    from transforms.ledger import inbox_days

    if end < start:
        raise UsageError(f"--to {end} is before --date {start}; expected a range in date order")
    days = inbox_days(config)
    if days and start < days[0]:
        raise UsageError(
            f"--date {start} is before the first inbox folder {config.inbox / days[0].isoformat()}; "
            f"reconciliation starts at {days[0]} (every later date is built on the dates before it)"
        )


def requested_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


@contextmanager
def console(args, config=None):
    """For the duration of a run: the `recon` logger's warnings (INFO with --verbose) on
    stderr, and the progress display when stderr is a terminal (or --progress)."""
    from transforms.progress import Progress

    tty = sys.stderr.isatty()
    show = not getattr(args, "quiet", False) and (getattr(args, "progress", False) or tty)
    progress = None
    if show:
        progress = Progress(
            sys.stderr,
            live=tty,
            delay=0 if getattr(args, "progress", False) else PROGRESS_DELAY,
            files_of=_files_counter(config) if config is not None else None,
            steps=_step_count(),
        )
    log = logging.getLogger("recon")
    handler = progress.handler() if progress else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = log.level
    log.setLevel(logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    log.addHandler(handler)
    try:
        with progress if progress else nullcontext():
            yield progress
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _files_counter(config):
    def count(day: dt.date) -> int:
        from transforms.ledger import planned_files

        return sum(1 for _, path in planned_files(config, day) if path is not None)

    return count


def _step_count() -> int | None:
    try:
        from transforms.match.runner import steps

        return len(steps())
    except Exception:  # only for the display
        return None


# ---------------------------------------------------------------------------- commands


def cmd_generate(args) -> int:
    from transforms.generate import generate

    check_out_folder(args.out)
    try:
        config = generate(args.out, args.start, args.days, args.orders, args.seed)
    except OSError as exc:
        raise UsageError(
            f"generate: cannot write {exc.filename or args.out}: {exc.strerror}"
        ) from None
    print(f"wrote {args.out / 'inbox'}, {config} and {args.out / 'answer_key.csv'}")
    return 0


def check_out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; expected a folder (it is created if missing)")


def cmd_run(args) -> int:
    from transforms.future import check_not_future
    from transforms.pipeline import run_range

    check_runner(args)
    config = load_config(args.config)
    start, end = args.date, args.to or args.date
    check_folders(config)
    check_range(config, start, end)
    check_not_future(config, start, end, allow=args.allow_future)
    requested = requested_days(start, end)
    warn_missing_folders(config, requested)
    with console(args, config):
        if args.runner == "dask":
            results = run_on_dask(args, config)
        elif os.environ.get("PREFECT_API_URL"):
            # A Prefect server is configured: run through the flow, so the run has history
            # and artifacts there; otherwise the plain functions, as the flow would call them.
            from flows.reconcile import reconcile

            results = reconcile(str(config.path), start, end, wait_seconds=args.wait)
        else:
            results = run_range(config, start, end, wait_seconds=args.wait)
    warn_missing_folders(config, [r.report_date for r in results if r.report_date not in requested])
    print_results(results, unclaimed=unclaimed_lines(config, results))
    return report_file_errors(results)


def run_on_dask(args, config):
    """The Prefect flow with the Dask task runner."""
    import distributed  # noqa: F401  (its import sets its loggers' levels: quieten them after)

    if not args.verbose:  # the scheduler of a LocalCluster logs every worker's start and end
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if args.dask_address:
        check_scheduler(args.dask_address)
    from flows.reconcile import with_runner

    flow = with_runner("dask", args.dask_address, args.dask_workers)
    with prefect_api(args.dask_address):
        return flow(str(config.path), args.date, args.to or args.date, wait_seconds=args.wait)


@contextmanager
def prefect_api(dask_address: str | None):
    """The Prefect API the flow and its tasks on the workers report to: PREFECT_API_URL when
    it is set, else a temporary server on this machine for the run. That one is named to the
    workers explicitly: left to itself, every worker process would start its own."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    if dask_address and not _loopback(dask_address):
        raise UsageError(
            f"--dask-address {dask_address}: workers on other machines report their tasks to "
            "Prefect, and cannot reach a temporary server on this machine; set PREFECT_API_URL "
            "to a Prefect server they can reach (`prefect server start --host 0.0.0.0`)"
        )
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect itself would start for this process
    server.start()
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            try:
                yield
            finally:  # what is still queued for the API goes before the server does
                from prefect.events.worker import EventsWorker
                from prefect.logging.handlers import APILogWorker

                try:
                    APILogWorker.instance().drain()
                except RuntimeError:  # never started
                    pass
                EventsWorker.drain_all()
    finally:
        server.stop()


def _loopback(address: str) -> bool:
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def cmd_demo(args) -> int:
    from transforms.generate import generate
    from transforms.pipeline import run_range
    from transforms.timing import phase

    check_out_folder(args.out)
    with console(args) as progress:
        with phase("generate the demo inbox"):
            try:
                config_path = generate(args.out, DEMO_START, args.days, args.orders, args.seed)
            except OSError as exc:
                raise UsageError(
                    f"demo: cannot write {exc.filename or args.out}: {exc.strerror}"
                ) from None
        config = load_config(config_path)
        if progress is not None:
            progress.files_of = _files_counter(config)
        end = DEMO_START + dt.timedelta(days=args.days - 1)
        results = run_range(config, DEMO_START, end)
    print_results(results, f"answer key: {args.out / 'answer_key.csv'}")
    return report_file_errors(results)


def cmd_inspect(args) -> int:
    from transforms.inspect import inspect_file, report_text

    # inspect reads one file: the config's formats are enough, its folders need not exist
    config = load_config(args.config, check_folders=False) if args.config else None
    path: Path = args.file
    if not path.exists():
        raise UsageError(f"inspect: {path}: no such file")
    if path.is_dir():
        raise UsageError(f"inspect: {path} is a folder; expected one file (e.g. {path}/NAME)")
    if not os.access(path, os.R_OK):
        raise UsageError(f"inspect: {path}: cannot be read (permission denied)")
    print(report_text(inspect_file(path, config=config)))
    return 0


def cmd_trace(args) -> int:
    import json

    from transforms.trace import render_text, to_json, trace

    config = load_config(args.config)
    result = trace(config, args.key, args.date, days=args.days)
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False, indent=1))
    else:
        print(render_text(result))
    return 0


def cmd_resolve(args) -> int:
    from transforms import resolutions
    from transforms.errors import UsageError

    if args.revoke == (args.action is not None):
        raise UsageError(
            "resolve: --action A records a decision (with --supersede, corrects the one in "
            "force); --revoke withdraws it: expected exactly one of --action and --revoke"
        )
    config = load_config(args.config)
    if args.revoke:
        action = resolutions.REVOKED
    else:
        action = resolutions.parse_action(args.action) or args.action
    decision = resolutions.Decision(
        args.exception_id, action, args.note, args.by, args.ref, supersede=args.supersede
    )
    [verdict] = resolutions.record(config, [decision], args.date)
    if verdict.outcome == "rejected":
        raise UsageError(f"resolve {args.exception_id}: {verdict.reason}")
    if verdict.outcome == "unchanged":
        print(f"{args.exception_id}: {verdict.reason}; nothing recorded")
    elif args.revoke:
        print(
            f"{args.exception_id}: revoked {verdict.reason}; `recon run` recomputes from that "
            "date and shows the exception without it"
        )
    elif args.supersede:
        print(
            f"{args.exception_id}: recorded {action} in place of {verdict.reason}; `recon run` "
            "recomputes from that date and shows it RESOLVED as corrected"
        )
    else:
        print(f"{args.exception_id}: recorded {action}; `recon run` shows it RESOLVED")
    return 0


def cmd_withdraw(args) -> int:
    from transforms.withdraw import withdraw

    config = load_config(args.config)
    done = withdraw(config, args.date, args.to or args.date, args.by, args.reason)
    first, last = done.dates[0], done.dates[-1]
    span = f"{first}" if first == last else f"{first} .. {last}"
    print(
        f"withdrew {len(done.dates)} published report date{'s' if len(done.dates) > 1 else ''} "
        f"{span}: their lake partitions, workbooks and remediation files are gone; `recon run` "
        f"computes them again if asked"
    )
    if done.decisions:
        print(
            f"{done.decisions} finance decision(s) effective on them stay recorded (they apply "
            "when those dates are computed again; `recon resolve ID --revoke` withdraws one)"
        )
    print(f"audit:      {done.audit}")
    return 0


def cmd_serve(args) -> int:
    check_runner(args)
    config = load_config(args.config)
    from prefect.schedules import Cron

    from flows.schedule import serve

    cron = args.cron or config.schedule.cron
    try:
        Cron(cron, timezone=config.timezone)
    except ValueError:
        raise UsageError(
            f"--cron {cron!r} is not a cron expression; expected 5 fields: "
            "minute hour day-of-month month day-of-week"
        ) from None
    serve(str(config.path), cron, args.runner, args.dask_address)
    return 0


def cmd_web(args) -> int:
    from transforms.web import serve

    serve(load_config(args.config), args.host, args.port, args.rate_limit, args.workers)
    return 0


def cmd_web_token(args) -> int:
    from transforms.web import tokens

    config = load_config(args.config)
    where = tokens.store_path(config.data_dir)
    if args.token_command == "add":
        token = tokens.add(config, args.name, args.role)
        print(token)
        print(
            f"token of {args.name} ({args.role}): shown this once; only its salted hash is kept "
            f"in {where}",
            file=sys.stderr,
        )
    elif args.token_command == "revoke":
        tokens.revoke(config, args.name)
        print(f"revoked the token of {args.name}")
    else:
        for t in tokens.listing(config):
            print(f"{t['name']}  {t['role']}  created {t['created_at']}")
    return 0


# ---------------------------------------------------------------------------- output


# The rendering is shared with the Prefect flow's logs and artifacts (reports/console.py).
from reports.console import (  # noqa: E402
    closing_summary,
    money_by_type,  # noqa: F401  (imported from here by tests)
    summary_table,
    workbook_lines,
)


def unclaimed_lines(config, results) -> str:
    """Every file of a computed date's folder that no source claims: its rows are not read."""
    from transforms.ledger import unclaimed_files

    lines = []
    for r in results:
        for u in unclaimed_files(config, r.report_date):
            lines.append(f"{r.report_date}: unclaimed {u.file_name}: {u.detail}")
    return "\n".join(lines)


def print_results(results, *notes: str, unclaimed: str = "") -> None:
    """The summary table, why extra dates were computed, one line per date with its
    workbook, the files no source claims, the closing counts and money per type, `notes`,
    and the last workbook."""
    if not results:
        print("nothing to compute")
        return
    print(summary_table(results))
    print_recomputed(results)
    print()
    print(workbook_lines(results))
    if unclaimed:
        print()
        print(unclaimed)
    closing = closing_summary(results[-1])
    if closing:
        print()
        print(closing)
    print()
    for note in notes:
        print(note)
    print(f"workbook:   {results[-1].workbook}")


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
    "resolve": cmd_resolve,
    "withdraw": cmd_withdraw,
    "serve": cmd_serve,
    "web": cmd_web,
    "web-token": cmd_web_token,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from bench.run import main as bench_main

        return bench_main(argv[1:])
    from transforms import publish

    publish.COMMAND_LINE[:] = ["recon", *argv]  # named by the lock and the audit trail
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 0
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except ReconError as exc:  # UsageError, ConfigError, InputFileError, ...: the user's to fix
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `recon trace ... --json | head`: the reader had enough
        _stdout_to_devnull()
        return 141  # as a shell reports a command ended by SIGPIPE
    except Exception as exc:
        from transforms.errors import operating_error

        found = operating_error(exc, LOADED.get("data_dir"))
        if found is None:
            raise  # a bug: the traceback is for us
        print(f"error: {found}", file=sys.stderr)
        return found.exit_code


def _stdout_to_devnull() -> None:
    """What is still buffered for the closed pipe goes nowhere (no second error at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass


if __name__ == "__main__":
    sys.exit(main())
