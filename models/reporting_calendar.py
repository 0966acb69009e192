"""Reporting periods and deadlines of the "four ones" (四个一, POLICY 004 §4–§7), as pure functions.

- MONTH `2026-03`: the calendar month; due on day 5 of the next month (school, 004 §4).
- QUARTER `2026-Q1`: Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec; due 15 days after it (county, 004 §5).
- SEMESTER `2026-SPRING` (1 Jan–30 Jun) / `2026-AUTUMN` (1 Jul–31 Dec); due 15 days after (city, 004 §6).
- SCHOOL_YEAR `2025-2026`: 1 Sep 2025–31 Aug 2026; due 31 July 2026, fixed by the ministry (004 §7).
- BIMONTH `2026-B1` … `2026-B6`: Jan–Feb, Mar–Apr, …, Nov–Dec; the province's bimonthly report to the
  ministry (双月报, POLICY 004 §9), due on day 10 of the month after the two months (a province setting).
- TERM_SURVEY `2026-SPRING-OPENING` / `-MIDTERM` / `-CLOSING`: Guyuan's survey (003 §2(二)), as of the
  survey day and due on it (003 annex 1 note 4: the tables are sent *on* those days).
- TERM_START `2026-AUTUMN`: a school's unreported list (未报到名单, POLICY 002 一(三)) of the term's first
  `term_start_report_days` days (default 15, calendar days from the province's term start); drafted once
  they are over, due `TERM_START_DUE_DAYS` after ("及时书面报告").

The school, county and city deadlines are the defaults; a province sets its own in `province_setting`.

Semesters are half-years so that two county quarters make one city semester and both end on
Guyuan's term-end dates (end of June, end of December); a school year's assessment covers the two
semesters that end inside it (autumn of its first year, spring of its second), both due before 31 July.

Guyuan's extra calendar (POLICY 003 §2(二), annex 1 note 4) is the cadence TERM_SURVEY, on for a
city with `city_setting.term_survey_enabled` (a city's choice, 固原市): the Friday of the first week of
term (the first Friday on or after the term start), mid-term (end of April / October) and term end
(end of June / December).
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from .province import ProvinceSetting


class ReportLevel(enum.StrEnum):
    SCHOOL = "SCHOOL"  # 学校一月一报告
    COUNTY = "COUNTY"  # 县区一季度一复核
    CITY = "CITY"  # 地市一学期一调研
    PROVINCE = "PROVINCE"  # 省级一学年一评估


class Cadence(enum.StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    SEMESTER = "SEMESTER"
    SCHOOL_YEAR = "SCHOOL_YEAR"
    TERM_SURVEY = "TERM_SURVEY"  # Guyuan: 开学第一周周五、学期中（4月、10月底）、学期末（6月、12月底）
    BIMONTH = "BIMONTH"  # 双月报: the province to the ministry every two months (POLICY 004 §9)
    TERM_START = "TERM_START"  # 开学后15天内未报到学生名单 (POLICY 002 一(三)), a school's


# Each level's regular cadence (POLICY 004 §4–§7). TERM_SURVEY is an extra calendar a county reports on.
CADENCE_OF_LEVEL: dict[ReportLevel, Cadence] = {
    ReportLevel.SCHOOL: Cadence.MONTH,
    ReportLevel.COUNTY: Cadence.QUARTER,
    ReportLevel.CITY: Cadence.SEMESTER,
    ReportLevel.PROVINCE: Cadence.SCHOOL_YEAR,
}

# What an aggregate report sums: the approved reports of the level below (004 §5–§7).
SOURCE_LEVEL: dict[ReportLevel, ReportLevel] = {
    ReportLevel.COUNTY: ReportLevel.SCHOOL,
    ReportLevel.CITY: ReportLevel.COUNTY,
    ReportLevel.PROVINCE: ReportLevel.CITY,
}

MINISTRY_DUE = (7, 31)  # 本省份学年度控辍保学评估结果于每年7月底前报教育部 (004 §7)
TERM_START_DUE_DAYS = 5  # the unreported list goes to the county bureau promptly (及时) after the window


@dataclass(frozen=True)
class ReportingRules:
    """A province's deadlines and switches; `DEFAULT_RULES` where a province sets nothing."""

    school_due_day: int = 5  # the day of the month after the reported month
    county_due_days: int = 15  # days after the quarter's last day
    city_due_days: int = 15  # days after the semester's last day
    late_submission_allowed: bool = True  # else a late submission is refused (DEADLINE_PASSED)
    cosign_required: bool = True  # the county government countersigns the county report (004 §5)
    bimonth_due_day: int = 10  # the day of the month after a bimonthly period (双月报)
    spring_term_start: tuple[int, int] = (3, 1)  # (month, day)
    autumn_term_start: tuple[int, int] = (9, 1)
    term_start_report_days: int = 15  # 开学后15天内 (POLICY 002 一(三)), calendar days
    # The province's terms as its school calendar records them (first day, last day); they take
    # precedence over the term starts above for the unreported list (`term_start_window`).
    recorded_terms: tuple[tuple[date, date], ...] = ()


