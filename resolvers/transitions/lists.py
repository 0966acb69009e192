"""The county's lists of the key transitions (POLICY 003 二(二); docs/POLICY.md "Key transitions"), and
the counts the levels above read instead.

- `primaryLeaversNotEnrolled` (小升初): `TRANSITION:READ`, scoped like the ledgers: the education line by the
  pupil's last school, the government line by household or residence. Listed from the autumn term start
  after the school year plus `primary_leaver_days` (computed when asked: no job runs).
- `examRegistrationGaps` (中考): `TRANSITION:READ` on the education line, by the grade-9 school.
- The counts (`AGGREGATE:READ`, no personal data): a city or province sees counts, never the list
  ("The county sees the list, the city sees counts").

A `regionCode` filter outside every jurisdiction the caller holds the right in is refused (FORBIDDEN).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import col

from authz.catalogue import within
from authz.errors import Forbidden
from models.base import today
from models.province import DEFAULT_PRIMARY_LEAVER_DAYS, ProvinceSetting
from models.report_tables import school_year_of
from models.reporting_calendar import rules_of, term_start
from models.repos import school_calendar as calendar_repo
from models.repos import transitions as repo
from models.repos.paging import Page
from models.repos.paths import SchoolPaths
from models.transition import primary_leavers_listed_from

from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size
from .errors import TransitionErrorCode

TRANSITION = "TRANSITION"
AGGREGATE = "AGGREGATE"
DEPTH = {"PROVINCE": 1, "CITY": 2, "COUNTY": 3}


def _year(school_year: int | None, default: int) -> int:
    year = default if school_year is None else school_year
    if not 2000 <= year <= 2100:
        raise BadInput("filter.schoolYear", TransitionErrorCode.OUT_OF_RANGE)
    return year


async def _region(ctx: Context, obj: str, act: str, region_code: str | None) -> str | None:
    """The filter's region path; refused when the caller holds obj:act nowhere, or nowhere near it."""
    access = ctx.access()
    if not access.holds_anywhere(obj, act):
        raise Forbidden()
    path = await filter_region_path(ctx, region_code)
    granted = access.all_granted_paths(obj, act)
    if path is not None and not any(within(g, path) or within(path, g) for g in granted):
        raise Forbidden()
    return path


def _province(ctx: Context, obj: str, act: str, region_path: str | None) -> str | None:
    if region_path:
        return region_path.split("/")[0]
    provinces = {p.split("/")[0] for p in ctx.access().all_granted_paths(obj, act) if p}
    return provinces.pop() if len(provinces) == 1 else None


async def listed_from(ctx: Context, province: str | None, school_year: int) -> date:
    """The day a school year's 小升初 cohort is listed: the next autumn term's first day (the province's term
    as recorded in its calendar, else its setting's autumn start, 1 September by default) plus its
    `primary_leaver_days` (30 by default)."""
    setting = await ctx.session.get(ProvinceSetting, province) if province else None
    start = term_start(school_year + 1, "AUTUMN", rules_of(setting))
    if province:
        autumn = [
            t for t in await calendar_repo.terms_of(ctx.session, province, school_year + 1) if t.first_day.month >= 7
        ]
        start = autumn[0].first_day if autumn else start
    days = setting.primary_leaver_days if setting is not None else DEFAULT_PRIMARY_LEAVER_DAYS
    return primary_leavers_listed_from(start, days)


@dataclass(frozen=True)
class Leavers:
    page: Page[repo.LeaverRow]
    school_year: int
    listed_from: date


async def list_primary_leavers(
    ctx: Context, *, school_year: int | None, region_code: str | None, first: int | None, after: str | None
) -> Leavers:
    """The 小升初 list of a school year (default: the one before the current, whose pupils are due in junior
    school this autumn). Empty until the listing day."""
    year = _year(school_year, school_year_of(today()) - 1)
    path = await _region(ctx, TRANSITION, "READ", region_code)
    limit, cursor = page_size(first), decode_id_cursor(after)
    since = await listed_from(ctx, _province(ctx, TRANSITION, "READ", path), year)
    if today() < since:
        return Leavers(Page(rows=[], has_next=False, total=0), year, since)
    page = await repo.list_primary_leavers(
        ctx.session,
        scope=ctx.access().scope(TRANSITION, "READ", repo.LEAVER_SCOPE),
        school_year=year,
        region_path=path,
        after=int(cursor) if cursor else None,
        limit=limit,
    )
    return Leavers(page, year, since)


def _depth(by: str) -> int:
    if by not in DEPTH:
        raise BadInput("by", "BAD_LEVEL", "按省、市或县汇总", "group by PROVINCE, CITY or COUNTY")
    return DEPTH[by]


def _aggregate_scope(ctx: Context, path: Any) -> Any:
    return ctx.access().scope(AGGREGATE, "READ", {"EDU": [SchoolPaths(path)], "GOV": [SchoolPaths(path)]})


async def primary_leaver_counts(
    ctx: Context, *, school_year: int | None, region_code: str | None, by: str
) -> tuple[list[repo.CountRow], int, date]:
    """The 小升初 list counted by the last school's region (`AGGREGATE:READ`, no personal data)."""
    year = _year(school_year, school_year_of(today()) - 1)
    depth = _depth(by)
    path = await _region(ctx, AGGREGATE, "READ", region_code)
    since = await listed_from(ctx, _province(ctx, AGGREGATE, "READ", path), year)
    if today() < since:
        return [], year, since
    rows = await repo.primary_leaver_counts(
        ctx.session,
        scope=_aggregate_scope(ctx, col(repo.S.path)),
        school_year=year,
        region_path=path,
        depth=depth,
    )
    return rows, year, since


@dataclass(frozen=True)
class Gaps:
    page: Page[repo.GapRow]
    school_year: int


async def list_exam_gaps(
    ctx: Context,
    *,
    school_year: int | None,
    region_code: str | None,
    explained: bool | None,
    first: int | None,
    after: str | None,
) -> Gaps:
    """The grade-9 pupils of a school year (default: the current) not on the county's 中考 registrations."""
    current = school_year_of(today())
    year = _year(school_year, current)
    path = await _region(ctx, TRANSITION, "READ", region_code)
    limit, cursor = page_size(first), decode_id_cursor(after)
    page = await repo.list_exam_gaps(
        ctx.session,
        scope=ctx.access().scope(TRANSITION, "READ", repo.GAP_SCOPE),
        school_year=year,
        current=year == current,
        region_path=path,
        explained=explained,
        after=int(cursor) if cursor else None,
        limit=limit,
    )
    return Gaps(page, year)


async def exam_gap_counts(
    ctx: Context, *, school_year: int | None, region_code: str | None, by: str
) -> tuple[list[repo.GapCountRow], int]:
    """Grade-9 pupils, 中考 gaps and explained gaps by region (`AGGREGATE:READ`, no personal data)."""
    current = school_year_of(today())
    year = _year(school_year, current)
    depth = _depth(by)
    path = await _region(ctx, AGGREGATE, "READ", region_code)
    rows = await repo.exam_gap_counts(
        ctx.session,
        scope=_aggregate_scope(ctx, col(repo.G.path)),
        school_year=year,
        current=year == current,
        region_path=path,
        depth=depth,
    )
    return rows, year


async def unexplained_exam_gaps(ctx: Context, county_path: str, school_year: int) -> int:
    """The county's 中考 gaps of the school year with no explanation (the county report's gate)."""
    return await repo.unexplained_gaps(
        ctx.session, county_path=county_path, school_year=school_year, current=school_year == school_year_of(today())
    )
