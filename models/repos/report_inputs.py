"""What a school report is generated from: enrolment history, ledger entries and attendance of one school.

The counting rules are in `models/report_tables.py`; these queries only fetch what they read.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import or_, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..base import CHINA_TIME
from ..enrolment import EnrolmentEvent
from ..ledger import LedgerEntry
from ..ledger_rules import DayMark, day_marks
from ..report_tables import Cohort
from .attendance import recorded_marks, registers_taken


async def enrolment_histories(session: AsyncSession, school_code: str, day: date) -> dict[int, list[EnrolmentEvent]]:
    """Enrolment changes on or before `day` of every child who had one at this school by then."""
    at_school = select(EnrolmentEvent.child_id).where(
        col(EnrolmentEvent.school_code) == school_code, col(EnrolmentEvent.on) <= day
    )
    stmt = (
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.child_id).in_(at_school), col(EnrolmentEvent.on) <= day)
        .order_by(col(EnrolmentEvent.child_id), col(EnrolmentEvent.on), col(EnrolmentEvent.id))
    )
    out: dict[int, list[EnrolmentEvent]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.child_id, []).append(row)
    return out


async def entries_of_school(session: AsyncSession, school_code: str, start: date, end: date) -> list[LedgerEntry]:
    """Entries flagged at the school that were on a ledger at any time from `start` to `end` (China time)."""
    since = datetime.combine(start, time.min, tzinfo=CHINA_TIME)
    closed_at = cast(Any, LedgerEntry.closed_at)
    stmt = (
        select(LedgerEntry)
        .where(
            col(LedgerEntry.school_code) == school_code,
            col(LedgerEntry.opened_on) <= end,
            or_(closed_at.is_(None), closed_at >= since),
        )
        .order_by(col(LedgerEntry.opened_on), col(LedgerEntry.id))
    )
    return list(await session.scalars(stmt))


async def attendance_in(
    session: AsyncSession, school_code: str, grades: dict[int, int], start: date, end: date
) -> dict[int, list[DayMark]]:
    """Each child's known school days from `start` to `end` (models/ledger_rules.day_marks): its own marks
    and leave, and the days the register of its class then (the school and the grade it was in) was taken
    with no mark for it, as present."""
    before = start - timedelta(days=1)
    recorded = await recorded_marks(session, list(grades), since=before, as_of=end)
    taken = await registers_taken(session, {(school_code, g) for g in grades.values()}, since=before, as_of=end)
    return {
        child_id: day_marks(recorded.get(child_id, {}), taken.get((school_code, grade), []), start, end)
        for child_id, grade in grades.items()
    }


# The consolidation rate's cohort and who of it is still schooling (docs/CONSOLIDATION.md), in one
# statement: a province's enrolment history never travels to Python.
COHORT_SQL = text(
    """
    WITH at_region AS (
      SELECT DISTINCT x.child_id
        FROM enrolment_event x JOIN school s ON s.code = x.school_code
       WHERE s.path LIKE :prefix AND x."on" <= :start),
    ranked AS (
      SELECT e.child_id, e.change, e.school_code, e.grade, e."on",
             row_number() OVER (PARTITION BY e.child_id ORDER BY e."on" DESC, e.id DESC) AS nth
        FROM enrolment_event e JOIN at_region USING (child_id)
       WHERE e."on" <= :start),
    cohort AS (
      SELECT r.child_id
        FROM ranked r JOIN school s ON s.code = r.school_code
       WHERE r.nth = 1 AND r.change IN ('ENROL', 'TRANSFER_IN') AND s.path LIKE :prefix
         AND r.grade + :start_year
             - (EXTRACT(YEAR FROM r."on")::int - CASE WHEN EXTRACT(MONTH FROM r."on") < 9 THEN 1 ELSE 0 END) <= 9)
    SELECT count(*) AS size,
           count(*) FILTER (
             WHERE last.change IN ('ENROL', 'TRANSFER_IN', 'GRADUATE')
               AND NOT EXISTS (
                 SELECT 1 FROM ledger_entry d
                  WHERE d.child_id = c.child_id AND d.ledger = 'DROPOUT' AND d.opened_on <= :as_of
                    AND (d.closed_at IS NULL OR d.closed_at > :after_end))) AS retained
      FROM cohort c
      CROSS JOIN LATERAL (
        SELECT e.change FROM enrolment_event e
         WHERE e.child_id = c.child_id AND e."on" <= :as_of
         ORDER BY e."on" DESC, e.id DESC LIMIT 1) AS last
    """
)


async def cohort(session: AsyncSession, region_path: str, start: date, as_of: date) -> Cohort:
    """The school year's cohort at the region's schools on `start` (1 September) and how many of it are,
    at the end of `as_of`, enrolled anywhere or graduated, and not on the dropout ledger."""
    row = (
        await session.execute(
            COHORT_SQL,
            {
                "prefix": region_path + "/%",
                "start": start,
                "start_year": start.year if start.month >= 9 else start.year - 1,
                "as_of": as_of,
                "after_end": datetime.combine(as_of, time.max, tzinfo=CHINA_TIME),
            },
        )
    ).one()
    return Cohort(size=int(row.size), retained=int(row.retained))
