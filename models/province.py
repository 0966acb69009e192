"""Per-province settings: the rules a province may set differently from the national defaults."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from .base import updated_at_field

# The school-age cut-off (入学年龄截止日): ages are counted on 31 August unless a province says otherwise.
DEFAULT_CUTOFF = (8, 31)
SCHOOL_AGE = (6, 15)  # compulsory-education ages, inclusive, on the cut-off day


def _setting(default: Any, **kwargs: Any) -> Any:
    """A setting column with the same default in Python and in the database (rows added before it)."""
    server = ("true" if default else "false") if isinstance(default, bool) else str(default)
    return Field(default=default, sa_column_kwargs={"server_default": server}, **kwargs)


class ProvinceSetting(SQLModel, table=True):
    """Reporting deadlines and switches (models/reporting_calendar.py) default to `DEFAULT_RULES`."""

    __tablename__ = "province_setting"

    province_code: str = Field(primary_key=True, max_length=2)
    age_cutoff_month: int = Field(default=DEFAULT_CUTOFF[0], ge=1, le=12)
    age_cutoff_day: int = Field(default=DEFAULT_CUTOFF[1], ge=1, le=31)
    # The reporting chain (四个一, POLICY 004 §4–§7).
    school_report_due_day: int = _setting(5, ge=1, le=28)
    county_report_due_days: int = _setting(15, ge=0, le=90)
    city_report_due_days: int = _setting(15, ge=0, le=90)
    late_submission_allowed: bool = _setting(True)
    cosign_required: bool = _setting(True)
    term_survey_enabled: bool = _setting(False)
    spring_term_start_month: int = _setting(3, ge=1, le=12)
    spring_term_start_day: int = _setting(1, ge=1, le=31)
    autumn_term_start_month: int = _setting(9, ge=1, le=12)
    autumn_term_start_day: int = _setting(1, ge=1, le=31)
    updated_at: datetime = updated_at_field()


def school_age_birth_window(cutoff: date) -> tuple[date, date]:
    """(born after, born on or before): aged 6–15 on the cut-off day, i.e. born in those 10 years."""
    youngest, oldest = SCHOOL_AGE
    return (_years_before(cutoff, oldest + 1), _years_before(cutoff, youngest))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
