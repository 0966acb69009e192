"""Reading the audit log: supervisors and permission admins, within their jurisdiction."""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from models.audit import AuditLog
from models.repos import audit
from models.repos.paging import Page

from .context import Context
from .paging import decode_id_cursor, page_size


async def record_change(ctx: Context, **entry: Any) -> None:
    """Audit a change in this operation's transaction (DESIGN §5), naming the caller and the request."""
    await audit.record(ctx.session, actor=ctx.actor, request_id=ctx.request_id, **entry)


async def record_durable(ctx: Context, **entry: Any) -> None:
    """Audit something that happened whatever becomes of this operation (a full read was served).

    On a read replica nothing can be written: the row waits for `keep_durable_audit` (the primary).
    """
    entry = {"actor": ctx.actor, "request_id": ctx.request_id, **entry}
    ctx.durable_audit.append(entry)
    if not ctx.on_replica:
        await audit.record(ctx.session, **entry)


async def keep_durable_audit(ctx: Context) -> None:
    """Write the durable audit rows on the primary, in a session and transaction of their own.

    Called after a rollback, and after every query served by the read replica.
    """
    if not ctx.durable_audit or ctx.sessions is None:
        return
    async with ctx.sessions() as session:
        for entry in ctx.durable_audit:
            await audit.record(session, **entry)
        await session.commit()


async def list_audit_log(
    ctx: Context,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[AuditLog]:
    scope = ctx.access().scope("AUDIT", "READ", {"PLACE": [col(AuditLog.scope_path)]})
    return await audit.list_entries(
        ctx.session,
        scope=scope,
        action=action,
        actor=actor,
        target_type=target_type,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )
