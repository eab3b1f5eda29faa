"""The broken-file corpus: no single input file, however broken, can fail its date.

Every file of tests/corpus/files/ (and every huge one the test writes at run time, see
GENERATED) is read through its format as a day's ingest reads it
(`transforms.ingest.ingest_file`) and must end as EXPECTED.md says: a file-level error
(status ERROR, one REJECTED_ROW naming the file and line), rejected rows (the rest of the
file kept), a failed control check (an incomplete file), or read cleanly. The day-level
test puts a broken file into a generated inbox day: the date is still published, the
broken file is ERROR or rejected, and every other file reads exactly as without it.

Files are named `<format>__<case>.<ext>`: the format is the part before `__`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms.config import Config, Source
from transforms.ingest import FileResult, ingest_file
from transforms.ledger import Delivery
from transforms.sources import get_format
from transforms.zipfiles import write_gbk_zip

FILES = Path(__file__).parent / "files"
EXPECTED = FILES / "EXPECTED.md"
HUGE = 33 * 1024 * 1024  # a 33 MB line: DuckDB's and Python's limits, well past ours
DAY = dt.date(2026, 11, 2)

ROLES = {"platform_orders": "platform", "channel_txns": "channel", "bank_lines": "bank"}


# ------------------------------------------------------------------ files made at run time


def _insert_line(base: str, after: int, line: bytes):
    def make(tmp: Path) -> bytes:
        lines = (FILES / base).read_bytes().split(b"\n")
        return b"\n".join(lines[:after] + [line] + lines[after:])

    return make


def _huge_cell(tmp: Path) -> bytes:
    lines = (FILES / "cn_bank__valid.csv").read_bytes().split(b"\n")
    lines[3] = lines[3].rstrip(b"\r") + b"Z" * 200_000 + b"\r"  # into the last cell (流水号)
    return b"\n".join(lines)


def _zipped_huge_line(tmp: Path) -> bytes:
    import zipfile

    from transforms.zipfiles import real_name

    with zipfile.ZipFile(FILES / "alipay_bill__valid.csv.zip") as zf:
        (info,) = zf.infolist()
        lines = zf.read(info).split(b"\n")
    entry = real_name(info)
    data = b"\n".join(lines[:6] + [b"y" * HUGE] + lines[6:])
    return write_gbk_zip(tmp / "made.zip", {entry: data}).read_bytes()


def _deep_xml(tmp: Path) -> bytes:
    xml = (FILES / "camt053__valid.xml").read_bytes()
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    return xml.replace(b"<AddtlNtryInf>", b"<AddtlNtryInf>" + deep)


def _replace(base: str, old: bytes, new: bytes):
    def make(tmp: Path) -> bytes:
        data = (FILES / base).read_bytes()
        assert old in data, (base, old)
        return data.replace(old, new, 1)

    return make


def _huge_cell_xlsx(tmp: Path) -> bytes:
    """cn_bank__valid.csv as a workbook, its 摘要 on sheet row 4 140,000 characters long."""
    import csv

    import openpyxl

    from tests.sources.longcells import save_with_long_cell

    text = (FILES / "cn_bank__valid.csv").read_bytes().decode("gb18030")
    book = openpyxl.Workbook()
    for k, cells in enumerate(csv.reader(text.splitlines()), start=1):
        book.active.append([("LONGCELL" if k == 4 and i == 11 else c) for i, c in enumerate(cells)])
    return save_with_long_cell(book, tmp / "made.xlsx", "LONGCELL", "摘" * 140_000).read_bytes()


GENERATED = {
    "platform_export__huge_line.csv": _insert_line("platform_export__valid.csv", 2, b"x" * HUGE),
    "wechatpay_bill__huge_line.csv": _insert_line("wechatpay_bill__valid.csv", 2, b"x" * HUGE),
    "withholding__huge_line.txt": _insert_line("withholding__valid.txt", 2, b"x" * HUGE),
    "alipay_bill__huge_line.csv.zip": _zipped_huge_line,
    "cn_bank__huge_line.csv": _insert_line("cn_bank__valid.csv", 4, b"9" * HUGE),
    "cn_bank__huge_cell.csv": _huge_cell,
    "mt940__huge_line.sta": _insert_line("mt940__valid.sta", 5, b"z" * HUGE),
    "camt053__deep_nesting.xml": _deep_xml,
    "cn_bank__huge_cell.xlsx": _huge_cell_xlsx,
    "mt940__huge_field.sta": _replace(
        "mt940__valid.sta", b"\n:86:", ("\n:86:" + "x" * 140_000 + "\r\n:86:").encode()
    ),
    "camt053__huge_element.xml": _replace(
        "camt053__valid.xml", b"<AddtlNtryInf>", b"<AddtlNtryInf>" + b"a" * 140_000
    ),
}


# ------------------------------------------------------------------ the expected outcomes


@dataclass(frozen=True)
class Case:
    file: str
    outcome: str  # error | reject | check | ok
    line: int | None  # of the error or reject (None: no line)
    ok_rows: int | None  # rows still read (None: not checked)
    fragment: str  # in the error message, the reject reason or the failed check's name

    @property
    def format(self) -> str:
        return self.file.split("__", 1)[0]


def expected_cases() -> list[Case]:
    """The rows of the table in EXPECTED.md: | file | outcome | line | ok rows | message |."""
    cases = []
    for row in EXPECTED.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        name = re.match(r"`([^`]+)`", cells[0])
        if not row.startswith("|") or len(cells) != 5 or not name:
            continue
        _, outcome, line, ok_rows, fragment = cells
        cases.append(
            Case(
                name.group(1),
                outcome,
                None if line == "-" else int(line),
                None if ok_rows == "-" else int(ok_rows),
                fragment.removeprefix("`").removesuffix("`"),
            )
        )
    return cases


CASES = expected_cases()


def test_the_table_and_the_folder_agree():
    listed = {c.file for c in CASES}
    on_disk = {p.name for p in FILES.iterdir() if p.name != EXPECTED.name}
    assert on_disk - listed == set(), "files without an expected outcome in EXPECTED.md"
    assert listed - on_disk - set(GENERATED) == set(), "EXPECTED.md names missing files"
    assert set(GENERATED) <= listed
    assert {c.outcome for c in CASES} <= {"error", "reject", "check", "ok"}


# ------------------------------------------------------------------ reading one file


def source_for(fmt_name: str) -> Source:
    fmt = get_format(fmt_name)
    role = ROLES[fmt.table]
    return Source(
        name=fmt_name,
        role=role,
        format=fmt_name,
        glob="*",
        channel=fmt_name.upper() if role == "channel" else None,
        account_no="6217000010001234567" if role == "bank" else None,
    )


def config_for(tmp: Path, sources: list[Source]) -> Config:
    return Config(
        path=tmp / "recon.toml",
        inbox=tmp / "inbox",
        data_dir=tmp / "data",
        timezone="Asia/Shanghai",
        sources=tuple(sources),
        memory_limit="500MB",
        threads=1,
    )


def ingest(tmp: Path, path: Path, fmt_name: str) -> tuple[FileResult, list[dict]]:
    """ingest_file as a day's ingest calls it; the result and the rejects it wrote."""
    source = source_for(fmt_name)
    config = config_for(tmp, [source])
    data = path.read_bytes()
    delivery = Delivery(
        DAY, source.name, path.name, hashlib.sha256(data).hexdigest(), len(data), 0, 0, 0,
        DAY, path.name, False,
    )  # fmt: skip
    stage = tmp / "stage"
    result = ingest_file(config, source, path, stage, delivery)
    rejects = []
    for part in sorted((stage / "rejects").rglob("*.parquet")):
        rejects += pq.read_table(part).to_pylist()
    shutil.rmtree(stage)
    return result, rejects


