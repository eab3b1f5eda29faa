"""textio: decoding with line numbers, and staging numbered lines into DuckDB."""

from __future__ import annotations

import pytest

from transforms.duck import connect
from transforms.errors import InputFileError
from transforms.textio import (
    first_line,
    first_line_encoding,
    guess_encoding,
    is_blank,
    iter_lines,
    stage_delimited,
)

COLS = ["a", "b", "c"]


@pytest.fixture
def con():
    c = connect(threads=2)
    yield c
    c.close()


def staged_rows(con, name):
    return con.execute(
        f"SELECT line_no, a, b, c, reject_reason, raw FROM {name} ORDER BY line_no"
    ).fetchall()


def write(tmp_path, data: bytes, name="f.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- iter_lines -------------------------------------------------------------------------


def test_iter_lines_strips_bom_and_crlf_and_keeps_physical_numbers(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfh1,h2\r\na,b\r\n\r\n  \r\nc,d")
    assert list(iter_lines(path, "utf-8-sig")) == [
        (1, "h1,h2"),
        (2, "a,b"),
        (3, ""),
        (4, "  "),
        (5, "c,d"),
    ]


def test_iter_lines_gbk(tmp_path):
    path = write(tmp_path, "交易时间|金额\n退货|1\n".encode("gbk"))
    assert list(iter_lines(path, "gb18030")) == [(1, "交易时间|金额"), (2, "退货|1")]


def test_iter_lines_names_the_undecodable_line(tmp_path):
    path = write(tmp_path, b"h\nok\n" + "退货".encode("gbk") + b"\nmore\n")
    with pytest.raises(InputFileError) as err:
        list(iter_lines(path, "utf-8"))
    assert err.value.line == 3
    assert f"{path}, line 3" in str(err.value)
    assert "GBK" in str(err.value)  # says what the bytes look like


def test_iter_lines_a_file_cut_inside_a_character_is_not_an_encoding_error(tmp_path):
    data = "h\na,退货".encode()
    path = write(tmp_path, data[:-1])  # the last line stops inside 货
    lines = list(iter_lines(path, "utf-8"))
    assert lines[0] == (1, "h")
    assert lines[1][0] == 2 and lines[1][1].startswith("a,退") and "\ufffd" in lines[1][1]


def test_iter_lines_a_bad_byte_in_a_terminated_last_line_is_still_an_error(tmp_path):
    path = write(tmp_path, b"h\nabc\xe9\xa0\n")
    with pytest.raises(InputFileError):
        list(iter_lines(path, "utf-8"))


# --- encodings --------------------------------------------------------------------------


def test_first_line_encoding_judges_by_the_header():
    utf8_header_then_gbk = "通联订单号|订单类型\n".encode() + "退货|1\n".encode("gbk")
    assert first_line_encoding(utf8_header_then_gbk) == "utf-8"
    assert guess_encoding(utf8_header_then_gbk) == "gb18030"  # the whole head: unchanged
    assert first_line_encoding("通联订单号|订单类型\n".encode("gbk")) == "gb18030"
    assert first_line_encoding(b"\xef\xbb\xbfa,b\r\n") == "utf-8-sig"
    assert first_line(b"\xef\xbb\xbfa,b\r\nc") == "a,b"
    assert first_line("通联订单号|x\n".encode("gbk")) == "通联订单号|x"


def test_is_blank():
    assert is_blank("") and is_blank("  \t") and is_blank("\u3000")
    assert not is_blank(" a ") and not is_blank(",,")


# --- stage_delimited --------------------------------------------------------------------


@pytest.mark.parametrize("materialize", [True, False])
def test_stage_line_numbers_survive_rejects_and_gaps(con, tmp_path, materialize):
    """Line numbers are the ones given (gaps = blank lines skipped by the caller), also for
    rows after a rejected line."""
    lines = [(2, "1,2,3"), (3, "1,2"), (6, "4,5,6"), (7, "7,8,9,10"), (9, "x,y,z")]
    name = stage_delimited(con, tmp_path, "s", iter(lines), COLS, materialize=materialize)
    assert name.lines == 5
    rows = staged_rows(con, name)
    assert [r[0] for r in rows] == [2, 3, 6, 7, 9]
    good = {r[0]: r[1:4] for r in rows if r[4] is None}
    assert good == {2: ("1", "2", "3"), 6: ("4", "5", "6"), 9: ("x", "y", "z")}
    bad = {r[0]: (r[4], r[5]) for r in rows if r[4] is not None}
    assert bad == {
        3: ("expected 3 fields, found 2", "1,2"),
        7: ("expected 3 fields, found 4", "7,8,9,10"),
    }
    if materialize:
        assert rows[0][5] == "1,2,3"  # raw of good rows, re-joined
    else:
        assert rows[0][5] is None  # a lazy stage fills raw on rejects only


def test_stage_a_trailing_delimiter_is_one_field_too_many(con, tmp_path):
    lines = [(1, "a,b,c,"), (2, "a,b,"), (3, "a,,"), (4, "a,b,c,,")]
    rows = staged_rows(con, stage_delimited(con, tmp_path, "s", iter(lines), COLS))
    assert rows[0][4] == "expected 3 fields, found 4"
    assert rows[1][1:5] == ("a", "b", None, None)
    assert rows[2][1:5] == ("a", None, None, None)
    assert rows[3][4] == "expected 3 fields, found 5"


def test_stage_a_lone_quote_does_not_swallow_later_lines(con, tmp_path):
    lines = [
        (1, 'a,"b,c'),  # never closed
        (2, "d,e,f"),
        (3, 'g,"h,i",j'),  # a quoted comma
        (4, 'k,"l""m",n'),  # an escaped quote
        (5, 'o,"p"q,r'),  # text after a closing quote
        (6, "s,t,u"),
    ]
    rows = staged_rows(con, stage_delimited(con, tmp_path, "s", iter(lines), COLS))
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    by_line = {r[0]: r for r in rows}
    assert by_line[1][4].startswith("malformed quoting") and by_line[1][5] == 'a,"b,c'
    assert by_line[2][1:5] == ("d", "e", "f", None)
    assert by_line[3][1:4] == ("g", "h,i", "j")
    assert by_line[4][1:4] == ("k", 'l"m', "n")
    assert by_line[5][4].startswith("malformed quoting")
    assert by_line[6][1:5] == ("s", "t", "u", None)


def test_stage_without_quoting_keeps_quotes_as_text(con, tmp_path):
    lines = [(1, 'a|"b|c'), (2, "d|e|f")]
    rows = staged_rows(
        con, stage_delimited(con, tmp_path, "s", iter(lines), COLS, delim="|", quote="")
    )
    assert rows[0][1:5] == ("a", '"b', "c", None)
    assert rows[1][1:5] == ("d", "e", "f", None)


def test_stage_odd_bytes_stay_on_their_line(con, tmp_path):
    lines = [(1, "a\rb,c,d"), (2, "a\x00,b,c"), (3, "a\x1e,b,c"), (4, "x,y,z")]
    rows = staged_rows(con, stage_delimited(con, tmp_path, "s", iter(lines), COLS))
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert rows[0][1:5] == ("a b", "c", "d", None)  # a lone CR reads as a space
    assert rows[1][1] == "a\x00"
    assert rows[2][1] == "a\x1e"
    assert rows[3][1:5] == ("x", "y", "z", None)


def test_stage_multichar_delimiter(con, tmp_path):
    lines = [(2, "`a,`b,c,`"), (3, "`a,`b"), (4, "`1,`2,`3,`4")]
    rows = staged_rows(
        con, stage_delimited(con, tmp_path, "s", iter(lines), COLS, delim=",`", quote="")
    )
    assert rows[0][1:5] == ("`a", "b,c", None, None)
    assert rows[1][4:] == ("expected 3 fields, found 2", "`a,`b")
    assert rows[2][4:] == ("expected 3 fields, found 4", "`1,`2,`3,`4")


def test_stage_nothing(con, tmp_path):
    name = stage_delimited(con, tmp_path, "s", iter([]), COLS, materialize=False)
    assert name.lines == 0
    assert con.execute(f"SELECT count(*) FROM {name}").fetchall() == [(0,)]


def test_stage_twice_under_one_name(con, tmp_path):
    stage_delimited(con, tmp_path, "s", iter([(1, "a,b")]), COLS, materialize=False)
    name = stage_delimited(con, tmp_path, "s", iter([(1, "a,b,c")]), COLS, materialize=True)
    assert staged_rows(con, name) == [(1, "a", "b", "c", None, "a,b,c")]


def test_stage_a_very_long_line_is_a_reject(con, tmp_path):
    lines = [(1, "a,b," + "x" * 3_000_000), (2, "d,e,f")]
    rows = staged_rows(con, stage_delimited(con, tmp_path, "s", iter(lines), COLS))
    assert rows[0][0] == 1 and rows[0][4].startswith("line too long")
    assert rows[1][1:5] == ("d", "e", "f", None)


def test_stage_field_count_of_quoted_lines(con, tmp_path):
    lines = [(1, '"a",b'), (2, '"a",b,c,d'), (3, '"a",b,c,d,e,f'), (4, '"a,b",c')]
    rows = staged_rows(con, stage_delimited(con, tmp_path, "s", iter(lines), COLS))
    assert [r[4] for r in rows] == [
        "expected 3 fields, found 2",
        "expected 3 fields, found 4",
        "expected 3 fields, found 6",
        "expected 3 fields, found 2",
    ]
