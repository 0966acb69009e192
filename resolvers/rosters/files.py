"""Reading a roster file (CSV or XLSX) row by row, in constant memory, or failing it whole.

Two passes over the bytes, never the whole file in memory:

1. `inspect_file` reads the stream once in 64 KiB chunks: it counts the bytes (over `max_bytes` is
   `TOO_LARGE`, raised as soon as the limit is passed), hashes them (SHA-256, for `DUPLICATE_FILE`),
   tells the format (the extension must be .csv, .txt, .xlsx, .xlsm or none; then XLSX by the zip
   signature `PK\\x03\\x04`, else CSV unless named .xlsx or .xlsm) and, for CSV, decides the encoding over
   the *whole* file: UTF-8 (with or without BOM) if every byte decodes as UTF-8, else GB18030 (a superset
   of GBK) if every byte decodes as that, else `BAD_ENCODING`. A stream that cannot seek is first copied
   to a spooled temporary file (in memory up to 1 MiB, on disk beyond). (A Big5 file decodes as GB18030
   throughout, as other characters: it is refused as `BAD_ENCODING` by its headers, none of them ours.)
2. `read_rows` then parses from the start with the encoding decided, so a file whose first megabytes are
   ASCII and which has GBK bytes further on is read as GB18030 from its first row: no row is ever yielded
   under a guess that a later byte disproves, and every whole-file error is raised before the first row.

An import reads the rows in blocks (`blocks_of`): a CSV file's plain lines (no quote, no lone carriage return,
no field over the limit) as `Lines`, which polars splits column-wise, and from the first line that is not
plain, rows as `csv.reader` reads them; the rows are the same either way.

Rows are numbered as a person sees them: the header is line 1 (a CSV record with a quoted line break
counts as one row, as in a spreadsheet). The header is the first row that is not blank; blank rows are
skipped, keeping the numbering. One whole-file error can only show while parsing: a CSV field over
Python's `csv.field_size_limit()` (131,072 characters) fails the file as `UNKNOWN_FORMAT` where it is met,
so a caller keeps what it read in a transaction it can roll back.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import itertools
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import BinaryIO, Literal, cast

from models.roster import RosterKind, column_of_header, missing_columns

from .errors import RosterErrorCode

CHUNK = 1 << 16
# Characters of a line: the first is read this far to find the delimiter, even in a file without line breaks;
# a later line longer than this refuses the file.
MAX_LINE_CHARS = 1 << 20
SPOOL_IN_MEMORY = 1 << 20
# A roster has some twenty columns; a header of more is refused (a block's cost grows with the columns).
MAX_COLUMNS = 1_024
ZIP_SIGNATURE = b"PK\x03\x04"
CSV_EXTENSIONS = frozenset({".csv", ".txt", ""})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm", ""})


class RosterFileError(Exception):
    """The whole file is refused: one code and one bilingual message; nothing of it is kept."""

    def __init__(self, code: RosterErrorCode, zh: str | None = None, en: str | None = None) -> None:
        self.code, self.zh, self.en = code, zh or code.zh, en or code.en
        super().__init__(f"{self.zh} / {self.en}")


@dataclass(frozen=True)
class RosterFile:
    """A roster's bytes, checked whole: seekable, with its format, encoding, size and hash."""

    data: BinaryIO
    start: int
    format: Literal["csv", "xlsx"]
    encoding: str | None  # "utf-8-sig" or "gb18030" for CSV
    size: int
    sha256: str


def _fits(data: BinaryIO, start: int, encoding: str) -> bool:
    data.seek(start)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := data.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def inspect_file(stream: BinaryIO, filename: str, *, max_bytes: int) -> RosterFile:
    """Read the bytes once: size limit, hash, format and (CSV) encoding; raises `RosterFileError`."""
    extension = PurePath(filename).suffix.lower()
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        raise RosterFileError(RosterErrorCode.UNKNOWN_FORMAT)
    data, start = stream, 0
    if stream.seekable():
        start = stream.tell()
    else:
        data = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY))  # noqa: SIM115 (read_rows closes it)
    try:
        size, digest, head, utf8 = _first_pass(stream, data, max_bytes)
        if size == 0:
            raise RosterFileError(RosterErrorCode.EMPTY_FILE)
        if head.startswith(ZIP_SIGNATURE):
            fmt: Literal["csv", "xlsx"] = "xlsx"
            encoding = None
        elif extension in CSV_EXTENSIONS:
            fmt, encoding = "csv", "utf-8-sig" if utf8 else "gb18030"
            if not utf8 and not _fits(data, start, "gb18030"):
                raise RosterFileError(RosterErrorCode.BAD_ENCODING)
        else:  # named .xlsx, and not a zip: an old .xls renamed, say
            raise RosterFileError(RosterErrorCode.UNKNOWN_FORMAT)
        data.seek(start)
    except BaseException:
        if data is not stream:
            data.close()
        raise
    return RosterFile(data, start, fmt, encoding, size, digest)


