"""Generating a version's frozen rows: a school's Table 1 and lists from the ledgers, enrolment and
attendance as of the period's last day (rules: models/report_tables.py); a county's quarter, a city's
semester and a province's school year summed from the approved reports one level below; Guyuan's term
survey of a county from its schools' ledgers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models.child import SpecialGroup, Stage, stage_of_grade
from models.ledger import Ledger, LedgerEntry
from models.region import Region, path_of_code
from models.report import ReportChild, ReportFigure, ReportRevision
from models.report_tables import (
    STAGES,
    Cohort,
    Figures,
    Listed,
    back_at_school,
    enrolled_grade,
    figure_row,
    figures_by_stage,
    figures_of,
    on_leave_at_end,
    open_at_end,
    remarks_at,
)
from models.reporting_calendar import CADENCE_OF_LEVEL, SOURCE_LEVEL, Period, ReportLevel, figures_as_of, periods_within
from models.repos import children as child_repo
from models.repos import regions as region_repo
from models.repos import report_inputs
from models.repos import reports as report_repo
from models.repos import schools as school_repo
from models.school import School

from ..context import Context
from .term_visits import Coverage, coverage_of_quarters


@dataclass
class Snapshot:
    figures: list[ReportFigure]
    children: list[ReportChild]
    source_ids: list[int] = field(default_factory=list)
    units_expected: int | None = None
    cohort: Cohort | None = None
    visits: Coverage | None = None  # a county quarter: the term-start visits (004 §5) when it was generated


async def school_snapshot(ctx: Context, school: School, period: Period, revision_id: int) -> Snapshot:
    """Guyuan Table 1, Table 2 and the suspected list of one school for one month (POLICY 003 annexes 1–2)."""
    session, end = ctx.session, period.end
    histories = await report_inputs.enrolment_histories(session, school.code, end)
    grades = {
        child_id: grade
        for child_id, events in histories.items()
        if (grade := enrolled_grade(events, school.code, end)) is not None
    }
    attendance = await report_inputs.attendance_in(session, school.code, grades, period.start, end)
    enrolled = [stage_of_grade(g) or Stage.PRIMARY for g in grades.values()]
    on_leave = [
        stage_of_grade(grades[c]) or Stage.PRIMARY
        for c, marks in attendance.items()
        if on_leave_at_end(marks, period.start, end)
    ]
    entries = await report_inputs.entries_of_school(session, school.code, period.start, end)
    children = await _child_rows(ctx, entries, school, end, revision_id)
    listed = [Listed(e.ledger, e.stage, e.category, not open_at_end(e, end), back_at_school(e, end)) for e in entries]
    by_stage = figures_by_stage(enrolled, on_leave, listed)
    figures = [figure_row(revision_id, s, by_stage[s], school.province_code) for s in STAGES]
    return Snapshot(figures=figures, children=children)


async def _child_rows(
    ctx: Context, entries: list[LedgerEntry], school: School, end: date, revision_id: int
) -> list[ReportChild]:
    session = ctx.session
    kids = await child_repo.get_children(session, {e.child_id for e in entries})
    homes = {i: kid.residence_region_code or kid.household_region_code for i, kid in kids.items()}
    codes = {code for home in homes.values() if home for code in path_of_code(home).split("/")}
    places = await region_repo.get_regions(session, codes)
    schools = await school_repo.get_schools(
        session, {school.code, *(e.placement_school_code for e in entries if e.placement_school_code)}
    )
    rows: list[ReportChild] = []
    for ledger in (Ledger.DROPOUT, Ledger.SUSPECTED):
        for seq, entry in enumerate((e for e in entries if e.ledger is ledger), start=1):
            kid = kids[entry.child_id]
            rows.append(
                ReportChild(
                    revision_id=revision_id,
                    ledger=ledger,
                    seq=seq,
                    child_id=entry.child_id,
                    entry_id=entry.id or 0,
                    name=kid.name,
                    gender=kid.gender,
                    national_id=kid.national_id,
                    registry_number=kid.registry_number,
                    home_address=_address(places, homes[entry.child_id]),
                    poverty_registered=SpecialGroup.POVERTY_REGISTERED.value in kid.special_groups,
                    category=entry.category,
                    stage=entry.stage,
                    grade=entry.grade,
                    school_code=entry.school_code,
                    opened_on=entry.opened_on,
                    school_after_return=_school_after_return(entry, schools, end),
                    closed_out=not open_at_end(entry, end),
                    remarks=remarks_at(entry, end),
                    province_code=school.province_code,
                )
            )
    return rows


def _address(places: dict[str, Region], code: str | None) -> str:
    """家庭住址: the residence's full name from the province down (the finest record the system keeps); the
    household registration's for a child whose residence is not known, empty for one with neither."""
    if code is None:
        return ""
    return "".join(places[c].name for c in path_of_code(code).split("/") if c in places)


