"""Writing the audit trail, always inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import AuditEvent


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    summary: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary or {},
            request_id=request_id,
        )
    )
    await session.flush()
