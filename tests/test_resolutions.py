"""Finance decisions: recorded by command or by a filled workbook, applied from their effective
date on, reopened when the amounts change, and part of the inputs (re-runs are identical)."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest
from openpyxl import Workbook

from transforms import resolutions
from transforms.config import load_config
from transforms.errors import UsageError
from transforms.generate import generate
from transforms.pipeline import run_range
from transforms.resolutions import Decision

START = dt.date(2026, 11, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(5)]


@pytest.fixture
def lake(tmp_path):
    config = load_config(generate(tmp_path, START, len(DAYS), 20, seed=5))
    run_range(config, DAYS[0], DAYS[-1])
    return config


def exceptions(config, day, where="true"):
    return duckdb.sql(
        f"SELECT exception_id, exception_type, ref, status, resolution_action, resolved_by, detail "
        f"FROM read_parquet('{config.lake}/exceptions/report_date={day}/*.parquet') WHERE {where} "
        "ORDER BY exception_type, ref"
    ).fetchall()


def pick(config, code):
    return exceptions(config, DAYS[-1], f"exception_type = '{code}' AND status = 'OPEN'")[0]


def test_a_decision_resolves_from_its_effective_date_and_reruns_are_identical(lake):
    dup = pick(lake, "DUPLICATE_DEBIT")
    verdicts = resolutions.record(lake, [Decision(dup[0], "REFUNDED", "退款已发起", "王芳")])
    assert [v.outcome for v in verdicts] == ["accepted"]
    results = run_range(lake, DAYS[-1], DAYS[-1])
    assert [r.reason for r in results] == ["requested; finance decisions recorded for this date"]
    after = {r[0]: r for r in exceptions(lake, DAYS[-1])}
    assert after[dup[0]][3:6] == ("RESOLVED", "REFUNDED", "王芳")
    # The day before the decision does not show it; running again changes nothing.
    assert all(r[3] != "RESOLVED" for r in exceptions(lake, DAYS[-2]))
    path = lake.lake / "exceptions" / f"report_date={DAYS[-1]}" / "exceptions.parquet"
    before = path.read_bytes()
    assert run_range(lake, DAYS[-1], DAYS[-1])[0].reason == "requested"
    assert path.read_bytes() == before


def test_bad_decisions_are_refused_with_the_reason(lake):
    dup = pick(lake, "DUPLICATE_DEBIT")
    first = resolutions.record(lake, [Decision(dup[0], "REFUNDED", "", "王芳")])
    assert first[0].outcome == "accepted"
    verdicts = resolutions.record(
        lake,
        [
            Decision("0000000000000000", "REFUNDED", "", "王芳"),
            Decision(dup[0], "PAID", "", "王芳"),
            Decision(dup[0], "WRITTEN_OFF", "", "李雷"),
            Decision(dup[0], "REFUNDED", "", "王芳"),
            Decision(pick(lake, "MISSING_ON_CHANNEL")[0], "MATCHED_MANUALLY", "", "王芳"),
            Decision(pick(lake, "MISSING_ON_PLATFORM")[0], "CREDITED", "", " "),
        ],
    )
    expected = [
        ("rejected", "unknown exception id '0000000000000000'"),
        ("rejected", "unknown action; expected one of REFUNDED"),
        ("rejected", "already resolved differently: REFUNDED by 王芳"),
        ("unchanged", "already resolved as REFUNDED by 王芳"),
        ("rejected", "MATCHED_MANUALLY needs the counterpart's ref"),
        ("rejected", "who decided? (处理人 / --by is empty)"),
    ]
    for v, (outcome, reason) in zip(verdicts, expected, strict=True):
        assert v.outcome == outcome and v.reason.startswith(reason), v


def test_a_filled_workbook_dropped_in_the_folder_is_imported_on_the_next_run(lake):
    rows = [
        pick(lake, code) for code in ("PLATFORM_NOT_PAID", "AMOUNT_MISMATCH", "MISSING_ON_PLATFORM")
    ]
    wb = Workbook()
    ws = wb.active
    ws.append(["类型", "异常编号", "金额", "处理结果", "处理说明", "处理人", "对方单号"])
    ws.append([rows[0][1], rows[0][0], 1, "CREDITED 补单已处理", "已补单", "王芳", None])
    ws.append([rows[1][1], rows[1][0], 1, "核销", "差额核销", "李雷", None])
    ws.append([rows[2][1], rows[2][0], 1, None, None, None, None])  # undecided: ignored
    ws.append(["X", "ffffffffffffffff", 1, "REFUNDED 已退款", "", "王芳", None])
    folder = lake.resolutions_dir
    folder.mkdir(parents=True)
    wb.save(folder / "recon_filled.xlsx")
    results = run_range(lake, DAYS[-1], DAYS[-1])
    assert results[0].reason.endswith("finance decisions recorded for this date")
    status = {r[0]: r[3:5] for r in exceptions(lake, DAYS[-1])}
    assert status[rows[0][0]] == ("RESOLVED", "CREDITED")
    assert status[rows[1][0]] == ("RESOLVED", "WRITTEN_OFF")
    assert status[rows[2][0]][0] == "OPEN"
    [report] = lake.reports.glob("resolutions_import_*.csv")
    with open(report, encoding="utf-8-sig") as f:
        verdicts = list(csv.DictReader(f))
    assert [v["outcome"] for v in verdicts] == ["accepted", "accepted", "rejected"]
    assert "unknown exception id" in verdicts[2]["reason"]
    # Imported once: the next run finds nothing new.
    run_range(lake, DAYS[-1], DAYS[-1])
    assert len(list(lake.reports.glob("resolutions_import_*.csv"))) == 1


def test_nothing_published_yet_is_a_usage_error(tmp_path):
    config = load_config(generate(tmp_path, START, 3, 5, seed=1))
    with pytest.raises(UsageError, match="nothing published yet"):
        resolutions.record(config, [Decision("x", "REFUNDED", "", "w")])


def test_recon_resolve_records_and_refuses_with_exit_2(lake, capsys):
    from flows.cli import main

    dup = pick(lake, "DUPLICATE_DEBIT")
    args = ["resolve", dup[0], "--config", str(lake.path), "--by", "王芳"]
    assert main([*args, "--action", "REFUNDED", "--note", "退款已发起"]) == 0
    assert "recorded REFUNDED" in capsys.readouterr().out
    assert main([*args, "--action", "WRITTEN_OFF"]) == 2
    err = capsys.readouterr().err
    assert "already resolved differently" in err and "Traceback" not in err
    assert (
        main(["resolve", "nope", "--config", str(lake.path), "--by", "x", "--action", "REFUNDED"])
        == 2
    )
    run_range(lake, DAYS[-1], DAYS[-1])
    assert {r[0]: r[3] for r in exceptions(lake, DAYS[-1])}[dup[0]] == "RESOLVED"


def test_round_trip_through_the_report_workbook_itself(lake):
    """Open the day's workbook as finance would, decide two rows in Excel, drop it back."""
    from openpyxl import load_workbook

    day = DAYS[-1]
    path = lake.reports / f"recon_{day}.xlsx"
    wb = load_workbook(path)
    decided = {}
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if "处理结果" not in header or ws.max_row < 2:
            continue
        col = {
            name: header.index(name) + 1 for name in ("异常编号", "处理结果", "处理说明", "处理人")
        }
        ws.cell(2, col["处理结果"], "FALSE_POSITIVE 误报")
        ws.cell(2, col["处理说明"], "核实为测试数据")
        ws.cell(2, col["处理人"], "王芳")
        decided[ws.cell(2, col["异常编号"]).value] = "FALSE_POSITIVE"
        if len(decided) == 2:
            break
    lake.resolutions_dir.mkdir(parents=True)
    wb.save(lake.resolutions_dir / path.name)
    results = run_range(lake, day, day)
    assert "finance decisions recorded" in results[0].reason
    after = {r[0]: r for r in exceptions(lake, day)}
    assert {eid: after[eid][4] for eid in decided} == decided
    assert all(after[eid][3] == "RESOLVED" for eid in decided)
    resolved = load_workbook(lake.reports / f"recon_{day}.xlsx", read_only=True)
    assert any(name.startswith("已处理") for name in resolved.sheetnames)