DEFAULT_RULES = ReportingRules()


@dataclass(frozen=True)
class Period:
    """One reporting period: its code, the days it covers (inclusive) and its deadline."""

    cadence: Cadence
    code: str
    start: date
    end: date
    due: date


class TermPoint(enum.StrEnum):
    OPENING = "OPENING"  # 开学后第一周周五
    MIDTERM = "MIDTERM"  # 学期中（4月、10月底）
    CLOSING = "CLOSING"  # 学期末（6月、12月底）


_PATTERNS = {
    Cadence.MONTH: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    Cadence.QUARTER: re.compile(r"^(\d{4})-Q([1-4])$"),
    Cadence.SEMESTER: re.compile(r"^(\d{4})-(SPRING|AUTUMN)$"),
    Cadence.SCHOOL_YEAR: re.compile(r"^(\d{4})-(\d{4})$"),
    Cadence.TERM_SURVEY: re.compile(r"^(\d{4})-(SPRING|AUTUMN)-(OPENING|MIDTERM|CLOSING)$"),
    Cadence.BIMONTH: re.compile(r"^(\d{4})-B([1-6])$"),
    Cadence.TERM_START: re.compile(r"^(\d{4})-(SPRING|AUTUMN)$"),
}
PERIOD_FORMATS = {
    Cadence.MONTH: "YYYY-MM",
    Cadence.QUARTER: "YYYY-Qn",
    Cadence.SEMESTER: "YYYY-SPRING | YYYY-AUTUMN",
    Cadence.SCHOOL_YEAR: "YYYY-YYYY",
    Cadence.TERM_SURVEY: "YYYY-SPRING|AUTUMN-OPENING|MIDTERM|CLOSING",
    Cadence.BIMONTH: "YYYY-Bn (n = 1–6)",
    Cadence.TERM_START: "YYYY-SPRING | YYYY-AUTUMN",
}


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day_in_month(year: int, month: int, day: int) -> date:
    """`day` of the month, or its last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def first_friday_on_or_after(day: date) -> date:
    """The Friday of a term's first week (开学后第一周周五): the term start itself if it is a Friday."""
    return day + timedelta(days=(4 - day.weekday()) % 7)


def term_start(year: int, half: str, rules: ReportingRules) -> date:
    month, day = rules.spring_term_start if half == "SPRING" else rules.autumn_term_start
    return _day_in_month(year, month, day)


