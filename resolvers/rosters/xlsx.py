"""An XLSX roster opened in bounded memory: its parts' sizes checked before reading, its shared strings on disk.

openpyxl's read-only mode streams a sheet's rows, but holds every shared string of the workbook in a list
(about 200 bytes each) and reads every other part whole. An XLSX is a zip of XML, which compresses a
thousandfold when it repeats itself: a 263 KB file whose shared-string table repeats one name five million
times took 990 MB and 36 s to read. So, before openpyxl reads anything:

- the parts' sizes once expanded, as the zip's directory declares them (Python's zipfile yields no more than
  that and fails a part that holds more), must stay within `MAX_EXPANDED_BYTES` in all and, for the parts
  openpyxl reads whole (all but the worksheets and the shared strings), `MAX_WHOLE_PART_BYTES` each, and
  no part over 1 MiB may expand more than `MAX_RATIO`-fold; beyond, the file is refused as `TOO_LARGE`,
  naming the part;
- the shared strings are written, as they are parsed, to a temporary file, with a second file of their
  offsets (`DiskStrings`), and read back by position when a cell names one: memory stays flat whatever the
  table's size (the first `CACHED_STRINGS`, where a roster's repeated values such as 男/女 and codes come
  first, are kept in memory once read).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any, BinaryIO, cast

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook import Workbook
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

# A roster of a million rows expands to about 500 MB (sheet and strings); the upload limit is 200 MB.
MAX_EXPANDED_BYTES = 1 << 30
# The workbook, its relations, styles and theme: a few KB to a few MB in the files offices export.
MAX_WHOLE_PART_BYTES = 32 << 20
# A part may expand at most a hundredfold, parts under 1 MiB aside: Apache POI's default for every Excel file
# it opens (ZipSecureFile's minimum inflate ratio, 0.01). A roster's parts expand five- to twentyfold.
MAX_RATIO, RATIO_GRACE_BYTES = 100, 1 << 20
CACHED_STRINGS = 4096
# A worksheet's last row (Excel's limit). A row reaching past `files.MAX_COLUMNS` is refused if it holds a
# value there, and its empty cells dropped for a few rows only: openpyxl fills a row up to its last cell, so
# one cell at XFD (column 16,384) a row made each row cost a millisecond.
MAX_ROWS, MAX_WIDE_ROWS = 1_048_576, 1_000
# Parts openpyxl's read-only mode never reads (pictures, charts, pivot tables, links): no per-part cap.
UNREAD_PREFIXES = ("xl/media/", "xl/drawings/", "xl/charts/", "xl/pivotcache/", "xl/pivottables/", "xl/externallinks/",
                   "customxml/", "xl/embeddings/")  # fmt: skip
_OFFSET = struct.Struct("<Q")
_SPAN = struct.Struct("<QQ")
_STRING_TAG, _PLAIN_TAG = f"{{{SHEET_MAIN_NS}}}si", f"{{{SHEET_MAIN_NS}}}t"


# What openpyxl and the zip and XML readers under it raise for a file that is not a sound workbook: a
# truncated or corrupt zip, bad XML (ParseError is a SyntaxError), a part or a shared string missing, a
# value that does not parse; a part compressed by a method zipfile lacks (NotImplementedError) or encrypted
# (RuntimeError), as a fuzzing run found.
BROKEN = (
    zipfile.BadZipFile, zlib.error, EOFError, KeyError, IndexError, OSError, SyntaxError, TypeError, ValueError,
    NotImplementedError, RuntimeError,
)  # fmt: skip


class TooLarge(Exception):
    """The package expands beyond a limit: `part` names where, `zh` and `en` the rule."""

    def __init__(self, part: str, zh: str, en: str) -> None:
        super().__init__(part, zh, en)
        self.part, self.zh, self.en = part[:100], zh, en


def check_expansion(data: BinaryIO) -> None:
    """Refuse a package that would expand beyond the limits (raises `TooLarge`); leaves `data` where it was."""
    at = data.tell()
    try:
        with zipfile.ZipFile(data) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if total > MAX_EXPANDED_BYTES:
                    raise TooLarge(info.filename, *_over(MAX_EXPANDED_BYTES))
                if _read_whole(info.filename) and info.file_size > MAX_WHOLE_PART_BYTES:
                    raise TooLarge(info.filename, *_over(MAX_WHOLE_PART_BYTES))
                if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_RATIO * info.compress_size:
                    raise TooLarge(
                        info.filename, f"解压后超过原大小的 {MAX_RATIO} 倍", f"expands more than {MAX_RATIO}-fold"
                    )
    finally:
        data.seek(at)


def _over(limit: int) -> tuple[str, str]:
    return f"解压后超过 {limit >> 20} MB", f"expands to more than {limit >> 20} MB"


def _read_whole(name: str) -> bool:
    """Whether openpyxl's read-only mode reads this part whole: its XML and relations (a worksheet's relations
    too), but not a worksheet's rows or the shared strings, which it streams, nor the parts it never reads."""
    name = name.lower()
    if not name.endswith((".xml", ".rels")) or name.startswith(UNREAD_PREFIXES):
        return False
    streamed = name.startswith("xl/worksheets/") and "/_rels/" not in name
    return not (streamed or name.startswith("xl/sharedstrings"))


