"""Children (适龄儿童少年): who they are, where they are registered and live, where they study.

A child carries two scopes (ARCHITECTURE §3): education (the school's path, empty when not enrolled) and
government (household-registration and residence paths). A child found without a household registration
(无户籍, POLICY 004 §2) has no household path and a reason instead; one found without an ID number a reason
for that. Either path may be empty, never all three places: each child is somebody's to find.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from .base import created_at_field, enum_type, path_type, updated_at_field, version_field
from .province import age_on


class Gender(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


GENDER_LABELS = {Gender.MALE: "男 / male", Gender.FEMALE: "女 / female"}


class SpecialGroup(enum.StrEnum):
    """Key groups to monitor (重点群体, POLICY 004 §3; POLICY 000 §7, §11)."""

    ORPHAN = "ORPHAN"
    UNSUPPORTED = "UNSUPPORTED"
    DISABLED = "DISABLED"
    LEFT_BEHIND = "LEFT_BEHIND"
    IN_DIFFICULTY = "IN_DIFFICULTY"
    MIGRANT = "MIGRANT"
    JUVENILE_IN_CASE = "JUVENILE_IN_CASE"
    PRISONERS_CHILD = "PRISONERS_CHILD"
    POVERTY_REGISTERED = "POVERTY_REGISTERED"
    LOW_INCOME = "LOW_INCOME"
    RELOCATED = "RELOCATED"  # 易地扶贫搬迁户: category R needs it (models/ledger_categories.py)


SPECIAL_GROUP_LABELS = {
    SpecialGroup.ORPHAN: "孤儿 / orphan",
    SpecialGroup.UNSUPPORTED: "事实无人抚养儿童 / de-facto unsupported child",
    SpecialGroup.DISABLED: "残疾儿童 / disabled child",
    SpecialGroup.LEFT_BEHIND: "留守儿童 / left-behind child",
    SpecialGroup.IN_DIFFICULTY: "困境儿童 / child in difficulty",
    SpecialGroup.MIGRANT: "随迁子女 / migrant child",
    SpecialGroup.JUVENILE_IN_CASE: "涉案未成年人 / juvenile involved in a case",
    SpecialGroup.PRISONERS_CHILD: "服刑人员未成年子女 / child of a prisoner",
    SpecialGroup.POVERTY_REGISTERED: "建档立卡/脱贫户 / poverty-registered household",
    SpecialGroup.LOW_INCOME: "农村低保 / rural minimum-allowance family",
    SpecialGroup.RELOCATED: "易地扶贫搬迁户 / household moved by poverty-relief relocation",
}


class Stage(enum.StrEnum):
    PRIMARY = "PRIMARY"
    JUNIOR = "JUNIOR"


GRADES_OF_STAGE = {Stage.PRIMARY: (1, 6), Stage.JUNIOR: (7, 9)}


def stage_of_grade(grade: int | None) -> Stage | None:
    """Grades 1–6 are primary (小学), 7–9 junior secondary (初中)."""
    if grade is None:
        return None
    return Stage.PRIMARY if grade <= GRADES_OF_STAGE[Stage.PRIMARY][1] else Stage.JUNIOR


JUNIOR_AGE = 12


def stage_at(grade: int | None, birth_date: date, on: date) -> Stage:
    """The grade's stage; for a child not enrolled, the age's: under 12 primary, 12 and over junior."""
    return stage_of_grade(grade) or (Stage.PRIMARY if age_on(birth_date, on) < JUNIOR_AGE else Stage.JUNIOR)


# A value of this length or shorter is masked whole: its first 6 and last 4 characters would be all of it
# (a registry number on a roster has no minimum length).
MASK_WHOLE_UP_TO = 10


def mask_national_id(national_id: str | None) -> str | None:
    """`532329********1234`: the first 6 and last 4 characters, for roles without the right to more."""
    if national_id is None:
        return None
    if len(national_id) <= MASK_WHOLE_UP_TO:
        return "*" * len(national_id)
    return national_id[:6] + "*" * (len(national_id) - 10) + national_id[-4:]


def mask_national_id_sql(value: Any) -> Any:
    """`mask_national_id` in SQL, character for character (bulk exports mask in the database; a test
    holds the two equal)."""
    length = sa.func.length(value)
    concat = sa.func.left(value, 6).op("||")(sa.func.repeat("*", length - 10))
    return sa.case(
        (length <= MASK_WHOLE_UP_TO, sa.func.repeat("*", length)), else_=concat.op("||")(sa.func.right(value, 4))
    )


# Why a national ID is refused: each is a code of StudentErrorCode.
NationalIdProblem = Literal["INVALID_CHECK_DIGIT", "INVALID_NATIONAL_ID", "BIRTH_DATE_MISMATCH"]


def national_id_problem(national_id: str, birth_date: date) -> tuple[NationalIdProblem, str, str] | None:
    """Why a national ID number (身份证号) is not acceptable: (code, Chinese, English), or None.

    python-stdnum checks the length, the check digit, the birth date and the region prefix, in the order
    of its `ric.validate`; its birth-place database is asked once per prefix and birth year
    (`_birth_place_known`), since that lookup was most of the time of checking a roster row, and its
    birth-date parsing once per date (`_birth_date_of`).
    """
    # What `ric.compact` gives, without its per-character cleaning when there is nothing to clean.
    number = national_id.upper() if national_id.isascii() and national_id.isalnum() else ric.compact(national_id)
    if len(number) != 18 or not (number[:17].isascii() and number[:17].isdigit()):
        return ("INVALID_NATIONAL_ID", "身份证号须为 18 位", "a national ID has 18 characters")
    if number[17] != ric.calc_check_digit(number):
        return ("INVALID_CHECK_DIGIT", "身份证号校验位错误", "the national ID check digit is wrong")
    born = _birth_date_of(number)
    if born is None or not _birth_place_known(number):
        return (
            "INVALID_NATIONAL_ID",
            "身份证号的出生日期或地区码无效",
            "the ID's birth date or region code is invalid",
        )
    if born != birth_date:
        return ("BIRTH_DATE_MISMATCH", "出生日期与身份证号不符", "the birth date does not match the national ID")
    return None


_BIRTH_DATES: dict[str, date | None] = {}  # YYYYMMDD → `ric.get_birth_date`'s answer (None: InvalidComponent)


def _birth_date_of(number: str) -> date | None:
    """`ric.get_birth_date` of an 18-digit ID, remembered by the eight digits it reads (at most 10^8 keys in
    theory, bounded like the birth places)."""
    digits = number[6:14]
    if digits in _BIRTH_DATES:
        return _BIRTH_DATES[digits]
    try:
        born: date | None = ric.get_birth_date(number)
    except InvalidComponent:
        born = None
    if len(_BIRTH_DATES) < BIRTH_PLACES_CACHED:
        _BIRTH_DATES[digits] = born
    return born


# (region prefix, birth year) → whether python-stdnum knows the region for that year; bounded, since the keys
# come from uploaded files (past the bound, stdnum is asked every time).
_BIRTH_PLACES: dict[tuple[str, int], bool] = {}
BIRTH_PLACES_CACHED = 50_000


def _birth_place_known(number: str) -> bool:
    """`ric.get_birth_place` succeeds for an 18-digit ID with a valid birth date, remembered by the two things
    its answer depends on: the first six digits and the birth year (a county code is valid for some years).
    A prefix stdnum knows only down to the province raises KeyError inside stdnum: unknown as well."""
    return birth_place_known(number[:6], int(number[6:10]))


def birth_place_known(prefix: str, year: int) -> bool:
    """Whether python-stdnum knows the region `prefix` (six digits) for a birth in `year` (1–9999): what
    `ric.get_birth_place` answers for any valid ID of that prefix and year (a roster import asks it once per
    pair of its file, resolvers/rosters/rows.py)."""
    key = (prefix, year)
    known = _BIRTH_PLACES.get(key)
    if known is None:
        try:
            ric.get_birth_place(f"{prefix}{year:04d}0101000")
            known = True
        except (InvalidComponent, KeyError):
            known = False
        if len(_BIRTH_PLACES) < BIRTH_PLACES_CACHED:
            _BIRTH_PLACES[key] = known
    return known


class Child(SQLModel, table=True):
    """A school-age child, enrolled or not."""

    __tablename__ = "child"
    __table_args__ = (
        sa.CheckConstraint(
            "household_region_code IS NOT NULL OR no_household_reason IS NOT NULL", name="ck_child_household_or_reason"
        ),
        sa.CheckConstraint(
            "national_id IS NOT NULL OR no_id_reason IS NOT NULL", name="ck_child_national_id_or_reason"
        ),
        sa.CheckConstraint(
            "residence_region_code IS NOT NULL OR household_region_code IS NOT NULL OR school_code IS NOT NULL",
            name="ck_child_has_a_place",
        ),
        sa.CheckConstraint(
            "(household_region_code IS NULL) = (household_path IS NULL)"
            " AND (residence_region_code IS NULL) = (residence_path IS NULL)",
            name="ck_child_paths_follow_codes",
        ),
        # Scoped lists read (path, id) in index order (issue 18 §1, migration 0026).
        *(sa.Index(f"ix_child_{c}", c, "id") for c in ("school_path", "household_path", "residence_path")),
        sa.Index(
            "ix_child_residence_elsewhere",
            "residence_path",
            "id",
            postgresql_where=sa.text("residence_path IS DISTINCT FROM household_path"),
            postgresql_include=["household_path"],  # counted index-only (migration 0028)
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    name: str = Field(max_length=50)
    gender: Gender = Field(sa_type=enum_type(Gender))
    birth_date: date = Field(index=True)  # the school-age window's partial months (migration 0029)
    national_id: str | None = Field(default=None, max_length=18, unique=True)
    registry_number: str | None = Field(default=None, max_length=20)
    special_groups: list[str] = Field(default_factory=list, sa_type=postgresql.ARRAY(sa.String(24)))
    disability_category: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    school_code: str | None = Field(default=None, foreign_key="school.code", index=True, max_length=10)
    grade: int | None = Field(default=None, ge=1, le=9)
    school_path: str | None = Field(default=None, sa_type=path_type())
    household_region_code: str | None = Field(default=None, foreign_key="region.code", max_length=12)
    household_path: str | None = Field(default=None, sa_type=path_type())
    no_household_reason: str | None = Field(default=None, max_length=100, description="无户籍原因")
    residence_region_code: str | None = Field(default=None, foreign_key="region.code", max_length=12)
    residence_path: str | None = Field(default=None, sa_type=path_type())
    no_id_reason: str | None = Field(default=None, max_length=100, description="无身份证号原因")
    province_code: str = Field(max_length=2, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()


def home_path(child: Child) -> str:
    """The child's place on the government line for logs and reports: the household registration, else the
    residence, else the school (a child from a school's roll whose home is not yet known)."""
    return home_path_of(child.household_path, child.residence_path, child.school_path)


def home_path_of(household_path: str | None, residence_path: str | None, school_path: str | None) -> str:
    """`home_path` of a child known by its paths alone (a row the compiled path read in SQL)."""
    return household_path or residence_path or school_path or ""


class Guardian(SQLModel, table=True):
    """A child's guardian (监护人). The phone is personal information: masked unless the role may see it."""

    __tablename__ = "guardian"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    name: str = Field(max_length=50)
    relation: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    province_code: str = Field(max_length=2)
    created_at: datetime = created_at_field()


def mask_phone(phone: str | None) -> str | None:
    """`138****5678`."""
    if phone is None:
        return None
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:]
