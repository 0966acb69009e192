"""Per-province and per-city settings: the rules a province (or a city, for itself) may set differently
from the national defaults. Each bound is declared once here (`BOUNDS`): the tables and the GraphQL
inputs (`updateProvinceSettings`) read it."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import updated_at_field, version_field

# The school-age cut-off (入学年龄截止日): ages are counted on 31 August unless a province says otherwise.
DEFAULT_CUTOFF = (8, 31)
SCHOOL_AGE = (6, 15)  # compulsory-education ages, inclusive, on the cut-off day

# Inclusive bounds of each numeric setting. The cut-off day is also a day of its month, 29 February
# excepted (it is not a day of every year); the school's due day stops at 28, a day of every month.
BOUNDS: dict[str, tuple[int, int]] = {
    "age_cutoff_month": (1, 12),
    "age_cutoff_day": (1, 31),
    "school_report_due_day": (1, 28),
    "county_report_due_days": (0, 90),
    "city_report_due_days": (0, 90),
    "primary_leaver_days": (0, 180),
    "bimonth_report_due_day": (1, 28),
    "term_start_report_days": (1, 60),
    # Days a county has to verify a child of a pushed-down list (下发核实, POLICY 004 §9; models/verification.py).
    "verification_days": (1, 90),
}

# 小升初 (POLICY 003 二(二), docs/POLICY.md "Key transitions"): a pupil who finished primary grade 6 and holds
# no junior-school place this many days after the autumn term start is listed for the county. Thirty days:
# a month, the dropout definition's span (003 annex 1 note 2), twice the 15-day unreported check (002 一(三)).
DEFAULT_PRIMARY_LEAVER_DAYS = 30


def _setting(default: Any, **kwargs: Any) -> Any:
    """A setting column with the same default in Python and in the database (rows added before it)."""
    server = ("true" if default else "false") if isinstance(default, bool) else str(default)
    return Field(default=default, sa_column_kwargs={"server_default": server}, **kwargs)


def _bounded(name: str, default: int) -> Any:
    low, high = BOUNDS[name]
    return _setting(default, ge=low, le=high)


def cutoff_day_fits(month: int, day: int) -> bool:
    """Is (month, day) a day of every year (29 February is not)?"""
    return day <= calendar.monthrange(2001, month)[1]


class ProvinceSetting(SQLModel, table=True):
    """Reporting deadlines and switches (models/reporting_calendar.py) default to `DEFAULT_RULES`.

    No row means the defaults everywhere; `version` counts the changes made through the API
    (`updateProvinceSettings`), 0 before the first."""

    __tablename__ = "province_setting"

    province_code: str = Field(primary_key=True, max_length=2)
    age_cutoff_month: int = Field(default=DEFAULT_CUTOFF[0], ge=1, le=BOUNDS["age_cutoff_month"][1])
    age_cutoff_day: int = Field(default=DEFAULT_CUTOFF[1], ge=1, le=BOUNDS["age_cutoff_day"][1])
    # The reporting chain (四个一, POLICY 004 §4–§7).
    school_report_due_day: int = _bounded("school_report_due_day", 5)
    county_report_due_days: int = _bounded("county_report_due_days", 15)
    city_report_due_days: int = _bounded("city_report_due_days", 15)
    # The ministry's bimonthly dispatch (双月报, POLICY 004 §9): day of the month after the two months.
    bimonth_report_due_day: int = _bounded("bimonth_report_due_day", 10)
    late_submission_allowed: bool = _setting(True)
    cosign_required: bool = _setting(True)
    spring_term_start_month: int = _setting(3, ge=1, le=12)
    spring_term_start_day: int = _setting(1, ge=1, le=31)
    autumn_term_start_month: int = _setting(9, ge=1, le=12)
    autumn_term_start_day: int = _setting(1, ge=1, le=31)
    primary_leaver_days: int = _bounded("primary_leaver_days", DEFAULT_PRIMARY_LEAVER_DAYS)
    # 开学后15天内未报到 (POLICY 002 一(三)): the unreported list's window, calendar days from the term start.
    term_start_report_days: int = _bounded("term_start_report_days", 15)
    # Pushed-down lists (POLICY 004 §9): a routed child is verified within this many days (default: Baicheng's
    # 15-day verification, POLICY 002 一(三)).
    verification_days: int = _bounded("verification_days", 15)
    updated_at: datetime = updated_at_field()
    version: int = version_field()


class CitySetting(SQLModel, table=True):
    """What a city sets for itself: whether its counties keep Guyuan's term survey (固原市, POLICY 003
    §2(二)), a city's calendar, not a whole province's. No row: off. `version` as for a province."""

    __tablename__ = "city_setting"

    city_code: str = Field(primary_key=True, max_length=4)
    province_code: str = Field(max_length=2, index=True)
    term_survey_enabled: bool = _setting(False)
    updated_at: datetime = updated_at_field()
    version: int = version_field()


def school_age_birth_window(cutoff: date) -> tuple[date, date]:
    """(born after, born on or before): aged 6–15 on the cut-off day, i.e. born in those 10 years."""
    youngest, oldest = SCHOOL_AGE
    return (_years_before(cutoff, oldest + 1), _years_before(cutoff, youngest))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_on_sql(birth: Any, day: date) -> Any:
    """`age_on` in SQL, for a birth-date column on a given day (the compiled school-age ledger; a test
    holds the two equal over generated dates, 29 February included)."""
    month, day_of_month = sa.func.extract("month", birth), sa.func.extract("day", birth)
    before = sa.tuple_(sa.literal(day.month), sa.literal(day.day)) < sa.tuple_(month, day_of_month)
    years = sa.literal(day.year) - sa.func.extract("year", birth) - sa.case((before, 1), else_=0)
    return sa.cast(years, sa.Integer)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
