"""The format interface: a cautious identify() and a normalize() into a canonical table."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from transforms.config import Option, Source


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def yes(reason: str) -> Verdict:
    return Verdict(True, reason)


def no(reason: str) -> Verdict:
    return Verdict(False, reason)


@dataclass(frozen=True)
class ControlCheck:
    """A count or total the file states about itself, against what was read."""

    name: str
    stated: Decimal | int | None
    computed: Decimal | int | None

    @property
    def ok(self) -> bool:
        """Only a stated value that equals the computed one is ok; nothing stated is not ok."""
        return self.stated is not None and self.stated == self.computed


@dataclass
class FileContext:
    path: Path
    source: Source
    con: object  # duckdb connection
    workdir: Path
    timezone: str
    prefix: str  # unique prefix for this file's DuckDB objects
    mapped_formats: dict = field(default_factory=dict)

    def t(self, name: str) -> str:
        return f"{self.prefix}_{name}"


@dataclass
class Normalized:
    """What a format hands back: one DuckDB relation holding every data row of the file.

    `relation` has the canonical columns it knows (others become NULL), plus
    `line_no`, `raw` and `reject_reason` (NULL for rows that normalized).
    """

    table: str
    relation: str
    rows_in: int
    checks: list[ControlCheck] = field(default_factory=list)


class Format:
    name: ClassVar[str]
    table: ClassVar[str]  # canonical table it fills
    description: ClassVar[str] = ""
    # The source `options` the format accepts: name -> Option (type, range, default). The
    # config refuses any other option; a format that declares none takes none.
    OPTIONS: ClassVar[dict[str, Option]] = {}

    def identify(self, path: Path, head: bytes) -> Verdict:
        raise NotImplementedError

    def normalize(self, ctx: FileContext) -> Normalized:
        raise NotImplementedError


# Names that say nothing about the content: a file delivered as `.dat`, `.txt`, without an
# extension or with a date as extension (`stmt.20261101`) is judged by its content alone.
GENERIC_SUFFIXES = ("", ".dat", ".txt", ".data", ".tmp", ".out", ".bak", ".download")


def generic_name(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in GENERIC_SUFFIXES or suffix[1:].isdigit()


def name_allows(path: Path, suffixes: tuple[str, ...]) -> bool:
    """The file name is one of the format's own (`suffixes`) or says nothing (generic_name)."""
    return path.suffix.lower() in suffixes or generic_name(path)
