"""`sql.trimmed` cuts fields without trim() on the usual values: it must give exactly what
trim() gives on every value, the unusual ones included."""

import itertools

import duckdb
import pytest

from transforms.sources import sql

ENDS = ["", " ", "\t", "`", "\u3000", "\u00a0", "``", "` ", " `", "\t\t", "`\u3000", "\u3000`"]
CORES = ["", "a", "ab", "4200020261102", "张三", "a b", "`", "a`b", "\u00e9", " ", "\t"]
VALUES = sorted({lead + core + trail for lead, core, trail in itertools.product(ENDS, CORES, ENDS)})


def evaluate(expr: str) -> list[tuple[str, str | None]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE v (c VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[x] for x in VALUES + [None]])
    return con.execute(f"SELECT c, {expr} FROM v ORDER BY c NULLS FIRST").fetchall()


@pytest.mark.parametrize(
    ("chars", "lead", "trail"),
    [
        (None, "", ""),
        (" \t`\u3000", "`", ""),  # WeChat
        (" \t\u3000", "", "\t"),  # Alipay
        (" \t`\u3000", "`", "\t"),
    ],
)
def test_trimmed_is_trim_on_every_value(chars, lead, trail):
    reference = (
        "NULLIF(trim(c), '')" if chars is None else f"NULLIF(trim(c, {sql.sql_literal(chars)}), '')"
    )
    assert evaluate(sql.trimmed("c", chars, lead, trail)) == evaluate(reference)
