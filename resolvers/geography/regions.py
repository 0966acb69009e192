"""Reading regions and schools, scoped: an account sees its own subtree plus its ancestors' names."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from authz.access import Access
from authz.catalogue import ancestors
from models.region import Region, RegionLevel
from models.repos import regions as region_repo
from models.repos import schools as school_repo
from models.repos.paging import Page
from models.repos.paths import SchoolPaths
from models.school import School, SchoolKind, SchoolStage

from ..context import Context
from ..errors import unknown_region, unknown_school
from ..paging import decode_cursor, page_size

READ = "READ"


def _region_scope(ctx: Context) -> ColumnElement[bool]:
    access = ctx.access()
    subtree = access.scope("REGION", READ, {"PLACE": [col(Region.path)]})
    above = {a for path in access.granted_paths("REGION", READ, "PLACE") for a in ancestors(path)[1:] if a}
    return or_(subtree, col(Region.path).in_(sorted(above))) if above else subtree


def _school_scope(ctx: Context) -> ColumnElement[bool]:
    return ctx.access().scope("SCHOOL", READ, {"PLACE": [SchoolPaths(col(School.path))]})


async def list_regions(
    ctx: Context,
    *,
    parent_code: str | None = None,
    level: RegionLevel | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[Region]:
    return await region_repo.list_regions(
        ctx.session,
        scope=_region_scope(ctx),
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
    return await school_repo.list_schools(
        ctx.session,
        scope=_school_scope(ctx),
        region_path=await filter_region_path(ctx, region_code),
        stage=stage,
        kind=kind,
        after=decode_cursor(after),
        limit=page_size(first),
    )


async def filter_region_path(ctx: Context, region_code: str | None) -> str | None:
    """The path of a list filter's `regionCode` (a region the caller may see), or None when unset."""
    if region_code is None:
        return None
    access = ctx.access()
    path = own_region_path(access, region_code) or await region_repo.region_path(ctx.session, region_code)
    if path is None or not visible_region(access, path):
        raise unknown_region("filter.regionCode")
    return path


def own_region_path(access: Access, region_code: str) -> str | None:
    """The path of a region the caller holds a grant on, known without a statement: a region's path is its
    ancestors' codes and its own (`models/region.py`), so a grant's path ends with its region's code. The
    filter most often names the caller's own county (issue 18 §2: one round trip a page less)."""
    return next((p for p in access.exact_granted_paths("REGION", READ) if p.rpartition("/")[2] == region_code), None)


async def filter_school_path(ctx: Context, school_code: str | None) -> str | None:
    """The path of a list filter's `schoolCode` (a school the caller may see), or None when unset."""
    if school_code is None:
        return None
    school = (await get_schools(ctx, [school_code])).get(school_code)
    if school is None:
        raise unknown_school("filter.schoolCode")
    return school.path


async def get_regions(ctx: Context, codes: list[str]) -> dict[str, Region]:
    """Regions by code; one outside the caller's view answers like a missing one."""
    access = ctx.access()
    found = await region_repo.get_regions(ctx.session, codes)
    return {code: region for code, region in found.items() if visible_region(access, region.path)}


def visible_region(access: Access, path: str) -> bool:
    """A region the caller may see: inside its jurisdiction, or above it (its own county's city)."""
    return bool(
        access.allows("REGION", READ, {"PLACE": [path]}) or access.sees_as_ancestor("REGION", READ, "PLACE", path)
    )


async def places_named(ctx: Context, codes: list[str]) -> dict[str, Region]:
    """Regions named by an object the caller may already see (a child's household, a school's town,
    a region's parent). Division codes and names are public; only lists are scoped by subtree."""
    ctx.access()
    return await region_repo.get_regions(ctx.session, codes)


async def schools_named(ctx: Context, codes: list[str]) -> dict[str, School]:
    """Schools named on a child record the caller may read (a migrant child's school elsewhere)."""
    ctx.access()
    return await school_repo.get_schools(ctx.session, codes)


async def get_schools(ctx: Context, codes: list[str]) -> dict[str, School]:
    access = ctx.access()
    found = await school_repo.get_schools(ctx.session, codes)
    return {code: s for code, s in found.items() if access.allows("SCHOOL", READ, {"PLACE": [s.path]})}
