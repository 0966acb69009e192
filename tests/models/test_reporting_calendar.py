"""Reporting periods and deadlines of the "four ones" (四个一): POLICY 004 §4 (school, monthly), §5 (county,
quarterly), §6 (city, each semester), §7 (province, each school year, due to the ministry by 31 July),
and Guyuan's survey calendar (POLICY 003 §2(二), annex 1 note 4: the first week's Friday, end of April /
October, end of June / December)."""

from __future__ import annotations

from datetime import date

import pytest

from models.province import ProvinceSetting
from models.reporting_calendar import (
    DEFAULT_RULES,
    Cadence,
    ReportingRules,
    days_late,
    first_drafting_day,
    first_friday_on_or_after,
    parse_period,
    period_containing,
    periods_within,
    rules_of,
    term_surveys,
)


@pytest.mark.parametrize(
    ("cadence", "code", "start", "end", "due"),
    [
        (Cadence.MONTH, "2026-03", date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 5)),
        (Cadence.MONTH, "2026-12", date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 5)),
        (Cadence.MONTH, "2028-02", date(2028, 2, 1), date(2028, 2, 29), date(2028, 3, 5)),
        (Cadence.QUARTER, "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 15)),
        (Cadence.QUARTER, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 15)),
        (Cadence.SEMESTER, "2026-SPRING", date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 15)),
        (Cadence.SEMESTER, "2026-AUTUMN", date(2026, 7, 1), date(2026, 12, 31), date(2027, 1, 15)),
        (Cadence.SCHOOL_YEAR, "2025-2026", date(2025, 9, 1), date(2026, 8, 31), date(2026, 7, 31)),
    ],
)
def test_each_cadence_has_its_periods_and_default_deadlines(cadence, code, start, end, due):
    period = parse_period(cadence, code)
    assert period is not None
    assert (period.start, period.end, period.due) == (start, end, due)


@pytest.mark.parametrize(
    ("cadence", "code"),
    [
        (Cadence.MONTH, "2026-13"),
        (Cadence.MONTH, "2026-3"),
        (Cadence.MONTH, "2026-Q1"),
        (Cadence.QUARTER, "2026-Q5"),
        (Cadence.SEMESTER, "2026-SUMMER"),
        (Cadence.SCHOOL_YEAR, "2025-2027"),
        (Cadence.TERM_SURVEY, "2026-SPRING-MIDDLE"),
        (Cadence.MONTH, "1999-01"),
    ],
)
def test_codes_of_another_shape_are_not_periods(cadence, code):
    assert parse_period(cadence, code) is None


def test_the_province_assessment_is_due_to_the_ministry_before_its_school_year_ends():
    """POLICY 004 §7: 本省份学年度控辍保学评估结果于每年7月底前报教育部 — whatever the province's settings."""
    rules = ReportingRules(school_due_day=10, county_due_days=30, city_due_days=5)
    period = parse_period(Cadence.SCHOOL_YEAR, "2026-2027", rules)
    assert period is not None
    assert period.due == date(2027, 7, 31) < period.end


def test_a_province_sets_its_own_deadlines():
    rules = ReportingRules(school_due_day=31, county_due_days=30, city_due_days=0)
    assert parse_period(Cadence.MONTH, "2026-01", rules).due == date(2026, 2, 28)  # type: ignore[union-attr]
    assert parse_period(Cadence.QUARTER, "2026-Q2", rules).due == date(2026, 7, 30)  # type: ignore[union-attr]
    assert parse_period(Cadence.SEMESTER, "2026-SPRING", rules).due == date(2026, 6, 30)  # type: ignore[union-attr]


def test_settings_become_rules_and_no_row_means_the_defaults():
    assert rules_of(None) == DEFAULT_RULES
    setting = ProvinceSetting(
        province_code="64",
        school_report_due_day=8,
        county_report_due_days=10,
        city_report_due_days=20,
        late_submission_allowed=False,
        cosign_required=False,
        spring_term_start_month=2,
        spring_term_start_day=24,
        autumn_term_start_month=9,
        autumn_term_start_day=1,
    )
    rules = rules_of(setting)
    assert (rules.school_due_day, rules.county_due_days, rules.city_due_days) == (8, 10, 20)
    assert (rules.late_submission_allowed, rules.cosign_required) == (False, False)
    assert rules.spring_term_start == (2, 24)


