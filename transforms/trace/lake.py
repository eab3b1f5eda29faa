"""Reading the published lake by explicit file lists, and the row helpers every hop uses."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms import publish
from transforms.config import Config
from transforms.duck import connect, sql_path

from .where import And, Between, Eq, In, ListHas, Ne, Or, Sql, Where, lit

__all__ = [
    "And", "Between", "Eq", "FileCache", "In", "Lake", "ListHas", "Ne", "Or", "Sql", "Where",
    "lit",
]  # fmt: skip

DELTA_CHUNK = 32  # published dates per delta query, newest first


class Held:
    """One published file in memory: its columns as pyarrow arrays, and, made when a filter
    first asks for them, a column's values as Python objects, its value index (value -> rows)
    and its smallest and largest value. `cost` is its share of the cache's budget, in bytes
    (about)."""

    __slots__ = ("arrays", "rows", "used", "cost", "_values", "_index", "_ranges", "_rows")

    def __init__(self, table: pa.Table, used: float):
        table = table.combine_chunks()
        self.rows, self.used = table.num_rows, used
        self.arrays = {  # one chunk each after combine_chunks (none when empty)
            name: col.chunk(0) if col.num_chunks else pa.array([], col.type)
            for name, col in zip(table.column_names, table.columns, strict=True)
        }
        self.cost = table.nbytes + 1024
        self._values: dict[str, list | None] = {}
        self._index: dict[str, dict] = {}
        self._ranges: dict[str, object] = {}
        self._rows: dict[int, dict] = {}

    def values(self, column: str) -> list | None:
        if column not in self._values:
            array = self.arrays.get(column)
            self._values[column] = None if array is None else array.to_pylist()
            self.cost += PY_VALUE_BYTES * self.rows
        return self._values[column]

    def lookup(self, column: str, values: list) -> list[int]:
        """The rows whose `column` is one of `values`, in file order, from the column's value
        index (made on the first ask: about 1 ms for 6,000 rows, then a dict lookup; a pyarrow
        comparison over the column on every ask measured slower even for files asked only a
        few times)."""
        index = self._index.get(column)
        if index is None:
            if column not in self.arrays or not values:
                return []
            index = self._index[column] = self._make_index(column)
            self.cost += PY_INDEX_BYTES * len(index)
        found = []
        for value in values:
            rows = index.get(value)
            if rows is not None:
                found += [rows] if isinstance(rows, int) else rows
        return sorted(found) if len(values) > 1 else found

    def _make_index(self, column: str) -> dict:
        """value -> row number where values are unique (the usual case, built in one C
        call), value -> rows otherwise."""
        values = self.values(column) or []
        found = dict(zip(values, range(len(values)), strict=True))
        had_null = found.pop(None, -1) >= 0
        if len(found) == len(values) - (self.arrays[column].null_count if had_null else 0):
            return found
        found = {}
        for i, v in enumerate(values):
            if v is not None:
                found.setdefault(v, []).append(i)
        return found

    def ranges(self, column: str):
        if column not in self._ranges:
            self._ranges[column] = _span(self.arrays.get(column))
        return self._ranges[column]

    def row(self, i: int) -> dict:
        """Row i as a new dict (the callers add to it); converted once."""
        found = self._rows.get(i)
        if found is None:
            found = {name: array[i].as_py() for name, array in self.arrays.items()}
            self._rows[i] = found
            self.cost += PY_ROW_BYTES
        return dict(found)


def _span(array):
    if array is None:
        return None
    try:
        found = pc.min_max(array)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return ANY_RANGE
    low, high = found["min"].as_py(), found["max"].as_py()
    return None if low is None else (low, high)


class FileCache:
    """What the lookup service keeps of the published lake between lookups: the small files
    (as pyarrow tables), the version folders' file lists and the published dates.

    A lookup reads a handful of small files many times with a different filter, and a DuckDB
    query costs 2-3 ms on this machine before it reads a row (binding twenty columns, the
    result's conversion); a held file is filtered in Python over its columns in about
    0.1 ms, and skipped in microseconds when its smallest and largest value of a filtered
    column exclude the key (`where.Where.may_hold`), as Parquet row groups are skipped. A
    version folder never changes (a re-run publishes a new one), so a file's rows and a
    folder's listing are good for as long as they are kept. Past `max_bytes` the least
    recently used files are dropped, but none used in the last `idle_s` seconds (a lookup
    that holds it may still be reading it). Files over `max_file` bytes are read by DuckDB,
    which prunes their row groups, as `recon trace` reads every file."""

    def __init__(self, max_bytes: int = 768 << 20, max_file: int = 16 << 20, idle_s: float = 60):
        self.max_bytes, self.max_file, self.idle_s = max_bytes, max_file, idle_s
        self._files: OrderedDict[str, Held] = OrderedDict()
        self._listings: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._days: tuple[int, list[dt.date]] | None = None
        self._lock = threading.Lock()

    def tables(self, files: list[Path]) -> list[Held] | None:
        """The files held, loaded on first use; None if one is too large to hold or gone."""
        now = time.monotonic()
        out = []
        loaded = False
        with self._lock:
            for f in files:
                held = self._files.get(str(f))
                if held is None:
                    try:
                        if f.stat().st_size > self.max_file:
                            return None
                    except OSError:
                        return None
                    held = self._load(f, now)
                    loaded = True
                held.used = now
                self._files.move_to_end(str(f))
                out.append(held)
            if loaded:
                self._evict(now)
        return out

    def columns(self, files: list[Path]) -> set[str] | None:
        """The columns of the files if every one is held (else None)."""
        held = [self._files.get(str(f)) for f in files]
        if not all(held):
            return None
        return set().union(*(h.arrays for h in held))

    def listing(self, key: tuple[str, str], lister):
        """`lister()`, kept under `key`: what a version folder holds (a table's files, the
        folder a link target names), which never changes. Callers only read what is kept."""
        with self._lock:
            found = self._listings.get(key)
            if found is not None:
                self._listings.move_to_end(key)
                return found
        found = lister()
        with self._lock:
            self._listings[key] = found
            while len(self._listings) > MAX_LISTINGS:
                self._listings.popitem(last=False)
        return found

    def published_days(self, config: Config) -> list[dt.date]:
        """`publish.published_days`, listed again only when `current/` changed. A folder's
        mtime is as coarse as the kernel's clock tick, so a listing made in the same second
        as the last change is not kept (two changes in one tick would look like one)."""
        try:
            mtime = (config.data_dir / "current").stat().st_mtime_ns
        except OSError:
            return publish.published_days(config)
        kept = self._days
        if kept is not None and kept[0] == mtime:
            return kept[1]
        days = publish.published_days(config)
        if time.time_ns() - mtime > SETTLED_NS:
            self._days = (mtime, days)
        return days

    def warm(self, config: Config, days: int) -> int:
        """Load the traced tables' files of the last `days` published dates, newest first,
        up to half the budget: most lookups are of the last month's repayments, and their
        first lookup would otherwise pay for loading them. The number of files loaded."""
        loaded = 0
        for d in self.published_days(config)[::-1][:days]:
            version = publish.current_version(config, d)
            for table in TRACED_TABLES if version else ():
                for f in _parquet_files(version / table):
                    if self.held_bytes() > self.max_bytes // 2:
                        return loaded
                    loaded += self.tables([f]) is not None
        return loaded

    def any_value(self, column: str):
        """A value of `column` in a held file, newest loaded first (None if none is held)."""
        with self._lock:
            held = list(self._files.values())
        for h in reversed(held):
            array = h.arrays.get(column)
            if array is not None and array.null_count < len(array):
                return pc.drop_null(array)[0].as_py()
        return None

    def _load(self, f: Path, now: float) -> Held:
        # pyarrow reads a small file in a third of DuckDB's time, and gives the same values
        # (DECIMAL as Decimal, DATE as date, TIMESTAMPTZ in UTC, the file's columns only)
        held = Held(pq.ParquetFile(f).read(), now)
        self._files[str(f)] = held
        return held

    def held_bytes(self) -> int:
        return sum(h.cost for h in self._files.values())

    def _evict(self, now: float) -> None:
        total = self.held_bytes()
        while self._files and total > self.max_bytes:
            key, held = next(iter(self._files.items()))
            if now - held.used < self.idle_s:
                break
            del self._files[key]
            total -= held.cost


TRACED_TABLES = (
    "platform_orders", "channel_txns", "bank_lines", "settlements", "distributions", "exceptions",
    "state",
)  # fmt: skip
ANY_RANGE = True  # a column whose range is not known: every value may be in it
PY_VALUE_BYTES = 80  # a column's value as a Python object, and its place in the list
PY_INDEX_BYTES = 120  # a value's entry in a column's index: the dict slot and its row list
PY_ROW_BYTES = 2048  # a row converted to a dict of Python values
MAX_TESTED = 64  # candidate rows decided one by one; more: the filter over the whole file
MAX_LISTINGS = 20_000
SETTLED_NS = 2_000_000_000


class Versions(Mapping):
    """The published versions up to the report date, each resolved when first asked for: a
    lookup reads a handful of a year's dates, and resolving them all costs more."""

    def __init__(self, days: list[dt.date], resolve):
        self._days, self._resolve, self._found = days, resolve, {}
        self._known = set(days)

    def __getitem__(self, d: dt.date) -> Path:
        if d not in self._known:
            raise KeyError(d)
        if d not in self._found:
            self._found[d] = self._resolve(d)
        if self._found[d] is None:
            raise KeyError(d)
        return self._found[d]

    def __contains__(self, d) -> bool:
        return d in self._known

    def __iter__(self):
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)


