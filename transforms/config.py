"""Load and validate recon.toml. Defaults live here and nowhere else."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.errors import ConfigError

ROLES = ("platform", "channel", "bank")
ACCOUNT_ROLES = ("collection", "lender", "fee")

# Engine and run-model settings (top-level keys of recon.toml).
RUN_DEFAULTS = {
    "memory_limit": "1GB",  # DuckDB memory_limit per connection; spills to temp_directory beyond it
    "temp_directory": "tmp",  # relative to data_dir
    "threads": 2,
    "rematch_days": 2,  # new rows of this many recent days are checked against settled items
}

TOP_LEVEL_KEYS = {
    "inbox",
    "data_dir",
    "timezone",
    "formats",
    "sources",
    "resolutions",  # folder where filled workbooks / CSVs of decisions are dropped
    "locale",  # language of the workbook: zh (default) or en
    *RUN_DEFAULTS,
}
LOCALES = ("zh", "en")

SOURCE_DEFAULTS = {
    "pending_days": 1,
    "settle_lag_days": 1,
    "settle_window_days": 2,
    "required": True,
    "distribution_lag_days": 0,  # lender/fee accounts: value date of 清分 after the credit arrives
    "distribution_window_days": 2,  # ... and how many days later it may still arrive
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

    @property
    def recipient(self) -> str | None:
        """The 清分 recipient a lender or fee account stands for: its lender code, FEE by default
        for the fee account; None for other sources."""
        if self.role != "bank" or self.account_role == "collection":
            return None
        return self.lender_code or ("FEE" if self.account_role == "fee" else None)


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
    resolutions: Path | None = None
    locale: str = "zh"

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


_SOURCE_KEYS = {
    "name": str,
    "role": str,
    "format": str,
    "glob": str,
    "channel": str,
    "account_no": str,
    "account_role": str,
    "lender_code": str,
    "pending_days": int,
    "settle_lag_days": int,
    "settle_window_days": int,
    "distribution_lag_days": int,
    "distribution_window_days": int,
    "bank_counterparty": list,
    "required": bool,
    "options": dict,
}


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", f"not valid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict, path: Path) -> Config:
    from transforms.sources import format_names  # late: the registry imports config types

    base = path.parent
    for key in ("inbox", "data_dir"):
        if not isinstance(raw.get(key), str):
            raise ConfigError(path, key, "required; expected a folder path (string)")
    tz = raw.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, "timezone", f"unknown time zone {tz!r}") from None

    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(path, key, f"unknown key; expected one of {sorted(TOP_LEVEL_KEYS)}")
    if not isinstance(raw.get("resolutions", ""), str):
        raise ConfigError(path, "resolutions", "expected a folder path (string)")
    if raw.get("locale", "zh") not in LOCALES:
        raise ConfigError(path, "locale", f"expected one of {LOCALES}, found {raw['locale']!r}")
    run = _run_settings(raw, path)

    mapped = raw.get("formats", {})
    if not isinstance(mapped, dict):
        raise ConfigError(path, "formats", "expected a table of mapped formats")
    from transforms.lake import ROLE_TABLE
    from transforms.sources.mapped import validate_mapped

    mapped_tables = {name: validate_mapped(name, spec, path).table for name, spec in mapped.items()}
    known_formats = set(format_names()) | set(mapped)

    entries = raw.get("sources")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, "sources", "required; expected at least one [[sources]] table")
    sources, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"sources[{i}]"
        for key, value in entry.items():
            if key not in _SOURCE_KEYS:
                raise ConfigError(
                    path, f"{where}.{key}", f"unknown key; expected one of {sorted(_SOURCE_KEYS)}"
                )
            want = _SOURCE_KEYS[key]
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise ConfigError(
                    path, f"{where}.{key}", f"expected {want.__name__}, found {value!r}"
                )
        for key in ("name", "role", "format", "glob"):
            if key not in entry:
                raise ConfigError(path, f"{where}.{key}", "required")
        name = entry["name"]
        if name in seen:
            raise ConfigError(path, f"{where}.name", f"duplicate source name {name!r}")
        seen.add(name)
        if entry["role"] not in ROLES:
            raise ConfigError(
                path, f"{where}.role", f"expected one of {ROLES}, found {entry['role']!r}"
            )
        if entry["format"] not in known_formats:
            raise ConfigError(
                path,
                f"{where}.format",
                f"unknown format {entry['format']!r}; expected one of {sorted(known_formats)}",
            )
        if entry["format"] in mapped_tables and ROLE_TABLE[entry["role"]] != (
            table := mapped_tables[entry["format"]]
        ):
            raise ConfigError(
                path,
                f"{where}.format",
                f"mapped format {entry['format']!r} fills {table}; a {entry['role']} source "
                f"needs {ROLE_TABLE[entry['role']]}",
            )
        if entry["role"] == "channel" and not entry.get("channel"):
            raise ConfigError(
                path, f"{where}.channel", "required for a channel source (the channel code)"
            )
        if entry.get("account_role", "collection") not in ACCOUNT_ROLES:
            raise ConfigError(
                path,
                f"{where}.account_role",
                f"expected one of {ACCOUNT_ROLES}, found {entry['account_role']!r}",
            )
        if entry.get("account_role") == "lender" and not entry.get("lender_code"):
            raise ConfigError(
                path, f"{where}.lender_code", "required for a lender account (the lender's code)"
            )
        for key in (
            "pending_days",
            "settle_lag_days",
            "settle_window_days",
            "distribution_lag_days",
            "distribution_window_days",
        ):
            if entry.get(key, 0) < 0:
                raise ConfigError(path, f"{where}.{key}", "must be 0 or more")
        values = {**SOURCE_DEFAULTS, **entry}
        values["bank_counterparty"] = tuple(values.get("bank_counterparty", ()))
        values.setdefault("options", {})
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
        resolutions=(base / raw["resolutions"]).resolve() if "resolutions" in raw else None,
        locale=raw.get("locale", "zh"),
    )


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _run_settings(raw: dict, path: Path) -> dict:
    values = {**RUN_DEFAULTS}
    for key, default in RUN_DEFAULTS.items():
        if key not in raw:
            continue
        value = raw[key]
        if not isinstance(value, type(default)) or isinstance(value, bool):
            raise ConfigError(path, key, f"expected {type(default).__name__}, found {value!r}")
        values[key] = value
    if not _MEMORY.match(values["memory_limit"].strip()):
        raise ConfigError(
            path,
            "memory_limit",
            f"expected a size such as '1500MB' or '2GB', found {values['memory_limit']!r}",
        )
    if not 1 <= values["threads"] <= 256:
        raise ConfigError(path, "threads", f"expected 1 to 256, found {values['threads']}")
    if not 0 <= values["rematch_days"] <= 60:
        raise ConfigError(path, "rematch_days", f"expected 0 to 60, found {values['rematch_days']}")
    return values
