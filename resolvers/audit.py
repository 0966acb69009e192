"""The one audit path (ARCHITECTURE §5): every audit row a use case writes goes through these helpers."""

from __future__ import annotations

from typing import Any

from models.repos import audit

from .context import Context
from .live.events import announce


async def record_change(ctx: Context, **entry: Any) -> None:
    """Audit a change in this operation's transaction (ARCHITECTURE §5), naming the caller and the request."""
    await audit.record(ctx.session, actor=ctx.actor, request_id=ctx.request_id, **entry)
    # A change that is a live event is announced in the same transaction (resolvers/live/events.py).
    await announce(ctx.session, entry.get("action", ""), str(entry.get("target_id", "")), entry.get("summary"))


async def record_durable(ctx: Context, **entry: Any) -> None:
    """Audit something that happened whatever becomes of this operation (a full read was served).

    On a read replica nothing can be written: the row waits for `keep_durable_audit` (the primary).
    Without a transaction (a query on the primary) the row stands once written.
    """
    entry = {"actor": ctx.actor, "request_id": ctx.request_id, **entry}
    if ctx.on_replica:
        ctx.durable_audit.append(entry)
        return
    await audit.record(ctx.session, **entry)
    if not ctx.autocommit:  # in a transaction: written again if it rolls back
        ctx.durable_audit.append(entry)


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
