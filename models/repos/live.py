"""Reads of live events (resolvers/live): the reports units hold for the periods whose deadlines are near."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..report import Report

Key = tuple[str, str, str]


async def unit_reports(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, Report]:
    """The reports of these (unit code, cadence, period) keys that exist, by key; nothing locked."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    stmt = select(Report).where(tuple_(col(Report.unit_code), col(Report.cadence), col(Report.period)).in_(wanted))
    return {(r.unit_code, r.cadence.value, r.period): r for r in await session.scalars(stmt)}
