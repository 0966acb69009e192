"""The persisted operations (README, Persisted operations)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..persisted_operation import PersistedOperation


async def document_of(session: AsyncSession, sha256: str) -> str | None:
    return await session.scalar(
        select(col(PersistedOperation.document)).where(col(PersistedOperation.sha256) == sha256)
    )


async def add_operations(session: AsyncSession, operations: list[PersistedOperation]) -> int:
    """Register documents; a hash already known is left as it is (its document is the same text).

    Returns how many were new."""
    if not operations:
        return 0
    stmt = (
        insert(PersistedOperation)
        .values([o.model_dump(exclude={"created_at"}) for o in operations])
        .on_conflict_do_nothing(index_elements=[PersistedOperation.sha256])
        .returning(col(PersistedOperation.sha256))
    )
    return len((await session.execute(stmt)).all())


async def list_operations(session: AsyncSession) -> list[PersistedOperation]:
    stmt = select(PersistedOperation).order_by(col(PersistedOperation.operation_name), col(PersistedOperation.sha256))
    return list((await session.scalars(stmt)).all())
