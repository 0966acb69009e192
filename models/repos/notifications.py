"""PostgreSQL NOTIFY: delivered to listeners only when the sending transaction commits."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})
