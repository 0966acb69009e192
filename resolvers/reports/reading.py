"""Reading reports in scope (REPORT:READ over the unit's path on the education line), their versions
and frozen rows. The lists of children need the ledgers' read right over the unit as well: the ministry
and other readers of figures only see Table 1."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, or_

from models.report import (
    Report,
    ReportAssessment,
    ReportChild,
    ReportFigure,
    ReportFinding,
    ReportRevision,
    ReportStatus,
    ReportVerdict,
)
from models.repos import reports as report_repo
from models.repos.paging import Page, PageQuery, run_page

from ..context import Context
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id
from .common import REPORT, lists_visible_at, may_read, own_unit_paths

T = TypeVar("T", ReportRevision, ReportVerdict, ReportFinding, ReportAssessment)


async def reports_page_query(
    ctx: Context,
    *,
    filter: report_repo.ReportFilter,
    region_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> PageQuery:
    """Reports the caller may read, filtered (a region's subtree: its own and its units' reports), as
    the statements of one page: the normal path runs them, the compiled path builds its JSON over them."""
    if region_code is not None:
        filter = replace(filter, region_path=await filter_region_path(ctx, region_code))
    scope = readable_reports(ctx, listing=True)
    cursor = decode_id_cursor(after)
    return report_repo.reports_page_query(
        scope=scope, filter=filter, after=int(cursor) if cursor is not None else None, limit=page_size(first)
    )


async def list_reports(ctx: Context, **arguments: Any) -> Page[Report]:
    """A page of the reports the caller may read: see `reports_page_query`."""
    return await run_page(ctx.session, Report, await reports_page_query(ctx, **arguments))


def readable_reports(ctx: Context, *, listing: bool) -> ColumnElement[bool]:
    """Which reports may the caller read, as a SQL predicate per report: `may_read` in SQL (REPORT:READ
    over the unit, a draft only for those who work on it). A list (`listing`) is FORBIDDEN to a caller
    who reads reports nowhere; `node` answers null."""
    access = ctx.access()
    scope_of = access.list_scope if listing else access.scope
    scope = scope_of(REPORT, "READ", report_repo.REPORT_SCOPE_COLUMNS)
    return report_repo.readable(scope, drafts_of=own_unit_paths(ctx))


async def get_reports(ctx: Context, ids: list[str]) -> dict[str, Report]:
    """Reports by id; one outside the caller's scope answers like a missing one."""
    found = await report_repo.get_reports(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    return {str(report_id): report for report_id, report in found.items() if may_read(ctx, report)}


async def report_parts(
    ctx: Context, model: type[T], ids: list[str], *, names_children: bool = False
) -> dict[str, tuple[T, Report]]:
    """Parts of reports (versions, verdicts, findings, assessments) by id, each with its report, where the
    caller may read that report: a part is scoped like its report, and one out of scope answers like a
    missing one. A part that names a child (a verdict, a finding) needs the ledgers' read right over the
    unit too, as the report's own lists do."""
    found = await report_repo.parts_by_id(ctx.session, model, [n for n in map(parse_id, ids) if n is not None])
    reports = await get_reports(ctx, sorted({str(report_id) for _, report_id in found}))
    return {
        str(row.id): (row, report)
        for row, report_id in found
        if (report := reports.get(str(report_id))) is not None
        and (not names_children or lists_visible_at(ctx, report.unit_path))
    }


async def lists_visible(ctx: Context, unit_paths: list[str]) -> dict[str, bool]:
    """May the caller see the children listed in reports of these units (the ledgers' read right there)?"""
    return {p: lists_visible_at(ctx, p) for p in unit_paths}


# Below: rows of reports this operation already found in scope, batched by report or version id.


async def revisions_of(ctx: Context, report_ids: list[str]) -> dict[str, list[ReportRevision]]:
    found = await report_repo.revisions_of(ctx.session, [int(i) for i in report_ids])
    return {i: found.get(int(i), []) for i in report_ids}


async def works_on(ctx: Context, unit_paths: list[str]) -> dict[str, bool]:
    """Does the caller work on these units' drafts (draft, submit or countersign there)?"""
    own = own_unit_paths(ctx)
    return {p: p in own for p in unit_paths}


def shown_versions(revisions: list[ReportRevision], works_on_unit: bool) -> list[ReportRevision]:
    """A version still being drafted is shown only to those who work on the unit: the levels above see
    what was submitted (a report corrected after a return keeps its returned version current for them)."""
    if works_on_unit:
        return revisions
    return [r for r in revisions if r.status is not ReportStatus.DRAFT]


def current_shown(revisions: list[ReportRevision], number: int) -> ReportRevision | None:
    """The report's current version if shown, else the newest shown (a correction not yet resubmitted
    leaves the returned version current for the levels above)."""
    return next((r for r in revisions if r.number == number), revisions[-1] if revisions else None)


def shown_sql(status: Any, works_on_unit: ColumnElement[bool]) -> ColumnElement[bool]:
    """`shown_versions` in SQL: is this version shown (`works_on_unit`: `works_on` of its report's unit)?
    A test holds it and `current_shown_order` to the Python rules over generated versions."""
    return or_(works_on_unit, status != ReportStatus.DRAFT.value)


def works_on_sql(ctx: Context, unit_path: Any) -> ColumnElement[bool]:
    """`works_on` in SQL, for a report's unit path column."""
    own = sorted(own_unit_paths(ctx))
    return unit_path.in_(own) if own else false()


def current_shown_order(number: Any, current_number: Any) -> tuple[Any, ...]:
    """`current_shown` in SQL: the shown versions in this order, the first is the one it picks (the
    report's current version, else the newest)."""
    return ((number == current_number).desc(), number.desc())


async def figures_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[ReportFigure]]:
    found = await report_repo.figures_of(ctx.session, [int(i) for i in revision_ids])
    return {i: found.get(int(i), []) for i in revision_ids}


async def children_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[ReportChild]]:
    found = await report_repo.children_of(ctx.session, [int(i) for i in revision_ids])
    return {i: found.get(int(i), []) for i in revision_ids}


async def assessments_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[ReportAssessment]]:
    found = await report_repo.assessments_of(ctx.session, [int(i) for i in revision_ids])
    return {i: found.get(int(i), []) for i in revision_ids}


async def verdicts_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[ReportVerdict]]:
    found = await report_repo.verdicts_of(ctx.session, [int(i) for i in revision_ids])
    return {i: found.get(int(i), []) for i in revision_ids}


async def findings_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[ReportFinding]]:
    found = await report_repo.findings_of(ctx.session, [int(i) for i in revision_ids])
    return {i: found.get(int(i), []) for i in revision_ids}


async def sources_of(ctx: Context, revision_ids: list[str]) -> dict[str, list[tuple[Report, ReportRevision]]]:
    """The versions an aggregate summed, with their reports, where the caller may read them."""
    found = await report_repo.sources_of(ctx.session, [int(i) for i in revision_ids])
    reports = await get_reports(ctx, sorted({str(s.report_id) for rows in found.values() for s in rows}))
    return {
        i: [(reports[str(s.report_id)], s) for s in found.get(int(i), []) if str(s.report_id) in reports]
        for i in revision_ids
    }
