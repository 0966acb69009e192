"""The school calendar (校历): which days are school days, the only days attendance counts on
(POLICY 003 annex 1 notes 1–2, issue 14 §1).

A day is a school day of a county when it lies in one of its province's terms (a province that has
recorded no term: every day is in term), is not one of the county's local days off, and is either
marked a school day by the province (a make-up day, 调课) or, unmarked, a working day of the national
calendar: Monday to Friday less the State Council's public holidays, plus its make-up working days
(the `chinesecalendar` package; for a year it does not know yet, Monday to Friday).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar  # type: ignore[import-untyped]
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, version_field


class DayKind(enum.StrEnum):
    DAY_OFF = "DAY_OFF"  # no school: a holiday, a local day off
    SCHOOL_DAY = "SCHOOL_DAY"  # school on a day that would be off: a make-up day (调课)


class DaySource(enum.StrEnum):
    NATIONAL = "NATIONAL"  # the State Council's holidays and make-up working days
    PROVINCE = "PROVINCE"
    COUNTY = "COUNTY"


class SchoolCalendar(SQLModel, table=True):
    """One region's calendar of one year (a province's or a county's): who kept it last, its version."""

    __tablename__ = "school_calendar"

    region_path: str = Field(primary_key=True, sa_type=path_type())
    year: int = Field(primary_key=True, ge=2000, le=2100)
    province_code: str = Field(max_length=2, index=True)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = created_at_field()
    version: int = version_field()


class SchoolTerm(SQLModel, table=True):
    """A term (学期) of a province: its first and last day. It belongs to the year of its first day."""

    __tablename__ = "school_term"

    province_code: str = Field(primary_key=True, max_length=2)
    first_day: date = Field(primary_key=True)
    last_day: date


class SchoolCalendarDay(SQLModel, table=True):
    """A day a province or county marks against the national calendar."""

    __tablename__ = "school_calendar_day"

    region_path: str = Field(primary_key=True, sa_type=path_type())
    day: date = Field(primary_key=True)
    kind: DayKind = Field(sa_type=enum_type(DayKind))
    note: str = Field(default="", max_length=100)
    province_code: str = Field(max_length=2, index=True)


def national_working_day(day: date) -> bool:
    """A working day of the State Council's calendar; Monday to Friday for a year it has not published."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def national_days(year: int) -> dict[date, tuple[DayKind, str]]:
    """The year's national exceptions to Monday–Friday: holidays on weekdays, make-up days on weekends."""
    out: dict[date, tuple[DayKind, str]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return {}
        weekday = day.weekday() < 5
        if weekday and on_holiday:
            out[day] = (DayKind.DAY_OFF, _holiday_name(name))
        elif not weekday and not on_holiday:
            out[day] = (DayKind.SCHOOL_DAY, f"{_holiday_name(name)}调休上课")
        day += timedelta(days=1)
    return out


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _holiday_name(name: object) -> str:
    text = str(name or "")
    return HOLIDAY_NAMES.get(text, text)


@dataclass(frozen=True)
class CountyCalendar:
    """What decides a county's school days: its province's terms and days, its own days off."""

    terms: tuple[tuple[date, date], ...] = ()
    province_days: Mapping[date, DayKind] = field(default_factory=dict)
    county_days_off: frozenset[date] = frozenset()

    def in_term(self, day: date) -> bool:
        return not self.terms or any(first <= day <= last for first, last in self.terms)

    def is_school_day(self, day: date) -> bool:
        if not self.in_term(day) or day in self.county_days_off:
            return False
        kind = self.province_days.get(day)
        return kind is DayKind.SCHOOL_DAY if kind is not None else national_working_day(day)

    def school_days(self, first: date, last: date) -> list[date]:
        """The school days from `first` to `last`, both included, in order."""
        return [
            first + timedelta(days=n)
            for n in range((last - first).days + 1)
            if self.is_school_day(first + timedelta(days=n))
        ]


def county_of(path: str) -> str:
    """The county part of a school's or region's path (province/city/county)."""
    return "/".join(path.split("/")[:3])
