"""Checking roster rows (resolvers/rosters/rows.py): every problem of a row with its line, column and code.

The checks run in the database as an import runs them (`checked_rows`), over the demo geography; the
importer holds 武定县 532329, so a row of 元谋县 532328 is refused (OUT_OF_SCOPE) and never becomes a record.
"""

from __future__ import annotations

import json
import random
from datetime import date
from typing import get_args

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, ValidationError

from datagen.demo.people import national_id
from models.child import Gender, NationalIdProblem, SpecialGroup
from models.roster import RegistryStatus, RosterKind, RosterRecord, RowProblem
from resolvers.rosters.errors import RosterErrorCode
from resolvers.rosters.rows import RowChecks, max_length
from resolvers.rosters.staging import FileChecks
from tests.roster_support import (
    BOY,
    GIRL,
    SHISHAN_SCHOOL,
    SHISHAN_VILLAGE,
    WUDING,
    YUANMOU_VILLAGE,
    checked_rows,
)

BASE = {
    "姓名": "张小军",
    "性别": "男",
    "公民身份号码": BOY,
    "出生日期": "2016-04-06",
    "户籍地区划代码": SHISHAN_VILLAGE,
    "现住址区划代码": "",
}
REGISTRY = {**BASE, "学籍号": f"G{BOY}", "学校标识码": SHISHAN_SCHOOL, "年级": "四年级"}


async def check(
    session: AsyncSession, cells: dict[str, str], kind: RosterKind = RosterKind.HOUSEHOLD, line: int = 7
) -> RosterRecord | list[RowProblem]:
    (result,) = await checked_rows(session, kind, [(line, cells)])
    return result


async def problems(
    session: AsyncSession, cells: dict[str, str], kind: RosterKind = RosterKind.HOUSEHOLD
) -> set[tuple[int, str, str]]:
    result = await check(session, cells, kind)
    assert isinstance(result, list), result
    return {(p.line, p.column, p.code) for p in result}


async def test_a_good_row_becomes_a_record_with_its_raw_cells(session: AsyncSession) -> None:
    record = await check(session, BASE)
    assert isinstance(record, RosterRecord)
    assert (record.line, record.name, record.gender, record.birth_date) == (7, "张小军", Gender.MALE, date(2016, 4, 6))
    assert (record.national_id, record.household_region_code, record.residence_region_code) == (
        BOY,
        SHISHAN_VILLAGE,
        None,
    )
    assert record.raw == BASE


async def test_a_registry_row_reads_school_grade_and_registry_number(session: AsyncSession) -> None:
    record = await check(session, REGISTRY, RosterKind.REGISTRY)
    assert isinstance(record, RosterRecord)
    assert (record.school_code, record.grade, record.registry_number) == (SHISHAN_SCHOOL, 4, f"G{BOY}")


@pytest.mark.parametrize(
    ("written", "status"),
    [("在读", RegistryStatus.ENROLLED), (" 休学 ", RegistryStatus.SUSPENDED), ("辍学", RegistryStatus.DROPPED_OUT),
     ("其他离校", RegistryStatus.OTHER_LEAVING), ("转出", RegistryStatus.TRANSFERRED_OUT),
     ("结业", RegistryStatus.GRADUATED), ("死亡", RegistryStatus.DECEASED), ("", None)],
)  # fmt: skip
async def test_a_registry_row_reads_its_status_a_blank_one_left_unsaid(
    session: AsyncSession, written: str, status: RegistryStatus | None
) -> None:
    record = await check(session, {**REGISTRY, "学籍状态": written}, RosterKind.REGISTRY)
    assert isinstance(record, RosterRecord)
    assert record.registry_status is status


