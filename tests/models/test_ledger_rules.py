"""The ledger rules of POLICY 003 (固政办发〔2021〕28号), annex 1, notes 1–2, as pure functions.

Note 1: 疑似辍学人数是指未到校上课超过一星期且未请假的学生数 (suspected: absent more than one week
without leave). Note 2: 辍学人数是疑似辍学超过一个月仍未到校且未请假的学生数 (dropout: a suspected
dropout still absent without leave more than one month later). Counted in school days; unknown is not
absent (issue 14 §1, README "School days and unknown days").
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.ledger_rules import (
    Action,
    DayMark,
    Mark,
    OpenEntry,
    Recorded,
    add_month,
    current_run,
    day_marks,
    escalation_day,
    next_action,
)
from models.school_calendar import CountyCalendar, DayKind

MONDAY = date(2026, 3, 2)
NATIONAL = CountyCalendar()  # no terms, no marked days: the national calendar
SCHOOL_DAYS = NATIONAL.school_days(date(2026, 1, 1), date(2026, 12, 31))


def marked(start: date, end: date, mark: Mark, calendar: CountyCalendar = NATIONAL) -> list[DayMark]:
    """The mark on every school day between start and end."""
    return [DayMark(d, mark) for d in calendar.school_days(start, end)]


def test_more_than_five_school_days_is_more_than_a_week_and_opens_on_the_sixth():
    """POLICY 003 annex 1 note 1: "超过一星期" is more than a school week: the 6th evidenced school day opens."""
    marks = marked(MONDAY, MONDAY + timedelta(14), Mark.ABSENT)
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(4), None) is Action.NONE  # Mon–Fri: five days
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(6), None) is Action.NONE  # the weekend adds none
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(7), None) is Action.OPEN_SUSPECTED
    run = current_run(marks, SCHOOL_DAYS, MONDAY + timedelta(7))
    assert run is not None
    assert (run.first, run.last, len(run.days), run.opens_on) == (
        MONDAY,
        MONDAY + timedelta(7),
        6,
        MONDAY + timedelta(7),
    )


def test_a_single_absence_followed_by_nothing_never_grows_into_a_week():
    """Issue 14 §1: unknown is not absent. One recorded absence, then no record: no entry, ever."""
    marks = [DayMark(MONDAY, Mark.ABSENT)]
    for later in (7, 14, 60):
        assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(later), None) is Action.NONE


def test_an_unknown_school_day_ends_the_run_and_does_not_extend_it():
    """Issue 14 §1: a school day with no record ends the run's evidence there; absences after it start afresh."""
    gap = MONDAY + timedelta(3)  # Thursday: no record
    marks = [m for m in marked(MONDAY, MONDAY + timedelta(11), Mark.ABSENT) if m.day != gap]
    run = current_run(marks, SCHOOL_DAYS, MONDAY + timedelta(11))
    assert run is not None
    assert (run.first, len(run.days)) == (MONDAY + timedelta(4), 6)  # Fri 6th … Thu 12th
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(10), None) is Action.NONE  # 5 since the gap
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(11), None) is Action.OPEN_SUSPECTED


def test_a_holiday_week_neither_counts_nor_breaks_a_run():
    """POLICY 003 annex 1 note 1 with the 2026 National Day holiday (1–7 Oct, Saturday 10th a make-up day):
    two school days absent before it and three after are five, not "more than a week"; the sixth opens."""
    before = [DayMark(date(2026, 9, 29), Mark.ABSENT), DayMark(date(2026, 9, 30), Mark.ABSENT)]
    after = marked(date(2026, 10, 1), date(2026, 10, 14), Mark.ABSENT)
    assert [m.day.day for m in after] == [8, 9, 10, 12, 13, 14]
    marks = before + after
    assert next_action(marks, SCHOOL_DAYS, date(2026, 10, 7), None) is Action.NONE  # 2 school days, a week on
    assert next_action(marks, SCHOOL_DAYS, date(2026, 10, 11), None) is Action.NONE  # 5
    assert next_action(marks, SCHOOL_DAYS, date(2026, 10, 12), None) is Action.OPEN_SUSPECTED  # 6
    run = current_run(marks, SCHOOL_DAYS, date(2026, 10, 12))
    assert run is not None
    assert (run.first, run.opens_on) == (date(2026, 9, 29), date(2026, 10, 12))


def test_a_province_day_off_and_a_county_day_off_are_not_school_days():
    """Issue 14 §1: the province's holidays and make-up days, and a county's local days off, shape the run."""
    off = MONDAY + timedelta(2)
    calendar = CountyCalendar(
        province_days={MONDAY + timedelta(5): DayKind.SCHOOL_DAY}, county_days_off=frozenset({off})
    )
    days = calendar.school_days(MONDAY, MONDAY + timedelta(9))
    assert (off in days, MONDAY + timedelta(5) in days) == (False, True)  # Wednesday off, Saturday a make-up day
    marks = [DayMark(d, Mark.ABSENT) for d in days]
    run = current_run(marks, days, MONDAY + timedelta(9))
    assert run is not None
    assert run.opens_on == MONDAY + timedelta(7)  # Mon, Tue, Thu, Fri, Sat, then Monday


