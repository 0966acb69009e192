"""Reading roster files (resolvers/rosters/files.py): the same roster in every encoding and format gives the
same records, and a file refused whole says why in one message, before any row.

The rows read are checked in the database as an import checks them (`checked_rows`, the demo geography);
the importer holds 武定县 532329.
"""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models.roster import RosterKind, RosterRecord
from resolvers.rosters.files import Lines, RosterFileError, blocks_of, cells_of, inspect_file, read_roster, read_rows
from resolvers.rosters.rows import RowChecks
from tests.roster_support import (
    BIG5_HOUSEHOLD,
    BOY,
    GIRL,
    HOUSEHOLD,
    SHISHAN_VILLAGE,
    checked_rows,
    csv_bytes,
    shared_strings_xlsx,
    xlsx_bytes,
)

LIMIT = 10 << 20


async def records(
    session: AsyncSession, data: bytes, filename: str, kind: RosterKind = RosterKind.HOUSEHOLD
) -> list[RosterRecord]:
    rows = list(read_roster(io.BytesIO(data), filename, kind, max_bytes=LIMIT))
    out = []
    for result in await checked_rows(session, kind, rows):
        assert isinstance(result, RosterRecord), result
        out.append(result)
    return out


def refusal(data: bytes, filename: str = "roster.csv", *, max_bytes: int = LIMIT) -> RosterFileError:
    with pytest.raises(RosterFileError) as caught:
        list(read_roster(io.BytesIO(data), filename, RosterKind.HOUSEHOLD, max_bytes=max_bytes))
    return caught.value


def facts(found: list[RosterRecord]) -> list[tuple[object, ...]]:
    return [(r.line, r.name, r.gender, r.birth_date, r.national_id, r.household_region_code) for r in found]


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (csv_bytes(HOUSEHOLD, "utf-8"), "532329-household.csv"),
        (csv_bytes(HOUSEHOLD, "utf-8-sig"), "532329-household.csv"),
        (csv_bytes(HOUSEHOLD, "gb18030"), "532329-household.csv"),
        (csv_bytes(HOUSEHOLD, "gbk"), "532329-household.txt"),
        (xlsx_bytes(HOUSEHOLD), "532329-household.xlsx"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "gbk", "xlsx"],
)
async def test_every_encoding_and_format_gives_the_same_records(
    session: AsyncSession, data: bytes, filename: str
) -> None:
    assert facts(await records(session, data, filename)) == facts(
        await records(session, csv_bytes(HOUSEHOLD), "roster.csv")
    )
    assert [r.name for r in await records(session, data, filename)] == ["张小军", "李美玲"]


def test_the_encoding_is_decided_on_the_whole_file() -> None:
    assert inspect_file(io.BytesIO(csv_bytes(HOUSEHOLD, "utf-8-sig")), "a.csv", max_bytes=LIMIT).encoding == "utf-8-sig"
    assert inspect_file(io.BytesIO(csv_bytes(HOUSEHOLD, "gb18030")), "a.csv", max_bytes=LIMIT).encoding == "gb18030"


def test_a_file_ascii_for_its_first_megabytes_and_gbk_later_is_read_as_gbk_from_the_start() -> None:
    header = ["name", "id", "code"]  # an ASCII header, so nothing before the last row tells UTF-8 from GBK
    rows = [header, *[["Zhang San", BOY, SHISHAN_VILLAGE]] * 60_000, ["李美玲", GIRL, SHISHAN_VILLAGE]]
    data = csv_bytes(rows, "gbk")
    assert data[:-64].isascii()
    assert len(data) > 2 << 20
    assert inspect_file(io.BytesIO(data), "mixed.csv", max_bytes=LIMIT).encoding == "gb18030"
    read = list(read_rows(io.BytesIO(data), "mixed.csv", max_bytes=LIMIT))
    assert len(read) == 60_001
    assert read[-1] == (60_002, {"name": "李美玲", "id": GIRL, "code": SHISHAN_VILLAGE})


class Unseekable(io.RawIOBase):
    """An upload that can only be read forwards (a socket): the reader spools it."""

    def __init__(self, data: bytes) -> None:
        self.source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.source.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("data", [csv_bytes(HOUSEHOLD, "gb18030"), xlsx_bytes(HOUSEHOLD)], ids=["csv", "xlsx"])
