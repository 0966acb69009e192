"""The pure rules of roster rows (models/roster.py): dates, grades, IDs and each kind's required columns."""

from __future__ import annotations

from datetime import date

import pytest

from models.child import Gender
from models.roster import (
    COLUMNS,
    RosterKind,
    column_of_header,
    gender_of_national_id,
    missing_columns,
    normalise_national_id,
    parse_date,
    parse_grade,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-04-06", date(2016, 4, 6)),
        ("2016/04/06", date(2016, 4, 6)),
        ("2016/4/6", date(2016, 4, 6)),
        ("20160406", date(2016, 4, 6)),
        ("2016-04-06 00:00:00", date(2016, 4, 6)),
        ("2016-02-30", None),
        ("06/04/2016", None),
        ("2016年4月6日", None),
        ("", None),
    ],
)
def test_dates_are_read_in_the_three_forms_offices_write(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("9", 9),
        ("三年级", 3),
        ("3年级", 3),
        ("九年级", 9),
        ("初一", 7),
        ("初三", 9),
        ("0", None),
        ("10", None),
    ],
)
def test_grades_are_one_to_nine_in_digits_or_chinese(text: str, expected: int | None) -> None:
    assert parse_grade(text) == expected


def test_an_old_fifteen_digit_id_becomes_eighteen_with_its_check_digit() -> None:
    assert normalise_national_id("110105491231002") == "11010519491231002X"


def test_an_id_is_trimmed_and_upper_cased() -> None:
    assert normalise_national_id(" 11010519491231002x ") == "11010519491231002X"


def test_full_width_digits_spaces_and_hyphens_are_read() -> None:
    assert normalise_national_id("１１０１０５ 1949-1231-002ｘ") == "11010519491231002X"


def test_the_order_code_gives_the_gender() -> None:
    assert gender_of_national_id("532329201604060019") is Gender.MALE
    assert gender_of_national_id("11010519491231002X") is Gender.FEMALE


def test_aliases_name_the_same_column() -> None:
    for header in ("公民身份号码", "身份证号", "身份证号码"):
        column = column_of_header(RosterKind.HOUSEHOLD, header)
        assert column is not None
        assert column.field == "national_id"


@pytest.mark.parametrize(
    ("kind", "headers", "missing"),
    [
        (RosterKind.HOUSEHOLD, ["姓名", "身份证号", "户籍地区划代码"], []),
        (RosterKind.HOUSEHOLD, ["姓名", "身份证号", "现住址区划代码"], []),
        (RosterKind.HOUSEHOLD, ["姓名", "身份证号"], ["户籍地区划代码或现住址区划代码"]),
        (RosterKind.REGISTRY, ["姓名", "身份证号", "学籍号", "学校标识码"], ["年级"]),
        (RosterKind.IN_SCHOOL, ["身份证号", "学校标识码", "年级"], ["姓名"]),
        (RosterKind.POVERTY, ["姓名", "公民身份号码", "户籍地区划代码"], ["帮扶类型"]),
    ],
)
def test_each_kind_names_its_missing_columns(kind: RosterKind, headers: list[str], missing: list[str]) -> None:
    assert missing_columns(kind, headers) == missing


def test_every_kind_requires_a_name_and_an_id_column() -> None:
    for kind in RosterKind:
        required = {c.field for c in COLUMNS[kind] if c.required}
        assert {"name", "national_id"} <= required