def test_a_decision_recorded_in_error_is_superseded_or_revoked_append_only(lake, capsys):
    from flows.cli import main

    dup = pick(lake, "DUPLICATE_DEBIT")
    args = ["resolve", dup[0], "--config", str(lake.path), "--by", "王芳"]
    assert main([*args, "--action", "REFUNDED", "--note", "退款已发起"]) == 0
    capsys.readouterr()
    # A second decision without --supersede is refused, saying how to correct one.
    assert main([*args, "--action", "WRITTEN_OFF", "--note", "核销"]) == 2
    assert "--supersede" in capsys.readouterr().err
    assert main([*args, "--action", "WRITTEN_OFF", "--supersede"]) == 2
    assert "needs --note" in capsys.readouterr().err
    assert main([*args, "--action", "WRITTEN_OFF", "--supersede", "--note", "误记为退款"]) == 0
    assert "recorded WRITTEN_OFF in place of REFUNDED by 王芳" in capsys.readouterr().out
    run_range(lake, DAYS[-1], DAYS[-1])
    after = {r[0]: r for r in exceptions(lake, DAYS[-1])}
    assert after[dup[0]][3:6] == ("RESOLVED", "WRITTEN_OFF", "王芳")
    # Revoked: the exception is OPEN again on the next run; every record stays in the store.
    assert main([*args, "--revoke", "--note", "尚未处理"]) == 0
    assert "revoked WRITTEN_OFF by 王芳" in capsys.readouterr().out
    results = run_range(lake, DAYS[-1], DAYS[-1])
    assert results[0].reason.endswith("finance decisions recorded for this date")
    assert {r[0]: r[3] for r in exceptions(lake, DAYS[-1])}[dup[0]] == "OPEN"
    records = duckdb.sql(
        f"SELECT action, supersedes IS NOT NULL, effective_date FROM ({resolutions.records_sql(lake)}) "
        "ORDER BY resolved_at, action"
    ).fetchall()
    assert sorted(r[:2] for r in records) == [
        ("REFUNDED", False),
        ("REVOKED", True),
        ("WRITTEN_OFF", True),
    ]
    assert {r[2] for r in records} == {DAYS[-1]}  # a correction applies where the decision did
    # Nothing in force: nothing to revoke; a new decision is recorded as a first one.
    assert main([*args, "--revoke", "--note", "again"]) == 2
    assert "no decision in force" in capsys.readouterr().err
    assert main([*args, "--action", "REFUNDED", "--revoke", "--note", "x"]) == 2
    assert main([*args, "--note", "x"]) == 2
    assert "exactly one of --action and --revoke" in capsys.readouterr().err
    assert main([*args, "--action", "CREDITED", "--note", "补单"]) == 0


def test_a_large_import_logs_a_summary_and_its_report_holds_every_line_as_text(lake, caplog):
    folder = lake.resolutions_dir
    folder.mkdir(parents=True)
    lines = ["异常编号,处理结果,处理说明,处理人"]
    lines += [f"bad{i:04d},REFUNDED,,王芳" for i in range(300)]
    lines.append('"=HYPERLINK(""http://x"",""y"")",+1+1,,王芳')
    (folder / "decisions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level("INFO", logger="recon"):
        run_range(lake, DAYS[-1], DAYS[-1])
    logged = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(logged) <= resolutions.LOGGED_REJECTS + 2
    assert "301 rejected" in logged[0] and "resolutions_import_" in logged[0]
    assert logged[-1].startswith(f"  ... and {301 - resolutions.LOGGED_REJECTS} more")
    [report] = lake.reports.glob("resolutions_import_*.csv")
    with open(report, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 301
    assert rows[-1]["exception_id"] == '\'=HYPERLINK("http://x","y")'  # text, not a formula