async def test_a_poverty_row_names_its_special_group(session: AsyncSession) -> None:
    for text, group in (
        ("脱贫户", SpecialGroup.POVERTY_REGISTERED),
        ("监测户", SpecialGroup.POVERTY_REGISTERED),
        ("低保", SpecialGroup.LOW_INCOME),
    ):
        record = await check(session, {**BASE, "帮扶类型": text}, RosterKind.POVERTY)
        assert isinstance(record, RosterRecord)
        assert record.special_group is group


async def test_an_old_fifteen_digit_id_is_stored_as_eighteen(session: AsyncSession) -> None:
    old = "110105491231002"
    record = await check(session, {**BASE, "公民身份号码": old, "性别": "女", "出生日期": "19491231"})
    assert isinstance(record, RosterRecord)
    assert record.national_id == "11010519491231002X"


async def test_gender_and_birth_date_come_from_the_id_when_left_out(session: AsyncSession) -> None:
    record = await check(session, {**BASE, "性别": "", "出生日期": "", "公民身份号码": GIRL.lower()})
    assert isinstance(record, RosterRecord)
    assert (record.gender, record.birth_date, record.national_id) == (Gender.FEMALE, date(2015, 9, 1), GIRL.upper())


async def test_a_child_without_an_id_needs_birth_date_gender_and_reason(session: AsyncSession) -> None:
    no_id = {**BASE, "公民身份号码": "", "无身份证原因": "未落户"}
    record = await check(session, no_id)
    assert isinstance(record, RosterRecord)
    assert (record.national_id, record.no_id_reason) == (None, "未落户")
    assert await problems(session, {**no_id, "无身份证原因": "", "性别": ""}) == {
        (7, "无身份证原因", "REQUIRED"),
        (7, "性别", "REQUIRED"),
    }
    assert await problems(session, {"姓名": "张三", "身份证号": "", "现住址区划代码": SHISHAN_VILLAGE}) == {
        (7, "出生日期", "REQUIRED"),
        (7, "性别", "REQUIRED"),
        (7, "无身份证原因", "REQUIRED"),  # named by the template's header, as the file lacks the column
    }


ROW_CASES = [
    (
        "check digit",
        {"公民身份号码": BOY[:-1] + ("1" if BOY[-1] != "1" else "2")},
        "公民身份号码",
        "INVALID_CHECK_DIGIT",
    ),
    ("short id", {"公民身份号码": "53232920160406"}, "公民身份号码", "INVALID_NATIONAL_ID"),
    ("birth date", {"出生日期": "2016-04-07"}, "出生日期", "BIRTH_DATE_MISMATCH"),
    ("gender", {"性别": "女"}, "性别", "GENDER_MISMATCH"),
    ("date form", {"出生日期": "06.04.2016"}, "出生日期", "INVALID_DATE"),
    ("gender word", {"性别": "未知"}, "性别", "INVALID_GENDER"),
    ("name", {"姓名": " "}, "姓名", "REQUIRED"),
    ("no place", {"户籍地区划代码": ""}, "户籍地区划代码", "REQUIRED"),
    ("region", {"户籍地区划代码": "532329999999"}, "户籍地区划代码", "UNKNOWN_REGION"),
    ("neighbour", {"户籍地区划代码": YUANMOU_VILLAGE}, "户籍地区划代码", "OUT_OF_SCOPE"),
    ("long name", {"姓名": "张" * 51}, "姓名", "TOO_LONG"),
    ("nul", {"姓名": "张\x00军"}, "姓名", "INVALID_TEXT"),
]