def _school_after_return(entry: LedgerEntry, schools: dict[str, School], end: date) -> str | None:
    """劝返后就读学校: the school placed in, or the child's own school once back, by the period end."""
    if entry.placed_on is not None and entry.placed_on <= end:
        code = entry.placement_school_code or entry.school_code
    elif entry.returned_on is not None and entry.returned_on <= end:
        code = entry.school_code
    else:
        return None
    return schools[code].name if code in schools else code


async def aggregate_snapshot(
    ctx: Context, level: ReportLevel, region: Region, period: Period, revision_id: int
) -> Snapshot:
    """A region's report summed from the approved reports one level below (POLICY 004 §5–§7): the
    county's quarter from its schools' months, the city's semester from its counties' quarters, the
    province's school year from its cities' semesters. For each unit its latest approved report inside
    the period counts: Table 1 summed, the lists joined unit by unit.

    Table 1 counts children on a day, so a unit's reports are not added up over time: its latest
    approved figures stand for the period.
    """
    session = ctx.session
    sources = await latest_approved_below(session, level, region.path, period)
    snapshot = await _summed(session, sources, revision_id, region.code[:2])
    if SOURCE_LEVEL[level] is ReportLevel.SCHOOL:
        snapshot.units_expected = await report_repo.count_schools(session, region.path)
    else:
        snapshot.units_expected = len(await report_repo.sub_regions(session, region.code))
    if level is ReportLevel.PROVINCE:
        snapshot.cohort = await _cohort(ctx, region, period)
    if level is ReportLevel.COUNTY:
        key = f"{region.path}|{period.code}"
        snapshot.visits = (await coverage_of_quarters(ctx, [key]))[key]
    return snapshot


async def latest_approved_below(
    session: AsyncSession, level: ReportLevel, region_path: str, period: Period, *, lock: bool = False
) -> list[ReportRevision]:
    """What a region's report of `level` sums: each unit's latest approved report one level below inside
    the period, by unit code (locked against change until the transaction ends, with `lock`)."""
    cadence = CADENCE_OF_LEVEL[SOURCE_LEVEL[level]]
    codes = [p.code for p in periods_within(cadence, period)]
    rows = await report_repo.approved_reports(
        session, under_path=region_path, cadence=cadence, periods=codes, lock=lock
    )
    latest = {report.unit_code: revision for report, revision in rows}  # periods ascend: the last one wins
    return [latest[code] for code in sorted(latest)]


async def term_survey_snapshot(ctx: Context, county: Region, survey: Period, revision_id: int) -> Snapshot:
    """Guyuan's term survey of a county (POLICY 003 §2(二), annex 1 note 4): every school's Table 1 and
    lists as of the survey day, generated from the ledgers like a school's month and summed."""
    schools = await school_repo.schools_under(ctx.session, county.path)
    parts = [await school_snapshot(ctx, school, survey, revision_id) for school in schools]
    return Snapshot(
        figures=_summed_figures(revision_id, (row for part in parts for row in part.figures), county.code[:2]),
        children=_joined(revision_id, (row for part in parts for row in part.children)),
        units_expected=len(schools),
    )


async def _summed(session: AsyncSession, sources: list[ReportRevision], revision_id: int, province: str) -> Snapshot:
    ids = [r.id or 0 for r in sources]
    figure_rows = await report_repo.figures_of(session, ids)
    child_rows = await report_repo.children_of(session, ids)
    return Snapshot(
        figures=_summed_figures(revision_id, (row for rows in figure_rows.values() for row in rows), province),
        children=_joined(revision_id, (row for i in ids for row in child_rows.get(i, []))),
        source_ids=ids,
    )


def _summed_figures(revision_id: int, rows: Iterable[ReportFigure], province: str) -> list[ReportFigure]:
    """Table 1 of several units added up, stage by stage."""
    by_stage = {stage: Figures() for stage in STAGES}
    for row in rows:
        by_stage[row.stage] = by_stage[row.stage].plus(figures_of(row))
    return [figure_row(revision_id, s, by_stage[s], province) for s in STAGES]


async def _cohort(ctx: Context, region: Region, year: Period) -> Cohort:
    """The province's consolidation rate for the school year (docs/CONSOLIDATION.md)."""
    return await report_inputs.cohort(ctx.session, region.path, year.start, figures_as_of(year))


def _joined(revision_id: int, rows: Iterable[ReportChild]) -> list[ReportChild]:
    """The schools' lists one after another, numbered again within each list."""
    out: list[ReportChild] = []
    seq = dict.fromkeys(Ledger, 0)
    ordered = sorted(rows, key=lambda r: r.ledger is Ledger.SUSPECTED)  # stable: school order kept
    for row in ordered:
        seq[row.ledger] += 1
        values = row.model_dump(exclude={"id", "revision_id", "seq"})
        out.append(ReportChild(**values, revision_id=revision_id, seq=seq[row.ledger]))
    return out