class Lake:
    """The published versions up to the report date, read by explicit file lists.

    `con`: a DuckDB connection to share (a long-running service keeps one); the lake reads
    through a cursor of it, closed with the lake. Without it the lake opens its own."""

    def __init__(self, config: Config, day: dt.date, con=None, cache: FileCache | None = None):
        self.config, self.day = config, day
        self._links: dict[dt.date, str] = {}  # what each `current/D` pointed at
        pointers = os.path.realpath(publish.pointer(config, day).parent)
        listed = cache.published_days(config) if cache else publish.published_days(config)
        days = [d for d in listed if d <= day]
        self.versions = Versions(days, lambda d: self._resolve(pointers, d))
        self.cache = cache
        self._shared, self._con = con, None
        self.queries = 0
        self.files_read = 0
        self.touched: set[dt.date] = set()  # the dates whose version this lookup read

    @property
    def con(self):
        """The connection DuckDB reads go through, opened on first use (a lookup that finds
        everything in held files opens none)."""
        if self._con is None:
            if self._shared is None:
                self._con = connect(self.config.memory_limit, self.config.threads)
            else:
                self._con = self._shared.cursor()
                self._con.execute("SET TimeZone = 'UTC'")  # a session setting: not inherited
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()

    def _resolve(self, pointers: str, d: dt.date) -> Path | None:
        """The version `current/D` names, as `publish.current_version` finds it but with one
        readlink instead of resolving every path component (a year is 365 of them)."""
        try:
            target = os.readlink(os.path.join(pointers, d.isoformat()))
        except OSError:
            return None
        if self.cache is not None:
            version = self.cache.listing((pointers, target), lambda: _sealed(pointers, target))
        else:
            version = _sealed(pointers, target)
        if version is None:
            return None
        self._links[d] = target
        return version

    def republished(self) -> bool:
        """Whether a date this lookup read was published again since it resolved the version
        (a re-run swaps `current/D` to a new version and removes the old one): then what it
        read may be incomplete, and the lookup is read again."""
        pointers = str(publish.pointer(self.config, self.day).parent)
        for d in self.touched:
            try:
                if os.readlink(os.path.join(pointers, d.isoformat())) != self._links[d]:
                    return True
            except OSError:
                return True
        return False

    def _files(self, version: Path, table: str) -> list[Path]:
        """The Parquet files of a table's folder in a version (kept by the cache)."""
        if self.cache is not None:
            return self.cache.listing(
                (str(version), table), lambda: _parquet_files(version / table)
            )
        return _parquet_files(version / table)

    def _version(self, d: dt.date) -> Path | None:
        version = self.versions.get(d)
        if version is not None:
            self.touched.add(d)
        return version

    def input_files(self, table: str, d: dt.date) -> list[Path]:
        version = self._version(d)
        return self._files(version, table) if version else []

    def report_files(self, table: str, d: dt.date) -> list[Path]:
        version = self._version(d)
        files = self._files(version, table) if version else []
        return files or _parquet_files(self.config.lake / table / f"report_date={d.isoformat()}")

    def state_file(self, name: str, d: dt.date) -> Path | None:
        version = self._version(d)
        if version is None:
            return None
        if self.cache is None:
            path = version / "state" / f"{name}.parquet"
            return path if path.exists() else None
        files = self.cache.listing((str(version), "state/"), lambda: _state_files(version))
        return files.get(f"{name}.parquet")

    def columns(self, files: list[Path]) -> set[str]:
        if not files:
            return set()
        held = self.cache.columns(files) if self.cache else None
        if held is not None:
            return held - {"_file"}
        listed = ", ".join(sql_path(f) for f in files)
        rel = f"read_parquet([{listed}], hive_partitioning=false, union_by_name=true)"
        return {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}

    def read(self, dated: list[tuple[dt.date, Path]], where: Where | str) -> list[dict]:
        """Rows of the files matching `where`, each with `_file` and `_date` (the file's
        inbox/report date), files in the order given, a file's rows in its order."""
        if not dated:
            return []
        if isinstance(where, str):
            where = Sql(where)
        self.queries += 1
        self.files_read += len(dated)
        held = None
        if self.cache is not None and not isinstance(where, Sql):
            held = self.cache.tables([f for _, f in dated])
        rows = _filter_held(dated, held, where) if held is not None else self._query(dated, where)
        by_name = {str(f): d for d, f in dated}
        for row in rows:
            row["_date"] = by_name.get(row["_file"])
        return rows

    def _query(self, dated: list[tuple[dt.date, Path]], where: Where) -> list[dict]:
        listed = ", ".join(sql_path(f) for _, f in dated)
        cur = self.con.execute(
            f"SELECT * FROM read_parquet([{listed}], hive_partitioning=false, "
            f"union_by_name=true, filename = '_file') WHERE {where.sql()}"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def state(self, name: str, where: Where | str) -> list[dict]:
        path = self.state_file(name, self.day)
        return self.read([(self.day, path)], where) if path else []

    def catalog_days(self, name: str, key: str) -> list[dt.date] | None:
        """The dates whose `name` delta can hold `key` (its column by which the kind is looked
        up lies in [min, max]), newest first, from the report date's history catalog; None
        when the report date has no catalog (published before catalogs existed)."""
        path = self.state_file("catalog", self.day)
        if path is None:
            return None
        rows = self.read(
            [(self.day, path)], And(Eq("kind", name), Between(key, "min_key", "max_key"))
        )
        found = sorted({r["day"] for r in rows}, reverse=True)
        return [d for d in found if d in self.versions]

    def delta(self, name: str, where: Where | str, key: str | None = None) -> list[dict]:
        """The delta rows matching `where` of the newest dates holding any, newest first (the
        first is the one callers take): dates newest first, DELTA_CHUNK per query, or one at
        a time from held files (a file is loaded only if no newer date has the key: the key
        is most often in the newest date the catalog names). With `key` (the value of the
        column the kind is looked up by, which `where` asks for), only the dates the history
        catalog says can hold it."""
        listed = self.catalog_days(name, key) if key is not None else None
        days = listed if listed is not None else sorted(self.versions, reverse=True)
        step = 1 if self.cache is not None else DELTA_CHUNK
        for i in range(0, len(days), step):
            dated = [(d, p) for d in days[i : i + step] if (p := self.state_file(name, d))]
            rows = self.read(dated, where)
            if rows:
                return sorted(rows, key=lambda r: r["_date"], reverse=True)
        return []

    def delta_since(
        self, name: str, since: dt.date, where: str, key: str | None = None
    ) -> list[dict]:
        """Every delta row matching `where` of the dates from `since` on, in one query (with
        `key`, of the dates the history catalog says can hold it)."""
        listed = self.catalog_days(name, key) if key is not None else None
        days = sorted(listed) if listed is not None else sorted(self.versions)
        dated = [(d, p) for d in days if d >= since and (p := self.state_file(name, d))]
        return self.read(dated, where)

    def window(self, table: str, lo: dt.date, hi: dt.date, where: str) -> list[dict]:
        dated = [(d, f) for d in self.versions if lo <= d <= hi for f in self.input_files(table, d)]
        rows = self.read(dated, where)
        for row in rows:
            row.setdefault("inbox_date", row["_date"])
        return rows

    def report(self, table: str, lo: dt.date, hi: dt.date, where: str, needs=()) -> list[dict]:
        """Rows of a report table over report dates lo..hi, newest report date first.
        `needs` are columns the filter reads: without them (a table from before they were
        added) there are no rows, rather than an error."""
        dated = [
            (d, f) for d in self.versions if lo <= d <= hi for f in self.report_files(table, d)
        ]
        if not dated:
            return []
        if needs and not set(needs) <= self.columns([f for _, f in dated]):
            return []
        rows = self.read(dated, where)
        return sorted(rows, key=lambda r: r["_date"], reverse=True)


def _parquet_files(base: Path) -> list[Path]:
    return sorted(base.glob("*.parquet")) + sorted(base.glob("*/*.parquet"))


def _state_files(version: Path) -> dict[str, Path]:
    folder = version / "state"
    try:
        return {name: folder / name for name in os.listdir(folder)}
    except OSError:
        return {}


def _sealed(pointers: str, target: str) -> Path | None:
    """The version folder a `current/D` link's target names, if it is sealed (its manifest
    written: a version is complete before any link names it)."""
    version = Path(os.path.normpath(os.path.join(pointers, target)))
    return version if (version / publish.MANIFEST).exists() else None


def _filter_held(dated, held: list[Held], where: Where) -> list[dict]:
    """`where` over held files, as DuckDB's `read_parquet(union_by_name=true)` gives the rows:
    every column of any of the files (None where a file has none), then `_file`."""
    names: dict[str, None] = {}
    rows = []
    for (_, f), h in zip(dated, held, strict=True):
        names.update(dict.fromkeys(h.arrays))
        if not h.rows:
            continue
        candidates = where.rows(h)  # its equalities and INs skip a file by range first
        if candidates is None or len(candidates) > MAX_TESTED:
            if not where.may_hold(h):
                continue
            found = pc.indices_nonzero(where.mask(h)).to_pylist()
        else:
            found = [i for i in candidates if where.test(h, i)]
        for i in found:
            row = h.row(i)
            row["_file"] = str(f)
            rows.append(row)
    columns = [*names, "_file"]
    return [{n: row.get(n) for n in columns} for row in rows]


def as_date(value) -> dt.date | None:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def source_of(row: dict | None) -> dict | None:
    """The file and line a row was read from, as a hop lists it."""
    if not row or not row.get("file_name"):
        return None
    return {
        "source": row.get("source"),
        "file_name": row.get("file_name"),
        "line_no": row.get("line_no"),
        "inbox_date": row.get("inbox_date"),  # None: read from a history delta
    }


def deliveries(rows: list[dict], key) -> dict[tuple, list[dict]]:
    """Rows by item key, latest delivery first (inbox date, file, line: the one matching uses,
    also for a DATA_CONFLICT); the same file line read from the state and the lake counts once."""
    out: dict[tuple, list[dict]] = {}
    seen = set()
    for row in rows:
        ident = (key(row), row.get("file_sha256") or row.get("file_name"), row.get("line_no"))
        if ident not in seen:
            seen.add(ident)
            out.setdefault(key(row), []).append(row)
    for items in out.values():
        items.sort(
            key=lambda r: (
                r.get("inbox_date") or dt.date.min,
                r.get("file_name") or "",
                r.get("line_no") or 0,
            ),
            reverse=True,
        )
    return out