def corpus_file(case: Case, tmp: Path) -> Path:
    if case.file in GENERATED:
        path = tmp / case.file
        path.write_bytes(GENERATED[case.file](tmp))
        return path
    return FILES / case.file


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_corpus_file(case: Case, tmp_path: Path):
    path = corpus_file(case, tmp_path)
    result, rejects = ingest(tmp_path, path, case.format)
    where = f"{case.file}: {result.status} {result.error or ''} rejects={rejects} "
    where += f"checks={result.checks}"
    assert result.rows_in + (result.status == "ERROR") == result.rows_ok + result.rows_rejected
    if case.outcome == "error":
        assert result.status == "ERROR", where
        assert case.fragment in result.error, where
        (reject,) = rejects
        assert reject["reason"] == result.error and path.name in reject["reason"]
        assert reject["line_no"] == (case.line or 0), where
        if case.line:
            assert f", line {case.line}: " in result.error, where
        return
    assert result.status == "OK", where
    if case.ok_rows is not None:
        assert result.rows_ok == case.ok_rows, where
    if case.outcome == "reject":
        found = [r for r in rejects if r["line_no"] == case.line]
        assert found and case.fragment in found[0]["reason"], where
        assert len(found[0]["raw"] or "") < 2000, "a reject keeps a preview, not a huge line"
    elif case.outcome == "check":
        failed = [c["name"] for c in result.checks if not c["ok"]]
        assert any(case.fragment in name for name in failed), where
    else:
        assert not rejects and all(c["ok"] for c in result.checks), where


