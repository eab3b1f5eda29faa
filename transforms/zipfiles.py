"""Zipped statement files: find the one `.csv` entry, learn its real name, extract it.

Chinese channels (Alipay bill downloads) write entry names in GBK without the
zip UTF-8 flag (bit 0x800); Python's zipfile then decodes them as cp437. The
real name is recovered by re-encoding as cp437 and decoding as GB18030.

Entries named like `...(汇总).csv` / `...（汇总）.csv` are the summary file that
Alipay puts beside the detail file in the same download; they are not counted
as candidate csv entries (see `csv_entries`).

A damaged archive (not a zip, cut short, a stream that does not inflate, an
unsupported method) is an InputFileError naming the entry, never a traceback; an
entry is not extracted past 4 GiB, nor read into memory past 256 MiB (a zip bomb).
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from pathlib import Path

from transforms.errors import InputFileError

UTF8_FLAG = 0x800
SUMMARY_MARKERS = ("(汇总)", "（汇总）")
# What zipfile raises on a damaged archive, besides BadZipFile: a stream that does not inflate
# (zlib.error, lzma.LZMAError, EOFError), an unsupported version or method (NotImplementedError),
# an entry name that does not decode (UnicodeDecodeError), an encrypted entry (RuntimeError),
# a header with impossible values (ValueError, struct.error, OverflowError).
DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    UnicodeDecodeError,
    RuntimeError,
    ValueError,
    struct.error,
    OverflowError,
    OSError,
)
MAX_EXTRACT_BYTES = 4 << 30  # an entry extracted to disk (a channel bill)
MAX_READ_BYTES = 256 << 20  # an entry read into memory (a statement parsed as a whole)


def real_name(info: zipfile.ZipInfo) -> str:
    """The entry name as written: GBK names without the UTF-8 flag are decoded as GBK."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def is_zip_name(path: Path) -> bool:
    return path.name.lower().endswith(".zip")


def _entries(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    return [(i, real_name(i)) for i in zf.infolist() if not i.is_dir()]


def csv_entries(entries: list[tuple[zipfile.ZipInfo, str]]) -> list[tuple[zipfile.ZipInfo, str]]:
    """The `.csv` entries, minus Alipay's `(汇总)` summary csv."""
    return [
        (i, n)
        for i, n in entries
        if n.lower().endswith(".csv") and not any(m in n for m in SUMMARY_MARKERS)
    ]


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except DAMAGED as exc:
        raise InputFileError(path, None, f"expected a zip archive; cannot open it: {exc}") from exc


def describe(exc: BaseException) -> str:
    """`BadZipFile: ...`, `zlib.error: ...`: the error named so a person can look it up."""
    kind = type(exc)
    module = "" if kind.__module__ in ("builtins", "zipfile") else f"{kind.__module__}."
    return f"{module}{kind.__name__}: {exc}"


def zip_problem(path: Path) -> str | None:
    """Why `path` is not a zip archive whose directory can be read, or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            _entries(zf)
    except DAMAGED as exc:
        return f"not a readable zip archive ({describe(exc)})"
    return None


def _check_size(path: Path, info: zipfile.ZipInfo, name: str, limit: int) -> None:
    if info.file_size > limit:
        raise InputFileError(
            path,
            None,
            f"zip entry {name} is {info.file_size:,} bytes uncompressed; expected at most "
            f"{limit:,} (a zip bomb, or a file to split)",
        )


def single_csv(zf: zipfile.ZipFile, path: Path) -> tuple[zipfile.ZipInfo, str]:
    """The one csv entry of `zf` and its real name; InputFileError listing the entries otherwise."""
    entries = _entries(zf)
    found = csv_entries(entries)
    if len(found) != 1:
        listed = ", ".join(n for _, n in entries) or "none"
        what = "no .csv entry" if not found else f"{len(found)} .csv entries"
        raise InputFileError(
            path,
            None,
            f"expected a zip holding exactly one .csv file; found {what} (entries: {listed})",
        )
    return found[0]


def peek_csv(path: Path, size: int) -> tuple[str, bytes]:
    """(real name, first `size` bytes) of the single csv entry; InputFileError if there is none."""
    with _open(path) as zf:
        info, name = single_csv(zf, path)
        try:
            with zf.open(info) as f:
                return name, f.read(size)
        except DAMAGED as exc:
            raise InputFileError(path, None, f"cannot read zip entry {name}: {exc}") from exc


def peek_csvs(path: Path, size: int) -> list[tuple[str, bytes, str | None]]:
    """(real name, first bytes, why they cannot be read or None) of every csv entry (for
    identification); [] if not a readable zip."""
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info, name in csv_entries(_entries(zf)):
                try:
                    with zf.open(info) as f:
                        out.append((name, f.read(size), None))
                except DAMAGED as exc:
                    out.append((name, b"", describe(exc)))
    except DAMAGED:
        return []
    return out


def list_names(path: Path) -> list[str]:
    """Every file entry's real name; [] if `path` is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for _, n in _entries(zf)]
    except DAMAGED:
        return []


def extract_single_csv(path: Path, target: Path) -> str:
    """Stream the single csv entry of zip `path` to `target`; returns the entry's real name."""
    with _open(path) as zf:
        info, name = single_csv(zf, path)
        _check_size(path, info, name, MAX_EXTRACT_BYTES)
        with open(target, "wb") as out, _reading(path, name, zf.open, info) as src:
            while chunk := _reading(path, name, src.read, 1 << 20):
                out.write(chunk)  # an error writing is the staging disk's, not the archive's
    return name


def _reading(path: Path, name: str, read, *args):
    """`read(*args)` on a zip entry; a damaged archive is an InputFileError naming the entry."""
    try:
        return read(*args)
    except DAMAGED as exc:
        raise InputFileError(path, None, f"cannot extract zip entry {name}: {exc}") from exc


class _GbkNameInfo(zipfile.ZipInfo):
    def _encodeFilenameFlags(self):  # raw GBK name bytes, no UTF-8 flag: as Alipay writes them
        return self.filename.encode("cp437"), self.flag_bits & ~UTF8_FLAG


def write_gbk_zip(path: Path, entries: dict[str, bytes]) -> Path:
    """Write a zip whose entry names are GBK bytes without the UTF-8 flag (tests, generator)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = _GbkNameInfo(
                name.encode("gb18030").decode("cp437"), date_time=(2026, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def is_zip(path: Path, head: bytes | None = None) -> bool:
    """A zip by name, or by its first bytes (a zip delivered without the extension)."""
    if is_zip_name(path):
        return True
    if head is None:
        with open(path, "rb") as f:
            head = f.read(4)
    return head[:4] == b"PK\x03\x04"


def entries_named(path: Path, suffix: str) -> list[str]:
    """Real names of the file entries ending in `suffix` (case-insensitive), in archive order."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for _, n in _entries(zf) if n.lower().endswith(suffix)]
    except DAMAGED:
        return []


def read_entries(path: Path, suffix: str, limit: int | None = None) -> list[tuple[str, bytes]]:
    """(real name, bytes, or the first `limit` bytes) of every entry ending in `suffix`."""
    out = []
    with _open(path) as zf:
        for info, name in _entries(zf):
            if not name.lower().endswith(suffix):
                continue
            if not limit:
                _check_size(path, info, name, MAX_READ_BYTES)
            try:
                with zf.open(info) as f:
                    out.append((name, f.read(limit) if limit else f.read()))
            except DAMAGED as exc:
                raise InputFileError(path, None, f"cannot read zip entry {name}: {exc}") from exc
    return out
