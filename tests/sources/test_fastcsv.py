"""The fast path (DuckDB reads the file itself) gives what the careful path gives, for every
delimited format and every kind of odd file: the same rows, line numbers, reasons, raw text
and control checks. Clean files take the fast path; odd ones may fall back, never differ."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from transforms import fastcsv
from transforms.inspect import inspect_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
PLATFORM = (FIXTURES / "platform_export" / "platform_orders_2024-03-05.csv").read_text("utf-8")
WECHAT = (FIXTURES / "wechatpay_bill" / "wxjava_tradebill_ALL.csv").read_text("utf-8-sig")
WITHHOLDING = (FIXTURES / "withholding" / "allinpay_2024-03-05.txt").read_bytes()
ALIPAY = (FIXTURES / "alipay_bill" / "alipay_20261101_业务明细.csv").read_bytes()


def both_ways(path: Path, monkeypatch) -> tuple[dict, dict, list[str]]:
    routes: list[str] = []
    real = fastcsv.stage_typed

    def spy(*args, **kwargs):
        staged = real(*args, **kwargs)
        routes.append(staged.route)
        return staged

    monkeypatch.setattr(fastcsv, "stage_typed", spy)
    fast = _outcome(path)
    fast_routes = list(routes)
    monkeypatch.setattr(fastcsv, "ENABLED", False)
    careful = _outcome(path)
    monkeypatch.setattr(fastcsv, "ENABLED", True)
    return fast, careful, fast_routes


def _outcome(path: Path) -> dict:
    try:
        r = inspect_file(path)
    except Exception as exc:  # a file error must be the same error
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "counts": (r.rows_in, r.rows_ok, r.rows_rejected),
        "rows": r.rows,
        "rejects": r.rejects,
        "checks": [(c.name, c.stated, c.computed) for c in r.checks],
    }


def lines(*parts: str, end: str = "\n") -> str:
    return end.join(parts) + end


P_HEAD, *P_ROWS = PLATFORM.splitlines()
W_HEAD, *W_REST = WECHAT.splitlines()
W_ROWS, W_SUMMARY = W_REST[:-2], W_REST[-2:]

PLATFORM_CASES = {
    "clean": lines(P_HEAD, *P_ROWS),
    "crlf": lines(P_HEAD, *P_ROWS, end="\r\n"),
    "no final newline": lines(P_HEAD, *P_ROWS).rstrip("\n"),
    "bom": "\ufeff" + lines(P_HEAD, *P_ROWS),
    "empty lines": lines(P_HEAD, P_ROWS[0], "", "", P_ROWS[1], *P_ROWS[2:], ""),
    "blank with spaces": lines(P_HEAD, P_ROWS[0], "   ", *P_ROWS[1:]),
    "too few fields": lines(P_HEAD, P_ROWS[0], ",".join(P_ROWS[1].split(",")[:5]), *P_ROWS[2:]),
    "too many fields": lines(P_HEAD, P_ROWS[0] + ",extra,more", *P_ROWS[1:]),
    "one trailing comma": lines(P_HEAD, P_ROWS[0] + ",", *P_ROWS[1:]),
    "a single field": lines(P_HEAD, "garbage", *P_ROWS),
    "quoted comma": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", '"LENDER,A"'), *P_ROWS[1:]),
    "quoted newline": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", '"LENDER\nA"'), *P_ROWS[1:]),
    "unclosed quote": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", '"LENDER_A'), *P_ROWS[1:]),
    "bare CR": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", "LEN\rDER"), *P_ROWS[1:]),
    "mixed endings": lines(P_HEAD, P_ROWS[0]) + P_ROWS[1] + "\r\n" + lines(*P_ROWS[2:]),
    "repeated header": lines(P_HEAD, P_ROWS[0], P_HEAD, *P_ROWS[1:]),
    "padded values": lines(P_HEAD, P_ROWS[0].replace(",REPAY,", ", REPAY ,"), *P_ROWS[1:]),
    "bad values": lines(P_HEAD, P_ROWS[0].replace(",REPAY,", ",PAYBACK,"), *P_ROWS[1:]),
    "header only": lines(P_HEAD),
    "a long cell": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", "L" * 140_000), *P_ROWS[1:]),
    "a NUL byte": lines(P_HEAD, P_ROWS[0].replace("LENDER_A", "LEN\x00DER"), *P_ROWS[1:]),
}


@pytest.mark.parametrize("case", PLATFORM_CASES)
def test_platform_export_both_ways(tmp_path, monkeypatch, case):
    path = tmp_path / "platform_orders.csv"
    path.write_bytes(PLATFORM_CASES[case].encode("utf-8"))
    fast, careful, routes = both_ways(path, monkeypatch)
    assert fast == careful
    if case in ("clean", "crlf", "no final newline", "bom", "padded values", "bad values"):
        assert routes == ["optimistic"]


def test_a_long_cell_is_a_reject_naming_its_column(tmp_path):
    path = tmp_path / "platform_orders.csv"
    path.write_text(PLATFORM_CASES["a long cell"], encoding="utf-8")
    (reject,) = inspect_file(path).rejects
    assert reject["line_no"] == 2
    assert reject["reason"] == (
        "lender_code (column 7) holds 140,000 characters; expected at most 131,072"
    )
    assert len(reject["raw"]) < 1000


WECHAT_CASES = {
    "clean": lines(W_HEAD, *W_ROWS, *W_SUMMARY),
    "summary in the middle": lines(W_HEAD, W_ROWS[0], *W_SUMMARY, *W_ROWS[1:]),
    "empty line before the summary values": lines(W_HEAD, *W_ROWS, W_SUMMARY[0], "", W_SUMMARY[1]),
    "no summary": lines(W_HEAD, *W_ROWS),
    "a short row": lines(W_HEAD, W_ROWS[0][:40], *W_ROWS[1:], *W_SUMMARY),
    "crlf": lines(W_HEAD, *W_ROWS, *W_SUMMARY, end="\r\n"),
}


@pytest.mark.parametrize("case", WECHAT_CASES)
def test_wechat_bill_both_ways(tmp_path, monkeypatch, case):
    path = tmp_path / "wechatpay_All_20261101.csv"
    path.write_bytes(("\ufeff" + WECHAT_CASES[case]).encode("utf-8"))
    fast, careful, routes = both_ways(path, monkeypatch)
    assert fast == careful
    if case in ("clean", "summary in the middle", "crlf"):
        assert routes == ["optimistic"]


def _withholding_cases() -> dict[str, bytes]:
    text = WITHHOLDING.decode("utf-8")
    head, *rest = text.splitlines()
    trailer = [x for x in rest if x.startswith("TRAILER")]
    rows = [x for x in rest if not x.startswith("TRAILER")]
    return {
        "clean": lines(head, *rows, *trailer).encode(),
        "gbk": lines(head, *rows, *trailer).encode("gb18030"),
        "trailer first": lines(head, *trailer, *rows).encode(),
        "two trailers": lines(head, *rows, *trailer, *trailer).encode(),
        "no trailer": lines(head, *rows).encode(),
        "a bad byte": lines(head, *rows, *trailer).encode() + b"\xff\xfe|x\n",
    }


@pytest.mark.parametrize("case", list(_withholding_cases()))
def test_withholding_file_both_ways(tmp_path, monkeypatch, case):
    path = tmp_path / "allinpay_20240305.txt"
    path.write_bytes(_withholding_cases()[case])
    fast, careful, routes = both_ways(path, monkeypatch)
    assert fast == careful
    if case in ("clean", "gbk", "trailer first"):
        assert routes == ["optimistic"]


def _alipay_cases() -> dict[str, bytes]:
    text = ALIPAY.decode("gb18030")
    lines_ = text.splitlines()
    header_at = next(i for i, x in enumerate(lines_) if not x.startswith("#"))
    data_line = lines_[header_at + 1]
    return {
        "clean": ALIPAY,
        "utf-8 copy": text.encode("utf-8"),
        "empty line before the header": "\r\n".join(lines_[:1] + [""] + lines_[1:]).encode(
            "gb18030"
        )
        + b"\r\n",
        "a data line after the end": "\r\n".join(lines_ + [data_line]).encode("gb18030") + b"\r\n",
    }


@pytest.mark.parametrize("case", list(_alipay_cases()))
@pytest.mark.parametrize("zipped", [False, True])
def test_alipay_bill_both_ways(tmp_path, monkeypatch, case, zipped):
    data = _alipay_cases()[case]
    path = tmp_path / "alipay_20261101.csv"
    if zipped:
        path = tmp_path / "alipay_20261101.csv.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("20881234_20261101.csv", data)
    else:
        path.write_bytes(data)
    fast, careful, routes = both_ways(path, monkeypatch)
    assert fast == careful
    if case in ("clean", "utf-8 copy", "a data line after the end"):
        assert routes == ["optimistic"]


SCANNED_PIECES = [
    b"ab",
    b",",
    b"\n",
    b"\r\n",
    b'"',
    b"#",
    b"#T",
    b"TRAILER",
    b"\n\n",
    b"\xe4\xb8\xad",
]


def _scan_in_chunks(data: bytes, markers: tuple[bytes, ...], size: int) -> tuple:
    scanner = fastcsv.Scanner(markers, b'"')
    for at in range(0, len(data), size):
        scanner.feed(data[at : at + size])
    s = scanner.finish()
    return (s.plain, s.why) if not s.plain else (s.lines, s.crlf, s.markers, s.quotes, s.why)


@pytest.mark.parametrize("seed", range(4))
def test_the_scan_does_not_depend_on_how_the_bytes_arrive(seed):
    """The scanner counts within each chunk's ranges (no joined or sliced copies): the lines,
    markers with their line numbers and byte offsets, quotes and verdict are the same for the
    whole file fed at once and for chunks cut anywhere, a line split over several of them."""
    import random

    rng = random.Random(seed)
    for _ in range(300):
        data = b"".join(rng.choice(SCANNED_PIECES) for _ in range(rng.randint(0, 80)))
        markers = rng.choice([(), (b"#",), (b"#T", b"TRAILER")])
        whole = _scan_in_chunks(data, markers, max(1, len(data)))
        for size in (1, 2, 3, 7, 16):
            assert _scan_in_chunks(data, markers, size) == whole, (data, markers, size)


def test_markers_are_found_with_their_line_and_offset():
    data = b"#head\nrow,1\n#T total\nrow,2\n#T end"
    scan = _scan_in_chunks(data, (b"#T",), 5)
    assert scan[2] == [(3, 12), (5, 27)]
    assert scan[0] == 5 and scan[3] is False
