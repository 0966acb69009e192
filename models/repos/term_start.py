"""The unreported list (未报到名单, POLICY 002 一(三)) as one statement over the data, and its kept findings.

A pupil is listed at a school for a term when, in the province of the school:
- the pupil's latest enrolment change on or before the previous term's last day enrolled them at the
  school (ENROL or TRANSFER_IN), in grade 9 or below by the new term (one grade up per 1 September);
- the pupil did not graduate between that day and the window's last day;
- some school day of the window is known for the pupil (an absence or leave recorded; a day with
  nothing recorded is unknown, not an absence: README "School days and unknown days");
- and no day of the window is a present day at the school: no present mark there, and no register of
  the pupil's class taken that day without a mark for the pupil or a leave covering it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..attendance import AttendanceMark, ClassRegister
from ..child import Child
from ..enrolment import EnrolmentEvent
from ..ledger_rules import Mark
from ..region import Region, RegionLevel
from ..reporting_calendar import TermStartWindow
from ..school import School
from ..term_start import ReportUnreported, UnreportedExplanation, UnreportedReason, UnreportedVisit
from .paging import Page
from .paths import within_path


@dataclass(frozen=True)
class UnreportedRow:
    """One listed pupil: the school and class that list them, the window, what was recorded, the reason."""

    child: Child
    term: str
    school_code: str
    school_path: str
    grade: int
    first_day: date
    last_day: date  # the window's last day, or today while it is open
    window_end: date  # the window's last day
    days_absent: int
    on_leave: bool
    explanation: UnreportedExplanation | None


@dataclass(frozen=True)
class UnreportedFilter:
    school_path: str | None = None
    region_path: str | None = None
    explained: bool | None = None
    reason: UnreportedReason | None = None
    child_ids: tuple[int, ...] | None = None


def _school_year(day: Any) -> Any:
    return sa.cast(func.extract("year", day), sa.Integer) - sa.case((func.extract("month", day) < 9, 1), else_=0)


def listed_subquery(
    windows: Mapping[str, TermStartWindow],
    until: date,
    *,
    school_code: str | None = None,
    child_id: int | None = None,
) -> Any:
    """The listed pupils of every province in `windows` (its window, cut at `until` while still open):
    columns child_id, school_code, school_path, grade, household_path, residence_path, province_code,
    first_day, last_day (cut), window_end, days_absent, on_leave."""
    w = (
        sa.values(
            sa.column("province_code", sa.String),
            sa.column("previous_end", sa.Date),
            sa.column("first_day", sa.Date),
            sa.column("last_day", sa.Date),
            sa.column("window_end", sa.Date),
            name="w",
        )
        .data(
            [
                (p, x.previous_term_end, x.first_day, min(x.last_day, until), x.last_day)
                for p, x in sorted(windows.items())
            ]
        )
        .alias("w")
    )
    e = sa.inspect(EnrolmentEvent).local_table.alias("e")
    last = (
        select(
            e.c.child_id,
            e.c.change,
            e.c.school_code,
            e.c.grade,
            e.c.on,
            w.c.previous_end,
            w.c.first_day,
            w.c.last_day,
            w.c.window_end,
        )
        .select_from(e.join(w, w.c.province_code == e.c.province_code))
        .where(e.c.on <= w.c.previous_end, *_narrowed(e, school_code, child_id))
        .ext(distinct_on(e.c.child_id))
        .order_by(e.c.child_id, e.c.on.desc(), e.c.id.desc())
        .cte("last_state")
    )
    grade = last.c.grade + _school_year(last.c.first_day) - _school_year(last.c.on)
    m = sa.inspect(AttendanceMark).local_table.alias("m")
    in_window = m.c.day.between(last.c.first_day, last.c.last_day)
    mine = m.c.child_id == last.c.child_id
    known = exists().where(mine, in_window)
    leave_into = exists().where(
        mine, m.c.mark == Mark.EXCUSED.value, m.c.day < last.c.first_day, m.c.leave_until >= last.c.first_day
    )
    present_mark = exists().where(
        mine, in_window, m.c.school_code == last.c.school_code, m.c.mark == Mark.PRESENT.value
    )
    r = sa.inspect(ClassRegister).local_table.alias("r")
    own = sa.inspect(AttendanceMark).local_table.alias("own")
    leave = sa.inspect(AttendanceMark).local_table.alias("lv")
    c = sa.inspect(Child).local_table
    # The pupil's class: its grade then, from the history (as the school reports count it), or the grade
    # on the child's record while the child is still at the school (the class `recordAttendance` registers).
    class_grade = sa.or_(r.c.grade == grade, and_(c.c.school_code == last.c.school_code, r.c.grade == c.c.grade))
    register_present = exists().where(
        r.c.school_code == last.c.school_code,
        class_grade,
        r.c.day.between(last.c.first_day, last.c.last_day),
        ~exists().where(own.c.child_id == last.c.child_id, own.c.day == r.c.day).correlate(last, r),
        ~exists()
        .where(
            leave.c.child_id == last.c.child_id,
            leave.c.mark == Mark.EXCUSED.value,
            leave.c.day < r.c.day,
            leave.c.leave_until >= r.c.day,
        )
        .correlate(last, r),
    )
    g = sa.inspect(EnrolmentEvent).local_table.alias("g")
    graduated = exists().where(
        g.c.child_id == last.c.child_id,
        g.c.change == "GRADUATE",
        g.c.on > last.c.previous_end,
        g.c.on <= last.c.last_day,
    )
    absent_days = (
        select(func.count()).select_from(m).where(mine, in_window, m.c.mark == Mark.ABSENT.value).scalar_subquery()
    )
    on_leave = exists().where(mine, in_window, m.c.mark == Mark.EXCUSED.value)
    s = sa.inspect(School).local_table
    return (
        select(
            last.c.child_id,
            last.c.school_code,
            s.c.path.label("school_path"),
            grade.label("grade"),
            c.c.household_path,
            c.c.residence_path,
            c.c.province_code,
            last.c.first_day,
            last.c.last_day,
            last.c.window_end,
            absent_days.label("days_absent"),
            sa.or_(on_leave, leave_into).label("on_leave"),
        )
        .select_from(last.join(c, c.c.id == last.c.child_id).join(s, s.c.code == last.c.school_code))
        .where(
            last.c.change.in_(["ENROL", "TRANSFER_IN"]),
            grade <= 9,
            ~graduated,
            sa.or_(known, leave_into),
            ~present_mark,
            ~register_present,
        )
        .subquery("listed")
    )


def _narrowed(e: Any, school_code: str | None, child_id: int | None) -> list[ColumnElement[bool]]:
    """Only the histories that can list a pupil at this school, or of this child: a school's list and one
    pupil's row read their own children's enrolment, not the province's."""
    out: list[ColumnElement[bool]] = []
    if school_code is not None:
        x = sa.inspect(EnrolmentEvent).local_table.alias("x")
        out.append(e.c.child_id.in_(select(x.c.child_id).where(x.c.school_code == school_code)))
    if child_id is not None:
        out.append(e.c.child_id == child_id)
    return out


