"""The attendance rules that feed the ledgers (POLICY 003, annex 1, notes 1–2), as pure functions.

- Suspected dropout (疑似辍学): absent from class for more than one week without leave.
- Dropout (辍学): a suspected dropout still absent without leave more than one month later.
- Leave (请假未到校) is counted separately: days on leave are not absence without leave.

How they are counted (issue 14 §1; README "School days and unknown days"):
- only school days count (models/school_calendar.py): weekends, holidays and days out of term neither
  count as absences nor break a run;
- a school day is evidenced absent only by a recorded absence that day (singly or on a class register);
  present (a class register taken without the child listed) or on leave ends a run, and so does a
  school day with no record at all: unknown is not absent, it never extends a run;
- "more than one week" (超过一星期) is more than five school days (a school week): the 6th consecutive
  evidenced absent school day opens the suspected entry, on that day;
- "more than one month" (超过一个月) is counted from the day the suspected entry opened: the dropout entry
  opens on the first school day after the same date one calendar month later, provided the run that
  opened the entry goes on, evidenced, through that day.

The as-of date makes every rule testable without waiting (issue 4: `ledger sweep --as-of`).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SUSPECTED_AFTER_SCHOOL_DAYS = 5  # "超过一星期": more than a school week, the 6th evidenced absent school day


class Mark(enum.StrEnum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"  # absent without leave
    EXCUSED = "EXCUSED"  # on leave (请假)


class LeaveReason(enum.StrEnum):
    """请假事由 (POLICY 002 二(七): leave is asked for and granted with its reason)."""

    ILLNESS = "ILLNESS"  # 病假
    FAMILY = "FAMILY"  # 事假（家庭原因）
    OTHER = "OTHER"


@dataclass(frozen=True)
class DayMark:
    day: date
    mark: Mark


@dataclass(frozen=True)
class Recorded:
    """A recorded mark, with the last day of the leave it starts (None: that day only)."""

    mark: Mark
    leave_until: date | None = None


def day_marks(recorded: Mapping[date, Recorded], registers: Iterable[date], first: date, last: date) -> list[DayMark]:
    """A child's known days from `first` to `last`: a recorded mark first; else a day inside a recorded
    leave is on leave; else a day the class register was taken without the child is present."""
    known: dict[date, Mark] = {d: r.mark for d, r in recorded.items() if first <= d <= last}
    for start, r in recorded.items():
        if r.mark is Mark.EXCUSED and r.leave_until is not None:
            day = max(start + timedelta(days=1), first)
            while day <= min(r.leave_until, last):
                known.setdefault(day, Mark.EXCUSED)
                day += timedelta(days=1)
    for day in registers:
        if first <= day <= last:
            known.setdefault(day, Mark.PRESENT)
    return [DayMark(d, m) for d, m in sorted(known.items())]


class Action(enum.StrEnum):
    NONE = "NONE"
    OPEN_SUSPECTED = "OPEN_SUSPECTED"
    ESCALATE_TO_DROPOUT = "ESCALATE_TO_DROPOUT"
    MARK_RETURNED = "MARK_RETURNED"


@dataclass(frozen=True)
class OpenEntry:
    """What the rules need of a child's open ledger entry."""

    ledger: str  # "SUSPECTED" | "DROPOUT"
    opened_on: date  # the start of its current spell (its opening, or its reopening)


@dataclass(frozen=True)
class Run:
    """Consecutive school days, each evidenced absent without leave."""

    days: tuple[date, ...]

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def opens_on(self) -> date | None:
        """The day the run became more than a week: its 6th school day."""
        return self.days[SUSPECTED_AFTER_SCHOOL_DAYS] if len(self.days) > SUSPECTED_AFTER_SCHOOL_DAYS else None


def add_month(day: date) -> date:
    """The same day one calendar month later (the last day of a shorter month)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def absence_runs(marks: Sequence[DayMark], school_days: Sequence[date], as_of: date) -> list[Run]:
    """Every run of evidenced absence over the school days up to `as_of`, in order."""
    by_day = {m.day: m.mark for m in marks}
    runs: list[Run] = []
    current: list[date] = []
    for day in school_days:
        if day > as_of:
            break
        if by_day.get(day) is Mark.ABSENT:
            current.append(day)
        elif current:
            runs.append(Run(tuple(current)))
            current = []
    if current:
        runs.append(Run(tuple(current)))
    return runs


def current_run(marks: Sequence[DayMark], school_days: Sequence[date], as_of: date) -> Run | None:
    """The last run, unless the child was since seen present or on leave on a school day (unknown days
    after it leave it standing, but never extend it)."""
    runs = absence_runs(marks, school_days, as_of)
    if not runs:
        return None
    school = set(school_days)
    seen = any(m.day in school and runs[-1].last < m.day <= as_of and m.mark is not Mark.ABSENT for m in marks)
    return None if seen else runs[-1]


def returned_on(marks: Sequence[DayMark], since: date, as_of: date) -> date | None:
    """The first day at school on or after `since` (attendance resumed), if any."""
    return next(
        (m.day for m in sorted(marks, key=lambda m: m.day) if since <= m.day <= as_of and m.mark is Mark.PRESENT), None
    )


def escalation_day(marks: Sequence[DayMark], school_days: Sequence[date], since: date, as_of: date) -> date | None:
    """The day a suspected spell begun on `since` becomes a dropout: the first school day after the same
    date a month later, with the run covering `since` unbroken through it."""
    start = next((d for d in school_days if d >= since), None)
    if start is None:
        return None
    run = next((r for r in absence_runs(marks, school_days, as_of) if r.first <= start <= r.last), None)
    due = add_month(since)
    return next((d for d in run.days if d > due), None) if run else None


def next_action(marks: Sequence[DayMark], school_days: Sequence[date], as_of: date, entry: OpenEntry | None) -> Action:
    """What the ledger rules do for one child as of a date."""
    if entry is None:
        run = current_run(marks, school_days, as_of)
        return Action.OPEN_SUSPECTED if run is not None and run.opens_on is not None else Action.NONE
    if returned_on(marks, entry.opened_on, as_of) is not None:
        return Action.MARK_RETURNED
    if entry.ledger == "SUSPECTED" and escalation_day(marks, school_days, entry.opened_on, as_of) is not None:
        return Action.ESCALATE_TO_DROPOUT
    return Action.NONE