@pytest.mark.parametrize(("change", "column", "code"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
async def test_each_row_problem_names_line_column_and_code(
    session: AsyncSession, change: dict[str, str], column: str, code: str
) -> None:
    assert await problems(session, {**BASE, **change}) == {(7, column, code)}


REGISTRY_CASES = [
    ("grade", {"年级": "十年级"}, "年级", "INVALID_GRADE"),
    ("grade zero", {"年级": "0"}, "年级", "INVALID_GRADE"),
    ("school", {"学校标识码": "2153999999"}, "学校标识码", "UNKNOWN_SCHOOL"),
    ("neighbour school", {"学校标识码": "2153000031", "户籍地区划代码": YUANMOU_VILLAGE}, "学校标识码", "OUT_OF_SCOPE"),
    ("registry number", {"学籍号": "G" * 21}, "学籍号", "TOO_LONG"),
    ("no school", {"学校标识码": ""}, "学校标识码", "REQUIRED"),
    ("registry status", {"学籍状态": "退学"}, "学籍状态", "INVALID_REGISTRY_STATUS"),
]


@pytest.mark.parametrize(
    ("change", "column", "code"), [c[1:] for c in REGISTRY_CASES], ids=[c[0] for c in REGISTRY_CASES]
)
async def test_each_registry_problem_names_line_column_and_code(
    session: AsyncSession, change: dict[str, str], column: str, code: str
) -> None:
    assert await problems(session, {**REGISTRY, **change}, RosterKind.REGISTRY) == {(7, column, code)}


async def test_a_row_reports_all_its_problems_at_once(session: AsyncSession) -> None:
    bad = {**REGISTRY, "性别": "x", "年级": "x", "学校标识码": "1", "姓名": ""}
    assert await problems(session, bad, RosterKind.REGISTRY) == {
        (7, "性别", "INVALID_GENDER"),
        (7, "年级", "INVALID_GRADE"),
        (7, "学校标识码", "UNKNOWN_SCHOOL"),
        (7, "姓名", "REQUIRED"),
    }


async def test_a_problem_names_the_column_as_the_file_writes_it(session: AsyncSession) -> None:
    assert await problems(session, {"姓名": "张小军", "身份证号码": "1", "户籍区划代码": SHISHAN_VILLAGE}) == {
        (7, "身份证号码", "INVALID_NATIONAL_ID")
    }


async def test_a_child_registered_elsewhere_but_living_here_is_in_scope(session: AsyncSession) -> None:
    assert isinstance(
        await check(session, {**BASE, "户籍地区划代码": YUANMOU_VILLAGE, "现住址区划代码": SHISHAN_VILLAGE}),
        RosterRecord,
    )


def test_every_national_id_problem_is_a_roster_code() -> None:
    assert set(get_args(NationalIdProblem)) <= set(RosterErrorCode.__members__)


def test_lengths_are_the_child_tables() -> None:
    assert (max_length("name"), max_length("registry_number"), max_length("school_code")) == (50, 20, 10)


async def test_the_same_id_twice_in_a_file_refuses_the_later_row(session: AsyncSession) -> None:
    rows = [(2, BASE), (3, {**BASE, "公民身份号码": GIRL, "性别": "女", "出生日期": ""}), (4, {**BASE, "姓名": "张军"})]
    results = await checked_rows(session, RosterKind.HOUSEHOLD, rows)
    assert [isinstance(r, RosterRecord) for r in results] == [True, True, False]
    (problem,) = results[2]  # type: ignore[misc]
    assert (problem.line, problem.column, problem.code) == (4, "公民身份号码", "DUPLICATE_IN_FILE")
    assert "earlier" in problem.en


async def test_a_later_blocks_new_codes_and_birth_places_are_checked_with_what_it_brought(
    session: AsyncSession,
) -> None:
    """A file's blocks are checked in turn, each with the codes and birth places learnt so far: a block naming a
    village and a birth year none before it named has its rows valid, and a block after it still has the
    earlier ones (the checks are built again only when something new is learnt)."""
    headers = list(BASE)
    checks = RowChecks(RosterKind.HOUSEHOLD, headers, jurisdiction=WUDING)
    file = FileChecks(checks)
    other_village, born_2012 = "532329102201", national_id("532329", date(2012, 7, 2), 433, male=True)
    blocks = [
        [(2, BASE)],
        [(3, {**BASE, "公民身份号码": born_2012, "出生日期": "2012-07-02", "户籍地区划代码": other_village})],
        [(4, {**BASE, "公民身份号码": GIRL, "性别": "女", "出生日期": "2015-09-01"})],
        [(5, {**BASE, "公民身份号码": "532329201207020434", "出生日期": "", "户籍地区划代码": "532329999999"})],
    ]
    statuses = []
    for block in blocks:
        values = checks.values(checks.frame([(line, [cells[h] for h in headers]) for line, cells in block]))
        (row,) = (await file.check(session, values)).to_dicts()
        statuses.append((row["status"], [p["code"] for p in json.loads(row["problems"])]))
    assert statuses == [
        ("VALID", []),
        ("VALID", []),
        ("VALID", []),
        ("REFUSED", ["INVALID_CHECK_DIGIT", "UNKNOWN_REGION"]),
    ]


async def test_an_old_and_a_new_form_of_one_id_are_duplicates(session: AsyncSession) -> None:
    old = {**BASE, "公民身份号码": "110105491231002", "性别": "女", "出生日期": ""}
    new = {**old, "公民身份号码": "11010519491231002X"}
    results = await checked_rows(session, RosterKind.HOUSEHOLD, [(2, old), (3, new)])
    assert isinstance(results[0], RosterRecord)
    assert isinstance(results[1], list)
    assert results[1][0].code == "DUPLICATE_IN_FILE"


def _stdnum_code(number: str) -> str | None:
    """What python-stdnum says of an ID, as the roster's code (a prefix it knows only to the province
    raises KeyError inside stdnum: not a valid ID either)."""
    try:
        ric.validate(number)
    except InvalidChecksum:
        return "INVALID_CHECK_DIGIT"
    except (ValidationError, KeyError):
        return "INVALID_NATIONAL_ID"
    return None


async def test_the_id_rule_is_python_stdnums_over_many_generated_ids(session: AsyncSession) -> None:
    """The checks in SQL (check digit, birth date, 15 → 18) and stdnum (asked for the birth places) refuse
    exactly the IDs `ric.validate` refuses, with its reason, over 4,000 generated IDs of every kind."""
    rng = random.Random(12)
    prefixes = ["532329", "532328", "110105", "419999", "990000", "530000", "411302", "230108"]
    numbers: set[str] = set()
    while len(numbers) < 4000:
        year = rng.choice([1900, 1949, 1985, 2000, 2010, 2016, 2020, 9999])
        month, day = (
            (rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.7 else (rng.randint(0, 13), rng.randint(0, 32))
        )
        if rng.random() < 0.05:
            month, day = 2, 29  # a leap day, in a leap year or not
        body = f"{rng.choice(prefixes)}{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
        digit = ric.calc_check_digit(body + "X") if rng.random() < 0.7 else rng.choice("0123456789X")
        numbers.add(body + digit)
    old = [  # 15 digits: the year without its century
        f"{rng.choice(prefixes)}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 999):03d}"
        for _ in range(200)
    ]
    rows = [
        (n + 2, {"姓名": "张三", "公民身份号码": number, "户籍地区划代码": SHISHAN_VILLAGE})
        for n, number in enumerate(sorted(numbers) + old)
    ]
    results = await checked_rows(session, RosterKind.HOUSEHOLD, rows)
    seen: set[str] = set()
    for (_, cells), result in zip(rows, results, strict=True):
        number = cells["公民身份号码"]
        if len(number) == 15:  # stdnum's own conversion: the century, then its check digit
            number = number[:6] + "19" + number[6:]
            number += ric.calc_check_digit(number + "X")
        expected = _stdnum_code(number)
        if expected is None and number in seen:
            expected = "DUPLICATE_IN_FILE"  # an old number generated twice
        seen.add(number)
        got = result.national_id if isinstance(result, RosterRecord) else None
        codes = [p.code for p in result] if isinstance(result, list) else []
        assert (codes or None, got) == (None if expected is None else [expected], number if expected is None else None)


NO_ID = {**BASE, "公民身份号码": "", "无身份证原因": "未落户"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-04-06", date(2016, 4, 6)),
        ("2016/04/06", date(2016, 4, 6)),
        ("2016/4/6", date(2016, 4, 6)),
        ("20160406", date(2016, 4, 6)),
        ("2016-04-06 00:00:00", date(2016, 4, 6)),
        ("２０１６-０４-０６", date(2016, 4, 6)),  # an input method's full-width digits
        ("2016-02-30", None),
        ("06/04/2016", None),
        ("2016年4月6日", None),
    ],
)
async def test_dates_are_read_in_the_three_forms_offices_write(
    session: AsyncSession, text: str, expected: date | None
) -> None:
    result = await check(session, {**NO_ID, "出生日期": text})
    if expected is None:
        assert isinstance(result, list)
        assert {(p.column, p.code) for p in result} == {("出生日期", "INVALID_DATE")}
    else:
        assert isinstance(result, RosterRecord)
        assert result.birth_date == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("9", 9),
        ("三年级", 3),
        ("3年级", 3),
        ("九年级", 9),
        ("初一", 7),
        ("初 三", 9),
        ("0", None),
        ("10", None),
    ],
)
async def test_grades_are_one_to_nine_in_digits_or_chinese(
    session: AsyncSession, text: str, expected: int | None
) -> None:
    result = await check(session, {**REGISTRY, "年级": text}, RosterKind.REGISTRY)
    if expected is None:
        assert isinstance(result, list)
        assert {p.code for p in result} == {"INVALID_GRADE"}
    else:
        assert isinstance(result, RosterRecord)
        assert result.grade == expected


