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

    In a transaction (a mutation) the row is written at once, and again after a rollback. A query (on a read
    replica, or on the primary without a transaction) keeps its rows until it has run: `keep_durable_audit`
    then writes them all in one statement on the primary, before the answer leaves (one commit, not one a row).
    """
    entry = {"actor": ctx.actor, "request_id": ctx.request_id, **entry}
    ctx.durable_audit.append(entry)
    if not (ctx.on_replica or ctx.autocommit):
        await audit.record(ctx.session, **entry)


async def keep_durable_audit(ctx: Context) -> None:
    """Write the durable audit rows on the primary in one statement: after a mutation rolled back, and after
    every query. A query on the primary writes them on its own session (each statement commits by itself);
    otherwise a session and transaction of their own."""
    if not ctx.durable_audit or ctx.sessions is None:
        return
    if ctx.autocommit and not ctx.on_replica:
        await audit.record_many(ctx.session, ctx.durable_audit)
        return
    async with ctx.sessions() as session:
        await audit.record_many(session, ctx.durable_audit)
        await session.commit()
