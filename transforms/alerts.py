"""At the end of a scheduled run: tell someone when a required file missed its deadline, when
a file of the day folder matches no source's glob (its rows would be silently absent), when
differences that harm borrowers appear, or when the money at risk passes the configured
threshold. A generic JSON webhook (DingTalk and WeCom robots accept the same `text` message);
nothing is sent when nothing is wrong or no webhook is configured."""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from transforms.config import Config
from transforms.duck import sql_path
from transforms.ledger import unclaimed_files

log = logging.getLogger("recon")
TIMEOUT_SECONDS = 10


@dataclass
class Alert:
    report_date: dt.date
    reasons: list[str] = field(default_factory=list)
    workbook: str = ""

    @property
    def text(self) -> str:
        lines = [f"对账提醒 recon alert {self.report_date}:"] + [f"- {r}" for r in self.reasons]
        if self.workbook:
            lines.append(f"workbook: {self.workbook}")
        return "\n".join(lines)

    def payload(self) -> dict:
        # `msgtype`/`text.content` is what DingTalk and WeCom robots read; the rest is for others.
        return {
            "msgtype": "text",
            "text": {"content": self.text},
            "report_date": self.report_date.isoformat(),
            "reasons": self.reasons,
            "workbook": self.workbook,
        }


def _exceptions(path: Path, where: str) -> list[tuple]:
    if not path.exists():
        return []
    return duckdb.sql(
        "SELECT exception_type, count(*), sum(money_at_stake), count(DISTINCT borrower_id) "
        f"FROM read_parquet({sql_path(path)}) WHERE {where} GROUP BY 1 ORDER BY 1"
    ).fetchall()


def evaluate(
    config: Config, report_date: dt.date, exceptions: Path, missed: list[str], workbook: str = ""
) -> Alert:
    """What is worth an alert in the report of `report_date` (`missed`: required sources with
    no file at the deadline)."""
    alert = Alert(report_date, workbook=workbook)
    if missed:
        alert.reasons.append(f"文件未到 files missing at the deadline: {', '.join(missed)}")
    unclaimed = unclaimed_files(config, report_date)
    if unclaimed:
        listed = "; ".join(f"{u.file_name} ({u.size:,} bytes, {u.looks_like})" for u in unclaimed)
        alert.reasons.append(
            f"无人认领的文件 files no source's glob matches (not read) in "
            f"{config.inbox / report_date.isoformat()}: {listed}"
        )
    new_harm = _exceptions(
        exceptions, f"status = 'OPEN' AND severity = 1 AND first_seen = DATE '{report_date}'"
    )
    if new_harm:
        parts = ", ".join(f"{t} {n} (money {m or 0:,.2f})" for t, n, m, _ in new_harm)
        alert.reasons.append(f"借款人受损 new borrower-harming differences: {parts}")
    threshold = config.schedule.alert_money_at_risk
    if threshold is not None:
        total = sum(
            (m or Decimal(0) for _, _, m, _ in _exceptions(exceptions, "status = 'OPEN'")),
            Decimal(0),
        )
        if total > threshold:
            alert.reasons.append(
                f"风险金额 money at risk {total:,.2f} > threshold {threshold:,.2f}"
            )
    return alert


def send(config: Config, alert: Alert) -> bool:
    """POST the alert to the configured webhook; True if sent. A failure is logged, never
    raised: an unreachable chat robot must not fail the reconciliation."""
    url = config.schedule.alert_webhook
    if not alert.reasons or not url:
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload(), ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300
    except OSError as exc:
        log.warning("alert webhook %s failed: %s", url, exc)
        return False
