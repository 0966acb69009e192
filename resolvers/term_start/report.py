"""The school's written report of its unreported list (POLICY 002 一(三): 学校要及时书面报告县级教育主管部门和
乡镇政府), kept in the reporting chain as a school report of cadence TERM_START (`2026-AUTUMN`).

- Drafted by the school's own staff once the window is over (`draftTermStartReport`), generated again
  while a draft; each version freezes the list with each pupil's reason (`report_unreported`).
- Submitted by the principal with `submitReport`, under the school report's rules (deadline, late
  flag), and only when every listed pupil has a reason (UNEXPLAINED) and the list still is what the
  draft froze (LIST_CHANGED: generate it again).
- Re-checked by the county bureau with `reviewReport` as a school's month is: a verdict on every
  listed pupil to approve, disputes and findings return it (authz/recheck.py: one level up).
- The township government sees it on its listed pupils (`unreportedPupils`, `UnreportedPupil.report`).
"""

from __future__ import annotations

from models.base import today
from models.report import Report, ReportRevision
from models.reporting_calendar import Cadence, ReportLevel, term_start_window
from models.repos import schools as school_repo
from models.repos import term_start as term_repo
from models.school import School
from models.term_start import ReportUnreported

from ..context import Context
from ..errors import BadInput
from ..reports import drafting
from ..reports.common import REPORT, rules_for, save_report


async def current_list(ctx: Context, school: School, term: str) -> list[term_repo.UnreportedRow]:
    """The school's whole list for the term as it stands now (not scoped: the caller is the school's)."""
    year, half = term.split("-")  # a TERM_START period's code, checked by its caller
    window = term_start_window(int(year), half, await rules_for(ctx, school.province_code))
    if window.first_day > today():
        return []
    listed = term_repo.listed_subquery({school.province_code: window}, today(), school_code=school.code)
    page = await term_repo.list_unreported(
        ctx.session,
        listed,
        term,
        where=term_repo.filter_conditions(listed, term_repo.UnreportedFilter(school_path=school.path)),
        explained=None,
        reason=None,
        after=None,
        limit=None,
    )
    return page.rows


async def draft_term_start_report(ctx: Context, *, school_code: str, term: str, version: int | None) -> Report:
    """Generate (or generate again) the school's term-start report: its unreported list as it stands."""
    school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
    if school is None or ctx.access().allows(REPORT, "READ", {"EDU": [school.path]}) is None:
        raise BadInput("schoolCode", "NOT_FOUND", "没有这所学校", "no such school")
    drafting.require_own_unit(ctx, school.path)
    span = await drafting.period_of(ctx, Cadence.TERM_START, term, school.province_code)
    report, revision = await drafting.draft_target(ctx, ReportLevel.SCHOOL, span, school, version)
    rows = await current_list(ctx, school, term)
    visits = await term_repo.visits_of(ctx.session, [(r.child.id or 0, term) for r in rows])
    frozen = [
        ReportUnreported(
            revision_id=revision.id or 0,
            seq=n,
            child_id=r.child.id or 0,
            name=r.child.name,
            gender=r.child.gender,
            grade=r.grade,
            days_absent=r.days_absent,
            on_leave=r.on_leave,
            reason=r.explanation.reason if r.explanation else None,
            receiving_school_code=r.explanation.receiving_school_code if r.explanation else None,
            note=r.explanation.note if r.explanation else None,
            entry_id=r.explanation.entry_id if r.explanation else None,
            visits=len(visits.get((r.child.id or 0, term), [])),
            province_code=r.child.province_code,
        )
        for n, r in enumerate(rows, start=1)
    ]
    await term_repo.replace_report_rows(ctx.session, revision.id or 0, frozen)
    ctx.session.add(revision)
    unexplained = sum(r.reason is None for r in frozen)
    return await save_report(ctx, report, "report.draft", listed=len(frozen), unexplained=unexplained)


async def check_submission(ctx: Context, report: Report, revision: ReportRevision) -> None:
    """A term-start report goes up with every listed pupil explained, and listing what the list is now."""
    frozen = (await term_repo.report_rows(ctx.session, [revision.id or 0]))[revision.id or 0]
    missing = [r.name for r in frozen if r.reason is None]
    if missing:
        raise BadInput(
            "reportId",
            "UNEXPLAINED",
            f"名单中尚有学生未核实原因（002 一(三)：逐一核实原因）：{'、'.join(missing)}",
            f"{len(missing)} listed pupil(s) have no verified reason yet (POLICY 002 一(三))",
        )
    school = (await school_repo.get_schools(ctx.session, [report.unit_code]))[report.unit_code]
    now = {
        (r.child.id, r.explanation.reason if r.explanation else None)
        for r in await current_list(ctx, school, report.period)
    }
    if now != {(r.child_id, r.reason) for r in frozen}:
        raise BadInput(
            "reportId",
            "LIST_CHANGED",
            "生成草稿后名单或原因有变化，请重新生成",
            "the list or a reason changed since the draft was generated: generate it again",
        )


async def listed_children(ctx: Context, revision: ReportRevision) -> set[int]:
    """The pupils a term-start version lists (the county gives each a verdict)."""
    rows = (await term_repo.report_rows(ctx.session, [revision.id or 0]))[revision.id or 0]
    return {r.child_id for r in rows}


async def frozen_rows(ctx: Context, revision_ids: list[int]) -> dict[int, list[ReportUnreported]]:
    return await term_repo.report_rows(ctx.session, revision_ids)


__all__ = ["check_submission", "current_list", "draft_term_start_report", "frozen_rows", "listed_children"]
