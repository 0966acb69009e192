"""Failed-login counters, shared by every app process through the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..account import LoginThrottle


async def failures_since(session: AsyncSession, keys: list[str], since: datetime) -> dict[str, LoginThrottle]:
    """Counters for `keys` whose window started after `since` (older windows have expired)."""
    rows = await session.scalars(
        select(LoginThrottle).where(
            col(LoginThrottle.key).in_(keys),
            col(LoginThrottle.window_started_at) > since,
        )
    )
    return {row.key: row for row in rows}


async def record_failure(session: AsyncSession, key: str, now: datetime, window: timedelta) -> None:
    """Count one failure; a counter whose window has expired starts again at one."""
    expired = col(LoginThrottle.window_started_at) <= now - window
    stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
            "window_started_at": case((expired, now), else_=LoginThrottle.window_started_at),
        },
    )
    await session.execute(stmt)


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))