def test_a_parser_error_a_format_lets_through_is_still_a_file_error(tmp_path, monkeypatch):
    import csv

    fmt = get_format("cn_bank")

    def fails(ctx):
        raise csv.Error("field larger than field limit (131072)")

    monkeypatch.setattr(type(fmt), "normalize", lambda self, ctx: fails(ctx))
    result, rejects = ingest(tmp_path, FILES / "cn_bank__valid.csv", "cn_bank")
    assert result.status == "ERROR" and len(rejects) == 1
    assert "cannot be read as cn_bank (csv.Error: field larger than field limit" in result.error


def test_an_empty_file_is_an_error_even_when_another_empty_file_came_first(tmp_path):
    path = FILES / "platform_export__empty.csv"
    source = source_for("platform_export")
    empty = hashlib.sha256(b"").hexdigest()
    delivery = Delivery(
        DAY, source.name, path.name, empty, 0, 0, 0, 0,
        DAY - dt.timedelta(days=3), "wechat_2026-10-30.csv", True,
    )  # fmt: skip
    result = ingest_file(config_for(tmp_path, [source]), source, path, tmp_path / "s", delivery)
    assert result.status == "ERROR" and "the file is empty" in result.error


# ------------------------------------------------------------------ a whole day


def _corrupt_zip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for k in range(100, 140):  # inside the deflate stream: the directory still reads
        data[k] ^= 0xA5
    path.write_bytes(bytes(data))


def _huge_line(path: Path) -> None:
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:2] + [b"x" * HUGE] + lines[2:]))


BROKEN_DAY = {
    # glob of the file to break -> (how, status, line of its REJECTED_ROW)
    "alipay_*.csv.zip": (_corrupt_zip, "ERROR", 0),
    "wechatpay_*.csv": (_huge_line, "OK", 3),
}


@pytest.fixture(scope="module")
def generated_day(tmp_path_factory) -> Path:
    from transforms.generate import generate

    out = tmp_path_factory.mktemp("day")
    generate(out, DAY, 3, 20, 7)
    return out


def run_day(folder: Path):
    from transforms.config import load_config
    from transforms.pipeline import run_range

    config = load_config(folder / "recon.toml")
    (result,) = run_range(config, DAY, DAY)
    return config, result


@pytest.fixture(scope="module")
def reference_day(generated_day, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference") / "day"
    shutil.copytree(generated_day, folder)
    return run_day(folder)[1]


@pytest.mark.parametrize("glob", sorted(BROKEN_DAY))
def test_a_broken_file_does_not_fail_its_date(glob, generated_day, reference_day, tmp_path):
    from transforms import publish

    folder = tmp_path / "day"
    shutil.copytree(generated_day, folder)
    (broken,) = (folder / "inbox" / DAY.isoformat()).glob(glob)
    breaks, status, line = BROKEN_DAY[glob]
    breaks(broken)

    config, result = run_day(folder)

    assert publish.current_version(config, DAY) is not None  # the date is published
    assert (config.reports / f"recon_{DAY}.xlsx").exists()
    files = {f.file_name: f for f in result.files}
    bad = files.pop(broken.name)
    assert bad.status == status and bad.rows_rejected >= 1
    assert [f for f in result.files if f.status == "ERROR"] == ([bad] if status == "ERROR" else [])
    before = {f.file_name: f for f in reference_day.files}
    assert set(before) == set(files) | {broken.name}
    for name, f in files.items():  # every other file reads exactly as without the broken one
        was = before[name]
        assert (f.status, f.rows_in, f.rows_ok, f.rows_rejected, f.amount_total) == (
            was.status, was.rows_in, was.rows_ok, was.rows_rejected, was.amount_total,
        ), name  # fmt: skip

    exceptions = pq.read_table(config.lake / "exceptions" / f"report_date={DAY}").to_pylist()
    refs = [e["ref"] for e in exceptions if e["exception_type"] == "REJECTED_ROW"]
    assert f"{broken.name}:{line}" in refs, refs
    if status == "ERROR":
        assert re.match(rf"{DAY}/{re.escape(broken.name)}: ", bad.error), bad.error