def too_large_message(error: TooLarge) -> tuple[str, str]:
    return f"XLSX 文件{error.zh}（{error.part}）", f"the XLSX file {error.en} ({error.part})"


def _text_of(node: Any) -> str:
    """A shared string's text, as openpyxl's own reader reads it (openpyxl/reader/strings.py:
    read_string_table); a plain `<si><t>…</t></si>`, nearly every roster cell, without building its model."""
    if len(node) == 1 and node[0].tag == _PLAIN_TAG and not node.text:
        text = node[0].text or ""
    else:
        model = Text.from_tree(node)
        text = model.content if model is not None else ""
    return text.replace("x005F_", "")


class StorageFailed(Exception):
    """Writing the shared strings to a temporary file failed (a full disk): the server's fault, not the file's,
    so it is not among `BROKEN`."""


def _temporary() -> IO[bytes]:
    try:
        return tempfile.TemporaryFile()
    except OSError as exc:
        raise StorageFailed(str(exc)) from exc


class DiskStrings:
    """A workbook's shared strings, read once from the XML and kept in two temporary files: each string's
    UTF-8 bytes, and the offsets where each begins (one more for where the last ends)."""

    def __init__(self, source: IO[bytes]) -> None:
        self._cache: dict[int, str] = {}
        self.count = 0
        self._text: IO[bytes] = _temporary()
        try:
            self._offsets: IO[bytes] = _temporary()
        except BaseException:
            self._text.close()
            raise
        try:
            self._write(source)
        except OSError as exc:  # the source is a zip member, whose failures are BadZipFile or zlib.error
            self.close()
            raise StorageFailed(str(exc)) from exc
        except BaseException:
            self.close()
            raise

    def _write(self, source: IO[bytes]) -> None:
        root: Any = None
        end = 0
        pending = [_OFFSET.pack(0)]
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node  # <sst>: its finished children are dropped as they are read
            if event != "end" or node.tag != _STRING_TAG:
                continue
            data = _text_of(node).encode()
            root.clear()
            self._text.write(data)
            end += len(data)
            pending.append(_OFFSET.pack(end))
            self.count += 1
            if len(pending) >= 8192:
                self._offsets.write(b"".join(pending))
                pending.clear()
        self._offsets.write(b"".join(pending))
        self._text.flush()
        self._offsets.flush()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> str:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        if not 0 <= index < self.count:
            raise IndexError(index)  # as the list openpyxl keeps would (a cell naming no string)
        start, stop = _SPAN.unpack(os.pread(self._offsets.fileno(), _SPAN.size, index * _OFFSET.size))
        value = os.pread(self._text.fileno(), stop - start, start).decode()
        if index < CACHED_STRINGS:
            self._cache[index] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(self.count))

    def close(self) -> None:
        self._text.close()
        self._offsets.close()


class _Reader(ExcelReader):
    """openpyxl's reader, its shared strings kept on disk."""

    disk_strings: DiskStrings | None = None

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)  # type: ignore[no-untyped-call]
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.disk_strings = DiskStrings(source)
            self.shared_strings = cast("list[str]", self.disk_strings)  # openpyxl only indexes it


def open_workbook(data: BinaryIO) -> tuple[Workbook, DiskStrings | None]:
    """The workbook in read-only mode, values only, and its strings (close both when done). Raises `TooLarge`,
    and what openpyxl and zipfile raise for a file that is not a workbook."""
    check_expansion(data)
    reader = _Reader(data, read_only=True, data_only=True, keep_links=False)
    try:
        reader.read()
    except BaseException:
        if reader.disk_strings is not None:
            reader.disk_strings.close()
        reader.archive.close()
        raise
    return reader.wb, reader.disk_strings
