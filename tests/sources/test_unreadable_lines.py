"""The shared readers under every format: lines that are not text a format could read.

A line over MAX_LINE_BYTES is counted, never held, and handed on as an `Unreadable`
stand-in (so is a line holding a NUL byte); the formats reject it naming the line. The
per-format outcomes on real broken files are in tests/corpus/.
"""

from __future__ import annotations

import random
import zipfile

import pytest

from transforms import textio, zipfiles
from transforms.duck import connect
from transforms.errors import InputFileError
from transforms.textio import (
    BadRow,
    Unreadable,
    check_width,
    csv_rows,
    iter_line_blocks,
    iter_lines,
    stage_delimited,
)


@pytest.fixture
def small_lines(monkeypatch):
    """A 64-byte line limit, so block boundaries and long lines are cheap to exercise."""
    monkeypatch.setattr(textio, "MAX_LINE_BYTES", 64)
    return 64


def write(tmp_path, data: bytes, name: str = "f.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def lines_of(path, block_bytes: int, encoding: str = "utf-8"):
    return [
        (n, t)
        for first, texts in iter_line_blocks(path, encoding, block_bytes)
        for n, t in enumerate(texts, start=first)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_long_lines_at_any_block_boundary(tmp_path, small_lines, seed):
    rnd = random.Random(seed)
    lines = [b"header"] + [
        b"x" * rnd.choice([0, 1, 5, 63, 64, 65, 100, 300, 1000]) for _ in range(40)
    ]
    data = b"\n".join(lines) + (b"\n" if seed % 2 else b"")
    path = write(tmp_path, data)
    for block in (7, 16, 64, 65, 200, 5000):
        got = lines_of(path, block)
        expected = lines if seed % 2 or lines[-1] else lines[:-1]
        assert [n for n, _ in got] == list(range(1, len(expected) + 1)), block
        for (n, text), raw in zip(got, expected, strict=True):
            if len(raw) > small_lines:
                assert isinstance(text, Unreadable), (block, n)
                assert f"{len(raw):,} bytes without a line break" in text.reason
                assert text.startswith("\x00") and text.raw.startswith("xxx")
            else:
                assert text == raw.decode() and not isinstance(text, Unreadable), (block, n)


def test_a_long_multibyte_line_is_measured_in_bytes(tmp_path, small_lines):
    path = write(tmp_path, b"h\n" + "退".encode() * 22 + b"\n" + "退".encode() * 21 + b"\n")
    got = lines_of(path, 4096)
    assert isinstance(got[1][1], Unreadable) and "66 bytes" in got[1][1].reason
    assert got[2][1] == "退" * 21  # 63 bytes


def test_line_one_too_long_or_binary_is_a_file_error(tmp_path, small_lines):
    with pytest.raises(InputFileError) as exc:
        list(iter_lines(write(tmp_path, b"y" * 1000 + b"\nok\n"), "utf-8"))
    assert exc.value.line == 1 and "line too long" in str(exc.value)
    with pytest.raises(InputFileError) as exc:
        list(iter_lines(write(tmp_path, b"h\x00e\x00a\x00d\x00\n"), "utf-8"))
    assert exc.value.line == 1 and "UTF-16" in str(exc.value)


def test_a_nul_line_is_unreadable_and_keeps_its_number(tmp_path):
    got = list(iter_lines(write(tmp_path, b"h\na,b\nc\x00,d\ne,f"), "utf-8"))
    assert [n for n, _ in got] == [1, 2, 3, 4]
    assert isinstance(got[2][1], Unreadable) and "NUL byte at character 2" in got[2][1].reason
    assert got[2][1].raw == "c\u2400,d"


def test_a_cr_inside_line_one_is_a_file_with_cr_only_line_breaks(tmp_path):
    with pytest.raises(InputFileError) as exc:
        list(iter_lines(write(tmp_path, b"a,b\rc,d\re,f\r"), "utf-8"))
    assert exc.value.line == 1 and "CR-only" in str(exc.value)


def test_a_fallback_encoding_reads_the_lines_that_do_not_decode(tmp_path):
    path = write(tmp_path, "ok é\n".encode() + "Überweisung\n".encode("latin-1"))
    assert list(iter_lines(path, "utf-8", fallback="latin-1")) == [(1, "ok é"), (2, "Überweisung")]


def test_stage_delimited_rejects_unreadable_lines(tmp_path, small_lines):
    path = write(tmp_path, b"a,b,c\n" + b"x" * 100 + b"\nd,\x00,f\ng,h,i\n")
    lines = iter_lines(path, "utf-8")
    next(lines)
    con = connect(threads=1)
    name = stage_delimited(con, tmp_path, "s", lines, ["a", "b", "c"])
    rows = con.execute(f"SELECT line_no, a, reject_reason, raw FROM {name} ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == [2, 3, 4]
    assert rows[0][2].startswith("line too long to be a record: 100 bytes")
    assert rows[0][3].startswith("x" * 60)
    assert rows[1][2].startswith("a NUL byte at character 3") and rows[1][3] == "d,\u2400,f"
    assert rows[2][1:3] == ("g", None)


def test_stage_delimited_reads_lines_up_to_its_limit_and_rejects_longer_ones(tmp_path):
    long = "a,b," + "x" * (textio.MAX_LINE_BYTES - 4)  # the longest line iter_lines hands on
    longer = "a,b," + "x" * 5_000_000  # DuckDB's own limit, set explicitly, still holds
    con = connect(threads=1)
    name = stage_delimited(
        con, tmp_path, "s", iter([(1, long), (2, longer), (3, "d,e,f")]), ["a", "b", "c"]
    )
    rows = con.execute(f"SELECT line_no, a, reject_reason FROM {name} ORDER BY 1").fetchall()
    assert rows[0] == (1, "a", None)
    assert rows[1][0] == 2 and rows[1][2].startswith("line too long to be a record")
    assert rows[2] == (3, "d", None)


def test_csv_rows_hands_bad_rows_on(tmp_path, small_lines):
    data = b"h1,h2\n" + b'a,"' + b"z" * 50 + b'"\n' + b"q" * 70 + b"\nb\x00,c\nd,e\rf\n"
    rows = list(csv_rows(write(tmp_path, data), "utf-8"))
    assert rows[0] == (1, ["h1", "h2"]) and rows[1] == (2, ["a", "z" * 50])
    assert isinstance(rows[2][1], BadRow) and "line too long" in rows[2][1].reason
    assert isinstance(rows[3][1], BadRow) and "NUL byte" in rows[3][1].reason
    assert rows[4] == (5, ["d", "e f"])  # a lone CR inside a line reads as a space


def test_csv_rows_a_cell_over_the_csv_limit_is_a_bad_row(tmp_path):
    data = b"h1,h2\n" + b"a," + b"z" * 200_000 + b"\nb,c\n"
    rows = list(csv_rows(write(tmp_path, data), "utf-8"))
    assert isinstance(rows[1][1], BadRow) and "field larger than field limit" in rows[1][1].reason
    assert len(rows[1][1].raw) < 300 and rows[2] == (3, ["b", "c"])


def test_a_header_wider_than_any_layout_is_refused(tmp_path):
    check_width(tmp_path, 1, textio.MAX_COLUMNS)
    with pytest.raises(InputFileError, match="a header of 1,001 columns"):
        check_width(tmp_path, 1, textio.MAX_COLUMNS + 1)


# --- zips ------------------------------------------------------------------------------


def test_a_damaged_zip_is_described_not_raised(tmp_path):
    text = "".join(f"{i},{i * i},{i % 7}\n" for i in range(3000)).encode()
    good = zipfiles.write_gbk_zip(tmp_path / "a.zip", {"明细.csv": text})
    data = bytearray(good.read_bytes())
    for k in range(45, 65):  # the start of the deflate stream (after a 38-byte local header)
        data[k] ^= 0xA5
    bad = write(tmp_path, bytes(data), "b.zip")
    assert zipfiles.zip_problem(bad) is None  # the directory reads
    (entry,) = zipfiles.peek_csvs(bad, 100)
    assert entry[0] == "明细.csv" and entry[2] and entry[2].startswith(("zlib.error", "BadZip"))
    with pytest.raises(InputFileError, match="cannot extract zip entry 明细.csv"):
        zipfiles.extract_single_csv(bad, tmp_path / "out.csv")
    junk = write(tmp_path, b"PK\x03\x04" + bytes(range(256)) * 4, "c.zip")
    assert "not a readable zip archive" in zipfiles.zip_problem(junk)
    assert zipfiles.peek_csvs(junk, 10) == [] and zipfiles.list_names(junk) == []


def test_an_entry_too_big_to_extract_is_refused(tmp_path, monkeypatch):
    path = zipfiles.write_gbk_zip(tmp_path / "a.zip", {"a.csv": b"0" * 10_000})
    monkeypatch.setattr(zipfiles, "MAX_EXTRACT_BYTES", 1000)
    with pytest.raises(InputFileError, match="10,000 bytes uncompressed; expected at most 1,000"):
        zipfiles.extract_single_csv(path, tmp_path / "out.csv")
    monkeypatch.setattr(zipfiles, "MAX_READ_BYTES", 1000)
    with pytest.raises(InputFileError, match="zip bomb"):
        zipfiles.read_entries(path, ".csv")


def test_an_unsupported_zip_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "d.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", b"abc")
    data = bytearray(path.read_bytes())
    data[data.find(b"PK\x01\x02") + 10] = 99  # method 99 (AES): zipfile cannot read it
    path.write_bytes(bytes(data))
    names = zipfiles.peek_csvs(path, 10)
    assert names and names[0][2] and "NotImplementedError" in names[0][2]


# --- a mapped (configured) layout reads its CSV the same way ----------------------------


def test_a_mapped_csv_rejects_unreadable_lines_and_keeps_the_rest(tmp_path):
    from transforms.config import Source
    from transforms.sources.base import FileContext
    from transforms.sources.mapped import MappedFormat

    fmt = MappedFormat(
        "acme",
        {
            "table": "bank_lines",
            "name_pattern": "acme_*.csv",
            "columns": {"txn_time": "Date", "amount": "Amount", "bank_txn_id": "Ref"},
        },
    )
    data = (
        b"Date,Amount,Ref\n2026-04-10,12.50,R1\n2026-04-10,\x00,R2\n"
        + b"2026-04-10,1.00,"
        + b"z" * 200_000
        + b"\n2026-04-10,-3.00,R4\n"
    )
    path = write(tmp_path, data, "acme_1.csv")
    assert fmt.identify(path, data[:100])
    con = connect(threads=1)
    source = Source(name="acme", role="bank", format="acme", glob="acme_*.csv")
    n = fmt.normalize(FileContext(path, source, con, tmp_path, "Asia/Shanghai", "f"))
    rows = con.execute(
        f"SELECT line_no, amount, reject_reason FROM {n.relation} ORDER BY line_no"
    ).fetchall()
    assert n.rows_in == 4 and [r[0] for r in rows] == [2, 3, 4, 5]
    assert rows[0][1:] == (12.5, None) and rows[3][1:] == (3.0, None)
    assert rows[1][2].startswith("a NUL byte at character 12")
    assert rows[2][2] == "Ref (column 3) holds 200,000 characters; expected at most 131,072"
