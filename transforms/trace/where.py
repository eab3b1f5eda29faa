"""The row filters a trace reads with: one object, two evaluations that agree.

`sql()` is the filter as DuckDB text (values as escaped literals, never SQL from the caller),
for reading Parquet files. The rest evaluate it on a file the lookup service holds in memory
(`lake.Held`): `may_hold` says from the file's smallest and largest value per column whether
any row can match (most held files are skipped so, as a Parquet reader skips row groups),
`rows` narrows it to the rows its value index names for an equality or IN, `test` decides
each of those, and `mask` evaluates it over every row with pyarrow where nothing narrows it.
A row is kept where the filter is TRUE; a NULL compared with anything is not (SQL's rule),
and since no filter here negates a compound one, AND and OR over those answers are Kleene's,
as in SQL.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc


def lit(value) -> str:
    """A SQL literal: filters stay constants, so Parquet min/max statistics prune row groups."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class Where:
    def sql(self) -> str:
        raise NotImplementedError

    def may_hold(self, held) -> bool:
        """False only when no row of the held file can match, from its columns' ranges
        (`held.ranges(column)`: (min, max), None when it has no value there, True when not
        known)."""
        return True

    def rows(self, held) -> list[int] | None:
        """Rows that may match, in file order, from the held file's equalities and INs
        (each skips the file first when its range excludes the value); None when this
        filter has none to start from."""
        return None

    def test(self, held, i: int) -> bool:
        """Whether row i matches (its value TRUE, NULL is not)."""
        raise NotImplementedError

    def mask(self, held) -> pa.Array:
        """The filter over every row of the held file, vectorized (for filters that
        `rows` cannot narrow)."""
        raise NotImplementedError

    def __or__(self, other: Where) -> Where:
        return Or(self, other)

    def __and__(self, other: Where) -> Where:
        return And(self, other)


def _array(held, name: str) -> pa.Array:
    found = held.arrays.get(name)
    return found if found is not None else pa.nulls(held.rows)


def _value(held, name: str, i: int):
    values = held.values(name)
    return None if values is None else values[i]


def _within(held, column: str, value) -> bool:
    span = held.ranges(column)
    if span is None:
        return False
    if span is True:  # not known
        return True
    try:
        return span[0] <= value <= span[1]
    except TypeError:  # a value of another type than the column's: let the rows decide
        return True


def _false(held) -> pa.Array:
    return pa.repeat(pa.scalar(False), held.rows)


class Eq(Where):
    def __init__(self, column: str, value):
        self.column, self.value = column, value

    def sql(self) -> str:
        return f"{self.column} = {lit(self.value)}"

    def may_hold(self, held) -> bool:
        return self.value is not None and _within(held, self.column, self.value)

    def rows(self, held) -> list[int]:
        if not self.may_hold(held):
            return []
        return held.lookup(self.column, [self.value])

    def test(self, held, i: int) -> bool:
        found = _value(held, self.column, i)
        return found is not None and self.value is not None and found == self.value

    def mask(self, held):
        if self.value is None:
            return _false(held)
        return pc.equal(_array(held, self.column), pa.scalar(self.value))


class Ne(Where):
    def __init__(self, column: str, value):
        self.column, self.value = column, value

    def sql(self) -> str:
        return f"{self.column} <> {lit(self.value)}"

    def test(self, held, i: int) -> bool:
        found = _value(held, self.column, i)
        return found is not None and self.value is not None and found != self.value

    def mask(self, held):
        if self.value is None:
            return _false(held)
        return pc.not_equal(_array(held, self.column), pa.scalar(self.value))


class In(Where):
    """`column IN (values)`: text values, the empty and missing ones left out (no values:
    false)."""

    def __init__(self, column: str, values):
        self.column = column
        self.values = sorted({str(v) for v in values if v})
        self._set = frozenset(self.values)

    def sql(self) -> str:
        if not self.values:
            return "false"
        return f"{self.column} IN ({', '.join(map(lit, self.values))})"

    def may_hold(self, held) -> bool:
        return any(_within(held, self.column, v) for v in self.values)

    def rows(self, held) -> list[int]:
        return held.lookup(self.column, [v for v in self.values if _within(held, self.column, v)])

    def test(self, held, i: int) -> bool:
        return _value(held, self.column, i) in self._set

    def mask(self, held):
        column = _array(held, self.column)
        if not self.values or pa.types.is_null(column.type):
            return _false(held)
        return pc.is_in(column, value_set=pa.array(self.values, column.type))