def test_a_stream_that_cannot_seek_is_read_the_same(data: bytes) -> None:
    filename = "r.xlsx" if data.startswith(b"PK") else "r.csv"
    stream: BinaryIO = io.BufferedReader(Unseekable(data))
    assert [line for line, _ in read_rows(stream, filename, max_bytes=LIMIT)] == [2, 3]


async def test_header_aliases_and_spaces_name_the_same_columns(session: AsyncSession) -> None:
    rows = [["\ufeff 姓名 ", "性别", "身份证号码", "出生年月日", "户籍区划代码"], *(r[:5] for r in HOUSEHOLD[1:])]
    assert facts(await records(session, csv_bytes(rows), "r.csv")) == facts(
        await records(session, csv_bytes(HOUSEHOLD), "r.csv")
    )


async def test_excel_date_cells_and_numeric_cells_are_read_as_text(session: AsyncSession) -> None:
    rows = [HOUSEHOLD[0], ["张小军", "男", BOY, date(2016, 4, 6), int(SHISHAN_VILLAGE), ""]]
    (record,) = await records(session, xlsx_bytes(rows), "r.xlsx")
    assert (record.birth_date.isoformat(), record.household_region_code) == ("2016-04-06", SHISHAN_VILLAGE)


async def test_blank_rows_are_skipped_and_lines_keep_counting(session: AsyncSession) -> None:
    rows = [HOUSEHOLD[0], HOUSEHOLD[1], ["", "", "", "", "", ""], HOUSEHOLD[2]]
    assert [r.line for r in await records(session, csv_bytes(rows), "r.csv")] == [2, 4]
    assert [r.line for r in await records(session, xlsx_bytes(rows), "r.xlsx")] == [2, 4]


async def test_rows_missing_from_a_sheet_keep_the_sheets_row_numbers(session: AsyncSession) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row, values in ((1, HOUSEHOLD[0]), (2, HOUSEHOLD[1]), (6, HOUSEHOLD[2])):
        for column, value in enumerate(values, start=1):
            if value:
                sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    assert [r.line for r in await records(session, out.getvalue(), "r.xlsx")] == [2, 6]


async def test_the_header_is_the_first_row_that_is_not_blank(session: AsyncSession) -> None:
    rows = [[], ["", ""], *HOUSEHOLD]
    assert [r.line for r in await records(session, csv_bytes(rows), "r.csv")] == [4, 5]
    assert [r.line for r in await records(session, xlsx_bytes(rows), "r.xlsx")] == [4, 5]


async def test_a_tab_separated_export_is_read(session: AsyncSession) -> None:
    data = "\n".join("\t".join(row) for row in HOUSEHOLD).encode("gb18030")
    assert facts(await records(session, data, "r.txt")) == facts(await records(session, csv_bytes(HOUSEHOLD), "r.csv"))


MISSING = '<row r="9"><c r="A9" t="s"><v>999</v></c></row>'


