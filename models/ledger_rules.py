"""The attendance rules that feed the ledgers (POLICY 003, annex 1, notes 1–2), as pure functions.

- Suspected dropout (疑似辍学): absent from class for more than one week without leave.
- Dropout (辍学): a suspected dropout still absent without leave more than one month later.
- Leave (请假未到校) is counted separately: excused days are not absence without leave.

The as-of date makes every rule testable without waiting (issue 4: `ledger sweep --as-of`).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SUSPECTED_AFTER_DAYS = 7  # "超过一星期": the 8th consecutive calendar day without leave


class Mark(enum.StrEnum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"  # absent without leave
    EXCUSED = "EXCUSED"  # on leave (请假)


@dataclass(frozen=True)
class DayMark:
    day: date
    mark: Mark


class Action(enum.StrEnum):
    NONE = "NONE"
    OPEN_SUSPECTED = "OPEN_SUSPECTED"
    ESCALATE_TO_DROPOUT = "ESCALATE_TO_DROPOUT"
    MARK_RETURNED = "MARK_RETURNED"


@dataclass(frozen=True)
class OpenEntry:
    """What the rules need of a child's open ledger entry."""

    ledger: str  # "SUSPECTED" | "DROPOUT"
    opened_on: date


def add_month(day: date) -> date:
    """The same day one calendar month later (the last day of a shorter month)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def absent_since(marks: Sequence[DayMark], as_of: date) -> date | None:
    """First day of the unbroken absence without leave that is still going on at `as_of`, if any.

    Marks exist for school days only; days without a mark (weekends, holidays) do not break a run,
    a PRESENT or EXCUSED day does.
    """
    start = None
    for mark in sorted((m for m in marks if m.day <= as_of), key=lambda m: m.day):
        start = (start or mark.day) if mark.mark is Mark.ABSENT else None
    return start


def calendar_days_absent(marks: Sequence[DayMark], as_of: date) -> int:
    """Consecutive calendar days absent without leave up to and including `as_of`."""
    start = absent_since(marks, as_of)
    return 0 if start is None else (as_of - start).days + 1


def returned_since(marks: Sequence[DayMark], opened_on: date, as_of: date) -> bool:
    """Has the child been at school on any day after the entry opened (attendance resumed)?"""
    return any(m.mark is Mark.PRESENT and opened_on < m.day <= as_of for m in marks)


def next_action(marks: Sequence[DayMark], as_of: date, entry: OpenEntry | None) -> Action:
    """What the ledger rules do for one child as of a date."""
    if entry is None:
        return Action.OPEN_SUSPECTED if calendar_days_absent(marks, as_of) > SUSPECTED_AFTER_DAYS else Action.NONE
    if returned_since(marks, entry.opened_on, as_of):
        return Action.MARK_RETURNED
    still_absent = absent_since(marks, as_of) is not None
    if entry.ledger == "SUSPECTED" and still_absent and as_of > add_month(entry.opened_on):
        return Action.ESCALATE_TO_DROPOUT
    return Action.NONE


def suspected_threshold_day(start: date) -> date:
    """The first day on which an absence that began on `start` counts as more than one week."""
    return start + timedelta(days=SUSPECTED_AFTER_DAYS)
