"""Reading the published lake by explicit file lists, and the row helpers every hop uses."""

from __future__ import annotations

import datetime as dt
import os
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


class Lake:
    """The published versions up to the report date, read by explicit file lists.

    `con`: a DuckDB connection to share (a long-running service keeps one); the lake reads
    through a cursor of it, closed with the lake. Without it the lake opens its own."""

    def __init__(self, config: Config, day: dt.date, con=None):
        self.config, self.day = config, day
        self.versions: dict[dt.date, Path] = {}
        self._links: dict[dt.date, str] = {}  # what each `current/D` pointed at
        pointers = Path(os.path.realpath(publish.pointer(config, day).parent))
        for d in publish.published_days(config):
            if d <= day and (version := self._resolve(pointers, d)) is not None:
                self.versions[d] = version
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
        listed = ", ".join(sql_path(f) for f in files)
        rel = f"read_parquet([{listed}], hive_partitioning=false, union_by_name=true)"
        return {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}

    def read(self, dated: list[tuple[dt.date, Path]], where: str) -> list[dict]:
        """Rows of the files matching `where`, each with `_date` (the file's inbox/report date)."""
        if not dated:
            return []
        by_name = {str(f): d for d, f in dated}
        listed = ", ".join(sql_path(f) for _, f in dated)
        cur = self.con.execute(
            f"SELECT * FROM read_parquet([{listed}], hive_partitioning=false, union_by_name=true, "
            f"filename = '_file') WHERE {where}"
        )
        self.queries += 1
        self.files_read += len(dated)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
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
        found = self.con.execute(
            f"SELECT day FROM read_parquet({sql_path(path)}) "
            "WHERE kind = ? AND ? BETWEEN min_key AND max_key ORDER BY day DESC",
            [name, key],
        ).fetchall()
        self.queries += 1
        return [d for (d,) in found if d in self.versions]

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

    def delta_since(self, name: str, since: dt.date, where: str) -> list[dict]:
        """Every delta row matching `where` of the dates from `since` on, in one query."""
        dated = [
            (d, p) for d in sorted(self.versions) if d >= since and (p := self.state_file(name, d))
        ]
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