def patched(data: bytes, member: str, *, method: int | None = None, flag: int | None = None) -> bytes:
    """A zip with one member's compression method or flag bits set in its local and central headers, as a
    fuzzing run made them: a method zipfile lacks (1, shrink), encrypted (flag bit 0)."""
    out, name = bytearray(data), member.encode()
    for signature, method_at, flag_at, name_at in ((b"PK\x03\x04", 8, 6, 30), (b"PK\x01\x02", 10, 8, 46)):
        at = out.find(signature)
        while at >= 0:
            if out[at + name_at : at + name_at + len(name)] == name:
                if method is not None:
                    out[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
                if flag is not None:
                    out[at + flag_at] |= flag
            at = out.find(signature, at + 4)
    return bytes(out)


PAST_THE_LAST_ROW = '<row r="1048577"><c r="A1048577" t="s"><v>0</v></c></row>'
PAST_COLUMN_1024 = '<row r="9"><c r="AMK9" t="s"><v>0</v></c></row>'  # AMK: column 1,025

WHOLE_FILE_CASES = [
    ("empty", b"", "r.csv", "EMPTY_FILE", ""),
    ("header only", csv_bytes(HOUSEHOLD[:1]), "r.csv", "EMPTY_FILE", ""),
    ("header and blank rows", csv_bytes([HOUSEHOLD[0], ["", ""], []]), "r.csv", "EMPTY_FILE", ""),
    ("xlsx header only", xlsx_bytes(HOUSEHOLD[:1]), "r.xlsx", "EMPTY_FILE", ""),
    ("utf-16", "\ufeff姓名,身份证号\n张三,1\n".encode("utf-16-le"), "r.csv", "BAD_ENCODING", ""),
    (
        "no id column",
        csv_bytes([["姓名", "户籍地区划代码"], ["张三", SHISHAN_VILLAGE]]),
        "r.csv",
        "MISSING_COLUMN",
        "公民身份号码",
    ),
    ("no place", csv_bytes([["姓名", "身份证号"], ["张三", BOY]]), "r.csv", "MISSING_COLUMN", "现住址区划代码"),
    (
        "alias twice",
        csv_bytes([[*HOUSEHOLD[0], "身份证号"], [*HOUSEHOLD[1], BOY]]),
        "r.csv",
        "DUPLICATE_COLUMN",
        "身份证号",
    ),
    # A Big5 file (Taiwan, Hong Kong, some older tools) decodes as GB18030 into other characters: refused for
    # its encoding, quoting its first header as read, not for columns it seems to lack.
    ("big5", BIG5_HOUSEHOLD, "r.csv", "BAD_ENCODING", "姓名".encode("big5").decode("gb18030")),
    # A GBK file with a title row above its headers, or English headers: no header of ours, yet not Big5.
    (
        "gbk, a title row first",
        csv_bytes([["武定县2026年户籍人口名册"], *HOUSEHOLD], "gbk"),
        "r.csv",
        "MISSING_COLUMN",
        "公民身份号码",
    ),
    ("gbk, english headers", csv_bytes([["name", "id"], ["张三", "1"]], "gbk"), "r.csv", "MISSING_COLUMN", "姓名"),
    # A header line longer than a line may be (1,048,576 characters): refused, not cut into a header and a row.
    ("csv header too long", ("姓名," * 400_000 + "\n张三\n").encode(), "r.csv", "UNKNOWN_FORMAT", "1,048,576"),
    # No header of ours in a UTF-8 file is a file of another kind, not of another encoding.
    ("utf-8, no header of ours", csv_bytes([["甲", "乙"], ["1", "2"]]), "r.csv", "MISSING_COLUMN", "公民身份号码"),
    # One header of ours read as GB18030: the encoding is right; the file lacks columns.
    (
        "gbk, one header of ours",
        csv_bytes([["姓名", "乙"], ["张三", "2"]], "gbk"),
        "r.csv",
        "MISSING_COLUMN",
        "公民身份号码",
    ),
    # A line of a million commas (a roster's line is well under a kilobyte): refused before it is split.
    ("csv line too long", csv_bytes(HOUSEHOLD) + b"," * (1 << 20) + b"\n", "r.csv", "UNKNOWN_FORMAT", "1,048,576"),
    # A header of more columns than a roster has (splitting 10,000 took 22 s a block before the bound).
    (
        "csv header too wide",
        csv_bytes([HOUSEHOLD[0] + [f"备注{i}" for i in range(1020)]]),
        "r.csv",
        "UNKNOWN_FORMAT",
        "1,026",
    ),
    # Parts zipfile cannot read: a compression method it lacks, encryption (found by a fuzzing run).
    (
        "xlsx method 1",
        patched(shared_strings_xlsx(HOUSEHOLD), "xl/workbook.xml", method=1),
        "r.xlsx",
        "UNKNOWN_FORMAT",
        "",
    ),
    (
        "xlsx sheet encrypted",
        patched(shared_strings_xlsx(HOUSEHOLD), "xl/worksheets/sheet1.xml", flag=1),
        "r.xlsx",
        "UNKNOWN_FORMAT",
        "",
    ),
    ("pdf", b"%PDF-1.4\n", "r.pdf", "UNKNOWN_FORMAT", ""),
    ("old excel", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "r.xls", "UNKNOWN_FORMAT", ""),
    ("old excel renamed", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "r.xlsx", "UNKNOWN_FORMAT", ""),
    ("broken xlsx", b"PK\x03\x04" + bytes(100), "r.xlsx", "UNKNOWN_FORMAT", ""),
    # Broken after its first rows: a cell naming a shared string the table lacks, XML cut short.
    (
        "xlsx missing a string",
        shared_strings_xlsx(HOUSEHOLD, sheet_tail=MISSING),
        "r.xlsx",
        "UNKNOWN_FORMAT",
        "",
    ),
    # Past a worksheet's last row, or a value past column 1,024: refused, naming the row.
    (
        "xlsx row past the sheet",
        shared_strings_xlsx(HOUSEHOLD, sheet_tail=PAST_THE_LAST_ROW),
        "r.xlsx",
        "UNKNOWN_FORMAT",
        "1048577",
    ),
    (
        "xlsx value far right",
        shared_strings_xlsx(HOUSEHOLD, sheet_tail=PAST_COLUMN_1024),
        "r.xlsx",
        "UNKNOWN_FORMAT",
        "9",
    ),
    ("xlsx cut short", shared_strings_xlsx(HOUSEHOLD, sheet_tail='<row r="9"><c'), "r.xlsx", "UNKNOWN_FORMAT", ""),
]


@pytest.mark.parametrize(
    ("data", "filename", "code", "named"), [c[1:] for c in WHOLE_FILE_CASES], ids=[c[0] for c in WHOLE_FILE_CASES]
)
def test_a_file_refused_whole_says_why_once(data: bytes, filename: str, code: str, named: str) -> None:
    error = refusal(data, filename)
    assert error.code.name == code
    assert named in error.zh
    assert named in error.en


def test_a_file_over_the_limit_is_refused_while_reading_it() -> None:
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"a" * len(buffer)
            self.read_bytes += len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(RosterFileError) as caught:
        next(read_rows(io.BufferedReader(endless), "r.csv", max_bytes=1 << 20))
    assert caught.value.code.name == "TOO_LARGE"
    assert "1048576" in caught.value.en
    assert endless.read_bytes < 2 << 20


def test_a_field_too_long_for_csv_fails_the_file_where_it_is_met() -> None:
    data = csv_bytes([*HOUSEHOLD, ["x" * 200_000, "男", BOY, "", SHISHAN_VILLAGE, ""]])
    rows = read_roster(io.BytesIO(data), "r.csv", RosterKind.HOUSEHOLD, max_bytes=LIMIT)
    assert [next(rows)[0], next(rows)[0]] == [2, 3]
    with pytest.raises(RosterFileError) as caught:
        next(rows)
    assert caught.value.code.name == "UNKNOWN_FORMAT"


def test_no_row_is_yielded_before_a_whole_file_error() -> None:
    rows = read_roster(io.BytesIO(csv_bytes([["姓名"], ["张三"]])), "r.csv", RosterKind.HOUSEHOLD, max_bytes=LIMIT)
    with pytest.raises(RosterFileError):
        next(rows)


def generated_roster(path: str, count: int) -> None:
    with open(path, "w", encoding="gb18030", newline="") as out:
        out.write(",".join(HOUSEHOLD[0]) + "\r\n")
        line = ",".join(HOUSEHOLD[1]) + "\r\n"
        for _ in range(count):
            out.write(line)


# Measured in an interpreter of its own: tracemalloc counts every thread's allocations, and a thread an
# earlier test left in this worker (a server's, a pool's) would be counted with the reader's.
READ_AND_MEASURE = """
import sys, tracemalloc
from models.roster import RosterKind
from resolvers.rosters.files import read_roster
tracemalloc.start()
with open(sys.argv[1], "rb") as stream:
    last = max(line for line, _ in read_roster(stream, "big.csv", RosterKind.HOUSEHOLD, max_bytes=100 << 20))
print(last, tracemalloc.get_traced_memory()[1])
"""


def test_a_200000_row_file_is_read_in_constant_memory(tmp_path: object) -> None:
    path = f"{tmp_path}/big.csv"
    generated_roster(path, 200_000)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", READ_AND_MEASURE, path], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last, peak = (int(n) for n in done.stdout.split())
    assert last == 200_001
    assert peak < 2 << 20, f"peak {peak} bytes"


def test_a_header_padded_with_empty_columns_reads_as_without_them() -> None:
    """A spreadsheet's CSV export pads every line to the sheet's used range: 1,100 empty columns after the
    header's (more than a roster may have) are dropped, not counted."""
    padded = [[*row, *[""] * 1_100] for row in HOUSEHOLD]
    as_read = list(read_roster(io.BytesIO(csv_bytes(padded)), "r.csv", RosterKind.HOUSEHOLD, max_bytes=LIMIT))
    plain = list(read_roster(io.BytesIO(csv_bytes(HOUSEHOLD)), "r.csv", RosterKind.HOUSEHOLD, max_bytes=LIMIT))
    assert as_read == plain


def test_big5_is_named_with_both_readings_of_its_headers() -> None:
    error = refusal(BIG5_HOUSEHOLD)
    assert error.code.name == "BAD_ENCODING"
    assert "Big5" in error.en
    assert "姓名" in error.en  # as Big5 reads it


@pytest.mark.parametrize(
    ("part", "whole"),
    [
        ("[Content_Types].xml", True), ("xl/workbook.xml", True), ("xl/styles.xml", True), ("_rels/.rels", True),
        ("xl/worksheets/_rels/sheet1.xml.rels", True), ("docProps/core.xml", True),
        ("xl/worksheets/sheet1.xml", False), ("xl/sharedStrings.xml", False), ("xl/SharedStrings.xml", False),
        ("xl/media/image1.png", False), ("xl/pivotCache/pivotCacheRecords1.xml", False), ("xl/vbaProject.bin", False),
    ],
)  # fmt: skip
def test_the_parts_read_whole_are_capped_and_the_others_are_not(part: str, whole: bool) -> None:
    """xlsx.MAX_WHOLE_PART_BYTES applies to what openpyxl's read-only mode reads whole: a roster workbook with a
    large picture or pivot cache is not refused for it (the total and the hundredfold rule still apply)."""
    from resolvers.rosters.xlsx import _read_whole

    assert _read_whole(part) is whole


def test_a_full_disk_while_the_shared_strings_are_written_is_the_servers_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not UNKNOWN_FORMAT (the file is sound): an error the server logs and answers as its own."""
    import tempfile

    from resolvers.rosters import xlsx

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    with pytest.raises(xlsx.StorageFailed):
        list(read_roster(io.BytesIO(shared_strings_xlsx(HOUSEHOLD)), "r.xlsx", RosterKind.HOUSEHOLD, max_bytes=LIMIT))


def test_an_xlsx_of_shared_strings_reads_as_openpyxl_reads_it() -> None:
    """The shared strings kept on disk (resolvers/rosters/xlsx.py) read as openpyxl's own list: plain, empty,
    spaced and rich-text strings (the phonetic guide left out), the escape openpyxl undoes."""
    from openpyxl import load_workbook

    rows = [*HOUSEHOLD, ["王 小 明", "男", "_x005F_x000D_", "", " 532329101201 ", "x"]]
    data = shared_strings_xlsx(rows, rich=["张小军", "王 小 明"])
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = [["" if v is None else v for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    headers, read = cells_of(inspect_file(io.BytesIO(data), "r.xlsx", max_bytes=LIMIT), None)
    assert [headers] + [cells for _, cells in read] == expected
    assert expected[1][0] == "张小军"  # rich text, its runs joined


async def test_an_xlsx_of_shared_strings_gives_the_csvs_records(session: AsyncSession) -> None:
    from_xlsx = await records(session, shared_strings_xlsx(HOUSEHOLD, rich=["李美玲"]), "r.xlsx")
    assert facts(from_xlsx) == facts(await records(session, csv_bytes(HOUSEHOLD), "r.csv"))


def test_an_xlsx_expanding_beyond_the_limits_is_refused_naming_the_part(monkeypatch: pytest.MonkeyPatch) -> None:
    from resolvers.rosters import xlsx

    bomb = shared_strings_xlsx(HOUSEHOLD, padding=20_000)  # 400 KB of shared strings in a few KB of zip
    monkeypatch.setattr(xlsx, "MAX_EXPANDED_BYTES", 256 << 10)
    error = refusal(bomb, "r.xlsx")
    assert error.code.name == "TOO_LARGE"
    assert "xl/sharedStrings.xml" in error.zh
    assert "xl/sharedStrings.xml" in error.en
    within = read_roster(io.BytesIO(shared_strings_xlsx(HOUSEHOLD)), "r.xlsx", RosterKind.HOUSEHOLD, max_bytes=LIMIT)
    assert [line for line, _ in within] == [2, 3]
    monkeypatch.setattr(xlsx, "MAX_EXPANDED_BYTES", 1 << 30)
    monkeypatch.setattr(xlsx, "MAX_WHOLE_PART_BYTES", 512)  # a part openpyxl reads whole: the manifest
    error = refusal(shared_strings_xlsx(HOUSEHOLD), "r.xlsx")
    assert (error.code.name, "[Content_Types].xml" in error.en) == ("TOO_LARGE", True)


def test_an_xlsx_part_expanding_more_than_a_hundredfold_is_refused_and_a_rosters_parts_do_not() -> None:
    """Apache POI's rule (xlsx.MAX_RATIO): one name repeated 100,000 times (2 MB of XML in a few KB) is
    refused at once; a roster of 20,000 children with distinct names and IDs (its parts expand some tenfold)
    is read."""
    error = refusal(shared_strings_xlsx(HOUSEHOLD, padding=100_000), "r.xlsx")
    assert error.code.name == "TOO_LARGE"
    assert "xl/sharedStrings.xml" in error.en
    assert "100-fold" in error.en
    given = "明华强伟芳娜敏静丽军洋勇艳杰娟涛超秀霞平刚桂英"
    rows = [HOUSEHOLD[0]] + [
        [
            f"张{given[n % len(given)]}{given[n // len(given) % len(given)]}",
            "男",
            f"G{n:017d}",
            "2016-04-06",
            SHISHAN_VILLAGE,
            "",
        ]
        for n in range(20_000)
    ]
    read = read_roster(io.BytesIO(shared_strings_xlsx(rows)), "r.xlsx", RosterKind.HOUSEHOLD, max_bytes=LIMIT)
    assert sum(1 for _ in read) == 20_000


def test_an_xlsx_row_reaching_far_right_with_nothing_there_is_read_while_few() -> None:
    """A formatted empty cell at XFD (column 16,384) makes openpyxl fill its row to there: a few such rows are
    read without their empty cells; past `MAX_WIDE_ROWS` of them the file is refused (each cost a millisecond)."""
    from resolvers.rosters import xlsx

    def far_right(rows: range) -> str:
        return "".join(f'<row r="{r}"><c r="XFD{r}" s="1"/></row>' for r in rows)

    few = shared_strings_xlsx(HOUSEHOLD, sheet_tail=far_right(range(10, 13)))
    read = list(read_roster(io.BytesIO(few), "r.xlsx", RosterKind.HOUSEHOLD, max_bytes=LIMIT))
    assert [line for line, _ in read] == [2, 3]
    many = shared_strings_xlsx(HOUSEHOLD, sheet_tail=far_right(range(10, 11 + xlsx.MAX_WIDE_ROWS)))
    error = refusal(many, "r.xlsx")
    assert error.code.name == "UNKNOWN_FORMAT"
    assert f"row {10 + xlsx.MAX_WIDE_ROWS} past column 1024" in error.en


# A shared-string table of 150,000 strings (3 MB of XML; about 30 MB as openpyxl's list of them).
READ_XLSX_AND_MEASURE = """
import io, sys, tracemalloc
from models.roster import RosterKind
from resolvers.rosters.files import read_roster
from resolvers.rosters import xlsx
from tests.roster_support import HOUSEHOLD, shared_strings_xlsx
xlsx.MAX_RATIO = 10**9  # the ratio rule would refuse this table at once: here the table on disk is measured
data = shared_strings_xlsx(HOUSEHOLD, padding=150_000)
tracemalloc.start()
lines = [line for line, _ in read_roster(io.BytesIO(data), "big.xlsx", RosterKind.HOUSEHOLD, max_bytes=100 << 20)]
print(max(lines), tracemalloc.get_traced_memory()[1])
"""


def test_an_xlsx_shared_string_table_is_kept_out_of_memory() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", READ_XLSX_AND_MEASURE], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last, peak = (int(n) for n in done.stdout.split())
    assert last == 3
    assert peak < 4 << 20, f"peak {peak} bytes"


@pytest.mark.parametrize("kind", list(RosterKind))
async def test_each_kinds_template_reads_back_without_a_problem(session: AsyncSession, kind: RosterKind) -> None:
    from resolvers.rosters.templates import template_xlsx

    (record,) = await records(session, template_xlsx(kind), f"{kind.value.lower()}.xlsx", kind)
    assert (record.line, record.name, record.national_id) == (2, "刘金花", "532329201705270007")


def random_csv(rng: random.Random, delimiter: str, *, quoted: bool) -> str:
    """A roster's text as offices write it, and as they should not: rows of any length, blank rows (empty, of
    white space, of delimiters only), CRLF or LF, NUL, full-width space, Chinese; with `quoted`, a few rows
    csv.writer quotes (a delimiter or a line break in a cell) anywhere in the file."""
    alphabet = ["张", "三", "a", "1", " ", "\u3000", "\x00", "-", "X", "·"]
    headers = ["姓名", "公民身份号码", "户籍地区划代码", "备注"]
    out = [delimiter.join(headers) + "\n"]
    for _ in range(rng.randrange(1, 60)):
        ending = rng.choice(["\n", "\r\n"])
        shape = rng.random()
        if shape < 0.1:
            out.append(rng.choice(["", " ", "\u3000", delimiter * 3, f" {delimiter} "]) + ending)
        elif quoted and shape < 0.15:
            text = io.StringIO(newline="")
            cells = ["张,三", "a\nb", 'say "hi"', "1"][: rng.randrange(1, 5)]
            csv.writer(text, delimiter=delimiter, lineterminator=ending).writerow(cells)
            out.append(text.getvalue())
        else:
            cells = ["".join(rng.choices(alphabet, k=rng.randrange(0, 6))) for _ in range(rng.randrange(1, 7))]
            out.append(delimiter.join(cells) + ending)
    if rng.random() < 0.3:
        out[-1] = out[-1].rstrip("\r\n")  # no line break after the last row
    return "".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_plain_lines_split_column_wise_read_as_csv_reader_reads_them(seed: int) -> None:
    """An import reads plain CSV lines by splitting them column-wise (`Lines`), the rest with csv.reader: both
    give the same rows, numbered the same, blank rows skipped, in blocks of any size."""
    rng = random.Random(seed)
    delimiter = rng.choice([",", "\t"])
    data = random_csv(rng, delimiter, quoted=seed % 2 == 1).encode(rng.choice(["utf-8", "utf-8-sig", "gb18030"]))
    file = inspect_file(io.BytesIO(data), "r.csv", max_bytes=LIMIT)
    headers, rows = cells_of(file, None)
    checks = RowChecks(RosterKind.HOUSEHOLD, headers, jurisdiction="53/5323/532329")
    try:
        expected = checks.frame(list(rows)).to_dicts()
    except RosterFileError as error:  # every data row blank
        expected = [error.code.name]
    file = inspect_file(io.BytesIO(data), "r.csv", max_bytes=LIMIT)
    same_headers, blocks = blocks_of(file, None, rng.randrange(1, 12))
    try:
        read = pl.concat([checks.frame(block) for block in blocks]).to_dicts()
    except RosterFileError as error:
        read = [error.code.name]
    assert same_headers == headers
    assert read == expected
    if seed % 2 == 0:  # no quote anywhere: every block was split column-wise
        file = inspect_file(io.BytesIO(data), "r.csv", max_bytes=LIMIT)
        assert all(isinstance(block, Lines) for block in blocks_of(file, None, 5)[1])


def test_a_file_of_blank_data_rows_is_empty_when_read_in_blocks() -> None:
    file = inspect_file(io.BytesIO("姓名,公民身份号码,户籍地区划代码\n,\n \n\n".encode()), "r.csv", max_bytes=LIMIT)
    _, blocks = blocks_of(file, RosterKind.HOUSEHOLD, 2)
    with pytest.raises(RosterFileError) as caught:
        list(blocks)
    assert caught.value.code.name == "EMPTY_FILE"