def parse_period(cadence: Cadence, code: str, rules: ReportingRules = DEFAULT_RULES) -> Period | None:
    """The period a code names for this cadence, or None when the code is not one of its periods."""
    match = _PATTERNS[cadence].match(code)
    if match is None:
        return None
    year = int(match.group(1))
    if not 2000 <= year <= 2099:
        return None
    if cadence is Cadence.MONTH:
        month = int(match.group(2))
        next_year, next_month = _next_month(year, month)
        return Period(
            cadence,
            code,
            date(year, month, 1),
            month_end(year, month),
            _day_in_month(next_year, next_month, rules.school_due_day),
        )
    if cadence is Cadence.QUARTER:
        first = 3 * (int(match.group(2)) - 1) + 1
        end = month_end(year, first + 2)
        return Period(cadence, code, date(year, first, 1), end, end + timedelta(days=rules.county_due_days))
    if cadence is Cadence.SEMESTER:
        spring = match.group(2) == "SPRING"
        start, end = (date(year, 1, 1), date(year, 6, 30)) if spring else (date(year, 7, 1), date(year, 12, 31))
        return Period(cadence, code, start, end, end + timedelta(days=rules.city_due_days))
    if cadence is Cadence.BIMONTH:
        first = 2 * int(match.group(2)) - 1
        next_year, next_month = _next_month(year, first + 1)
        return Period(
            cadence,
            code,
            date(year, first, 1),
            month_end(year, first + 1),
            _day_in_month(next_year, next_month, rules.bimonth_due_day),
        )
    if cadence is Cadence.SCHOOL_YEAR:
        if int(match.group(2)) != year + 1:
            return None
        return Period(cadence, code, date(year, 9, 1), date(year + 1, 8, 31), date(year + 1, *MINISTRY_DUE))
    if cadence is Cadence.TERM_START:
        window = term_start_window(year, match.group(2), rules)
        return Period(
            cadence, code, window.first_day, window.last_day, window.last_day + timedelta(TERM_START_DUE_DAYS)
        )
    return _term_survey(code, year, match.group(2), TermPoint(match.group(3)), rules)


@dataclass(frozen=True)
class TermStartWindow:
    """The days a term's unreported list is taken over (POLICY 002 一(三): 每学期开学后15天内): the
    term's first day to `last_day`, and the day the previous term ended (who was enrolled then)."""

    term: str
    previous_term_end: date
    first_day: date
    last_day: date


def term_start_window(year: int, half: str, rules: ReportingRules = DEFAULT_RULES) -> TermStartWindow:
    """A term's reporting window: from the province's recorded term starting in that half-year (its
    school calendar), else the term start of its settings, for `term_start_report_days` calendar days.
    The previous term ended on the recorded term's last day before it, else at the half-year's end
    before (31 December, 30 June)."""
    spring = half == "SPRING"
    lo, hi = (date(year, 1, 1), date(year, 6, 30)) if spring else (date(year, 7, 1), date(year, 12, 31))
    recorded = sorted(t for t in rules.recorded_terms if lo <= t[0] <= hi)
    first = recorded[0][0] if recorded else term_start(year, half, rules)
    before = [last for start, last in rules.recorded_terms if last < first and start < first]
    previous_end = max(before) if before else lo - timedelta(days=1)
    return TermStartWindow(
        f"{year}-{half}", previous_end, first, first + timedelta(days=rules.term_start_report_days - 1)
    )


def _term_survey(code: str, year: int, half: str, point: TermPoint, rules: ReportingRules) -> Period:
    opening = first_friday_on_or_after(term_start(year, half, rules))
    mid, close = (
        (month_end(year, 4), month_end(year, 6)) if half == "SPRING" else (month_end(year, 10), date(year, 12, 31))
    )
    start, end = {
        TermPoint.OPENING: (term_start(year, half, rules), opening),
        TermPoint.MIDTERM: (opening + timedelta(days=1), mid),
        TermPoint.CLOSING: (mid + timedelta(days=1), close),
    }[point]
    # 003 annex 1 note 4: the county sends its tables *on* the survey day (开学后第一周周五和学期中（4月、
    # 10月底）、学期末（6月、12月底）将统计表…发至), as of that day: due on it, drafted from it.
    return Period(Cadence.TERM_SURVEY, code, start, end, end)


