"""Load and validate recon.toml. Defaults live here and nowhere else.

Every key is checked on load: unknown keys (with the nearest valid one suggested), types,
ranges, source names (they name lake folders), globs (file-name patterns inside a day folder),
the `options` a source's format declares (`Format.OPTIONS`), the mapped formats and, in
`load_config`, the inbox and data_dir folders. Each problem is one ConfigError naming the file,
the key path (`sources[2].glob`) and what was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from transforms.errors import ConfigError

ROLES = ("platform", "channel", "bank")
ACCOUNT_ROLES = ("collection", "lender", "fee")
LOCALES = ("zh", "en")

# Engine and run-model settings (top-level keys of recon.toml).
RUN_DEFAULTS = {
    "memory_limit": "1GB",  # DuckDB memory_limit per connection; spills to temp_directory beyond it
    "temp_directory": "tmp",  # relative to data_dir
    "threads": 2,
    "rematch_days": 2,  # new rows of this many recent days are checked against settled items
    "match_buckets": 1,  # layer A matched in this many buckets of related rows (same results)
}

SOURCE_DEFAULTS = {
    "pending_days": 1,
    "settle_lag_days": 1,
    "settle_window_days": 2,
    "required": True,
    "distribution_lag_days": 0,  # lender/fee accounts: value date of 清分 after the credit arrives
    "distribution_window_days": 2,  # ... and how many days later it may still arrive
}

# A source name becomes a lake folder (`source=NAME`): letters, digits, _ and - only.
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Names the zone database lists that are not time zones DuckDB knows.
_NOT_ZONES = {"localtime", "posixrules", "Factory"}


@dataclass(frozen=True)
class Option:
    """One typed setting: a key of recon.toml, of a [[sources]] entry or of a format's
    `options` (formats declare theirs as `OPTIONS = {name: Option(...)}`).

    `type` is bool, int, str, list (of non-empty strings) or dict (a table); `choices` limits
    a str, `low`/`high` an int (inclusive).
    """

    type: type
    default: object = None
    choices: tuple = ()
    low: int | None = None
    high: int | None = None
    help: str = ""

    def expected(self) -> str:
        if self.type is bool:
            return "true or false"
        if self.type is int:
            if self.low is not None and self.high is not None:
                return f"an integer from {self.low} to {self.high}"
            return "an integer"
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is list:
            return "a list of non-empty strings"
        if self.type is dict:
            return "a table"
        return "a non-empty string"

    def check(self, value, path: object, key: str):
        """The value, or a ConfigError naming `key` and what was expected."""
        problem = f"expected {self.expected()}, found {_found(value)}"
        if self.type is bool:
            ok = isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            ok = ok and (self.low is None or value >= self.low)
            ok = ok and (self.high is None or value <= self.high)
        elif self.type is str:
            ok = isinstance(value, str) and value.strip() != ""
            if ok and self.choices and value not in self.choices:
                close = difflib.get_close_matches(value, self.choices, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise ConfigError(path, key, problem + hint)
        elif self.type is list:
            if not isinstance(value, list):
                raise ConfigError(path, key, problem)
            for i, item in enumerate(value):
                if not isinstance(item, str) or not item.strip():
                    raise ConfigError(
                        path, f"{key}[{i}]", f"expected a non-empty string, found {_found(item)}"
                    )
            ok = True
        elif self.type is dict:
            ok = isinstance(value, dict)
        else:  # pragma: no cover - a declaration error, not a user's
            raise TypeError(f"Option type {self.type!r} is not supported")
        if not ok:
            raise ConfigError(path, key, problem)
        return value


RUN_KEYS = {
    "memory_limit": Option(str, RUN_DEFAULTS["memory_limit"]),
    "temp_directory": Option(str, RUN_DEFAULTS["temp_directory"]),
    "threads": Option(int, RUN_DEFAULTS["threads"], low=1, high=256),
    "rematch_days": Option(int, RUN_DEFAULTS["rematch_days"], low=0, high=60),
    "match_buckets": Option(int, RUN_DEFAULTS["match_buckets"], low=1, high=1024),
}
TOP_LEVEL_KEYS = {
    "inbox": Option(str, help="folder of YYYY-MM-DD day folders; must exist"),
    "data_dir": Option(str, help="lake/ and reports/; a folder or a path to create"),
    "timezone": Option(str, "Asia/Shanghai"),
    "formats": Option(dict, {}),
    "sources": Option(list),
    "resolutions": Option(str, help="folder where filled workbooks / CSVs of decisions go"),
    "locale": Option(str, "zh", choices=LOCALES, help="language of the workbook"),
    "schedule": Option(dict, {}, help="the served daily run: [schedule] (SCHEDULE_KEYS)"),
    **RUN_KEYS,
}
SCHEDULE_KEYS = {
    "cron": Option(str, "30 10 * * *", help="when the daily run starts, in the config's time zone"),
    "deadline": Option(str, "12:00", help="HH:MM local: wait for required files until then"),
    "poll_seconds": Option(int, 60, low=1, high=3600, help="how often the day folder is checked"),
    "alert_webhook": Option(str, help="URL that gets a JSON POST when something needs a person"),
    "alert_money_at_risk": Option(str, help="alert above this money at risk, e.g. '100000.00'"),
}
_CRON_FIELD = re.compile(r"[0-9*/,\-A-Za-z?LW#]+")
_DEADLINE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

SOURCE_KEYS = {
    "name": Option(str, help="unique; letters, digits, _ and - (it names lake folders)"),
    "role": Option(str, choices=ROLES),
    "format": Option(str, help="a built-in format or a [formats.NAME] mapped format"),
    "glob": Option(str, help="file-name pattern inside the day folder"),
    "channel": Option(str, help="channel code; required for role = channel"),
    "account_no": Option(str),
    "account_role": Option(str, "collection", choices=ACCOUNT_ROLES),
    "lender_code": Option(str, help="required for account_role = lender"),
    "pending_days": Option(int, SOURCE_DEFAULTS["pending_days"], low=0, high=60),
    "settle_lag_days": Option(int, SOURCE_DEFAULTS["settle_lag_days"], low=0, high=30),
    "settle_window_days": Option(int, SOURCE_DEFAULTS["settle_window_days"], low=0, high=60),
    "distribution_lag_days": Option(int, SOURCE_DEFAULTS["distribution_lag_days"], low=0, high=30),
    "distribution_window_days": Option(
        int, SOURCE_DEFAULTS["distribution_window_days"], low=0, high=60
    ),
    "bank_counterparty": Option(list, ()),
    "required": Option(bool, SOURCE_DEFAULTS["required"]),
    "options": Option(dict, {}, help="the options the source's format declares (OPTIONS)"),
    "fetch": Option(
        str, help="a command that fetches the day's file (RECON_DATE, RECON_DAY_FOLDER)"
    ),
    "fetch_retries": Option(int, 2, low=0, high=10, help="attempts after a failed fetch"),
}


@dataclass(frozen=True)
class Source:
    name: str
    role: str
    format: str
    glob: str
    channel: str | None = None
    account_no: str | None = None
    account_role: str = "collection"  # bank sources: collection | lender | fee
    lender_code: str | None = None  # bank sources with account_role = "lender"
    pending_days: int = SOURCE_DEFAULTS["pending_days"]
    settle_lag_days: int = SOURCE_DEFAULTS["settle_lag_days"]
    settle_window_days: int = SOURCE_DEFAULTS["settle_window_days"]
    distribution_lag_days: int = SOURCE_DEFAULTS["distribution_lag_days"]
    distribution_window_days: int = SOURCE_DEFAULTS["distribution_window_days"]
    bank_counterparty: tuple[str, ...] = ()
    required: bool = True
    options: dict = field(default_factory=dict, hash=False, compare=False)
    fetch: str | None = None  # how the daily run gets the file (not an input of the results)
    fetch_retries: int = 2

    @property
    def recipient(self) -> str | None:
        """The 清分 recipient a lender or fee account stands for: its lender code, FEE by default
        for the fee account; None for other sources."""
        if self.role != "bank" or self.account_role == "collection":
            return None
        return self.lender_code or ("FEE" if self.account_role == "fee" else None)


@dataclass(frozen=True)
class Schedule:
    """The served daily run (flows/schedule.py, transforms/daily.py)."""

    cron: str = "30 10 * * *"  # channel bills are ready from about 09:00-10:00
    deadline: dt.time = dt.time(12, 0)
    poll_seconds: int = 60
    alert_webhook: str | None = None
    alert_money_at_risk: Decimal | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    inbox: Path
    data_dir: Path
    timezone: str
    sources: tuple[Source, ...]
    mapped_formats: dict = field(default_factory=dict, hash=False, compare=False)
    memory_limit: str = RUN_DEFAULTS["memory_limit"]
    temp_directory: Path | None = None
    threads: int = RUN_DEFAULTS["threads"]
    rematch_days: int = RUN_DEFAULTS["rematch_days"]
    match_buckets: int = RUN_DEFAULTS["match_buckets"]
    resolutions: Path | None = None
    locale: str = "zh"
    schedule: Schedule = field(default_factory=Schedule)

    @property
    def resolutions_dir(self) -> Path:
        return self.resolutions or self.inbox.parent / "resolutions"

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    @property
    def reports(self) -> Path:
        return self.data_dir / "reports"

    @property
    def spill_dir(self) -> Path:
        return self.temp_directory or self.data_dir / RUN_DEFAULTS["temp_directory"]

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def by_role(self, role: str) -> list[Source]:
        return [s for s in self.sources if s.role == role]


# ---------------------------------------------------------------------------- helpers


def _found(value) -> str:
    """A found value for a one-line message (repr escapes newlines; long values are cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"  # as written in TOML
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def key_path(where: str, key: object) -> str:
    """`where.key`, the key quoted when it is not a bare TOML key (so it stays on one line)."""
    part = (
        key
        if isinstance(key, str) and _BARE_KEY.fullmatch(key)
        else json.dumps(str(key), ensure_ascii=False)
    )
    return f"{where}.{part}" if where else part


def suggest(word: str, valid) -> str:
    """`did you mean X?` for the nearest valid word, else the list of valid words."""
    valid = sorted(valid)
    close = difflib.get_close_matches(word, valid, n=1) if isinstance(word, str) else []
    return f"did you mean {close[0]}?" if close else f"expected one of {', '.join(valid)}"


def check_keys(table: dict, valid, path: object, where: str, what: str = "key") -> None:
    """A ConfigError for the first key of `table` not in `valid`, suggesting the nearest."""
    for key in table:
        if key not in valid:
            hint = suggest(key, valid) if valid else "none are accepted here"
            raise ConfigError(path, key_path(where, key), f"unknown {what}; {hint}")


def check_file_pattern(value, path: object, key: str, example: str = "wechatpay_*.csv") -> str:
    """A file-name glob matched inside one folder: not empty, not absolute, no `..`, no `/`
    or `\\` (those would read another day's files, or files outside the inbox)."""
    inside = f"expected a file-name pattern inside the day folder such as {example!r}"
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, key, f"{inside}, found {_found(value)}")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).anchor:
        raise ConfigError(path, key, f"an absolute path; {inside}, found {_found(value)}")
    if ".." in value:
        raise ConfigError(path, key, f"'..' leaves the day folder; {inside}, found {_found(value)}")
    if "/" in value or "\\" in value:
        raise ConfigError(
            path, key, f"a folder separator reads other folders; {inside}, found {_found(value)}"
        )
    if value.strip() == "." or any(ord(c) < 32 for c in value):
        raise ConfigError(path, key, f"{inside}, found {_found(value)}")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def check_timezone(value, path: object, key: str = "timezone") -> str:
    example = "expected an IANA time zone name such as 'Asia/Shanghai'"
    if not isinstance(value, str):
        raise ConfigError(path, key, f"{example}, found {_found(value)}")
    zones = _zones()
    known = value in zones if zones else value not in _NOT_ZONES
    if known:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            known = False
    if not known:
        close = difflib.get_close_matches(value, zones, n=1) if zones else []
        hint = f"did you mean {close[0]}?" if close else example
        if any(z.startswith(f"{value}/") for z in zones):
            hint = f"{value} is a region; expected a zone such as '{value}/<city>'"
        raise ConfigError(path, key, f"unknown time zone {_found(value)}; {hint}")
    return value


