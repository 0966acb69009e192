"""Guyuan Table 1 and Table 2 (POLICY 003 annexes 1–2) as of a period's last day, as pure functions.

"As of the period end" means at the end of its last day, in China Standard Time:
- should attend (应到校人数): children whose latest enrolment change on or before that day enrolled
  them at the school (ENROL, TRANSFER_IN); their stage is the grade then (one grade per school year
  since the change, 1 September starting a school year);
- on leave (请假未到校人数): of those, children whose last recorded school day in the period (an
  absence, a leave, or a class register that makes the unmarked present) was on leave (POLICY 003
  annex 1: leave is counted separately and is not absence without leave);
- suspected / dropouts: ledger entries of the school opened on or before that day and not closed out
  on or before it, by the stage and category A–T on the entry, less those back at school by then
  (returned, awaiting placement and close-out): Table 1 counts who is absent now (POLICY 003 annex 1
  note 1: 未到校上课; issue 14 §2). They stay on the lists, with the return in the remarks;
- the lists (Table 2 for dropouts, and the suspected list) hold every entry of the school that was on
  the ledger at any time in the period, with "closed out?" (是否销账) for those closed by its end:
  the open ones not back at school are exactly what Table 1 counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from .base import CHINA_TIME
from .child import Stage
from .enrolment import STARTS_ENROLMENT, EnrolmentEvent
from .ledger import CLOSE_REASON_LABELS, DropoutCategory, Ledger, LedgerEntry
from .ledger_rules import DayMark, Mark
from .report import ReportFigure, category_column

STAGES = (Stage.PRIMARY, Stage.JUNIOR)


@dataclass
class Figures:
    """One row of Table 1."""

    should_attend: int = 0
    on_leave: int = 0
    suspected: int = 0
    dropouts: int = 0
    by_category: dict[DropoutCategory, int] = field(default_factory=dict)

    def plus(self, other: Figures) -> Figures:
        return Figures(
            should_attend=self.should_attend + other.should_attend,
            on_leave=self.on_leave + other.on_leave,
            suspected=self.suspected + other.suspected,
            dropouts=self.dropouts + other.dropouts,
            by_category={c: self.by_category.get(c, 0) + other.by_category.get(c, 0) for c in DropoutCategory},
        )

    def category(self, category: DropoutCategory) -> int:
        return self.by_category.get(category, 0)


def total(by_stage: dict[Stage, Figures]) -> Figures:
    """The 合计 row: the stages summed."""
    out = Figures()
    for stage in STAGES:
        out = out.plus(by_stage.get(stage, Figures()))
    return out


def school_year_of(day: date) -> int:
    """The year a school year starts in (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def grade_on(grade: int, since: date, day: date) -> int:
    """A grade held on `since`, one higher for every school year begun by `day`."""
    return grade + school_year_of(day) - school_year_of(since)


def latest_change(events: Sequence[EnrolmentEvent], day: date) -> EnrolmentEvent | None:
    """The child's last enrolment change on or before `day`."""
    before = [e for e in events if e.on <= day]
    return max(before, key=lambda e: (e.on, e.id or 0)) if before else None


def enrolled_grade(events: Sequence[EnrolmentEvent], school_code: str, day: date) -> int | None:
    """The child's grade at the school on `day`, from its enrolment history; None when not enrolled there
    (or past grade 9 by then)."""
    latest = latest_change(events, day)
    if latest is None or latest.change not in STARTS_ENROLMENT or latest.school_code != school_code:
        return None
    grade = grade_on(latest.grade, latest.on, day)
    return grade if grade <= 9 else None


CONSOLIDATION_TARGET = 0.95  # 九年义务教育巩固率达到95% (POLICY 000, preamble; 001)


@dataclass(frozen=True)
class Cohort:
    """The consolidation rate (巩固率) of a school year: `retained` of `size` (docs/CONSOLIDATION.md);
    the rule is `models/repos/report_inputs.COHORT_SQL`."""

    size: int
    retained: int

    @property
    def rate(self) -> float | None:
        return self.retained / self.size if self.size else None

    @property
    def meets_target(self) -> bool | None:
        rate = self.rate
        return None if rate is None else rate >= CONSOLIDATION_TARGET


def on_leave_at_end(marks: Iterable[DayMark], start: date, end: date) -> bool:
    """Was the child's last recorded school day of the period a day on leave?"""
    days = sorted((m for m in marks if start <= m.day <= end), key=lambda m: m.day)
    return bool(days) and days[-1].mark is Mark.EXCUSED


def china_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CHINA_TIME).date() if moment is not None else None


def listed_in_period(entry: LedgerEntry, start: date, end: date) -> bool:
    """Was the entry on its ledger at any time from `start` to `end`?"""
    closed = china_day(entry.closed_at)
    return entry.opened_on <= end and (closed is None or closed >= start)


def back_at_school(entry: LedgerEntry, end: date) -> bool:
    """Was the child back at school by the end of `end` (returned, whether or not closed out since)?"""
    return entry.returned_on is not None and entry.returned_on <= end


def open_at_end(entry: LedgerEntry, end: date) -> bool:
    """Does the entry count at the end of `end`: opened by then and not closed out by then?"""
    closed = china_day(entry.closed_at)
    return entry.opened_on <= end and (closed is None or closed > end)


@dataclass(frozen=True)
class Listed:
    """What Table 1 needs of a listed entry."""

    ledger: Ledger
    stage: Stage
    category: DropoutCategory | None
    closed_out: bool
    returned: bool = False  # back at school by the period's end (returned, awaiting close-out)


def figures_by_stage(
    enrolled: Iterable[Stage], on_leave: Iterable[Stage], listed: Iterable[Listed]
) -> dict[Stage, Figures]:
    out = {stage: Figures() for stage in STAGES}
    for stage in enrolled:
        out[stage].should_attend += 1
    for stage in on_leave:
        out[stage].on_leave += 1
    for row in listed:
        if row.closed_out or row.returned:
            continue
        figures = out[row.stage]
        if row.ledger is Ledger.SUSPECTED:
            figures.suspected += 1
        else:
            figures.dropouts += 1
            if row.category is not None:
                figures.by_category[row.category] = figures.by_category.get(row.category, 0) + 1
    return out


def remarks_at(entry: LedgerEntry, end: date) -> str | None:
    """备注: what happened to the case by the end of the period, in the form's words."""
    facts: list[str] = []
    if entry.is_relapse:
        facts.append("反弹（曾销号后再次纳入）")
    if entry.returned_on is not None and entry.returned_on <= end:
        facts.append(f"{entry.returned_on.isoformat()} 返校")
    closed = china_day(entry.closed_at)
    if closed is not None and closed <= end and entry.close_reason is not None:
        facts.append(f"{closed.isoformat()} 销号：{CLOSE_REASON_LABELS[entry.close_reason].split(' / ')[0]}")
    return "；".join(facts) or None


def figure_row(revision_id: int, stage: Stage, figures: Figures, province_code: str) -> ReportFigure:
    row = ReportFigure(
        revision_id=revision_id,
        stage=stage,
        should_attend=figures.should_attend,
        on_leave=figures.on_leave,
        suspected=figures.suspected,
        dropouts=figures.dropouts,
        province_code=province_code,
    )
    for category in DropoutCategory:
        setattr(row, category_column(category), figures.category(category))
    return row


def figures_of(row: ReportFigure) -> Figures:
    return Figures(
        should_attend=row.should_attend,
        on_leave=row.on_leave,
        suspected=row.suspected,
        dropouts=row.dropouts,
        by_category={c: int(getattr(row, category_column(c))) for c in DropoutCategory},
    )
