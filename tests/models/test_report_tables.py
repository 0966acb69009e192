"""Guyuan Table 1 and Table 2 as of a period's last day (POLICY 003 annexes 1–2), as pure functions.

Annex 1 columns: 应到校人数 (should attend), 请假未到校人数 (on leave), 疑似辍学人数, 辍学人数, 其中分类 A–T.
Annex 2 column 是否销账: closed out — here, by the end of the period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models.child import Stage
from models.enrolment import EnrolmentChange, EnrolmentEvent
from models.ledger import CloseReason, DropoutCategory, EntrySource, Ledger, LedgerEntry
from models.ledger_rules import DayMark, Mark
from models.report_tables import (
    Figures,
    Listed,
    enrolled_grade,
    figure_row,
    figures_by_stage,
    figures_of,
    grade_on,
    listed_in_period,
    on_leave_at_end,
    open_at_end,
    remarks_at,
    total,
)

SCHOOL, OTHER = "2153000036", "2153000031"
END = date(2026, 3, 31)


def event(change: EnrolmentChange, on: date, school: str = SCHOOL, grade: int = 3, n: int = 1) -> EnrolmentEvent:
    return EnrolmentEvent(
        id=n, child_id=1, change=change, on=on, school_code=school, grade=grade, recorded_by="t", province_code="53"
    )


def entry(opened_on: date, closed_at: datetime | None = None, **fields: object) -> LedgerEntry:
    values: dict[str, object] = {
        "ledger": Ledger.DROPOUT,
        "child_id": 1,
        "source": EntrySource.MANUAL,
        "opened_on": opened_on,
        "opened_by": "t",
        "stage": Stage.PRIMARY,
        "household_path": "53",
        "residence_path": "53",
        "responsible_path": "53",
        "province_code": "53",
        "closed_at": closed_at,
    }
    return LedgerEntry(**(values | fields))


def test_a_grade_rises_with_each_school_year_begun():
    assert grade_on(1, date(2023, 9, 1), date(2026, 3, 31)) == 3
    assert grade_on(3, date(2026, 2, 10), date(2026, 3, 31)) == 3
    assert grade_on(3, date(2026, 2, 10), date(2026, 9, 1)) == 4


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], None),
        ([event(EnrolmentChange.ENROL, date(2024, 9, 1), grade=1)], 2),
        ([event(EnrolmentChange.ENROL, date(2026, 4, 1))], None),  # enrolled after the month
        (
            [
                event(EnrolmentChange.ENROL, date(2024, 9, 1), grade=1),
                event(EnrolmentChange.TRANSFER_OUT, date(2026, 3, 10), grade=2, n=2),
            ],
            None,
        ),
        (
            [
                event(EnrolmentChange.ENROL, date(2024, 9, 1), school=OTHER, grade=1),
                event(EnrolmentChange.TRANSFER_OUT, date(2026, 2, 24), school=OTHER, grade=2, n=2),
                event(EnrolmentChange.TRANSFER_IN, date(2026, 2, 24), grade=2, n=3),
            ],
            2,
        ),
        ([event(EnrolmentChange.ENROL, date(2016, 9, 1), grade=1)], None),  # past grade 9 by then
    ],
)
def test_should_attend_reads_the_enrolment_history(events, expected):
    """应到校人数: enrolled at the school on the last day of the period."""
    assert enrolled_grade(events, SCHOOL, END) == expected


@pytest.mark.parametrize(
    ("marks", "on_leave"),
    [
        ([], False),
        ([DayMark(date(2026, 3, 31), Mark.EXCUSED)], True),
        ([DayMark(date(2026, 3, 30), Mark.EXCUSED), DayMark(date(2026, 3, 31), Mark.PRESENT)], False),
        ([DayMark(date(2026, 3, 30), Mark.EXCUSED), DayMark(date(2026, 3, 31), Mark.ABSENT)], False),
        ([DayMark(date(2026, 2, 27), Mark.EXCUSED)], False),  # before the period
    ],
)
def test_on_leave_is_the_last_recorded_school_day_of_the_period(marks, on_leave):
    """请假未到校人数: leave is counted separately, never as absence without leave (POLICY 003 annex 1)."""
    assert on_leave_at_end(marks, date(2026, 3, 1), END) is on_leave


@pytest.mark.parametrize(
    ("opened_on", "closed_at", "counted", "listed"),
    [
        (date(2026, 3, 31), None, True, True),
        (date(2026, 4, 1), None, False, False),
        # 31 March 23:30 China time: closed out by the end of the month
        (date(2026, 3, 2), datetime(2026, 3, 31, 15, 30, tzinfo=UTC), False, True),
        # 1 April 00:30 China time: still on the ledger at the end of March
        (date(2026, 3, 2), datetime(2026, 3, 31, 16, 30, tzinfo=UTC), True, True),
        # closed before March began: not in March's lists at all
        (date(2026, 1, 5), datetime(2026, 2, 27, 3, 0, tzinfo=UTC), False, False),
    ],
)
def test_an_entry_counts_if_opened_by_the_end_and_not_closed_by_it(opened_on, closed_at, counted, listed):
    e = entry(opened_on, closed_at)
    assert open_at_end(e, END) is counted
    assert listed_in_period(e, date(2026, 3, 1), END) is listed


def test_table1_counts_by_stage_and_category_and_totals():
    listed = [
        Listed(Ledger.DROPOUT, Stage.PRIMARY, DropoutCategory.F, closed_out=False),
        Listed(Ledger.DROPOUT, Stage.JUNIOR, DropoutCategory.H, closed_out=False),
        Listed(Ledger.DROPOUT, Stage.JUNIOR, None, closed_out=False),  # category not yet set
        Listed(Ledger.DROPOUT, Stage.JUNIOR, DropoutCategory.H, closed_out=True),  # closed out: listed only
        Listed(Ledger.SUSPECTED, Stage.PRIMARY, None, closed_out=False),
    ]
    by_stage = figures_by_stage([Stage.PRIMARY] * 5 + [Stage.JUNIOR] * 3, [Stage.JUNIOR], listed)
    assert by_stage[Stage.PRIMARY] == Figures(5, 0, 1, 1, {DropoutCategory.F: 1})
    assert by_stage[Stage.JUNIOR] == Figures(3, 1, 0, 2, {DropoutCategory.H: 1})
    summed = total(by_stage)
    assert (summed.should_attend, summed.on_leave, summed.suspected, summed.dropouts) == (8, 1, 1, 3)
    assert (summed.category(DropoutCategory.F), summed.category(DropoutCategory.H)) == (1, 1)


def test_a_figure_row_round_trips():
    figures = Figures(10, 2, 1, 3, {DropoutCategory.A: 1, DropoutCategory.T: 2})
    row = figure_row(7, Stage.JUNIOR, figures, "53")
    assert (row.dropouts_a, row.dropouts_t, row.dropouts_b) == (1, 2, 0)
    assert figures_of(row).plus(Figures()) == figures.plus(Figures())


def test_remarks_say_what_happened_by_the_period_end():
    closed = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    e = entry(
        date(2026, 3, 2),
        closed,
        is_relapse=True,
        returned_on=date(2026, 3, 16),
        close_reason=CloseReason.RETURNED_AND_PLACED,
    )
    assert remarks_at(e, END) == "反弹（曾销号后再次纳入）；2026-03-16 返校；2026-03-20 销号：已返校并安置"
    assert remarks_at(e, date(2026, 3, 10)) == "反弹（曾销号后再次纳入）"
    assert remarks_at(entry(date(2026, 3, 2)), END) is None