# ---------------------------------------------------------------------------- loading


def load_config(path: str | Path, *, check_folders: bool = True) -> Config:
    """Read and validate recon.toml; with check_folders (the default) also the folders: the
    inbox must exist, data_dir must be a folder or a path that can become one. No side effects:
    nothing is created here."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", f"not valid TOML: {exc}") from None
    config = parse_config(raw, path)
    if check_folders:
        check_config_folders(config)
    return config


def check_config_folders(config: Config) -> None:
    """The inbox is an existing folder; data_dir, the spill folder and the resolutions folder
    are folders or can be created (their nearest existing ancestor is a folder)."""
    path = config.path
    if not config.inbox.exists():
        raise ConfigError(
            path,
            "inbox",
            f"no folder {config.inbox}; expected an existing folder of YYYY-MM-DD day folders",
        )
    if not config.inbox.is_dir():
        raise ConfigError(path, "inbox", f"{config.inbox} is a file; expected a folder")
    if not os.access(config.inbox, os.R_OK | os.X_OK):
        raise ConfigError(path, "inbox", f"{config.inbox} cannot be read (permission denied)")
    folders = [("data_dir", config.data_dir), ("temp_directory", config.spill_dir)]
    if config.resolutions is not None:
        folders.append(("resolutions", config.resolutions))
    for key, folder in folders:
        existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if existing is not None and not existing.is_dir():
            which = "" if existing == folder else f" (so {folder} cannot be created)"
            raise ConfigError(path, key, f"{existing} is a file{which}; expected a folder")
    if config.data_dir == config.inbox:
        raise ConfigError(path, "data_dir", "is the inbox; expected a folder of its own")
    check_apart(config)


# Folders of data_dir a run writes and cleans up: an inbox there would be written over.
RUN_FOLDERS = ("lake", "reports", "current", "versions", "ledger", "audit")


def check_apart(config: Config) -> None:
    """data_dir outside the inbox (else the run reads its own lock file, ledger and workbooks
    as deliveries), and the inbox not inside a folder the run writes."""
    path = config.path
    if config.data_dir.is_relative_to(config.inbox):
        raise ConfigError(
            path,
            "data_dir",
            f"{config.data_dir} is inside the inbox {config.inbox}; the run would read its own "
            "files as deliveries: expected a folder outside the inbox",
        )
    written = [config.data_dir / name for name in RUN_FOLDERS] + [config.spill_dir]
    for folder in written:
        if config.inbox.is_relative_to(folder):
            raise ConfigError(
                path,
                "inbox",
                f"{config.inbox} is inside {folder}, which every run writes and cleans up; "
                f"expected the inbox outside the data_dir {config.data_dir} (or in a folder "
                "of it the run does not use)",
            )
    if config.spill_dir.is_relative_to(config.inbox):
        raise ConfigError(
            path,
            "temp_directory",
            f"{config.spill_dir} is inside the inbox {config.inbox}; expected a folder outside it",
        )


def parse_config(raw: dict, path: Path) -> Config:
    """Validate the parsed TOML (no file-system checks: see load_config)."""
    from transforms.lake import ROLE_TABLE
    from transforms.sources import FORMATS  # late: the registry imports config types
    from transforms.sources.mapped import validate_mapped

    base = path.parent
    check_keys(raw, TOP_LEVEL_KEYS, path, "")
    for key in ("inbox", "data_dir"):
        if key not in raw:
            raise ConfigError(path, key, "required; expected a folder path (string)")
    for key, option in TOP_LEVEL_KEYS.items():
        if key in raw and key not in ("timezone", "sources"):
            option.check(raw[key], path, key)
    tz = check_timezone(raw.get("timezone", TOP_LEVEL_KEYS["timezone"].default), path)
    run = _run_settings(raw, path)

    mapped = raw.get("formats", {})
    mapped_tables = {}
    for name, spec in mapped.items():
        if not isinstance(spec, dict):
            raise ConfigError(
                path, key_path("formats", name), "expected a table ([formats.NAME] with keys)"
            )
        mapped_tables[name] = validate_mapped(name, spec, path).table
    options_of = {f.name: f.OPTIONS for f in FORMATS} | {name: {} for name in mapped}

    entries = raw.get("sources")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, "sources", "required; expected at least one [[sources]] table")
    sources, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"sources[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(path, where, f"expected a [[sources]] table, found {_found(entry)}")
        check_keys(entry, SOURCE_KEYS, path, where)
        for key in ("name", "role", "format", "glob"):
            if key not in entry:
                raise ConfigError(path, f"{where}.{key}", "required")
        for key, value in entry.items():
            if key != "glob":  # a glob gets the more specific check_file_pattern below
                SOURCE_KEYS[key].check(value, path, f"{where}.{key}")
        name = entry["name"]
        if not NAME.fullmatch(name):
            raise ConfigError(
                path,
                f"{where}.name",
                "expected 1 to 64 letters, digits, _ or - (the name is a folder of the lake), "
                f"found {_found(name)}",
            )
        if name in seen:
            raise ConfigError(path, f"{where}.name", f"duplicate source name {name!r}")
        seen.add(name)
        check_file_pattern(entry["glob"], path, f"{where}.glob")
        fmt = entry["format"]
        if fmt not in options_of:
            raise ConfigError(
                path, f"{where}.format", f"unknown format {fmt!r}; {suggest(fmt, options_of)}"
            )
        if fmt in mapped_tables and ROLE_TABLE[entry["role"]] != (table := mapped_tables[fmt]):
            raise ConfigError(
                path,
                f"{where}.format",
                f"mapped format {fmt!r} fills {table}; a {entry['role']} source "
                f"needs {ROLE_TABLE[entry['role']]}",
            )
        if entry["role"] == "channel" and "channel" not in entry:
            raise ConfigError(
                path, f"{where}.channel", "required for a channel source (the channel code)"
            )
        if entry.get("account_role") == "lender" and "lender_code" not in entry:
            raise ConfigError(
                path, f"{where}.lender_code", "required for a lender account (the lender's code)"
            )
        values = {**SOURCE_DEFAULTS, **entry}
        values["bank_counterparty"] = tuple(values.get("bank_counterparty", ()))
        values["options"] = _options(entry.get("options", {}), options_of[fmt], fmt, path, where)
        sources.append(Source(**values))

    return Config(
        path=path,
        inbox=(base / raw["inbox"]).resolve(),
        data_dir=(base / raw["data_dir"]).resolve(),
        timezone=tz,
        sources=tuple(sources),
        mapped_formats=mapped,
        memory_limit=run["memory_limit"],
        temp_directory=(base / raw["data_dir"] / run["temp_directory"]).resolve(),
        threads=run["threads"],
        rematch_days=run["rematch_days"],
        match_buckets=run["match_buckets"],
        resolutions=(base / raw["resolutions"]).resolve() if "resolutions" in raw else None,
        locale=raw.get("locale", TOP_LEVEL_KEYS["locale"].default),
        schedule=_schedule(raw.get("schedule", {}), path),
    )


def _schedule(raw: dict, path: Path) -> Schedule:
    check_keys(raw, SCHEDULE_KEYS, path, "schedule")
    for key, value in raw.items():
        if key != "alert_money_at_risk":
            SCHEDULE_KEYS[key].check(value, path, f"schedule.{key}")
    cron = raw.get("cron", Schedule.cron)
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ConfigError(
            path,
            "schedule.cron",
            "expected 5 fields: minute hour day-of-month month day-of-week, such as "
            f"'30 10 * * *', found {_found(cron)}",
        )
    deadline = raw.get("deadline", "12:00")
    if not (m := _DEADLINE.fullmatch(deadline)):
        raise ConfigError(
            path, "schedule.deadline", f"expected a local time HH:MM, found {_found(deadline)}"
        )
    threshold = raw.get("alert_money_at_risk")
    if threshold is not None:
        try:
            if isinstance(threshold, bool) or not isinstance(threshold, int | float | str):
                raise InvalidOperation
            threshold = Decimal(str(threshold)).quantize(Decimal("0.01"))  # a TOML float as written
            if not threshold.is_finite() or threshold < 0:
                raise InvalidOperation
        except InvalidOperation:
            raise ConfigError(
                path,
                "schedule.alert_money_at_risk",
                f"expected an amount in yuan such as '100000.00', found {_found(raw['alert_money_at_risk'])}",
            ) from None
    return Schedule(
        cron=cron,
        deadline=dt.time(int(m.group(1)), int(m.group(2))),
        poll_seconds=raw.get("poll_seconds", Schedule.poll_seconds),
        alert_webhook=raw.get("alert_webhook"),
        alert_money_at_risk=threshold,
    )


def _options(options: dict, declared: dict, fmt: str, path: object, where: str) -> dict:
    """A source's `options` checked against what its format declares, defaults filled in."""
    at = f"{where}.options"
    for key in options:
        if key not in declared:
            message = (
                f"unknown option of format {fmt}; {suggest(key, declared)}"
                if declared
                else f"unknown option; format {fmt} takes no options"
            )
            raise ConfigError(path, key_path(at, key), message)
    checked = {key: option.default for key, option in declared.items()}
    for key, value in options.items():
        checked[key] = declared[key].check(value, path, key_path(at, key))
    return checked


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _run_settings(raw: dict, path: Path) -> dict:
    """The engine settings, typed and ranged (RUN_KEYS)."""
    values = {key: raw.get(key, option.default) for key, option in RUN_KEYS.items()}
    for key, option in RUN_KEYS.items():
        option.check(values[key], path, key)
    if not _MEMORY.match(values["memory_limit"].strip()):
        raise ConfigError(
            path,
            "memory_limit",
            f"expected a size such as '1500MB' or '2GB', found {values['memory_limit']!r}",
        )
    return values
