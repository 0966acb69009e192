"""The SQL of the key transitions (models/transition.py): the 小升初 list, the 中考 cohort and its gaps, their
counts, and the explanations of gaps. Each list takes the scope predicate it is given, over the columns
`LEAVER_SCOPE` and `GAP_SCOPE` name; it never decides it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Text, and_, exists, func, literal, or_, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from ..child import Child
from ..enrolment import EnrolmentChange, EnrolmentEvent
from ..ledger import EntryStatus, LedgerEntry
from ..ledger_categories import PRIMARY_LAST_GRADE
from ..roster import RosterKind
from ..roster_import import ImportStatus, RosterImport, RosterRow, RowStatus
from ..school import School, SchoolStage, stages_teaching
from ..transition import EXAM_GRADE, ExamRegistrationExplanation, school_year_span
from .paging import Page
from .paths import SchoolPaths, within_path

E = aliased(EnrolmentEvent, name="finished")
LATER = aliased(EnrolmentEvent, name="later")
S = aliased(School, name="last_school")

# The columns each list is scoped on: the education line by the school (the last one, for a leaver), the
# government line by the child's household or residence.
LEAVER_SCOPE: dict[str, list[Any]] = {
    "EDU": [SchoolPaths(col(S.path))],
    "GOV": [col(Child.household_path), col(Child.residence_path)],
}


@dataclass(frozen=True)
class LeaverRow:
    child: Child
    finished_on: date
    school: School
    entry: LedgerEntry | None


def _leavers_where(first: date, last: date) -> list[ColumnElement[bool]]:
    """Children whose last enrolment change is finishing grade 6 between `first` and `last`, with no school."""
    later = exists().where(
        col(LATER.child_id) == col(E.child_id),
        tuple_(col(LATER.on), col(LATER.id)) > tuple_(col(E.on), col(E.id)),
    )
    return [
        col(E.change) == EnrolmentChange.GRADUATE,
        col(E.grade) == PRIMARY_LAST_GRADE,
        col(E.on) >= first,
        col(E.on) <= last,
        ~later,
        col(Child.school_code).is_(None),
    ]


def _leavers(where: list[ColumnElement[bool]]) -> Any:
    return (
        select(Child, col(E.on), S)
        .select_from(E)
        .join(Child, col(Child.id) == col(E.child_id))
        .join(S, col(S.code) == col(E.school_code))
        .where(*where)
    )


def region_at(path: Any, depth: int) -> Any:
    """The region a school's path lies in, cut at `depth` levels (province 1, city 2, county 3)."""
    return func.array_to_string(func.string_to_array(path, "/", type_=ARRAY(Text))[1:depth], "/")


def _region(region_path: str | None, *columns: Any) -> list[ColumnElement[bool]]:
    return [] if region_path is None else [or_(*(within_path(c, region_path) for c in columns))]


async def list_primary_leavers(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    school_year: int,
    region_path: str | None,
    after: int | None,
    limit: int,
) -> Page[LeaverRow]:
    """The 小升初 list (POLICY 003 二(二)): pupils who finished primary in the school year and hold no school
    place, with their open ledger entry if any, by child id."""
    first, last = school_year_span(school_year)
    where = [
        scope,
        *_leavers_where(first, last),
        *_region(region_path, SchoolPaths(col(S.path)), col(Child.household_path), col(Child.residence_path)),
    ]
    stmt = _leavers(where).order_by(col(Child.id)).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(col(Child.id) > after)
    found = (await session.execute(stmt)).all()
    total = await session.scalar(select(func.count()).select_from(_leavers(where).subquery()))
    rows = found[:limit]
    entries = await open_entries(session, [c.id for c, _, _ in rows])
    return Page(
        rows=[LeaverRow(child=c, finished_on=on, school=s, entry=entries.get(c.id or 0)) for c, on, s in rows],
        has_next=len(found) > limit,
        total=int(total or 0),
    )


async def open_entries(session: AsyncSession, child_ids: list[int | None]) -> dict[int, LedgerEntry]:
    """Each child's entry not yet closed."""
    ids = [i for i in child_ids if i is not None]
    if not ids:
        return {}
    entries = await session.scalars(
        select(LedgerEntry).where(col(LedgerEntry.child_id).in_(ids), col(LedgerEntry.status) != EntryStatus.CLOSED)
    )
    return {e.child_id: e for e in entries}


