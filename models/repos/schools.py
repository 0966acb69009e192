"""Queries over schools."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..school import School, SchoolKind, SchoolStage, stages_teaching
from .paging import Page, fetch_page
from .regions import within_path


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
        where.append(within_path(School.path, region_path))  # type: ignore[arg-type]
    if stage is not None:
        where.append(School.stages.overlap(stages_teaching(stage)))  # type: ignore[attr-defined]
    if kind is not None:
        where.append(School.kind == kind)  # type: ignore[arg-type]
    return await fetch_page(session, School, School.code, where, after=after, limit=limit)


async def get_schools(session: AsyncSession, codes: Iterable[str]) -> dict[str, School]:
    rows = await session.scalars(select(School).where(School.code.in_(list(codes))))  # type: ignore[attr-defined]
    return {row.code: row for row in rows}
