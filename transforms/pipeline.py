"""The daily job as plain functions: plan -> ingest -> match -> report -> publish.

A report date costs one day: it is computed from the previous date's published
state plus the files of its own inbox folder. Results stay a function of the
inputs: a date whose inputs (or any earlier date's, or the configuration) changed
since it was published is stale, and `plan` recomputes it and every later date
built on it, in order, saying why.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from transforms import lake, publish, resolutions
from transforms.config import Config, Source
from transforms.duck import connect_for, split_memory, sql_path
from transforms.errors import UsageError
from transforms.ingest import FileResult, ingest_day
from transforms.ledger import Ledger, config_digest, inbox_days, lineage
from transforms.match.runner import load_new_inputs, load_settings, run_steps
from transforms.state import load_state, write_state
from transforms.timing import phase

log = logging.getLogger("recon")


@dataclass
class DateResult:
    report_date: dt.date
    files: list[FileResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # OPEN exceptions by type
    pending: int = 0
    cleared: int = 0
    stats: dict[str, object] = field(default_factory=dict)
    workbook: Path | None = None
    exceptions_path: Path | None = None
    reason: str = "requested"  # why this date was computed

    @property
    def file_errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "ERROR"]


@dataclass(frozen=True)
class PlannedDate:
    day: dt.date
    lineage: str
    inputs: str
    reason: str
    decisions: str = ""  # digest of the finance decisions effective on this date


# ---------------------------------------------------------------------------- planning


def plan(config: Config, start: dt.date, end: dt.date, ledger: Ledger) -> list[PlannedDate]:
    """The dates to compute, in order: the requested range, any earlier date whose
    published state is missing or stale, and published later dates built on a change."""
    if end < start:
        raise UsageError(f"--to {end} is before --date {start}; expected a range in date order")
    published = publish.published_days(config)
    first = min([start, *inbox_days(config)])
    last = max([end, *published])
    ledger.scan(last)
    cfg = config_digest(config)
    decided = resolutions.digests(config)
    todo, previous, changed = [], "", False
    day = first
    while day <= last:
        inputs = ledger.inputs_digest(day)
        decisions = decided.get(day, "")
        expected = lineage(cfg, f"{inputs}|{decisions}" if decisions else inputs, previous)
        manifest = publish.read_manifest(publish.current_version(config, day))
        stale = manifest is None or manifest.get("lineage") != expected
        reason = None
        why = _why(manifest, ledger, day, cfg, decisions) if stale else ""
        if start <= day <= end:
            reason = "requested" if not stale else "requested; " + why
        elif day < start and stale:
            reason = why
        elif day > end and stale and (manifest is not None or changed):
            if changed:  # a later published date needs every date before it
                reason = "built on an earlier date that changed"
            elif manifest.get("decisions", "") != decisions:
                reason = "finance decisions recorded for this date"
        if reason:
            todo.append(PlannedDate(day, expected, inputs, reason, decisions))
            changed = changed or stale
        previous = expected
        day += dt.timedelta(days=1)
    return todo


def _why(manifest: dict | None, ledger: Ledger, day: dt.date, cfg: str, decisions: str) -> str:
    if manifest is None:
        return "no published state"
    if manifest.get("config") != cfg:
        return "configuration or program version changed"
    if manifest.get("decisions", "") != decisions:
        return "finance decisions recorded for this date"
    before = {(f["source"], f["file_name"]): f["file_sha256"] for f in manifest.get("inputs", [])}
    now = {(d.source, d.file_name): d.file_sha256 for d in ledger.deliveries.get(day, [])}
    notes = []
    for key in sorted(before.keys() | now.keys()):
        if key not in now:
            notes.append(f"{key[1]} removed")
        elif key not in before:
            notes.append(f"{key[1]} added")
        elif before[key] != now[key]:
            notes.append(f"{key[1]} changed (sha256 {before[key][:8]} -> {now[key][:8]})")
    return "; ".join(notes) if notes else "an earlier date changed"


# ---------------------------------------------------------------------------- one date


def history(config: Config, day: dt.date) -> list[tuple[dt.date, Path]]:
    """(date, published version) of every date before `day`, oldest first."""
    out = []
    for d in publish.published_days(config):
        if d < day and (version := publish.current_version(config, d)) is not None:
            out.append((d, version))
    return out


def match_into(config: Config, day: dt.date, stage: Path, run_buckets=None) -> DateResult:
    """Match the staged inputs of `day` against the previous date's state; write the
    report tables and the next state into the stage. With `match_buckets` > 1, layer A is
    matched per bucket of related rows: `run_buckets(jobs)` runs `runner.match_bucket` on
    each job (a task runner's workers; default: one after the other here)."""
    result = DateResult(day)
    earlier = history(config, day)
    prev = earlier[-1][1] if earlier and earlier[-1][0] == day - dt.timedelta(days=1) else None
    if earlier and prev is None:
        raise RuntimeError(f"{day}: the state of {day - dt.timedelta(days=1)} is not published")
    con = connect_for(config)
    try:
        load_settings(con, config, day)
        load_new_inputs(con, stage, day)
        load_state(con, prev, earlier, day - dt.timedelta(days=config.rematch_days))
        run_steps(
            con,
            config.match_buckets,
            stage / "_work" / "buckets",
            earlier,
            run_buckets,
            # a bucket's connection gets what a file's does: half the memory limit
            split_memory(config.memory_limit, 2),
            config.spill_dir,
        )
        publish.crash_point("match")
        result.counts = dict(
            con.execute(
                "SELECT exception_type, count(*) FROM report_exceptions WHERE status = 'OPEN' "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        result.pending, result.cleared = con.execute(
            "SELECT count(*) FILTER (WHERE status = 'PENDING'), "
            "count(*) FILTER (WHERE status = 'CLEARED') FROM report_exceptions"
        ).fetchone()
        result.stats = report_stats(con)
        with phase(f"  {day} write exceptions, settlements, distributions, matches, state"):
            _copy(con, "exceptions", "report_exceptions", "status, exception_type, ref", stage)
            _copy(con, "settlements", "settlements", "channel, settle_date", stage)
            _copy(con, "distributions", "distributions", "recipient, value_date", stage)
            _copy(con, "matches", f"({matches_sql()})", "order_no", stage)
            lists = stage / "remediation_lists"
            lists.mkdir()
            for name in ("platform", "refunds", "claims", "corrections"):
                con.execute(
                    f"COPY (SELECT * FROM remediation_{name} ORDER BY ALL) "
                    f"TO {sql_path(lists / f'{name}.parquet')} ({lake.PARQUET})"
                )
            write_state(con, stage)
    finally:
        con.close()
    result.exceptions_path = stage / "exceptions" / "exceptions.parquet"
    return result


def _copy(con, table: str, relation: str, order: str, stage: Path) -> None:
    """COPY a report table, sorted by its unique key so the same day gives the same bytes."""
    cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in lake.CANONICAL[table])
    target = stage / table / f"{table}.parquet"
    with phase(f"    write {table}"):
        con.execute(
            f"COPY (SELECT {cols} FROM {relation} ORDER BY {order}) TO {sql_path(target)} "
            f"({lake.PARQUET})"
        )


def matches_sql() -> str:
    return """
        SELECT (SELECT as_of FROM params) AS report_date, order_no, channel, channel_txn_id,
               matched_by, p_amount AS platform_amount, c_amount AS channel_amount,
               p_status AS platform_status, c_status AS channel_status
        FROM matched_pairs  -- the pairs with both sides' columns (step 20)
    """


def report_stats(con) -> dict[str, object]:
    orders, matched, txns, settle_total, settle_matched, dist_total, dist_matched = con.execute(
        """
        SELECT (SELECT count(*) FROM stg_platform_orders WHERE biz_date = p.as_of AND order_type = 'REPAY'),
               (SELECT count(*) FROM stg_platform_orders o JOIN match_orders m USING (order_no)
                 WHERE o.biz_date = p.as_of),
               (SELECT count(*) FROM stg_channel_txns WHERE biz_date = p.as_of),
               (SELECT count(*) FROM settlements WHERE settle_date = p.as_of),
               (SELECT count(*) FROM settlements WHERE settle_date = p.as_of AND status = 'MATCHED'),
               (SELECT count(*) FROM distributions WHERE value_date = p.as_of),
               (SELECT count(*) FROM distributions WHERE value_date = p.as_of AND status = 'MATCHED')
        FROM params p
        """
    ).fetchone()

    def rate(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "-"

    return {
        "platform repay orders (biz date)": orders,
        "orders matched to a channel debit": matched,
        "order match rate": rate(matched, orders),
        "channel transactions (biz date)": txns,
        "settlements due today": settle_total,
        "settlements matched": settle_matched,
        "settlement match rate": rate(settle_matched, settle_total),
        "distributions due today": dist_total,
        "distributions matched": dist_matched,
    }


def write_report(config: Config, result: DateResult, stage: Path) -> Path:
    from reports.remediation import write_remediation
    from reports.workbook import ReportInputs, write_workbook
    from transforms.ledger import unclaimed_files

    day = result.report_date
    inputs = ReportInputs(
        exceptions=stage / "exceptions" / "exceptions.parquet",
        settlements=stage / "settlements" / "settlements.parquet",
        distributions=stage / "distributions" / "distributions.parquet",
        files=stage / "files" / "manifest.parquet",
        rejects=stage / "rejects" / "*" / "*.parquet",
        stats=result.stats,
        bank_lines=stage / "bank_lines" / "*" / "*.parquet",
        locale=config.locale,
        timezone=config.timezone,
        unclaimed=unclaimed_files(config, day),
    )
    write_remediation(
        day,
        stage / "remediation_lists",
        stage / publish.remediation_name(day),
        config.timezone,
        config.locale,
    )
    return write_workbook(day, inputs, stage / publish.workbook_name(day))


def manifest_of(planned: PlannedDate, config: Config, files: list[FileResult]) -> dict:
    return {
        "report_date": planned.day.isoformat(),
        "lineage": planned.lineage,
        "config": config_digest(config),
        "inputs_digest": planned.inputs,
        "reason": planned.reason,
        "decisions": planned.decisions,
        "inputs": [
            {"source": f.source, "file_name": f.file_name, "file_sha256": f.file_sha256}
            for f in files
            if f.file_sha256
        ],
    }


def publish_date(
    config: Config, planned: PlannedDate, stage: Path, result: DateResult
) -> DateResult:
    """Make the staged date visible (one rename) and point the result at the public paths."""
    publish.publish(config, planned.day, stage, manifest_of(planned, config, result.files))
    result.workbook = config.reports / publish.workbook_name(planned.day)
    result.exceptions_path = (
        config.lake / "exceptions" / f"report_date={planned.day}" / "exceptions.parquet"
    )
    return result


def with_inputs(result: DateResult, planned: PlannedDate, files: list[FileResult]) -> DateResult:
    """The date's files and why it was computed, for the summary, workbook and artifacts."""
    result.files, result.reason = files, planned.reason
    result.stats["computed because"] = planned.reason
    if files and all(f.status == "MISSING" for f in files):
        result.stats["inbox folder"] = (
            "no file for this date: every required source is MISSING_FILE"
        )
    return result


def compute_date(config: Config, planned: PlannedDate, ledger: Ledger) -> DateResult:
    """Ingest, match, report and publish one date; nothing is visible until the publish."""
    stage = publish.new_stage(config, planned.day)
    day = planned.day
    try:
        with phase(f"{day} ingest"):
            files = ingest_day(config, day, stage, ledger)
        publish.crash_point("ingest")
        with phase(f"{day} match and write state"):
            result = with_inputs(match_into(config, day, stage), planned, files)
        with phase(f"{day} workbook"):
            write_report(config, result, stage)
        publish.crash_point("workbook")
        with phase(f"{day} publish"):
            return publish_date(config, planned, stage, result)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------- scale-out


def open_stages(config: Config, todo: list[PlannedDate]) -> dict[dt.date, Path]:
    """A staging folder for every planned date at once, so the files of every date can be
    normalized ahead of matching (the Dask runner). Each date is published from its own."""
    stages: dict[dt.date, Path] = {}
    try:
        for planned in todo:
            stages[planned.day] = publish.new_stage(config, planned.day)
    except BaseException:
        drop_stages(stages.values())
        raise
    return stages


def drop_stages(stages) -> None:
    """Remove the staging folders not published (publishing renames a stage away)."""
    for stage in stages:
        shutil.rmtree(stage, ignore_errors=True)


def file_jobs(
    plans: dict[dt.date, list[tuple[Source, Path | None]]],
) -> list[tuple[dt.date, Source, Path]]:
    """Every file to normalize of the planned dates (`planned_files` of each): in date order,
    as the dates are matched, and each date's largest file first, as `ingest_day` does."""
    jobs = []
    for day, plan in plans.items():
        files = sorted(
            ((s, p) for s, p in plan if p is not None), key=lambda sp: -sp[1].stat().st_size
        )
        jobs.extend((day, s, p) for s, p in files)
    return jobs


def prepare(config: Config, start: dt.date, end: dt.date) -> tuple[Ledger, list[PlannedDate]]:
    """Under the lock: clean up after crashed runs, refresh the ledger, plan the dates."""
    publish.clean_leftovers(config)
    with phase("import finance decisions"):
        resolutions.import_folder(config)  # logs a summary; each line's verdict in its report
    ledger = Ledger(config)
    with phase("plan (ledger: stat every inbox file, hash the changed ones)"):
        todo = plan(config, start, end, ledger)
    ledger.save()
    return ledger, todo


def run_range(
    config: Config, start: dt.date, end: dt.date, wait_seconds: float = 0
) -> list[DateResult]:
    """Reconcile start..end in date order, first recomputing any stale earlier date."""
    with publish.run_lock(config, wait_seconds):
        ledger, todo = prepare(config, start, end)
        results = []
        for planned in todo:
            results.append(compute_date(config, planned, ledger))
            ledger.record(planned.day, results[-1].files)
        ledger.save()
        return results


def run_date(config: Config, day: dt.date) -> DateResult:
    return run_range(config, day, day)