@dataclass(frozen=True)
class CountRow:
    region_path: str
    listed: int
    on_ledger: int = 0
    explained: int = 0


async def primary_leaver_counts(
    session: AsyncSession, *, scope: ColumnElement[bool], school_year: int, region_path: str | None, depth: int
) -> list[CountRow]:
    """The 小升初 list counted by the region of the last school, cut at `depth` levels (COUNTY: 3)."""
    first, last = school_year_span(school_year)
    place = region_at(col(S.path), depth)
    ledger = exists().where(col(LedgerEntry.child_id) == col(Child.id), col(LedgerEntry.status) != EntryStatus.CLOSED)
    stmt = (
        select(place, func.count(), func.count().filter(ledger))
        .select_from(E)
        .join(Child, col(Child.id) == col(E.child_id))
        .join(S, col(S.code) == col(E.school_code))
        .where(scope, *_leavers_where(first, last), *_region(region_path, SchoolPaths(col(S.path))))
        .group_by(place)
        .order_by(place)
    )
    return [CountRow(region_path=p, listed=int(n), on_ledger=int(m)) for p, n, m in (await session.execute(stmt))]


# --- 中考 registration --------------------------------------------------------------------------------

G = aliased(School, name="grade9_school")
GAP_SCOPE: dict[str, list[Any]] = {"EDU": [SchoolPaths(col(G.path))]}


def _junior(school: Any) -> ColumnElement[bool]:
    """The school teaches junior secondary (a junior or nine-year school)."""
    return col(school.stages).op("&&", return_type=Boolean)(postgresql.array(stages_teaching(SchoolStage.JUNIOR)))


@dataclass(frozen=True)
class GapRow:
    child: Child
    school: School
    explanation: ExamRegistrationExplanation | None
    entry: LedgerEntry | None


def cohort(school_year: int, *, current: bool) -> Any:
    """The grade-9 pupils of the school year, each with the school of their grade 9: enrolled in grade 9 now
    (when it is the current school year), or whose grade-9 enrolment ended that year by graduating or leaving
    (one school per pupil). A subquery of (child_id, school_code)."""
    first, last = school_year_span(school_year)
    ended: Any = select(
        col(EnrolmentEvent.child_id).label("child_id"), col(EnrolmentEvent.school_code).label("school_code")
    ).where(
        col(EnrolmentEvent.grade) == EXAM_GRADE,
        col(EnrolmentEvent.change).in_([EnrolmentChange.GRADUATE, EnrolmentChange.LEAVE]),
        col(EnrolmentEvent.on) >= first,
        col(EnrolmentEvent.on) <= last,
    )
    now: Any = select(col(Child.id).label("child_id"), col(Child.school_code).label("school_code")).where(
        col(Child.grade) == EXAM_GRADE, col(Child.school_code).is_not(None), literal(current)
    )
    both = now.union_all(ended).subquery("both_ways")
    return (
        select(both.c.child_id, func.min(both.c.school_code).label("school_code"))
        .group_by(both.c.child_id)
        .subquery("cohort")
    )


def registered(school_year: int, child: Any = Child) -> ColumnElement[bool]:
    """The child is on an applied 中考 registration roster of its county for the school year: the same
    national ID, else (a row without one) the same registry number, or tied to the child by a person."""
    first, last = school_year_span(school_year)
    r, b = RosterRow, RosterImport
    same = or_(
        col(r.child_id) == child.id,
        and_(col(r.national_id).is_not(None), col(r.national_id) == child.national_id),
        and_(
            col(r.national_id).is_(None),
            col(r.registry_number).is_not(None),
            col(r.registry_number) == child.registry_number,
        ),
    )
    return exists().where(
        col(b.kind) == RosterKind.EXAM_REGISTRATION.value,
        col(b.status) == ImportStatus.APPLIED,
        col(b.as_of) >= first,
        col(b.as_of) <= last,
        col(r.import_id) == col(b.id),
        col(r.status) == RowStatus.VALID,
        func.substr(col(G.path), 1, func.length(col(b.jurisdiction_path)) + 1) == col(b.jurisdiction_path) + "/",
        same,
    )


