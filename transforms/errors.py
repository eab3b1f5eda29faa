"""One error hierarchy; each message says where, what was expected and what was found."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


class ReconError(Exception):
    """Base of every error the pipeline reports to a person. Exit code 2."""

    exit_code = 2


class ConfigError(ReconError):
    def __init__(self, path: object, key: str, message: str):
        super().__init__(f"{path}: {key}: {message}")
        self.path, self.key = path, key


class InputFileError(ReconError):
    """A required input cannot be read at all (as opposed to rejected rows)."""

    def __init__(self, path: object, line: int | None, message: str):
        where = f"{path}, line {line}" if line else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


class UnrecognizedFormat(ReconError):
    def __init__(self, path: object, reasons: list[tuple[str, str]]):
        tried = "\n".join(f"  - {name}: {why}" for name, why in reasons)
        super().__init__(f"{path}: unrecognized format; formats tried:\n{tried}")
        self.path, self.reasons = path, reasons


class UsageError(ReconError):
    """A command asked for something impossible (e.g. a range that ends before it starts)."""


class OperatingError(ReconError):
    """The machine, not the input: a full disk, a read-only or forbidden folder. Exit 2: the
    operator's to fix, and nothing half-written is visible (a date is published whole or not
    at all; the store and ledger are replaced by rename)."""


_NO_SPACE = {errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded"}
_CANNOT_WRITE = {
    errno.EROFS: ("Read-only file system", "read-only file system"),
    errno.EACCES: ("Permission denied", "permission denied"),
    errno.EPERM: ("Operation not permitted", "permission denied"),
}
_STRERRORS = {**_NO_SPACE, **{c: s for c, (s, _) in _CANNOT_WRITE.items()}}  # as messages say
_QUOTED_PATH = re.compile(r"""["']((?:/|[A-Za-z]:\\)[^"']+)["']""")


def operating_error(exc: BaseException, where: object = None) -> OperatingError | None:
    """An OperatingError for a full disk, a read-only file system or a denied write, whoever
    raised it: an OSError with that errno, DuckDB's IOException or xlsxwriter's FileCreateError
    carrying it (in its message or the error it wraps); None for anything else. The message names
    the folder (the failing file's, else `where`)."""
    for found in _chain(exc):
        code = getattr(found, "errno", None) if isinstance(found, OSError) else None
        text = str(found)
        if code not in _NO_SPACE and code not in _CANNOT_WRITE:
            code = next((c for c, s in _STRERRORS.items() if s.lower() in text.lower()), None)
        if code is None:
            continue
        path = getattr(found, "filename", None) if isinstance(found, OSError) else None
        if not path and (m := _QUOTED_PATH.search(text)):
            path = m.group(1)
        folder = _folder(path) if path else where or "the data_dir"
        if code in _NO_SPACE:
            return OperatingError(
                f"no space left on device writing {folder}; nothing half-written is visible: "
                "free some space and run again"
            )
        return OperatingError(
            f"cannot write {folder}: {_CANNOT_WRITE[code][1]}; nothing half-written is visible"
        )
    return None


def _chain(exc: BaseException):
    """The error, what it wraps (args, __cause__, __context__), breadth first, each once."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [a for a in e.args if isinstance(a, BaseException)]
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]


def _folder(path: object) -> str:
    p = Path(os.fsdecode(path)) if isinstance(path, str | bytes | os.PathLike) else Path(str(path))
    return str(p if p.is_dir() else p.parent)
