"""`recon trace`: every hop of one repayment, on the reconciled demo (keys from the answer key
and the lake, never hard-coded)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil

import duckdb
import pytest

from flows.cli import main
from transforms import publish
from transforms.trace import KeyNotFound, render_text, to_json, trace
from transforms.trace.model import DIFFERS, DONE, MISSING, NA, PENDING, UNAVAILABLE


def answer_key(demo_run) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    with open(demo_run.out / "answer_key.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            refs.setdefault(row["exception_type"], []).append(row["ref"])
    return refs


def lake_sql(demo_run, sql: str) -> list[tuple]:
    lake = demo_run.config.lake
    views = {
        "orders": f"read_parquet('{lake}/platform_orders/*/*/*.parquet', hive_partitioning=false)",
        "txns": f"read_parquet('{lake}/channel_txns/*/*/*.parquet', hive_partitioning=false)",
        "exceptions": f"read_parquet('{lake}/exceptions/*/*.parquet', hive_partitioning=false)",
        "settlements": f"read_parquet('{lake}/settlements/*/*.parquet', hive_partitioning=false)",
        "distributions": f"read_parquet('{lake}/distributions/*/*.parquet', "
        "hive_partitioning=false, union_by_name=true)",
    }
    return duckdb.sql(sql.format(**views)).fetchall()


@pytest.fixture(scope="module")
def normal(demo_run) -> dict:
    """A plain repayment: SUCCESS on both sides, named by no exception, no refund, its
    settlement item MATCHED on the last report date, and (once layer C publishes them) its
    distribution rows to its lender and to FEE MATCHED too."""
    last = demo_run.days[-1]
    named = {r for refs in answer_key(demo_run).values() for r in refs}
    distributed = ""
    if has_distributions(demo_run.config, last):
        distributed = f"""
          AND (SELECT count(*) FILTER (WHERE d.status = 'MATCHED') = 2 AND count(*) = 2
               FROM {{distributions}} d
               WHERE d.report_date = DATE '{last}' AND d.recipient IN (o.lender_code, 'FEE')
                 AND list_contains(string_split(d.settle_items, ','),
                                   s.channel || ':' || strftime(s.settle_date, '%Y-%m-%d')))"""
    rows = lake_sql(
        demo_run,
        f"""
        SELECT o.order_no, o.borrower_id, t.channel_txn_id, o.amount, o.file_name, o.line_no
        FROM {{orders}} o
        JOIN {{txns}} t ON t.merchant_order_no = o.order_no AND t.txn_type = 'PAY'
        JOIN {{settlements}} s ON s.report_date = DATE '{last}' AND s.channel = o.channel
             AND s.trade_date = o.biz_date AND s.status = 'MATCHED'
        WHERE o.order_type = 'REPAY' AND o.status = 'SUCCESS' AND t.status = 'SUCCESS'
          AND o.amount = t.amount
          AND o.order_no NOT IN (SELECT order_no FROM {{exceptions}} WHERE order_no IS NOT NULL)
          AND o.order_no NOT IN (SELECT orig_order_no FROM {{orders}} WHERE orig_order_no IS NOT NULL)
          AND o.borrower_id IN (SELECT borrower_id FROM {{orders}} GROUP BY 1 HAVING count(*) = 1)
          {distributed}
        ORDER BY o.biz_date, o.order_no
        """,
    )
    rows = [r for r in rows if r[0] not in named]
    assert rows, "the demo has a plain repayment"
    keys = ("order_no", "borrower_id", "channel_txn_id", "amount", "file_name", "line_no")
    return dict(zip(keys, rows[0], strict=True))


def hops(result, kind: str) -> list:
    (t,) = result.traces
    return [h for h in t.hops if h.kind == kind]


def order_file(demo_run, order_no: str) -> str:
    ((name,),) = lake_sql(
        demo_run, f"SELECT DISTINCT file_name FROM {{orders}} WHERE order_no = '{order_no}'"
    )
    return name


def has_distributions(config, day) -> bool:
    version = publish.current_version(config, day)
    return bool(list((version / "distributions").glob("*.parquet"))) if version else False


def test_normal_repayment_every_hop_done(demo_run, normal):
    config = demo_run.config
    result = trace(config, normal["order_no"])
    assert result.kind == "order_no" and result.report_date == demo_run.days[-1]
    (t,) = result.traces
    assert [h.kind for h in t.hops][:2] == ["order", "channel_debit"]
    (order,) = hops(result, "order")
    assert order.status == DONE and order.amount == normal["amount"]
    assert order.sources[0]["file_name"] == normal["file_name"]
    assert order.sources[0]["line_no"] == normal["line_no"]
    (debit,) = hops(result, "channel_debit")
    assert debit.status == DONE and debit.ref == normal["channel_txn_id"]
    assert debit.sources and debit.sources[0]["line_no"] > 0
    (settlement,) = hops(result, "settlement")
    assert settlement.status == DONE and settlement.ref.endswith(str(settlement.date))
    credits = hops(result, "bank_credit")
    assert credits and all(c.status == DONE for c in credits)
    assert all(c.sources and c.sources[0]["file_name"] for c in credits), "bank line file:line"
    distribution = hops(result, "distribution")
    lender = t.facts["lender"]
    assert [h.label.rsplit(" ", 1)[-1] for h in distribution] == [lender, "FEE"]
    if has_distributions(config, result.report_date):
        assert all(h.status == DONE for h in t.hops), [(h.kind, h.status) for h in t.hops]
        assert all(h.ref.endswith(f":{h.date}") and h.sources for h in distribution)
    else:
        assert all(h.status == UNAVAILABLE for h in distribution)
    assert t.exceptions == []
    assert "bank credit" in t.where or "distributed" in t.where
    assert t.window[1] - t.window[0] <= dt.timedelta(days=3), "reads only the order's own days"


def test_missing_on_channel(demo_run):
    for ref in answer_key(demo_run)["MISSING_ON_CHANNEL"]:
        result = trace(demo_run.config, ref)
        (debit,) = hops(result, "channel_debit")
        assert debit.status == MISSING, ref
        assert any("MISSING_ON_CHANNEL" in e for e in debit.exceptions)
        assert hops(result, "settlement")[0].status == NA
        assert hops(result, "order")[0].status == DONE


def test_amount_mismatch_differs(demo_run):
    for ref in answer_key(demo_run)["AMOUNT_MISMATCH"]:
        result = trace(demo_run.config, ref)
        (order,) = hops(result, "order")
        (debit,) = hops(result, "channel_debit")
        assert debit.status == DIFFERS and debit.amount != order.amount, ref
        assert any(e["exception_type"] == "AMOUNT_MISMATCH" for e in result.traces[0].exceptions)


def test_duplicate_debit_shows_both_debits(demo_run):
    refs = answer_key(demo_run)["DUPLICATE_DEBIT"]
    twice = 0
    for ref in refs:
        result = trace(demo_run.config, ref)
        debits = hops(result, "channel_debit") + hops(result, "installment_debit")
        assert len(debits) >= 2, ref
        assert [h.status for h in debits].count(DIFFERS) >= 1, ref
        assert len({h.ref for h in debits}) == len(debits)
        twice += len(hops(result, "channel_debit")) == 2
    assert twice, "a second debit of the same order is shown as its second channel debit"


def test_missing_on_platform_and_platform_not_paid(demo_run):
    refs = answer_key(demo_run)
    result = trace(demo_run.config, refs["MISSING_ON_PLATFORM"][0])
    assert hops(result, "order")[0].status == MISSING
    assert hops(result, "channel_debit")[0].status == DONE
    result = trace(demo_run.config, refs["PLATFORM_NOT_PAID"][0])
    assert hops(result, "order")[0].status == DIFFERS


def test_settlement_missing_and_mismatch(demo_run):
    refs = answer_key(demo_run)
    for code, status in (("SETTLEMENT_MISSING", MISSING), ("SETTLEMENT_MISMATCH", DIFFERS)):
        ref = refs[code][0]
        channel, settle_date = ref.split(":")
        source = next(s for s in demo_run.config.by_role("channel") if s.channel == channel)
        trade = dt.date.fromisoformat(settle_date) - dt.timedelta(days=source.settle_lag_days)
        ((order_no,),) = lake_sql(
            demo_run,
            f"""SELECT min(o.order_no) FROM {{orders}} o
                JOIN {{txns}} t ON t.merchant_order_no = o.order_no AND t.status = 'SUCCESS'
                WHERE o.channel = '{channel}' AND o.biz_date = DATE '{trade}'
                  AND o.status = 'SUCCESS' AND o.amount = t.amount""",
        )
        result = trace(demo_run.config, order_no)
        (settlement,) = hops(result, "settlement")
        assert settlement.ref == ref and settlement.status == status, (code, order_no)
        assert hops(result, "bank_credit")[0].status == status


def test_channel_failed_debit_differs(demo_run):
    refs = answer_key(demo_run)["CHANNEL_FAILED"]
    for ref in refs:
        result = trace(demo_run.config, ref)
        (order,) = hops(result, "order")
        assert order.status == DONE and "SUCCESS" in order.detail[0], ref
        debit = hops(result, "channel_debit")[0]
        assert debit.status == DIFFERS, ref
        assert " FAILED " in debit.detail[0], "names the channel's status"
        assert any(e.startswith("CHANNEL_FAILED") for e in debit.exceptions), debit.exceptions
        assert all(h.status == NA for h in hops(result, "settlement")), "nothing to settle"
        assert "not taken from the borrower" in result.traces[0].where


def test_refund_unmatched_one_sided_and_over_refund(demo_run):
    kinds = set()
    for ref in answer_key(demo_run)["REFUND_UNMATCHED"]:
        result = trace(demo_run.config, ref)
        (t,) = result.traces
        assert t.notes and f"{ref} is a refund" in t.notes[0], "traced as its original's hop"
        (refund,) = [h for h in hops(result, "refund") if ref in h.ids]
        assert refund.status == DIFFERS, (ref, refund)
        assert any(e.startswith("REFUND_UNMATCHED") for e in refund.exceptions)
        if any("with no channel refund" in d for d in refund.detail):
            kinds.add("one-sided")
            assert [s["file_name"] for s in refund.sources] == [order_file(demo_run, ref)]
            continue
        kinds.add("over-refund")
        ((total, amount),) = lake_sql(
            demo_run,
            f"""SELECT (SELECT sum(amount) FROM (SELECT DISTINCT order_no, amount FROM {{orders}}
                        WHERE order_type = 'REFUND' AND status = 'SUCCESS'
                          AND orig_order_no = '{t.order_no}')),
                       (SELECT any_value(amount) FROM {{orders}} WHERE order_no = '{t.order_no}')""",
        )
        over = f"total {total:,.2f}, more than its amount {amount:,.2f}"
        assert any(over in d for d in refund.detail), refund.detail
        assert f"refunded 已退款 {total:,.2f}" in t.where, "what the channel paid back"
    assert kinds == {"one-sided", "over-refund"}


def test_distribution_mismatch_to_the_lender(demo_run):
    last = demo_run.days[-1]
    refs = [r for r in answer_key(demo_run)["DISTRIBUTION_MISMATCH"] if not r.startswith("FEE:")]
    assert refs, "the demo has a 清分 mismatch of a lender"
    for ref in refs:
        lender, value_date = ref.split(":")
        # an order of the lender in a settlement item that row distributes, credited that day
        ((order_no,),) = lake_sql(
            demo_run,
            f"""SELECT min(o.order_no)
                FROM {{distributions}} d
                JOIN {{settlements}} s ON s.report_date = d.report_date
                  AND list_contains(string_split(replace(d.settle_items, ' ', ''), ','),
                                    s.channel || ':' || strftime(s.settle_date, '%Y-%m-%d'))
                JOIN {{orders}} o ON o.channel = s.channel AND o.biz_date = s.trade_date
                JOIN {{txns}} t ON t.merchant_order_no = o.order_no AND t.txn_type = 'PAY'
                WHERE d.report_date = DATE '{last}' AND d.recipient = '{lender}'
                  AND d.value_date = DATE '{value_date}'
                  AND s.bank_value_date = DATE '{value_date}'
                  AND o.lender_code = '{lender}' AND o.order_type = 'REPAY'
                  AND o.status = 'SUCCESS' AND t.status = 'SUCCESS' AND t.amount = o.amount""",
        )
        assert order_no, ref
        result = trace(demo_run.config, order_no)
        (to_lender,) = [h for h in hops(result, "distribution") if h.label.endswith(lender)]
        assert to_lender.ref == ref and to_lender.status == DIFFERS, (order_no, to_lender)
        assert any(e.startswith("DISTRIBUTION_MISMATCH") for e in to_lender.exceptions)
        assert any("diff" in d for d in to_lender.detail)
        credits = hops(result, "bank_credit")
        assert credits and all(c.status == DONE for c in credits), "the money did arrive"
        (to_fee,) = [h for h in hops(result, "distribution") if h.label.endswith("FEE")]
        assert to_fee.ref != ref


def test_data_conflict_on_the_order_hop(demo_run):
    refs = answer_key(demo_run)["DATA_CONFLICT"]
    (orders,) = zip(*lake_sql(demo_run, "SELECT DISTINCT order_no FROM {orders}"), strict=True)
    refs = [r for r in refs if r in set(orders)]
    assert refs, "the demo re-delivers a platform order with other content"
    for ref in refs:
        result = trace(demo_run.config, ref)
        (order,) = hops(result, "order")
        assert order.status == DIFFERS, (ref, order)
        assert any(e.startswith("DATA_CONFLICT") for e in order.exceptions)
        assert len({s["file_name"] for s in order.sources}) >= 2, "every delivery, file:line"
        (conflict,) = [
            e for e in result.traces[0].exceptions if e["exception_type"] == "DATA_CONFLICT"
        ]
        (changed,) = [d for d in order.detail if d.startswith("changed since")]
        # "order delivered again with different content: principal 917.38→916.38; ... Earlier: .."
        fields = conflict["detail"].split(": ", 1)[1].split(". Earlier")[0].split("; ")
        assert fields and all("→" in f for f in fields), conflict["detail"]
        for name, change in (f.split(" ", 1) for f in fields):
            old, new = change.split("→")
            assert name in changed and (name == "borrower_id" or f"{old} → {new}" in changed)
        assert hops(result, "channel_debit")[0].status == DONE


def test_lookup_by_channel_txn_id(demo_run, normal):
    by_order = trace(demo_run.config, normal["order_no"])
    by_txn = trace(demo_run.config, normal["channel_txn_id"])
    assert by_txn.kind == "channel_txn_id"
    assert by_txn.traces[0].order_no == normal["order_no"]
    assert [(h.kind, h.status, h.ref) for h in by_txn.traces[0].hops] == [
        (h.kind, h.status, h.ref) for h in by_order.traces[0].hops
    ]


def test_lookup_by_borrower_id_is_masked(demo_run, normal):
    result = trace(demo_run.config, normal["borrower_id"])
    assert result.kind == "borrower_id"
    assert [t.order_no for t in result.traces] == [normal["order_no"]]
    borrower = result.traces[0].facts["borrower"]
    assert borrower != normal["borrower_id"] and "*" in borrower
    text = render_text(result)
    assert normal["borrower_id"] not in text.split("\n", 1)[1]  # masked below the title line


def test_borrower_outside_the_window_is_not_found(demo_run, normal):
    first, last = demo_run.days[0], demo_run.days[-1]
    ((biz_date,),) = lake_sql(
        demo_run, f"SELECT biz_date FROM {{orders}} WHERE order_no = '{normal['order_no']}'"
    )
    if biz_date == last:
        pytest.skip("the plain repayment is on the last date")
    with pytest.raises(KeyNotFound):
        trace(demo_run.config, normal["borrower_id"], last, days=(last - biz_date).days)
    assert trace(demo_run.config, normal["borrower_id"], last, days=(last - first).days + 1)


def test_trace_as_of_an_earlier_report_date(demo_run, normal):
    ((biz_date,),) = lake_sql(
        demo_run, f"SELECT biz_date FROM {{orders}} WHERE order_no = '{normal['order_no']}'"
    )
    result = trace(demo_run.config, normal["order_no"], biz_date)
    assert result.report_date == biz_date
    (settlement,) = hops(result, "settlement")
    assert settlement.status == PENDING and settlement.date > biz_date


def test_unknown_key_exits_2(demo_run, capsys):
    code = main(["trace", "NO-SUCH-KEY-42", "--config", str(demo_run.config_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "NO-SUCH-KEY-42" in err


def test_bad_config_and_unpublished_date_exit_2(demo_run, tmp_path, capsys):
    bad = tmp_path / "recon.toml"
    bad.write_text('inbox = "x"\n', encoding="utf-8")
    assert main(["trace", "PO1", "--config", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    later = demo_run.days[-1] + dt.timedelta(days=30)
    args = ["trace", "PO1", "--config", str(demo_run.config_path), "--date", str(later)]
    assert main(args) == 2
    assert "no published report" in capsys.readouterr().err


def test_text_output(demo_run, normal, capsys):
    assert main(["trace", normal["order_no"], "--config", str(demo_run.config_path)]) == 0
    out = capsys.readouterr().out
    for label in ("平台订单", "渠道扣款", "渠道结算", "银行入账", "清分", "done 完成"):
        assert label in out
    assert f"{normal['file_name']}:{normal['line_no']}" in out


def test_json_output_parses(demo_run, normal, capsys):
    key = answer_key(demo_run)["AMOUNT_MISMATCH"][0]
    args = ["trace", key, "--config", str(demo_run.config_path), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["key"] == key and data["kind"] == "order_no"
    (t,) = data["traces"]
    statuses = {h["hop"]: h["status"] for h in t["hops"]}
    assert statuses["order"] == DONE and statuses["channel_debit"] == DIFFERS
    order = t["hops"][0]
    assert order["sources"][0]["file_name"] and isinstance(order["sources"][0]["line_no"], int)
    assert order["amount"].count(".") == 1  # money as an exact decimal string
    assert json.loads(json.dumps(to_json(trace(demo_run.config, key))))["traces"] == data["traces"]


# ---------------------------------------------------------------------------- distributions


def with_distributions(demo_run, tmp_path, order_no: str):
    """A copy of the demo's data_dir whose last report carries the extended settlements columns
    and a distributions table naming the order's settlement item (the shape layer C writes)."""
    config = dataclasses.replace(demo_run.config, data_dir=tmp_path / "data")
    shutil.copytree(demo_run.config.data_dir, config.data_dir, symlinks=True)
    day = demo_run.days[-1]
    version = publish.current_version(config, day)
    first = trace(config, order_no)
    (settlement,) = hops(first, "settlement")
    (credit,) = hops(first, "bank_credit")
    lender = first.traces[0].facts["lender"]
    con = duckdb.connect()
    path = version / "settlements" / "settlements.parquet"
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    if "group_id" not in columns:  # the layout before layer B's groups
        con.execute(
            f"""COPY (SELECT *, channel || ':' || CAST(settle_date AS VARCHAR) AS group_id,
                             bank_txn_id AS bank_txn_ids, expected_net AS group_expected
                      FROM read_parquet('{path}')) TO '{tmp_path}/s.parquet' (FORMAT parquet)"""
        )
        shutil.move(tmp_path / "s.parquet", path)
    debits = lake_sql(
        demo_run,
        f"""SELECT bank_txn_id, file_name, line_no FROM read_parquet(
              '{demo_run.config.lake}/bank_lines/*/*/*.parquet', hive_partitioning=false)
            WHERE direction = 'DEBIT' AND value_date = DATE '{credit.date}' ORDER BY 1 LIMIT 2""",
    )
    assert len(debits) == 2, "the demo's collection account pays out 清分 the day the credit lands"
    shutil.rmtree(version / "distributions", ignore_errors=True)
    (version / "distributions").mkdir()
    rows = [
        (lender, debits[0][0], "MATCHED", "100.00", "100.00"),
        ("FEE", debits[1][0], "MISMATCH", "20.00", "19.00"),
    ]
    values = ", ".join(
        f"""(DATE '{day}', '{who}', 'ACCT', DATE '{credit.date}', {exp}, {paid}, '{paid_id}',
             DATE '{credit.date}', NULL, NULL, {paid} - {exp}, '{status}',
             'X:2000-01-01,{settlement.ref}', NULL)"""
        for who, paid_id, status, exp, paid in rows
    )
    con.execute(
        f"""COPY (SELECT report_date, recipient, account_no, value_date,
                         CAST(expected_amount AS DECIMAL(18,2)) AS expected_amount,
                         CAST(paid_amount AS DECIMAL(18,2)) AS paid_amount, paid_bank_txn_ids,
                         paid_value_date, CAST(received_amount AS DECIMAL(18,2)) AS received_amount,
                         CAST(received_bank_txn_ids AS VARCHAR) AS received_bank_txn_ids,
                         CAST(diff_amount AS DECIMAL(18,2)) AS diff_amount, status, settle_items,
                         CAST(detail AS VARCHAR) AS detail
                  FROM (VALUES {values}) v(report_date, recipient, account_no, value_date,
                       expected_amount, paid_amount, paid_bank_txn_ids, paid_value_date,
                       received_amount, received_bank_txn_ids, diff_amount, status, settle_items,
                       detail))
            TO '{version}/distributions/distributions.parquet' (FORMAT parquet)"""
    )
    return config, lender, debits


def test_distribution_hops_read_the_distributions_table(demo_run, normal, tmp_path):
    config, lender, debits = with_distributions(demo_run, tmp_path, normal["order_no"])
    result = trace(config, normal["order_no"])
    to_lender, to_fee = hops(result, "distribution")
    assert to_lender.label.endswith(lender) and to_lender.status == DONE
    assert to_lender.ref.startswith(f"{lender}:")
    assert (to_lender.sources[0]["file_name"], to_lender.sources[0]["line_no"]) == debits[0][1:]
    assert to_fee.label.endswith("FEE") and to_fee.status == DIFFERS
    assert any("share" in d for d in to_fee.detail)