def period_containing(cadence: Cadence, day: date, rules: ReportingRules = DEFAULT_RULES) -> Period | None:
    """The period of this cadence that covers `day` (a term survey: None between terms)."""
    y = day.year
    if cadence is Cadence.MONTH:
        code = f"{y}-{day.month:02d}"
    elif cadence is Cadence.QUARTER:
        code = f"{y}-Q{(day.month - 1) // 3 + 1}"
    elif cadence is Cadence.SEMESTER:
        code = f"{y}-{'SPRING' if day.month <= 6 else 'AUTUMN'}"
    elif cadence is Cadence.BIMONTH:
        code = f"{y}-B{(day.month + 1) // 2}"
    elif cadence is Cadence.SCHOOL_YEAR:
        first = y if day.month >= 9 else y - 1
        code = f"{first}-{first + 1}"
    elif cadence is Cadence.TERM_START:
        code = f"{y}-{'SPRING' if day.month <= 6 else 'AUTUMN'}"
    else:
        return next((p for p in term_surveys(y, rules) if p.start <= day <= p.end), None)
    return parse_period(cadence, code, rules)


def term_surveys(year: int, rules: ReportingRules = DEFAULT_RULES) -> list[Period]:
    """Guyuan's six survey points of a calendar year, in order."""
    return [
        _term_survey(f"{year}-{half}-{point}", year, half, point, rules)
        for half in ("SPRING", "AUTUMN")
        for point in TermPoint
    ]


def periods_within(cadence: Cadence, outer: Period, rules: ReportingRules = DEFAULT_RULES) -> list[Period]:
    """The periods of `cadence` that end inside `outer`, in order: a quarter's three months, a semester's
    two quarters, a school year's two semesters (the autumn of its first year, the spring of its second)."""
    found: list[Period] = []
    day = outer.start
    while day <= outer.end:
        period = period_containing(cadence, day, rules)
        if period is None:
            day += timedelta(days=1)
            continue
        if period.end <= outer.end:
            found.append(period)
        day = period.end + timedelta(days=1)
    return found


def figures_as_of(period: Period) -> date:
    """The day a report's figures describe: the period's last day. A school year's assessment is due
    on 31 July, before the year ends, so it describes the year as of its spring semester's end (30 June)."""
    if period.cadence is Cadence.SCHOOL_YEAR:
        return date(period.end.year, 6, 30)
    return period.end


def first_drafting_day(period: Period) -> date:
    """The first day a report of the period may be drafted: the day after its figures' day, which must
    be over; a term survey on its survey day itself, the day it is counted and due (003 annex 1 note 4)."""
    as_of = figures_as_of(period)
    return as_of if period.cadence is Cadence.TERM_SURVEY else as_of + timedelta(days=1)


def days_late(due: date, submitted_on: date) -> int:
    """Whole days after the deadline (0 when on time)."""
    return max(0, (submitted_on - due).days)


def rules_of(setting: ProvinceSetting | None, recorded_terms: tuple[tuple[date, date], ...] = ()) -> ReportingRules:
    """A province's reporting rules: its `province_setting` row, or the defaults; with its recorded terms."""
    if setting is None:
        return ReportingRules(recorded_terms=recorded_terms)
    return ReportingRules(
        school_due_day=setting.school_report_due_day,
        county_due_days=setting.county_report_due_days,
        city_due_days=setting.city_report_due_days,
        bimonth_due_day=setting.bimonth_report_due_day,
        late_submission_allowed=setting.late_submission_allowed,
        cosign_required=setting.cosign_required,
        spring_term_start=(setting.spring_term_start_month, setting.spring_term_start_day),
        autumn_term_start=(setting.autumn_term_start_month, setting.autumn_term_start_day),
        term_start_report_days=setting.term_start_report_days,
        recorded_terms=recorded_terms,
    )
