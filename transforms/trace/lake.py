"""Reading the published lake by explicit file lists, and the row helpers every hop uses."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from transforms import publish
from transforms.config import Config
from transforms.duck import connect, sql_path

DELTA_CHUNK = 32  # published dates per delta query, newest first


def lit(value) -> str:
    """A SQL literal: filters stay constants, so Parquet min/max statistics prune row groups."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def is_in(column: str, values) -> str:
    vals = sorted({str(v) for v in values if v})
    return f"{column} IN ({', '.join(map(lit, vals))})" if vals else "false"


class FileCache:
    """Small published Parquet files held in a long-lived connection (the lookup service's),
    so a lookup reads them from memory instead of opening them again.

    Files of one table with the same columns share one DuckDB table (a *family*), each file's
    rows tagged with an integer `_fid`: a read over twenty dates is one scan of one table,
    where twenty tables (or twenty files) would each cost their own scan set-up, the larger
    part of a small lookup's time. A version folder never changes (a re-run publishes a new
    one), so a file's rows are good for as long as they are kept. Past `max_rows` the least
    recently used files are dropped, but none used in the last `idle_s` seconds (a lookup
    that holds its id may still be reading it)."""

    def __init__(self, max_rows: int = 4_000_000, max_file: int = 16 << 20, idle_s: float = 60):
        self.max_rows, self.max_file, self.idle_s = max_rows, max_file, idle_s
        self._files: OrderedDict[str, list] = OrderedDict()  # path -> [family, fid, rows, used]
        self._families: dict[tuple, _Family] = {}
        self._rows = 0
        self._next_id = 0
        self._lock = threading.Lock()

    def tables(self, con, files: list[Path]) -> tuple[list[tuple[_Family, list[int]]], dict]:
        """Each family the files are in with their ids, and each id's place in `files`, the
        files loaded on first use; None if one is too large to hold or gone."""
        sizes = []
        for f in files:
            if str(f) in self._files:
                sizes.append(0)
                continue
            try:
                sizes.append(f.stat().st_size)
            except OSError:
                return None
        if max(sizes) > self.max_file:
            return None
        now = time.monotonic()
        groups: dict[str, tuple[_Family, list[int]]] = {}
        at: dict[int, int] = {}
        with self._lock:
            for i, f in enumerate(files):
                entry = self._files.get(str(f)) or self._load(con, f, now)
                entry[3] = now
                self._files.move_to_end(str(f))
                family = entry[0]
                groups.setdefault(family.name, (family, []))[1].append(entry[1])
                at.setdefault(entry[1], i)
            self._evict(con, now)
        return list(groups.values()), at

    def columns(self, files: list[Path]) -> set[str] | None:
        """The columns of the files if every one is held (else None)."""
        entries = [self._files.get(str(f)) for f in files]
        if not all(entries):
            return None
        return set().union(*(e[0].columns for e in entries))

    def _load(self, con, f: Path, now: float) -> list:
        rel = f"read_parquet({sql_path(f)}, hive_partitioning=false, filename = '_file')"
        described = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        signature = (_table_of(f), tuple((r[0], r[1]) for r in described))
        family = self._families.get(signature)
        if family is None:
            family = _Family(f"lake_cache_{len(self._families)}", [r[0] for r in described])
            con.execute(
                f"CREATE OR REPLACE TABLE {family.name} AS "
                f"SELECT *, 0::INTEGER AS _fid FROM {rel} WITH NO DATA"
            )
            self._families[signature] = family
        fid = self._next_id
        self._next_id += 1
        con.execute(f"INSERT INTO {family.name} SELECT *, {fid} FROM {rel}")
        rows = con.execute(f"SELECT count(*) FROM {family.name} WHERE _fid = {fid}").fetchone()[0]
        entry = [family, fid, rows, now]
        self._files[str(f)] = entry
        self._rows += rows
        return entry

    def _evict(self, con, now: float) -> None:
        for key, (family, fid, rows, used) in list(self._files.items()):
            if self._rows <= self.max_rows or now - used < self.idle_s:
                break
            con.execute(f"DELETE FROM {family.name} WHERE _fid = {fid}")
            del self._files[key]
            self._rows -= rows


class _Family:
    def __init__(self, name: str, columns: list[str]):
        self.name, self.columns = name, columns


