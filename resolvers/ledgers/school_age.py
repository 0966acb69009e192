"""The school-age children ledger (适龄儿童台账, POLICY 004 §2): derived from the children, never copied.

Every child aged 6–15 on the province's cut-off day (31 August unless the province sets another)
whose household or residence lies in scope — migrants included — with their schooling status.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from models.base import today
from models.child import Child, SpecialGroup
from models.province import DEFAULT_CUTOFF, ProvinceSetting, school_age_birth_window
from models.repos import ledger as ledger_repo
from models.repos.children import SCOPE_COLUMNS, children_page_query
from models.repos.paging import Page, PageQuery, run_page

from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..paging import decode_keyset_cursor, page_size
from .common import LEDGER


def current_school_year(on: date) -> int:
    """The school year runs 1 September – 31 August and is named by the year it starts."""
    return on.year if on.month >= 9 else on.year - 1


async def cutoff_day(ctx: Context, school_year: int, province_code: str | None) -> date:
    month, day = DEFAULT_CUTOFF
    if province_code is not None:
        setting = await ctx.session.get(ProvinceSetting, province_code)
        if setting is not None:
            month, day = setting.age_cutoff_month, setting.age_cutoff_day
    return date(school_year, month, day)


async def school_age_page_query(
    ctx: Context,
    *,
    school_year: int | None,
    region_code: str | None,
    enrolled: bool | None,
    special_group: SpecialGroup | None,
    first: int | None,
    after: str | None,
) -> tuple[PageQuery, date]:
    """The school-age ledger's page the caller may read, as statements, and the cut-off day."""
    year = school_year if school_year is not None else current_school_year(today())
    if not 2000 <= year <= 2100:
        raise BadInput("schoolYear", "OUT_OF_RANGE", "学年须在 2000–2100 之间", "the school year lies in 2000–2100")
    region_path = await filter_region_path(ctx, region_code)
    province = region_path.split("/")[0] if region_path else _single_province(ctx)
    cutoff = await cutoff_day(ctx, year, province)
    born_after, born_by = school_age_birth_window(cutoff)
    query = children_page_query(
        scope=ctx.access().list_ranges(LEDGER, "READ", SCOPE_COLUMNS),
        born=(born_after, born_by),
        region_path=region_path,
        enrolled=enrolled,
        special_group=special_group.value if special_group else None,
        after=decode_keyset_cursor(after),
        limit=page_size(first),
    )
    return query, cutoff


async def list_school_age(
    ctx: Context, *, count: bool = True, **arguments: Any
) -> tuple[Page[ledger_repo.SchoolAgeRow], date]:
    """The school-age ledger's page (its total if `count`) and its cut-off day: see `school_age_page_query`."""
    query, cutoff = await school_age_page_query(ctx, **arguments)
    page = await run_page(ctx.session, Child, query, count=count)
    return await ledger_repo.with_open_entries(ctx.session, page), cutoff


def _single_province(ctx: Context) -> str | None:
    """The province of the caller's ledger jurisdictions, when they all lie in one."""
    access = ctx.access()
    paths = {p for line in ("EDU", "GOV") for p in access.granted_paths(LEDGER, "READ", line)}
    provinces = {p.split("/")[0] for p in paths if p}
    return provinces.pop() if len(provinces) == 1 else None
