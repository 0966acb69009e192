"""Drafting reports: a school's month (一月一报告, POLICY 004 §4), a county's quarter (一季度一复核, §5), a
city's semester research (一学期一调研, §6), a province's school-year assessment (一学年一评估, §7) and
Guyuan's term survey of a county (POLICY 003 §2(二)).

A draft is generated from the data as of the period's last day and may be generated again, and
annotated, until it is submitted; a returned report is corrected as a new version.
"""

from __future__ import annotations

from authz.errors import Forbidden
from models.base import today, utcnow
from models.region import Region, RegionLevel
from models.report import Report, ReportChild, ReportRevision, ReportStatus
from models.reporting_calendar import (
    CADENCE_OF_LEVEL,
    Cadence,
    Period,
    ReportLevel,
    figures_as_of,
    first_drafting_day,
    parse_period,
)
from models.repos import regions as region_repo
from models.repos import reports as report_repo
from models.repos import schools as school_repo
from models.school import School

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..versioning import check_version
from .assessing import carry_forward
from .bimonthly import bimonthly_snapshot
from .common import (
    REPORT,
    bad_period,
    clean_text,
    locked,
    report_for_unit,
    rules_for,
    save_report,
    term_survey_kept,
    unit_grant,
)
from .errors import ReportErrorCode
from .snapshot import Snapshot, aggregate_snapshot, school_snapshot, term_survey_snapshot


async def draft_school_report(ctx: Context, *, school_code: str, period: str, version: int | None) -> Report:
    """Generate (or generate again) the school's monthly report; by the school's own staff or principal."""
    school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
    if school is None or ctx.access().allows(REPORT, "READ", {"EDU": [school.path]}) is None:
        raise BadInput("schoolCode", "NOT_FOUND", "没有这所学校", "no such school")
    require_own_unit(ctx, school.path)
    span = await period_of(ctx, Cadence.MONTH, period, school.province_code)
    report, revision = await draft_target(ctx, ReportLevel.SCHOOL, span, school, version)
    snapshot = await school_snapshot(ctx, school, span, revision.id or 0)
    return await _store(ctx, report, revision, snapshot)


_REGION_OF_LEVEL = {
    ReportLevel.COUNTY: (
        RegionLevel.COUNTY,
        ReportErrorCode.NOT_A_COUNTY,
        "季度复核报告由县级填报",
        "a quarterly report is a county's",
    ),
    ReportLevel.CITY: (
        RegionLevel.CITY,
        ReportErrorCode.NOT_A_CITY,
        "学期调研报告由地市填报",
        "a semester research report is a city's",
    ),
    ReportLevel.PROVINCE: (
        RegionLevel.PROVINCE,
        ReportErrorCode.NOT_A_PROVINCE,
        "学年评估报告由省级填报",
        "a school-year assessment is a province's",
    ),
}


async def draft_region_report(
    ctx: Context, level: ReportLevel, *, region_code: str, period: str, version: int | None
) -> Report:
    """Generate (or generate again) a region's report from the approved reports one level below: the
    county's quarter (§5), the city's semester research (§6), the province's school-year assessment (§7).
    By the region's own bureau, which submits it. A countersignature on the earlier draft is cleared."""
    region = await _own_region(ctx, level, region_code)
    span = await period_of(ctx, CADENCE_OF_LEVEL[level], period, region.code[:2])
    report, revision = await draft_target(ctx, level, span, region, version)
    snapshot = await aggregate_snapshot(ctx, level, region, span, revision.id or 0)
    return await _store(ctx, report, revision, snapshot)


async def draft_term_survey(ctx: Context, *, region_code: str, period: str, version: int | None) -> Report:
    """Guyuan's term survey (POLICY 003 §2(二)): a county's Table 1 and Table 2 as of the survey day, in a
    city that keeps that calendar (`city_setting.term_survey_enabled`, the city's own choice)."""
    county = await _own_region(ctx, ReportLevel.COUNTY, region_code)
    if not await term_survey_kept(ctx, county.path):
        raise BadInput(
            "period",
            "TERM_SURVEY_OFF",
            "本市未启用学期摸排报表（固原做法，003 §2(二)）",
            "the city does not keep Guyuan's term survey calendar (POLICY 003 §2(二))",
        )
    span = await period_of(ctx, Cadence.TERM_SURVEY, period, county.code[:2])
    report, revision = await draft_target(ctx, ReportLevel.COUNTY, span, county, version)
    snapshot = await term_survey_snapshot(ctx, county, span, revision.id or 0)
    return await _store(ctx, report, revision, snapshot)


async def draft_bimonthly_report(ctx: Context, *, region_code: str, period: str, version: int | None) -> Report:
    """The province's bimonthly report to the ministry (双月报, POLICY 004 §9), from the month-end statistics
    (resolvers/reports/bimonthly.py). By the provincial department, which submits it; the ministry re-checks."""
    province = await _own_region(ctx, ReportLevel.PROVINCE, region_code)
    span = await period_of(ctx, Cadence.BIMONTH, period, province.code[:2])
    report, revision = await draft_target(ctx, ReportLevel.PROVINCE, span, province, version)
    snapshot = await bimonthly_snapshot(ctx, province, span, revision.id or 0)
    return await _store(ctx, report, revision, snapshot)


async def _own_region(ctx: Context, level: ReportLevel, region_code: str) -> Region:
    """The region a report is drafted for: in the caller's view, of the report's level, the caller's own."""
    region = await region_repo.get_region(ctx.session, region_code)
    if region is None or ctx.access().allows(REPORT, "READ", {"EDU": [region.path]}) is None:
        raise BadInput("regionCode", "NOT_FOUND", "没有这个行政区划", "no such region")
    region_level, code, zh, en = _REGION_OF_LEVEL[level]
    if region.level is not region_level:
        raise BadInput("regionCode", code, zh, en)
    require_own_unit(ctx, region.path)
    return region