def _table_of(f: Path) -> str:
    """The lake table a published file belongs to: its folder, or the one above a
    `source=...` partition; a state file by its own name."""
    parent = f.parent
    if parent.name.startswith("source="):
        parent = parent.parent
    return f"{parent.name}/{f.stem}" if parent.name == "state" else parent.name


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
        pointers = Path(os.path.realpath(publish.pointer(config, day).parent))
        days = [d for d in publish.published_days(config) if d <= day]
        self.versions = Versions(days, lambda d: self._resolve(pointers, d))
        self.cache = cache
        if con is None:
            self.con = connect(config.memory_limit, config.threads)
        else:
            self.con = con.cursor()
            self.con.execute("SET TimeZone = 'UTC'")  # a session setting: not inherited
        self.queries = 0
        self.files_read = 0
        self.touched: set[dt.date] = set()  # the dates whose version this lookup read

    def close(self) -> None:
        self.con.close()

    def _resolve(self, pointers: Path, d: dt.date) -> Path | None:
        """The version `current/D` names, as `publish.current_version` finds it but with one
        readlink instead of resolving every path component (a year is 365 of them)."""
        try:
            target = os.readlink(pointers / d.isoformat())
        except OSError:
            return None
        version = Path(os.path.normpath(pointers / target))
        if not (version / publish.MANIFEST).exists():
            return None
        self._links[d] = target
        return version

    def republished(self) -> bool:
        """Whether a date this lookup read was published again since it resolved the version
        (a re-run swaps `current/D` to a new version and removes the old one): then what it
        read may be incomplete, and the lookup is read again."""
        pointers = publish.pointer(self.config, self.day).parent
        for d in self.touched:
            try:
                if os.readlink(pointers / d.isoformat()) != self._links[d]:
                    return True
            except OSError:
                return True
        return False

    def _files(self, base: Path) -> list[Path]:
        return sorted(base.glob("*.parquet")) + sorted(base.glob("*/*.parquet"))

    def _version(self, d: dt.date) -> Path | None:
        version = self.versions.get(d)
        if version is not None:
            self.touched.add(d)
        return version

    def input_files(self, table: str, d: dt.date) -> list[Path]:
        version = self._version(d)
        return self._files(version / table) if version else []

    def report_files(self, table: str, d: dt.date) -> list[Path]:
        version = self._version(d)
        files = self._files(version / table) if version else []
        return files or self._files(self.config.lake / table / f"report_date={d.isoformat()}")

    def state_file(self, name: str, d: dt.date) -> Path | None:
        version = self._version(d)
        path = version / "state" / f"{name}.parquet" if version else None
        return path if path and path.exists() else None

    def columns(self, files: list[Path]) -> set[str]:
        if not files:
            return set()
        held = self.cache.columns(files) if self.cache else None
        if held is not None:
            return held - {"_file"}
        listed = ", ".join(sql_path(f) for f in files)
        rel = f"read_parquet([{listed}], hive_partitioning=false, union_by_name=true)"
        return {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}

    def read(self, dated: list[tuple[dt.date, Path]], where: str) -> list[dict]:
        """Rows of the files matching `where`, each with `_date` (the file's inbox/report date)."""
        if not dated:
            return []
        by_name = {str(f): d for d, f in dated}
        cached = self.cache.tables(self.con, [f for _, f in dated]) if self.cache else None
        if cached:
            cached, at = cached
            sql = " UNION ALL BY NAME ".join(
                f"SELECT * FROM {family.name} WHERE _fid IN ({', '.join(map(str, ids))}) "
                f"AND ({where})"
                for family, ids in cached
            )
        else:
            listed = ", ".join(sql_path(f) for _, f in dated)
            sql = (
                f"SELECT * FROM read_parquet([{listed}], hive_partitioning=false, "
                f"union_by_name=true, filename = '_file') WHERE {where}"
            )
        cur = self.con.execute(sql)
        self.queries += 1
        self.files_read += len(dated)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if cached:  # in the order of `dated`, as read_parquet gives them (a scan keeps the
            # order rows were inserted in, so a file's rows are in their order)
            rows.sort(key=lambda r: at[r.pop("_fid")])
        for row in rows:
            row["_date"] = by_name.get(row["_file"])
        return rows

    def state(self, name: str, where: str) -> list[dict]:
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
            [(self.day, path)], f"kind = {lit(name)} AND {lit(key)} BETWEEN min_key AND max_key"
        )
        found = sorted({r["day"] for r in rows}, reverse=True)
        return [d for d in found if d in self.versions]

    def delta(self, name: str, where: str, key: str | None = None) -> list[dict]:
        """The newest delta rows matching `where`: dates newest first, DELTA_CHUNK per query.
        With `key` (the value of the column the kind is looked up by, which `where` asks
        for), only the dates the history catalog says can hold it."""
        listed = self.catalog_days(name, key) if key is not None else None
        days = listed if listed is not None else sorted(self.versions, reverse=True)
        for i in range(0, len(days), DELTA_CHUNK):
            dated = [(d, p) for d in days[i : i + DELTA_CHUNK] if (p := self.state_file(name, d))]
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
