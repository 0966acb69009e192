"""The statements every request runs, on the session's own psycopg connection.

Sign-in, a list filter's region and the compiled page run on every request. Through SQLAlchemy each
execution costs about 0.15 ms of CPU more than the statement itself (building its cache key, the
execution context, the result's processing: issue 18 §2, bench/RESULTS.md), so these few go to the
driver directly, inside the session's transaction, with their SQL text fixed or compiled once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session, its transaction begun and its pending changes flushed,
    as SQLAlchemy does before any statement (autoflush)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = (await (await session.connection()).get_raw_connection()).driver_connection
    assert isinstance(connection, psycopg.AsyncConnection)
    return connection


async def fetch_one(
    session: AsyncSession, sql: str, params: Mapping[str, Any] | Sequence[Any]
) -> tuple[Any, ...] | None:
    """The first row of a statement the driver runs as it is (psycopg's `%s` / `%(name)s` placeholders)."""
    cursor = await (await driver_connection(session)).execute(sql, params)
    return await cursor.fetchone()