async def set_row_note(ctx: Context, *, report_id: str, student_id: str, note: str | None, version: int) -> Report:
    """The reporting unit's own note (备注) on a listed child, while the report is a draft."""
    report = await report_for_unit(ctx, report_id, "DRAFT", "SUBMIT", version=version)
    if report.status is not ReportStatus.DRAFT:
        raise locked(report)
    revision = await report_repo.revision_of(ctx.session, report)
    child_id = parse_id(student_id)
    mine = [r for r in await _rows_of(ctx, revision) if r.child_id == child_id]
    if not mine:
        raise BadInput("studentId", "NOT_LISTED", "该学生不在本报告名单中", "the student is not listed in the report")
    text = clean_text("note", note, 500)
    for row in mine:
        row.note = text
        ctx.session.add(row)
    return await save_report(ctx, report, "report.note", student=child_id, note=text)


def require_own_unit(ctx: Context, path: str) -> None:
    """Reports are drafted by the unit's own staff: a bureau above reads them, it does not write them."""
    if unit_grant(ctx, path, "DRAFT", "SUBMIT") is None:
        raise Forbidden()


async def period_of(ctx: Context, cadence: Cadence, code: str, province_code: str) -> Period:
    span = parse_period(cadence, code, await rules_for(ctx, province_code))
    if span is None:
        raise bad_period(cadence)
    as_of = figures_as_of(span)
    if today() < first_drafting_day(span):
        raise BadInput(
            "period",
            "PERIOD_NOT_OVER",
            f"报告期（截至 {as_of.isoformat()}）尚未结束",
            f"the period (to {as_of.isoformat()}) is not over yet",
        )
    return span


async def draft_target(
    ctx: Context, level: ReportLevel, span: Period, unit: School | Region, version: int | None
) -> tuple[Report, ReportRevision]:
    """The report and the version a draft is generated into: a new report, the current draft, or a
    new version of a returned report. Submitted and approved reports are locked."""
    code = unit.code
    report = await report_repo.find_report(ctx.session, code, span.cadence, span.code)
    if report is None:
        report = await report_repo.add(
            ctx.session,
            Report(
                level=level,
                cadence=span.cadence,
                period=span.code,
                period_start=span.start,
                period_end=span.end,
                due_on=span.due,
                unit_code=code,
                unit_name=unit.name,
                unit_path=unit.path,
                created_by=ctx.actor,
                version=0,
                province_code=unit.path[:2],
            ),
        )
        revision = await _new_revision(ctx, report, span)
        return report, revision
    if version is None:  # two first drafts at once: the second finds the first's and must not overwrite it
        raise BadInput(
            "version",
            "CONFLICT",
            f"该报告已存在（版本 {report.version}），重新生成须提供版本",
            f"the report already exists (version {report.version}): give its version to generate it again",
        )
    check_version(report, version)
    if report.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
        raise locked(report)
    report.due_on = span.due
    if report.status is ReportStatus.RETURNED:
        report.revision += 1
        report.status = ReportStatus.DRAFT
        return report, await _new_revision(ctx, report, span)
    revision = await report_repo.revision_of(ctx.session, report)
    revision.generated_by, revision.generated_at = ctx.actor, utcnow()
    revision.cosigned_by = revision.cosigned_at = revision.cosign_note = None  # it signed other figures
    return report, revision


async def _new_revision(ctx: Context, report: Report, span: Period) -> ReportRevision:
    return await report_repo.add(
        ctx.session,
        ReportRevision(
            report_id=report.id or 0,
            number=report.revision,
            as_of=figures_as_of(span),
            generated_by=ctx.actor,
            province_code=report.province_code,
        ),
    )


async def _store(ctx: Context, report: Report, revision: ReportRevision, snapshot: Snapshot) -> Report:
    """Replace the version's rows with the new snapshot, keeping the unit's notes on children still listed."""
    previous = await _previous_notes(ctx, report, revision)
    for row in snapshot.children:
        row.note = previous.get(row.entry_id)
    await report_repo.replace_snapshot(ctx.session, revision.id or 0, snapshot.figures, snapshot.children)
    await report_repo.add_sources(ctx.session, revision.id or 0, snapshot.source_ids)
    await carry_forward(ctx, report, revision)
    revision.units_expected = snapshot.units_expected
    if snapshot.cohort is not None:
        revision.cohort_size, revision.cohort_retained = snapshot.cohort.size, snapshot.cohort.retained
    visits = snapshot.visits
    revision.visit_term = visits.term.code if visits else None
    revision.schools_visited, revision.schools_to_visit = (visits.visited, visits.schools) if visits else (None, None)
    ctx.session.add(revision)
    return await save_report(
        ctx,
        report,
        "report.draft",
        listed=len(snapshot.children),
        sources=len(snapshot.source_ids) if report.level is not ReportLevel.SCHOOL else None,
    )


async def _previous_notes(ctx: Context, report: Report, revision: ReportRevision) -> dict[int, str | None]:
    """Notes of the draft being regenerated, or else of the returned version being corrected, by entry."""
    rows = await _rows_of(ctx, revision)
    if not rows and revision.number > 1:
        returned = await report_repo.previous_revision(ctx.session, revision)
        rows = await _rows_of(ctx, returned) if returned else []
    return {r.entry_id: r.note for r in rows if r.note}


async def _rows_of(ctx: Context, revision: ReportRevision) -> list[ReportChild]:
    return (await report_repo.children_of(ctx.session, [revision.id or 0])).get(revision.id or 0, [])