class Between(Where):
    """`value BETWEEN low_column AND high_column` (a history catalog's key range)."""

    def __init__(self, value, low: str, high: str):
        self.value, self.low, self.high = value, low, high

    def sql(self) -> str:
        return f"{lit(self.value)} BETWEEN {self.low} AND {self.high}"

    def may_hold(self, held) -> bool:
        low, high = held.ranges(self.low), held.ranges(self.high)
        if low is None or high is None or self.value is None:
            return False
        if low is True or high is True:
            return True
        try:
            return low[0] <= self.value <= high[1]
        except TypeError:
            return True

    def test(self, held, i: int) -> bool:
        low, high = _value(held, self.low, i), _value(held, self.high, i)
        if low is None or high is None or self.value is None:
            return False
        return low <= self.value <= high

    def mask(self, held):
        if self.value is None:
            return _false(held)
        v = pa.scalar(self.value)
        return pc.and_kleene(
            pc.less_equal(_array(held, self.low), v), pc.greater_equal(_array(held, self.high), v)
        )


class ListHas(Where):
    """`item` is one of the comma-separated entries of `column`, spaces removed."""

    def __init__(self, column: str, item: str):
        self.column, self.item = column, item

    def sql(self) -> str:
        return (
            f"list_contains(string_split(replace({self.column}, ' ', ''), ','), {lit(self.item)})"
        )

    def test(self, held, i: int) -> bool:
        found = _value(held, self.column, i)
        return found is not None and self.item in found.replace(" ", "").split(",")

    def mask(self, held):
        column = _array(held, self.column)
        if pa.types.is_null(column.type) or "," in self.item or " " in self.item:
            return _false(held)  # no entry of the split can hold ',' or ' '
        entries = pc.split_pattern(pc.replace_substring(column, " ", ""), ",")
        hit = pc.equal(pc.list_flatten(entries), pa.scalar(self.item))
        rows = pc.filter(pc.list_parent_indices(entries), hit).cast(pa.int64())
        return pc.is_in(pa.array(range(held.rows), pa.int64()), value_set=rows)


class Or(Where):
    def __init__(self, *terms: Where):
        self.terms = terms

    def sql(self) -> str:
        return " OR ".join(f"({t.sql()})" for t in self.terms)

    def may_hold(self, held) -> bool:
        return any(t.may_hold(held) for t in self.terms)

    def rows(self, held) -> list[int] | None:
        found = set()
        for t in self.terms:
            rows = t.rows(held)
            if rows is None:
                return None
            found.update(rows)
        return sorted(found)

    def test(self, held, i: int) -> bool:
        return any(t.test(held, i) for t in self.terms)

    def mask(self, held):
        out = self.terms[0].mask(held)
        for t in self.terms[1:]:
            out = pc.or_kleene(out, t.mask(held))
        return out


class And(Where):
    def __init__(self, *terms: Where):
        self.terms = terms

    def sql(self) -> str:
        return " AND ".join(f"({t.sql()})" for t in self.terms)

    def may_hold(self, held) -> bool:
        return all(t.may_hold(held) for t in self.terms)

    def rows(self, held) -> list[int] | None:
        best = None
        for t in self.terms:
            rows = t.rows(held)
            if rows is not None and (best is None or len(rows) < len(best)):
                best = rows
        return best

    def test(self, held, i: int) -> bool:
        return all(t.test(held, i) for t in self.terms)

    def mask(self, held):
        out = self.terms[0].mask(held)
        for t in self.terms[1:]:
            out = pc.and_kleene(out, t.mask(held))
        return out


class Sql(Where):
    """Filter text for reads outside the lookup's hot path (the benchmark picking its keys):
    always read by DuckDB, never from the held files."""

    def __init__(self, text: str):
        self.text = text

    def sql(self) -> str:
        return self.text
