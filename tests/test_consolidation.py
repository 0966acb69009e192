"""The consolidation rate's cohort (docs/CONSOLIDATION.md), computed by the database over enrolment
histories: POLICY 000 (preamble) sets the 95% target; POLICY 004 §7 puts the rate in the province's
school-year assessment. School year 2035-2036 is used so that only the histories written here count:
every demo child is past grade 9 by then."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from models.enrolment import EnrolmentChange, EnrolmentEvent
from models.repos.report_inputs import cohort
from tests.ledger_support import WUDING_PRIMARY

WUDING_PATH = "53/5323/532329"
OUTSIDE = "2122000001"  # a school of 白城市, 吉林省
START, AS_OF = date(2035, 9, 1), date(2036, 6, 30)


async def test_the_cohort_and_who_of_it_is_still_schooling(session):
    """Cohort: enrolled in grades 1–9 at the region's schools on 1 September. Retained: enrolled at any
    school or graduated on the as-of day, and not on the dropout ledger."""
    quiet = list(
        await session.scalars(
            text("SELECT id FROM child WHERE id NOT IN (SELECT child_id FROM ledger_entry) ORDER BY id LIMIT 7")
        )
    )
    dropout = await session.scalar(
        text("SELECT child_id FROM ledger_entry WHERE ledger = 'DROPOUT' AND closed_at IS NULL ORDER BY id LIMIT 1")
    )
    stays, graduates, moves, leaves, late, elsewhere, too_old = quiet
    enrol, out, into, graduate, leave = (
        EnrolmentChange.ENROL,
        EnrolmentChange.TRANSFER_OUT,
        EnrolmentChange.TRANSFER_IN,
        EnrolmentChange.GRADUATE,
        EnrolmentChange.LEAVE,
    )
    here = WUDING_PRIMARY
    histories = [
        (stays, enrol, date(2035, 9, 1), here, 1),
        (graduates, enrol, date(2033, 9, 1), here, 7),
        (graduates, graduate, date(2036, 6, 20), here, 9),
        (moves, enrol, date(2034, 9, 1), here, 3),
        (moves, out, date(2036, 1, 5), here, 4),
        (moves, into, date(2036, 1, 6), OUTSIDE, 4),  # moved away, still schooling: retained
        (leaves, enrol, date(2034, 9, 1), here, 5),
        (leaves, leave, date(2036, 3, 1), here, 6),
        (dropout, enrol, date(2035, 9, 1), here, 2),  # on the dropout ledger at the end
        (late, enrol, date(2035, 9, 2), here, 1),  # enrolled after the first day: not in the cohort
        (elsewhere, enrol, date(2035, 9, 1), OUTSIDE, 1),  # another region's school
        (too_old, enrol, date(2026, 9, 1), here, 1),  # grade 10 by then: past compulsory education
    ]
    session.add_all(
        EnrolmentEvent(
            child_id=c, change=change, on=on, school_code=school, grade=grade, recorded_by="t", province_code="53"
        )
        for c, change, on, school, grade in histories
    )
    await session.flush()

    found = await cohort(session, WUDING_PATH, START, AS_OF)
    assert (found.size, found.retained) == (5, 3)  # stays, graduates, moves of the five
    assert found.rate == 3 / 5
    assert found.meets_target is False
    assert (await cohort(session, "53/5323/532328", START, AS_OF)).rate is None  # nobody in 元谋's cohort
