"""Writing the audit trail, always inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..audit import AuditLog
from .paging import Page, fetch_page
from .period_statistics import Cursor


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    scope_path: str = "",
    summary: dict[str, Any] | None = None,
    reason: str | None = None,
    request_id: str | None = None,
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            scope_path=scope_path,
            summary=summary or {},
            reason=reason,
            request_id=request_id,
        )
    )
    await session.flush()


async def record_many(session: AsyncSession, entries: Iterable[dict[str, Any]]) -> None:
    """Several rows (each the keywords of `record`) in one statement: outside a transaction, one commit."""
    for entry in entries:
        session.add(AuditLog(**{**entry, "summary": entry.get("summary") or {}}))
    await session.flush()


def record_with(
    cursor: Cursor, *, actor: str, action: str, target_type: str, target_id: str, summary: dict[str, Any]
) -> None:
    """The same row on a psycopg cursor, inside its transaction: the synthetic loader works on one connection."""
    cursor.execute(
        "INSERT INTO audit_log (actor, action, target_type, target_id, summary) VALUES (%s, %s, %s, %s, %s)",
        [actor, action, target_type, target_id, Jsonb(summary)],
    )


async def list_entries(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    action: str | None,
    actor: str | None,
    target_type: str | None,
    after: str | None,
    limit: int,
) -> Page[AuditLog]:
    """Entries in the order they were written (by id)."""
    where = [scope]
    if action is not None:
        where.append(col(AuditLog.action) == action)
    if actor is not None:
        where.append(col(AuditLog.actor) == actor)
    if target_type is not None:
        where.append(col(AuditLog.target_type) == target_type)
    return await fetch_page(session, AuditLog, col(AuditLog.id), where, after=after, limit=limit, key_type=int)


async def get_entries(session: AsyncSession, *, scope: ColumnElement[bool], ids: Iterable[int]) -> dict[int, AuditLog]:
    """Entries by id, only those within `scope`."""
    rows = await session.scalars(select(AuditLog).where(scope, col(AuditLog.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}