def _gaps(school_year: int, current: bool) -> tuple[Any, Any]:
    members = cohort(school_year, current=current)
    x = ExamRegistrationExplanation
    stmt = (
        select(Child, G, x)
        .select_from(members)
        .join(Child, col(Child.id) == members.c.child_id)
        .join(G, col(G.code) == members.c.school_code)
        .outerjoin(x, and_(col(x.child_id) == col(Child.id), col(x.school_year) == school_year))
        .where(_junior(G), ~registered(school_year))
    )
    return stmt, x


async def list_exam_gaps(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    school_year: int,
    current: bool,
    region_path: str | None,
    explained: bool | None,
    after: int | None,
    limit: int,
) -> Page[GapRow]:
    """The grade-9 pupils of the school year not registered for 中考, by child id."""
    stmt, x = _gaps(school_year, current)
    where = [scope, *_region(region_path, SchoolPaths(col(G.path)))]
    if explained is not None:
        where.append(col(x.child_id).is_not(None) if explained else col(x.child_id).is_(None))
    stmt = stmt.where(*where)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = stmt.order_by(col(Child.id)).limit(limit + 1)
    if after is not None:
        page = page.where(col(Child.id) > after)
    found = (await session.execute(page)).all()
    rows = found[:limit]
    entries = await open_entries(session, [c.id for c, _, _ in rows])
    return Page(
        rows=[GapRow(child=c, school=s, explanation=e, entry=entries.get(c.id or 0)) for c, s, e in rows],
        has_next=len(found) > limit,
        total=int(total or 0),
    )


@dataclass(frozen=True)
class GapCountRow:
    region_path: str
    pupils: int
    gaps: int
    explained: int


async def exam_gap_counts(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    school_year: int,
    current: bool,
    region_path: str | None,
    depth: int,
) -> list[GapCountRow]:
    """Per region at `depth` levels: the grade-9 pupils, those not registered, and of those the explained."""
    members = cohort(school_year, current=current)
    x = ExamRegistrationExplanation
    place = region_at(col(G.path), depth)
    gap = ~registered(school_year)
    stmt = (
        select(
            place,
            func.count(),
            func.count().filter(gap),
            func.count().filter(and_(gap, col(x.child_id).is_not(None))),
        )
        .select_from(members)
        .join(Child, col(Child.id) == members.c.child_id)
        .join(G, col(G.code) == members.c.school_code)
        .outerjoin(x, and_(col(x.child_id) == col(Child.id), col(x.school_year) == school_year))
        .where(scope, _junior(G), *_region(region_path, SchoolPaths(col(G.path))))
        .group_by(place)
        .order_by(place)
    )
    rows = await session.execute(stmt)
    return [GapCountRow(region_path=p, pupils=int(a), gaps=int(b), explained=int(c)) for p, a, b, c in rows]


async def gap_of(session: AsyncSession, child_id: int, school_year: int, current: bool) -> tuple[Child, School] | None:
    """The pupil and its grade-9 school when the pupil is a gap of the school year (in the cohort, a junior
    school's, not registered); None otherwise."""
    stmt, _ = _gaps(school_year, current)
    found = (await session.execute(stmt.where(col(Child.id) == child_id))).first()
    return None if found is None else (found[0], found[1])


async def unexplained_gaps(session: AsyncSession, *, county_path: str, school_year: int, current: bool) -> int:
    """How many gaps of the county's schools for the school year have no explanation."""
    stmt, x = _gaps(school_year, current)
    stmt = stmt.where(within_path(SchoolPaths(col(G.path)), county_path), col(x.child_id).is_(None))
    return int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def lock_explanation(
    session: AsyncSession, child_id: int, school_year: int
) -> ExamRegistrationExplanation | None:
    """The explanation, locked for a revision (writers of one pupil's explanation queue here)."""
    x = ExamRegistrationExplanation
    stmt = select(x).where(col(x.child_id) == child_id, col(x.school_year) == school_year).with_for_update()
    return (await session.scalars(stmt.execution_options(populate_existing=True))).first()


async def insert_explanation(session: AsyncSession, values: dict[str, Any]) -> bool:
    """A first explanation; False when another was recorded first (the unique key decides the race)."""
    stmt = (
        insert(ExamRegistrationExplanation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["child_id", "school_year"])
        .returning(literal(1))
    )
    return (await session.execute(stmt)).first() is not None
