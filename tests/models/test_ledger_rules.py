"""The ledger rules of POLICY 003 (固政办发〔2021〕28号), annex 1, notes 1–2, as pure functions.

Note 1: 疑似辍学人数是指未到校上课超过一星期且未请假的学生数 (suspected: absent more than one week
without leave). Note 2: 辍学人数是疑似辍学超过一个月仍未到校且未请假的学生数 (dropout: a suspected
dropout still absent without leave more than one month later).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.ledger_rules import (
    Action,
    DayMark,
    Mark,
    OpenEntry,
    add_month,
    calendar_days_absent,
    next_action,
    suspected_threshold_day,
)

MONDAY = date(2026, 3, 2)


def school_days(start: date, end: date, mark: Mark) -> list[DayMark]:
    """Marks for the weekdays between start and end (weekends carry no mark)."""
    days = (start + timedelta(n) for n in range((end - start).days + 1))
    return [DayMark(d, mark) for d in days if d.weekday() < 5]


def test_absence_counts_calendar_days_across_a_weekend():
    marks = school_days(MONDAY, MONDAY + timedelta(7), Mark.ABSENT)  # Mon … next Mon
    assert calendar_days_absent(marks, MONDAY + timedelta(7)) == 8


def test_one_week_is_not_yet_suspected_more_than_one_week_is():
    """POLICY 003 annex 1 note 1: more than one week without leave."""
    marks = school_days(MONDAY, MONDAY + timedelta(10), Mark.ABSENT)
    assert next_action(marks, MONDAY + timedelta(6), None) is Action.NONE  # 7 days
    assert next_action(marks, MONDAY + timedelta(7), None) is Action.OPEN_SUSPECTED  # 8 days
    assert suspected_threshold_day(MONDAY) == MONDAY + timedelta(7)


def test_leave_is_not_absence_without_leave():
    """POLICY 003 annex 1: 请假未到校 is counted separately, never as a dropout."""
    marks = school_days(MONDAY, MONDAY + timedelta(4), Mark.ABSENT) + school_days(
        MONDAY + timedelta(7), MONDAY + timedelta(11), Mark.EXCUSED
    )
    assert next_action(marks, MONDAY + timedelta(11), None) is Action.NONE


def test_a_day_at_school_breaks_the_run():
    marks = [
        *school_days(MONDAY, MONDAY + timedelta(4), Mark.ABSENT),
        DayMark(MONDAY + timedelta(7), Mark.PRESENT),
        *school_days(MONDAY + timedelta(8), MONDAY + timedelta(11), Mark.ABSENT),
    ]
    assert calendar_days_absent(marks, MONDAY + timedelta(11)) == 4
    assert next_action(marks, MONDAY + timedelta(11), None) is Action.NONE


def test_still_absent_more_than_a_month_after_suspicion_becomes_dropout():
    """POLICY 003 annex 1 note 2: a suspected dropout still absent without leave more than one month later."""
    opened = MONDAY + timedelta(7)
    marks = school_days(MONDAY, date(2026, 4, 30), Mark.ABSENT)
    entry = OpenEntry("SUSPECTED", opened)
    assert next_action(marks, add_month(opened), entry) is Action.NONE  # exactly one month
    assert next_action(marks, add_month(opened) + timedelta(1), entry) is Action.ESCALATE_TO_DROPOUT


def test_attendance_resuming_marks_the_entry_returned():
    opened = MONDAY + timedelta(7)
    marks = [*school_days(MONDAY, opened, Mark.ABSENT), DayMark(opened + timedelta(2), Mark.PRESENT)]
    assert next_action(marks, opened + timedelta(2), OpenEntry("SUSPECTED", opened)) is Action.MARK_RETURNED
    assert next_action(marks, opened + timedelta(2), OpenEntry("DROPOUT", opened)) is Action.MARK_RETURNED


def test_a_dropout_entry_is_not_escalated_again():
    opened = MONDAY
    marks = school_days(MONDAY, date(2026, 5, 29), Mark.ABSENT)
    assert next_action(marks, date(2026, 5, 29), OpenEntry("DROPOUT", opened)) is Action.NONE


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
