"""One error hierarchy; each message says where, what was expected and what was found."""

from __future__ import annotations


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
