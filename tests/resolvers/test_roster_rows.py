"""Checking roster rows (resolvers/rosters/rows.py): every problem of a row with its line, column and code.

No database: the lookups are the demo geography; the importer holds 武定县 532329, so a row of 元谋县 532328
is refused (OUT_OF_SCOPE) and never becomes a record.
"""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest

from models.child import Gender, NationalIdProblem, SpecialGroup
from models.roster import RosterKind, RosterRecord, RowProblem
from resolvers.rosters.errors import RosterErrorCode
from resolvers.rosters.rows import check_row, check_rows, max_length
from tests.roster_support import BOY, GIRL, LOOKUPS, SHISHAN_SCHOOL, SHISHAN_VILLAGE, YUANMOU_VILLAGE

BASE = {
    "姓名": "张小军",
    "性别": "男",
    "公民身份号码": BOY,
    "出生日期": "2016-04-06",
    "户籍地区划代码": SHISHAN_VILLAGE,
    "现住址区划代码": "",
}
REGISTRY = {**BASE, "学籍号": f"G{BOY}", "学校标识码": SHISHAN_SCHOOL, "年级": "四年级"}


def check(
    cells: dict[str, str], kind: RosterKind = RosterKind.HOUSEHOLD, line: int = 7
) -> RosterRecord | list[RowProblem]:
    return check_row(kind, line, cells, **LOOKUPS)


def problems(cells: dict[str, str], kind: RosterKind = RosterKind.HOUSEHOLD) -> set[tuple[int, str, str]]:
    result = check(cells, kind)
    assert isinstance(result, list), result
    return {(p.line, p.column, p.code) for p in result}


def test_a_good_row_becomes_a_record_with_its_raw_cells() -> None:
    record = check(BASE)
    assert isinstance(record, RosterRecord)
    assert (record.line, record.name, record.gender, record.birth_date) == (7, "张小军", Gender.MALE, date(2016, 4, 6))
    assert (record.national_id, record.household_region_code, record.residence_region_code) == (
        BOY,
        SHISHAN_VILLAGE,
        None,
    )
    assert record.raw == BASE


def test_a_registry_row_reads_school_grade_and_registry_number() -> None:
    record = check(REGISTRY, RosterKind.REGISTRY)
    assert isinstance(record, RosterRecord)
    assert (record.school_code, record.grade, record.registry_number) == (SHISHAN_SCHOOL, 4, f"G{BOY}")


def test_a_poverty_row_names_its_special_group() -> None:
    for text, group in (
        ("脱贫户", SpecialGroup.POVERTY_REGISTERED),
        ("监测户", SpecialGroup.POVERTY_REGISTERED),
        ("低保", SpecialGroup.LOW_INCOME),
    ):
        record = check({**BASE, "帮扶类型": text}, RosterKind.POVERTY)
        assert isinstance(record, RosterRecord)
        assert record.special_group is group


def test_an_old_fifteen_digit_id_is_stored_as_eighteen() -> None:
    old = "110105491231002"
    record = check({**BASE, "公民身份号码": old, "性别": "女", "出生日期": "19491231"})
    assert isinstance(record, RosterRecord)
    assert record.national_id == "11010519491231002X"


def test_gender_and_birth_date_come_from_the_id_when_left_out() -> None:
    record = check({**BASE, "性别": "", "出生日期": "", "公民身份号码": GIRL.lower()})
    assert isinstance(record, RosterRecord)
    assert (record.gender, record.birth_date, record.national_id) == (Gender.FEMALE, date(2015, 9, 1), GIRL.upper())