@pytest.mark.parametrize(
    ("term_start", "friday"),
    [
        (date(2026, 3, 2), date(2026, 3, 6)),  # a Monday: that week's Friday
        (date(2026, 3, 6), date(2026, 3, 6)),  # a Friday: the same day
        (date(2026, 2, 28), date(2026, 3, 6)),  # a Saturday: the next week's Friday
    ],
)
def test_the_first_weeks_friday(term_start, friday):
    """POLICY 003 annex 1 note 4: 每学期开学后第一周周五."""
    assert first_friday_on_or_after(term_start) == friday


def test_guyuan_survey_points_follow_the_terms_and_are_due_on_the_point():
    """POLICY 003 §2(二) and annex 1 note 4: "各县（区）每学期开学后第一周周五和学期中（4月、10月底）、学期末
    （6月、12月底）将统计表……发至固原市教育体育局": the tables are sent ON each survey point, not days after it,
    whatever a province's other deadlines are."""
    rules = ReportingRules(spring_term_start=(3, 2), autumn_term_start=(9, 1), school_due_day=10)
    points = term_surveys(2026, rules)
    assert [(p.code, p.start, p.end, p.due) for p in points] == [
        ("2026-SPRING-OPENING", date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 6)),  # the first week's Friday
        ("2026-SPRING-MIDTERM", date(2026, 3, 7), date(2026, 4, 30), date(2026, 4, 30)),  # 4月底
        ("2026-SPRING-CLOSING", date(2026, 5, 1), date(2026, 6, 30), date(2026, 6, 30)),  # 6月底
        ("2026-AUTUMN-OPENING", date(2026, 9, 1), date(2026, 9, 4), date(2026, 9, 4)),
        ("2026-AUTUMN-MIDTERM", date(2026, 9, 5), date(2026, 10, 31), date(2026, 10, 31)),  # 10月底
        ("2026-AUTUMN-CLOSING", date(2026, 11, 1), date(2026, 12, 31), date(2026, 12, 31)),  # 12月底
    ]
    # Counted and sent on the day: a county may draft it on the survey day, a month's report only after.
    assert [first_drafting_day(p) for p in points[:2]] == [date(2026, 3, 6), date(2026, 4, 30)]
    month = parse_period(Cadence.MONTH, "2026-04", rules)
    assert month is not None
    assert first_drafting_day(month) == date(2026, 5, 1)
    assert parse_period(Cadence.TERM_SURVEY, "2026-AUTUMN-MIDTERM", rules) == points[4]
    assert period_containing(Cadence.TERM_SURVEY, date(2026, 8, 1), rules) is None  # between terms


def test_periods_nest_up_the_chain():
    """A quarter holds three months, a semester two quarters, a school year the two semesters ending in it."""
    quarter = parse_period(Cadence.QUARTER, "2026-Q1")
    semester = parse_period(Cadence.SEMESTER, "2026-AUTUMN")
    year = parse_period(Cadence.SCHOOL_YEAR, "2025-2026")
    assert quarter is not None
    assert semester is not None
    assert year is not None
    assert [p.code for p in periods_within(Cadence.MONTH, quarter)] == ["2026-01", "2026-02", "2026-03"]
    assert [p.code for p in periods_within(Cadence.QUARTER, semester)] == ["2026-Q3", "2026-Q4"]
    assert [p.code for p in periods_within(Cadence.SEMESTER, year)] == ["2025-AUTUMN", "2026-SPRING"]


@pytest.mark.parametrize(
    ("cadence", "day", "code"),
    [
        (Cadence.MONTH, date(2026, 3, 31), "2026-03"),
        (Cadence.QUARTER, date(2026, 4, 1), "2026-Q2"),
        (Cadence.SEMESTER, date(2026, 6, 30), "2026-SPRING"),
        (Cadence.SCHOOL_YEAR, date(2026, 8, 31), "2025-2026"),
        (Cadence.SCHOOL_YEAR, date(2026, 9, 1), "2026-2027"),
    ],
)
def test_the_period_containing_a_day(cadence, day, code):
    period = period_containing(cadence, day, DEFAULT_RULES)
    assert period is not None
    assert period.code == code


def test_days_late_counts_whole_days_after_the_deadline():
    due = date(2026, 4, 5)
    assert [days_late(due, d) for d in (date(2026, 4, 4), due, date(2026, 4, 6), date(2026, 5, 5))] == [0, 0, 1, 30]
