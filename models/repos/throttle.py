"""Failed-login counters, shared by every app process through the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..account import LoginThrottle


async def count_attempt(session: AsyncSession, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
    """Count one attempt before it is checked; returns (attempts in the window, window start).

    Counting first, under the row lock the upsert takes, stops parallel guesses from all reading
    the same old count. A counter whose window has expired starts again at one.
    """
    expired = col(LoginThrottle.window_started_at) <= now - window
    upsert = (
        insert(LoginThrottle)
        .values(key=key, failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((expired, now), else_=LoginThrottle.window_started_at),
            },
        )
        .returning(col(LoginThrottle.failures), col(LoginThrottle.window_started_at))
    )
    failures, started = (await session.execute(upsert)).one()
    return int(failures), started


async def forgive(session: AsyncSession, key: str) -> None:
    """Take back one counted attempt (a client's successful sign-in is not a failure)."""
    stmt = update(LoginThrottle).where(col(LoginThrottle.key) == key).values(failures=LoginThrottle.failures - 1)
    await session.execute(stmt)


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))