def filter_conditions(listed: Any, f: UnreportedFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.school_path is not None:
        out.append(listed.c.school_path == f.school_path)
    if f.region_path is not None:
        out.append(
            sa.or_(
                within_path(listed.c.school_path, f.region_path),
                within_path(listed.c.household_path, f.region_path),
                within_path(listed.c.residence_path, f.region_path),
            )
        )
    if f.child_ids is not None:
        out.append(listed.c.child_id.in_(list(f.child_ids)))
    return out


async def list_unreported(
    session: AsyncSession,
    listed: Any,
    term: str,
    *,
    where: list[ColumnElement[bool]],
    explained: bool | None,
    reason: UnreportedReason | None,
    after: int | None,
    limit: int | None,
) -> Page[UnreportedRow]:
    """A page of listed pupils (by child id) matching `where`, with their explanations."""
    x = UnreportedExplanation
    stmt = (
        select(listed, x)
        .join(x, and_(col(x.child_id) == listed.c.child_id, col(x.term) == term), isouter=True)
        .where(*where)
    )
    if explained is not None:
        stmt = stmt.where(col(x.id).is_not(None) if explained else col(x.id).is_(None))
    if reason is not None:
        stmt = stmt.where(col(x.reason) == reason)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    page = stmt.order_by(listed.c.child_id)
    if after is not None:
        page = page.where(listed.c.child_id > after)
    if limit is not None:
        page = page.limit(limit + 1)
    rows = (await session.execute(page)).all()
    children = {
        k.id: k for k in await session.scalars(select(Child).where(col(Child.id).in_([r.child_id for r in rows])))
    }
    out = [
        UnreportedRow(
            child=children[r.child_id],
            term=term,
            school_code=r.school_code,
            school_path=r.school_path,
            grade=int(r.grade),
            first_day=r.first_day,
            last_day=r.last_day,
            window_end=r.window_end,
            days_absent=int(r.days_absent),
            on_leave=bool(r.on_leave),
            explanation=r.UnreportedExplanation,
        )
        for r in rows
    ]
    shown = out if limit is None else out[:limit]
    return Page(rows=shown, has_next=limit is not None and len(out) > limit, total=total)


async def province_codes(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(col(Region.code)).where(col(Region.level) == RegionLevel.PROVINCE))
    return sorted(rows)


async def explanation(session: AsyncSession, child_id: int, term: str, *, lock: bool) -> UnreportedExplanation | None:
    stmt = sa.select(UnreportedExplanation).where(
        col(UnreportedExplanation.child_id) == child_id, col(UnreportedExplanation.term) == term
    )
    return (await session.scalars(stmt.with_for_update() if lock else stmt)).first()


async def claim_explanation(session: AsyncSession, row: dict[str, Any]) -> UnreportedExplanation | None:
    """Insert the first explanation of a pupil and term; None when another writer's came first."""
    stmt = (
        insert(UnreportedExplanation)
        .values(row)
        .on_conflict_do_nothing(constraint="uq_unreported_explanation_child_term")
        .returning(col(UnreportedExplanation.id))
    )
    if (await session.execute(stmt)).first() is None:
        return None
    return await explanation(session, int(row["child_id"]), str(row["term"]), lock=True)


async def visits_of(session: AsyncSession, keys: list[tuple[int, str]]) -> dict[tuple[int, str], list[UnreportedVisit]]:
    """The term-start persuasion rounds of each (child, term), in order."""
    if not keys:
        return {}
    v = UnreportedVisit
    stmt = sa.select(v).where(sa.tuple_(col(v.child_id), col(v.term)).in_(keys)).order_by(col(v.visited_on), col(v.id))
    out: dict[tuple[int, str], list[UnreportedVisit]] = {}
    for row in await session.scalars(stmt):
        out.setdefault((row.child_id, row.term), []).append(row)
    return out


async def get_explanations(session: AsyncSession, ids: list[int]) -> dict[int, UnreportedExplanation]:
    rows = await session.scalars(sa.select(UnreportedExplanation).where(col(UnreportedExplanation.id).in_(ids)))
    return {r.id or 0: r for r in rows}


async def get_visits(session: AsyncSession, ids: list[int]) -> dict[int, UnreportedVisit]:
    rows = await session.scalars(sa.select(UnreportedVisit).where(col(UnreportedVisit.id).in_(ids)))
    return {r.id or 0: r for r in rows}


async def term_start_reports(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The TERM_START report of each (school, term), if any."""
    from ..report import Report
    from ..reporting_calendar import Cadence

    if not keys:
        return {}
    stmt = sa.select(Report).where(
        col(Report.cadence) == Cadence.TERM_START, sa.tuple_(col(Report.unit_code), col(Report.period)).in_(keys)
    )
    return {(r.unit_code, r.period): r for r in await session.scalars(stmt)}


async def report_rows(session: AsyncSession, revision_ids: list[int]) -> dict[int, list[ReportUnreported]]:
    """Each version's frozen unreported list, in order."""
    if not revision_ids:
        return {}
    stmt = (
        sa.select(ReportUnreported)
        .where(col(ReportUnreported.revision_id).in_(revision_ids))
        .order_by(col(ReportUnreported.revision_id), col(ReportUnreported.seq))
    )
    out: dict[int, list[ReportUnreported]] = {i: [] for i in revision_ids}
    for row in await session.scalars(stmt):
        out[row.revision_id].append(row)
    return out


async def replace_report_rows(session: AsyncSession, revision_id: int, rows: list[ReportUnreported]) -> None:
    """A draft's list generated again (drafts only: submitted versions are never regenerated)."""
    await session.execute(sa.delete(ReportUnreported).where(col(ReportUnreported.revision_id) == revision_id))
    session.add_all(rows)
    await session.flush()
