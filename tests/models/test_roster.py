"""The pure rules of roster files (models/roster.py): each kind's columns and required columns. (How a row's
cells are read, dates, grades and IDs, is checked in the database: tests/resolvers/test_roster_rows.py.)"""

from __future__ import annotations

import pytest

from models.roster import COLUMNS, RosterKind, column_of_header, missing_columns


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
