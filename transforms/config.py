"""Load and validate recon.toml. Defaults live here and nowhere else."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.errors import ConfigError

ROLES = ("platform", "channel", "bank")
ACCOUNT_ROLES = ("collection", "lender", "fee")

SOURCE_DEFAULTS = {
    "pending_days": 1,
    "settle_lag_days": 1,
    "settle_window_days": 2,
    "required": True,
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
    bank_counterparty: tuple[str, ...] = ()
    required: bool = True
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Config:
    path: Path
    inbox: Path
    data_dir: Path
    timezone: str
    sources: tuple[Source, ...]
    mapped_formats: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    @property
    def reports(self) -> Path:
        return self.data_dir / "reports"

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
        for key in ("pending_days", "settle_lag_days", "settle_window_days"):
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
    )