@pytest.mark.parametrize(
    "written",
    ["110105491231002", " 11010519491231002x ", "１１０１０５ 1949-1231-002ｘ", "11010519491231002X"],
    ids=["old 15 digits", "trimmed, upper-cased", "full-width, spaces and hyphens", "as stored"],
)
async def test_an_id_is_read_as_eighteen_upper_case_characters(session: AsyncSession, written: str) -> None:
    record = await check(session, {**BASE, "公民身份号码": written, "性别": "", "出生日期": ""})
    assert isinstance(record, RosterRecord)
    assert (record.national_id, record.gender, record.birth_date) == (
        "11010519491231002X",
        Gender.FEMALE,  # the order code 002 is even
        date(1949, 12, 31),
    )


@pytest.mark.parametrize(
    "headers", [["姓名", "备注", "公民身份号码", "附注"], ["姓名", "备注", "公民身份号码", "备注"]]
)
def test_raw_cells_keep_the_files_order_and_headers_and_only_a_short_rows_own_cells(headers: list[str]) -> None:
    """The raw copy is the row as the file has it: every header (one written twice kept twice), in order, a short
    row's cells only, a long row cut at the headers; a NUL, which PostgreSQL cannot hold, as U+FFFD."""
    checks = RowChecks(RosterKind.HOUSEHOLD, headers, jurisdiction="53/5323/532329")
    rows = [
        (2, ["张三", "a", BOY, "b"]),
        (3, ["李四", "x"]),
        (4, ["王五", "", "", "", "多余"]),
        (5, ["赵六", "c\x00d"]),
    ]
    for block in ([rows[0], rows[1], rows[2]], rows):  # without a NUL in the block, and with one
        raw = [json.loads(r, object_pairs_hook=list) for r in checks.values(checks.frame(block))["raw"]]
        assert raw[0] == [(headers[0], "张三"), (headers[1], "a"), (headers[2], BOY), (headers[3], "b")]
        assert raw[1] == [(headers[0], "李四"), (headers[1], "x")]
        assert raw[2] == [(headers[0], "王五"), (headers[1], ""), (headers[2], ""), (headers[3], "")]
    assert raw[3] == [(headers[0], "赵六"), (headers[1], "c\ufffdd")]