def test_days_out_of_term_are_not_school_days():
    calendar = CountyCalendar(terms=((date(2026, 3, 2), date(2026, 7, 10)),))
    assert [calendar.is_school_day(date(2026, 7, d)) for d in (10, 13)] == [True, False]
    assert not calendar.is_school_day(date(2026, 2, 27))


def test_leave_is_not_absence_without_leave_and_covers_its_days():
    """POLICY 003 annex 1: 请假未到校 is counted separately, never as a dropout; a leave with an end date
    (POLICY 002 二(七)) covers the school days up to it that have no record of their own."""
    recorded = {d.day: Recorded(Mark.ABSENT) for d in marked(MONDAY, MONDAY + timedelta(4), Mark.ABSENT)}
    recorded[MONDAY + timedelta(7)] = Recorded(Mark.EXCUSED, leave_until=MONDAY + timedelta(11))
    marks = day_marks(recorded, [MONDAY + timedelta(9)], MONDAY, MONDAY + timedelta(14))
    assert {m.day: m.mark for m in marks}[MONDAY + timedelta(9)] is Mark.EXCUSED  # leave over the register
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(11), None) is Action.NONE


def test_a_day_at_school_breaks_the_run():
    marks = [
        *marked(MONDAY, MONDAY + timedelta(4), Mark.ABSENT),
        DayMark(MONDAY + timedelta(7), Mark.PRESENT),
        *marked(MONDAY + timedelta(8), MONDAY + timedelta(11), Mark.ABSENT),
    ]
    assert next_action(marks, SCHOOL_DAYS, MONDAY + timedelta(11), None) is Action.NONE


def test_a_present_mark_on_the_opening_day_means_no_entry_whatever_the_order():
    """Issue 14 §1: the rules give the same answer whichever order the day's register and the sweep come in."""
    five = marked(MONDAY, MONDAY + timedelta(4), Mark.ABSENT)
    sixth = MONDAY + timedelta(7)
    before_register = next_action(five, SCHOOL_DAYS, sixth, None)
    with_present = next_action([*five, DayMark(sixth, Mark.PRESENT)], SCHOOL_DAYS, sixth, None)
    with_absent = next_action([*five, DayMark(sixth, Mark.ABSENT)], SCHOOL_DAYS, sixth, None)
    assert (before_register, with_present, with_absent) == (Action.NONE, Action.NONE, Action.OPEN_SUSPECTED)


def test_still_absent_more_than_a_month_after_suspicion_becomes_dropout():
    """POLICY 003 annex 1 note 2: still absent more than one month later: the first school day after the
    same date a month on, the run unbroken through it."""
    opened = MONDAY + timedelta(7)  # 9 March
    marks = marked(MONDAY, date(2026, 4, 30), Mark.ABSENT)
    entry = OpenEntry("SUSPECTED", opened)
    assert next_action(marks, SCHOOL_DAYS, add_month(opened), entry) is Action.NONE  # exactly one month
    assert next_action(marks, SCHOOL_DAYS, add_month(opened) + timedelta(1), entry) is Action.ESCALATE_TO_DROPOUT
    assert escalation_day(marks, SCHOOL_DAYS, opened, date(2026, 4, 30)) == date(2026, 4, 10)


def test_a_month_with_a_gap_in_the_evidence_does_not_escalate():
    """Issue 14 §1: an unknown school day inside the month ends the evidence: no dropout on unknown days."""
    opened = MONDAY + timedelta(7)
    marks = [m for m in marked(MONDAY, date(2026, 4, 30), Mark.ABSENT) if m.day != date(2026, 3, 25)]
    assert next_action(marks, SCHOOL_DAYS, date(2026, 4, 30), OpenEntry("SUSPECTED", opened)) is Action.NONE


def test_attendance_resuming_marks_the_entry_returned():
    opened = MONDAY + timedelta(7)
    marks = [*marked(MONDAY, opened, Mark.ABSENT), DayMark(opened + timedelta(2), Mark.PRESENT)]
    as_of = opened + timedelta(2)
    assert next_action(marks, SCHOOL_DAYS, as_of, OpenEntry("SUSPECTED", opened)) is Action.MARK_RETURNED
    assert next_action(marks, SCHOOL_DAYS, as_of, OpenEntry("DROPOUT", opened)) is Action.MARK_RETURNED


def test_a_dropout_entry_is_not_escalated_again():
    marks = marked(MONDAY, date(2026, 5, 29), Mark.ABSENT)
    assert next_action(marks, SCHOOL_DAYS, date(2026, 5, 29), OpenEntry("DROPOUT", MONDAY)) is Action.NONE


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 12, 15), date(2027, 1, 15)),
        (date(2028, 1, 30), date(2028, 2, 29)),
    ],
)
def test_one_calendar_month_later(day, expected):
    assert add_month(day) == expected
