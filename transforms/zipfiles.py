"""Zipped statement files: find the one `.csv` entry, learn its real name, extract it.

Chinese channels (Alipay bill downloads) write entry names in GBK without the
zip UTF-8 flag (bit 0x800); Python's zipfile then decodes them as cp437. The
real name is recovered by re-encoding as cp437 and decoding as GB18030.

Entries named like `...(汇总).csv` / `...（汇总）.csv` are the summary file that
Alipay puts beside the detail file in the same download; they are not counted
as candidate csv entries (see `csv_entries`).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from transforms.errors import InputFileError

UTF8_FLAG = 0x800
SUMMARY_MARKERS = ("(汇总)", "（汇总）")


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
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(path, None, f"expected a zip archive; cannot open it: {exc}") from exc


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
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            raise InputFileError(path, None, f"cannot read zip entry {name}: {exc}") from exc


def peek_csvs(path: Path, size: int) -> list[tuple[str, bytes]]:
    """(real name, first bytes) of every csv entry (for identification); [] if not a readable zip."""
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info, name in csv_entries(_entries(zf)):
                try:
                    with zf.open(info) as f:
                        out.append((name, f.read(size)))
                except (zipfile.BadZipFile, RuntimeError, OSError, EOFError):
                    out.append((name, b""))
    except (zipfile.BadZipFile, OSError):
        return []
    return out


def list_names(path: Path) -> list[str]:
    """Every file entry's real name; [] if `path` is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for _, n in _entries(zf)]
    except (zipfile.BadZipFile, OSError):
        return []


def extract_single_csv(path: Path, target: Path) -> str:
    """Stream the single csv entry of zip `path` to `target`; returns the entry's real name."""
    with _open(path) as zf:
        info, name = single_csv(zf, path)
        try:
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            raise InputFileError(path, None, f"cannot extract zip entry {name}: {exc}") from exc
    return name


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
    except (zipfile.BadZipFile, OSError):
        return []


def read_entries(path: Path, suffix: str, limit: int | None = None) -> list[tuple[str, bytes]]:
    """(real name, bytes, or the first `limit` bytes) of every entry ending in `suffix`."""
    out = []
    with _open(path) as zf:
        for info, name in _entries(zf):
            if not name.lower().endswith(suffix):
                continue
            try:
                with zf.open(info) as f:
                    out.append((name, f.read(limit) if limit else f.read()))
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
                raise InputFileError(path, None, f"cannot read zip entry {name}: {exc}") from exc
    return out
