"""Reading regions and schools. For now any signed-in account reads all; authorization narrows it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from models.region import Region, RegionLevel
from models.repos import regions as region_repo
from models.repos import schools as school_repo
from models.repos.paging import Page
from models.school import School, SchoolKind, SchoolStage

from .context import Context
from .errors import BadInput
from .paging import decode_cursor, page_size


def _read_scope(ctx: Context) -> ColumnElement[bool]:
    """Until the Casbin issue lands: every signed-in account reads every region and school."""
    ctx.signed_in()
    return true()


async def list_regions(
    ctx: Context,
    *,
    parent_code: str | None = None,
    level: RegionLevel | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[Region]:
    scope = _read_scope(ctx)
    return await region_repo.list_regions(
        ctx.session,
        scope=scope,
        parent_code=parent_code,
        level=level,
        after=decode_cursor(after),
        limit=page_size(first),
    )


async def list_schools(
    ctx: Context,
    *,
    region_code: str | None = None,
    stage: SchoolStage | None = None,
    kind: SchoolKind | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[School]:
    scope = _read_scope(ctx)
    region_path = None
    if region_code is not None:
        region = await region_repo.get_region(ctx.session, region_code)
        if region is None:
            raise BadInput("filter.regionCode", "UNKNOWN_REGION", "没有这个行政区划", "no such region")
        region_path = region.path
    return await school_repo.list_schools(
        ctx.session,
        scope=scope,
        region_path=region_path,
        stage=stage,
        kind=kind,
        after=decode_cursor(after),
        limit=page_size(first),
    )


async def get_regions(ctx: Context, codes: list[str]) -> dict[str, Region]:
    _read_scope(ctx)
    return await region_repo.get_regions(ctx.session, codes)


async def get_schools(ctx: Context, codes: list[str]) -> dict[str, School]:
    _read_scope(ctx)
    return await school_repo.get_schools(ctx.session, codes)
