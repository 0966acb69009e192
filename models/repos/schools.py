"""Queries over schools."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..school import School, SchoolKind, SchoolStage, stages_teaching
from .paging import Page, fetch_page
from .paths import SchoolPaths, within_path


async def list_schools(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    region_path: str | None,
    stage: SchoolStage | None,
    kind: SchoolKind | None,
    after: str | None,
    limit: int,
) -> Page[School]:
    where = [scope]
    if region_path is not None:
        where.append(within_path(SchoolPaths(col(School.path)), region_path))
    if stage is not None:
        where.append(col(School.stages).op("&&", return_type=Boolean)(postgresql.array(stages_teaching(stage))))
    if kind is not None:
        where.append(col(School.kind) == kind)
    return await fetch_page(session, School, col(School.code), where, after=after, limit=limit)


async def get_schools(session: AsyncSession, codes: Iterable[str]) -> dict[str, School]:
    rows = await session.scalars(select(School).where(col(School.code).in_(list(codes))))
    return {row.code: row for row in rows}


async def schools_under(session: AsyncSession, region_path: str) -> list[School]:
    """Every school inside a region, by code."""
    stmt = select(School).where(within_path(SchoolPaths(col(School.path)), region_path)).order_by(col(School.code))
    return list(await session.scalars(stmt))