def _first_pass(stream: BinaryIO, copy: BinaryIO, max_bytes: int) -> tuple[int, str, bytes, bool]:
    """(size, SHA-256, first 4 bytes, whether all of it is UTF-8), copying into `copy` unless it is `stream`."""
    digest, size, head = hashlib.sha256(), 0, b""
    utf8: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8-sig")()
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise RosterFileError(
                RosterErrorCode.TOO_LARGE,
                f"文件超过大小上限 {max_bytes} 字节",
                f"the file is over the size limit of {max_bytes} bytes",
            )
        digest.update(chunk)
        head = (head + chunk[:4])[:4]
        if copy is not stream:
            copy.write(chunk)
        if utf8 is not None:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8 = None  # GB18030 is tried over the whole file afterwards
    if utf8 is not None:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a character
            utf8 = None
    return size, digest.hexdigest(), head, utf8 is not None


def read_rows(
    stream: BinaryIO, filename: str, *, max_bytes: int, kind: RosterKind | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank data row as (line, {header as in the file: cell}); with `kind`, headers checked.

    Raises `RosterFileError` before the first row for a file refused whole.
    """
    yield from rows_of(inspect_file(stream, filename, max_bytes=max_bytes), kind, stream)


def rows_of(
    file: RosterFile, kind: RosterKind | None, stream: BinaryIO | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a file already inspected (its hash known before any row is read); see `read_rows`."""
    headers, rows = cells_of(file, kind, stream)
    for line, cells in rows:
        yield line, {h: c for h, c in zip(headers, cells, strict=False) if h}


def cells_of(
    file: RosterFile, kind: RosterKind | None, stream: BinaryIO | None = None
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The file's headers (trimmed; "" for a column without one) and its non-blank data rows as (line, cells),
    the cells as read (a row may have fewer or more cells than headers). Raises `RosterFileError` for a
    header row that fails (empty, a column twice, a required column missing) before returning; an empty
    file is refused when the rows run out without one."""
    text = _CsvText(file) if file.format == "csv" else None
    rows = text.records() if text is not None else _xlsx_rows(file)
    try:
        headers = _headers(rows, kind, file.encoding)
    except BaseException:
        _close(rows, file, stream, text)
        raise
    return headers, _data_rows(rows, file, stream, text)


def blocks_of(file: RosterFile, kind: RosterKind | None, size: int) -> tuple[list[str], Generator[Block]]:
    """As `cells_of`, the data rows in blocks of up to `size` rows: a CSV file's plain lines as `Lines` (split
    column-wise by the reader of the block, `rows.RowChecks.frame`), from the first line that holds a quote,
    a lone carriage return or a field over the limit on, rows as `csv.reader` reads them. Blank rows are
    still in a `Lines` block; a file whose data rows are all blank is refused when they run out."""
    text = _CsvText(file) if file.format == "csv" else None
    rows = text.records() if text is not None else _xlsx_rows(file)
    try:
        headers = _headers(rows, kind, file.encoding)
    except BaseException:
        _close(rows, file, stream=None, text=text)
        raise
    return headers, _blocks(rows, file, text, size)


def _headers(rows: Iterator[tuple[int, list[str]]], kind: RosterKind | None, encoding: str | None) -> list[str]:
    for _, cells in rows:
        if not "".join(cells).strip():  # blank: no cell holds anything but white space
            continue
        headers = [_header(c) for c in cells]  # the first row that is not blank
        while not headers[-1]:  # trailing empty columns (a spreadsheet's CSV pads every line to its used range)
            headers.pop()
        _check_headers(headers, kind, encoding)
        return headers
    raise RosterFileError(RosterErrorCode.EMPTY_FILE)


def _data_rows(
    rows: Generator[tuple[int, list[str]]], file: RosterFile, stream: BinaryIO | None, text: _CsvText | None
) -> Generator[tuple[int, list[str]]]:
    try:
        yielded = False
        for line, cells in rows:
            if "".join(cells).strip():
                yielded = True
                yield line, cells
        if not yielded:
            raise RosterFileError(RosterErrorCode.EMPTY_FILE)
    finally:
        _close(rows, file, stream, text)


def _blocks(
    rows: Generator[tuple[int, list[str]]], file: RosterFile, text: _CsvText | None, size: int
) -> Generator[Block]:
    try:
        data = False
        if text is not None:
            for lines in text.plain_lines(size):
                data = data or any(line.replace(lines.delimiter, "").strip() for line in lines.lines)
                yield lines
            rows = text.records()  # the rest, from the first line that is not plain
        while read := list(itertools.islice(rows, size)):
            if block := [(line, cells) for line, cells in read if "".join(cells).strip()]:
                data = True
                yield block
        if not data:
            raise RosterFileError(RosterErrorCode.EMPTY_FILE)
    finally:
        _close(rows, file, None, text)


def _close(
    rows: Generator[tuple[int, list[str]]], file: RosterFile, stream: BinaryIO | None, text: _CsvText | None
) -> None:
    rows.close()  # before the bytes it reads are closed
    if text is not None:
        text.close()
    if file.data is not stream:
        file.data.close()


def read_roster(
    stream: BinaryIO, filename: str, kind: RosterKind, *, max_bytes: int
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a roster of `kind`: a file without one of the kind's required columns fails whole."""
    return read_rows(stream, filename, max_bytes=max_bytes, kind=kind)


def _header(cell: str) -> str:
    return cell.replace("\ufeff", "").strip()


def _read_as_big5(named: list[str], kind: RosterKind) -> str | None:
    """The headers as Big5 would read them (quoted as a refusal quotes them), if none of them is a column of
    `kind` as read and one is once read as Big5; else None."""
    if any(column_of_header(kind, h) is not None for h in named):
        return None
    try:
        big5 = [h.encode("gb18030").decode("big5") for h in named[:HEADERS_QUOTED_CHECKED]]
    except UnicodeError:
        return None
    if all(column_of_header(kind, h) is None for h in big5):
        return None
    return "、".join(h[:HEADER_QUOTED_CHARS] for h in big5[:HEADERS_QUOTED])


# How many of a header row's names a refusal quotes, and how much of each.
HEADERS_QUOTED, HEADER_QUOTED_CHARS, HEADERS_QUOTED_CHECKED = 5, 20, 64


def _check_headers(headers: list[str], kind: RosterKind | None, encoding: str | None) -> None:
    named = [h for h in headers if h]
    if not named:
        raise RosterFileError(RosterErrorCode.EMPTY_FILE)
    if len(headers) > MAX_COLUMNS:
        raise RosterFileError(
            RosterErrorCode.UNKNOWN_FORMAT,
            f"表头有 {len(headers):,} 列，名册至多 {MAX_COLUMNS:,} 列",
            f"the header has {len(headers):,} columns; a roster has at most {MAX_COLUMNS:,}",
        )
    if kind is not None and encoding == "gb18030" and (big5 := _read_as_big5(named, kind)):
        # Every byte of a Big5 file decodes as GB18030 too, into other characters: when none of the headers
        # is ours as read, but one is once they are read as Big5 (姓名 and 出生日期 are the same in both
        # scripts), the file is Big5. Quote both readings, so the person sees the garbling.
        read = "、".join(h[:HEADER_QUOTED_CHARS] for h in named[:HEADERS_QUOTED])
        raise RosterFileError(
            RosterErrorCode.BAD_ENCODING,
            f"文件似为 Big5 编码（表头按 GB18030 读作：{read}；按 Big5 读作：{big5}），请另存为 UTF-8 或 GB18030",
            f"the file looks Big5-encoded (its headers read as GB18030: {read}; as Big5: {big5}): save it as "
            "UTF-8 or GB18030",
        )
    seen: dict[str, str] = {}
    for header in named:
        column = column_of_header(kind, header) if kind is not None else None
        key = column.field if column is not None else header
        if key in seen:
            raise RosterFileError(
                RosterErrorCode.DUPLICATE_COLUMN,
                f"同一列出现两次：{seen[key]}、{header}",
                f"the same column appears twice: {seen[key]}, {header}",
            )
        seen[key] = header
    if kind is not None and (missing := missing_columns(kind, named)):
        names = "、".join(missing)
        raise RosterFileError(
            RosterErrorCode.MISSING_COLUMN, f"缺少必需的列：{names}", f"a required column is missing: {names}"
        )


@dataclass(frozen=True)
class Lines:
    """Lines of a CSV file of which none holds a quote, a lone carriage return or more characters than a field
    may: each line is one row, its cells what lies between the delimiters, as `csv.reader` reads it. `first`
    is the first line's number; the lines keep their line endings, and blank ones are kept (numbered)."""

    first: int
    lines: list[str]
    delimiter: str


Block = Lines | list[tuple[int, list[str]]]


class _CsvText:
    """A CSV file's text: rows as `csv.reader` reads them (`records`), or after the header, lines that need no
    CSV parsing (`plain_lines`), the rows numbered on across both."""

    def __init__(self, file: RosterFile) -> None:
        assert file.encoding is not None
        self.text = io.TextIOWrapper(file.data, encoding=file.encoding, newline="")
        self.line = 0  # the number of the last row read
        first = self.text.readline(MAX_LINE_CHARS)
        try:
            self._check_length(first)  # a header longer than a line may be
        except RosterFileError:
            self.close()
            raise
        self.delimiter = "\t" if "\t" in first and "," not in first else ","
        self.pending = [first]  # lines read and not yet parsed
        self.lines = self._bounded_lines()

    def _bounded_lines(self) -> Generator[str]:
        """The file's lines after the first, each read up to `MAX_LINE_CHARS`: a line of fifty million commas
        took 520 MB to split; a roster's line is well under a kilobyte."""
        for line in iter(functools.partial(self.text.readline, MAX_LINE_CHARS), ""):
            self._check_length(line)
            yield line

    def _check_length(self, line: str) -> None:
        if len(line) == MAX_LINE_CHARS and not line.endswith("\n"):
            zh, en = (
                ("首行", "the first line")
                if not self.line
                else (f"第 {self.line} 行之后有一行", f"a line after row {self.line}")
            )
            raise RosterFileError(
                RosterErrorCode.UNKNOWN_FORMAT,
                f"{zh}超过 {MAX_LINE_CHARS:,} 个字符（含换行符）",
                f"{en} is longer than {MAX_LINE_CHARS:,} characters (with its line ending)",
            )

    def records(self) -> Generator[tuple[int, list[str]]]:
        """The rows from the first line not read yet (the pending ones first), as `csv.reader` reads them."""
        reader = csv.reader(itertools.chain(self.pending, self.lines), delimiter=self.delimiter)
        self.pending = []
        try:
            for cells in reader:
                self.line += 1
                yield self.line, cells
        except csv.Error as error:
            raise RosterFileError(
                RosterErrorCode.UNKNOWN_FORMAT, f"CSV 格式错误：{error}", f"not a well-formed CSV file: {error}"
            ) from None

    def plain_lines(self, size: int) -> Generator[Lines]:
        """Blocks of up to `size` lines for as long as every line of a block is plain (no quote, no carriage
        return but a line ending's, no more characters than `csv.field_size_limit()`); the block that is not
        is left pending, for `records`."""
        limit = csv.field_size_limit()
        while lines := list(itertools.islice(self.lines, size)):
            joined = "".join(lines)
            if '"' in joined or joined.count("\r") != joined.count("\r\n") or max(map(len, lines)) > limit:
                self.pending = lines
                return
            yield Lines(self.line + 1, lines, self.delimiter)
            self.line += len(lines)

    def close(self) -> None:
        self.text.detach()  # the caller owns (and closes) the binary stream


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a cell: 1 rather than 1.0
    return str(value)


def _beyond_the_sheet(zh: str, en: str) -> RosterFileError:
    return RosterFileError(
        RosterErrorCode.UNKNOWN_FORMAT, f"工作表超出名册的范围：{zh}", f"the sheet reaches past a roster's bounds: {en}"
    )


def _xlsx_rows(file: RosterFile) -> Generator[tuple[int, list[str]]]:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    from .xlsx import BROKEN, MAX_ROWS, MAX_WIDE_ROWS, TooLarge, open_workbook, too_large_message

    try:
        book, strings = open_workbook(file.data)
    except TooLarge as exc:
        raise RosterFileError(RosterErrorCode.TOO_LARGE, *too_large_message(exc)) from None
    except BROKEN:
        raise RosterFileError(RosterErrorCode.UNKNOWN_FORMAT) from None
    try:
        if not book.worksheets:
            raise RosterFileError(RosterErrorCode.EMPTY_FILE)
        sheet = book.worksheets[0]
        if isinstance(sheet, ReadOnlyWorksheet):
            sheet.reset_dimensions()  # some writers record a wrong sheet size: read to the real end
        # From column A and row 1, missing rows given as empty ones: the count is the sheet's row number.
        wide = 0
        rows = enumerate(sheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1)
        while True:
            try:
                line, values = next(rows)
            except StopIteration:
                return
            except BROKEN:  # a sheet broken part-way (bad XML, a string it names missing): refused where met
                raise RosterFileError(RosterErrorCode.UNKNOWN_FORMAT) from None
            if line > MAX_ROWS:  # a row numbered past a worksheet's end: the rows before it cost time, not data
                raise _beyond_the_sheet(f"第 {line} 行", f"row {line}")
            if len(values) > MAX_COLUMNS:  # a cell far right, often a formatted empty one: dropped while few
                wide += 1
                if wide > MAX_WIDE_ROWS or any(v not in (None, "") for v in values[MAX_COLUMNS:]):
                    raise _beyond_the_sheet(
                        f"第 {line} 行超过 {MAX_COLUMNS} 列", f"row {line} past column {MAX_COLUMNS}"
                    )
                values = values[:MAX_COLUMNS]
            yield line, [_cell_text(v) for v in values]
    finally:
        book.close()
        if strings is not None:
            strings.close()