def test_a_child_without_an_id_needs_birth_date_gender_and_reason() -> None:
    no_id = {**BASE, "公民身份号码": "", "无身份证原因": "未落户"}
    record = check(no_id)
    assert isinstance(record, RosterRecord)
    assert (record.national_id, record.no_id_reason) == (None, "未落户")
    assert problems({**no_id, "无身份证原因": "", "性别": ""}) == {
        (7, "无身份证原因", "REQUIRED"),
        (7, "性别", "REQUIRED"),
    }
    assert problems({"姓名": "张三", "身份证号": "", "现住址区划代码": SHISHAN_VILLAGE}) == {
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
def test_each_row_problem_names_line_column_and_code(change: dict[str, str], column: str, code: str) -> None:
    assert problems({**BASE, **change}) == {(7, column, code)}


REGISTRY_CASES = [
    ("grade", {"年级": "十年级"}, "年级", "INVALID_GRADE"),
    ("grade zero", {"年级": "0"}, "年级", "INVALID_GRADE"),
    ("school", {"学校标识码": "2153999999"}, "学校标识码", "UNKNOWN_SCHOOL"),
    ("neighbour school", {"学校标识码": "2153000031", "户籍地区划代码": YUANMOU_VILLAGE}, "学校标识码", "OUT_OF_SCOPE"),
    ("registry number", {"学籍号": "G" * 21}, "学籍号", "TOO_LONG"),
    ("no school", {"学校标识码": ""}, "学校标识码", "REQUIRED"),
]


@pytest.mark.parametrize(
    ("change", "column", "code"), [c[1:] for c in REGISTRY_CASES], ids=[c[0] for c in REGISTRY_CASES]
)
def test_each_registry_problem_names_line_column_and_code(change: dict[str, str], column: str, code: str) -> None:
    assert problems({**REGISTRY, **change}, RosterKind.REGISTRY) == {(7, column, code)}


def test_a_row_reports_all_its_problems_at_once() -> None:
    bad = {**REGISTRY, "性别": "x", "年级": "x", "学校标识码": "1", "姓名": ""}
    assert problems(bad, RosterKind.REGISTRY) == {
        (7, "性别", "INVALID_GENDER"),
        (7, "年级", "INVALID_GRADE"),
        (7, "学校标识码", "UNKNOWN_SCHOOL"),
        (7, "姓名", "REQUIRED"),
    }


def test_a_problem_names_the_column_as_the_file_writes_it() -> None:
    assert problems({"姓名": "张小军", "身份证号码": "1", "户籍区划代码": SHISHAN_VILLAGE}) == {
        (7, "身份证号码", "INVALID_NATIONAL_ID")
    }


def test_a_child_registered_elsewhere_but_living_here_is_in_scope() -> None:
    assert isinstance(
        check({**BASE, "户籍地区划代码": YUANMOU_VILLAGE, "现住址区划代码": SHISHAN_VILLAGE}), RosterRecord
    )


def test_every_national_id_problem_is_a_roster_code() -> None:
    assert set(get_args(NationalIdProblem)) <= set(RosterErrorCode.__members__)


def test_lengths_are_the_child_tables() -> None:
    assert (max_length("name"), max_length("registry_number"), max_length("school_code")) == (50, 20, 10)


def test_the_same_id_twice_in_a_file_refuses_the_later_row() -> None:
    rows = [(2, BASE), (3, {**BASE, "公民身份号码": GIRL, "性别": "女", "出生日期": ""}), (4, {**BASE, "姓名": "张军"})]
    results = list(check_rows(RosterKind.HOUSEHOLD, rows, **LOOKUPS))
    assert [isinstance(r, RosterRecord) for r in results] == [True, True, False]
    (problem,) = results[2]  # type: ignore[misc]
    assert (problem.line, problem.column, problem.code) == (4, "公民身份号码", "DUPLICATE_IN_FILE")
    assert "earlier" in problem.en


def test_an_old_and_a_new_form_of_one_id_are_duplicates() -> None:
    old = {**BASE, "公民身份号码": "110105491231002", "性别": "女", "出生日期": ""}
    new = {**old, "公民身份号码": "11010519491231002X"}
    results = list(check_rows(RosterKind.HOUSEHOLD, [(2, old), (3, new)], **LOOKUPS))
    assert isinstance(results[0], RosterRecord)
    assert isinstance(results[1], list)
    assert results[1][0].code == "DUPLICATE_IN_FILE"
