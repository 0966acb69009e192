"""The live authorizer of one process: built off the request path, swapped whole, kept in sync.

Grant changes reach every process through PostgreSQL NOTIFY on the channel `baoxue_grants`
(sent inside the granting transaction, so only committed changes travel). The process that made
the change also applies it right after its own commit.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.base import utcnow
from models.repos import grants as grant_repo
from models.repos.notifications import notify

from .catalogue import Role
from .enforcer import Authorizer, GrantRef

log = logging.getLogger("baoxue.authz")

CHANNEL = "baoxue_grants"


@dataclass(frozen=True)
class GrantChange:
    """One grant added or removed, as sent on the channel."""

    op: str  # "add" | "remove"
    id: int
    username: str
    role: str
    scope_path: str
    expires_at: str | None = None

    def ref(self) -> GrantRef:
        expires = datetime.fromisoformat(self.expires_at) if self.expires_at else None
        return GrantRef(self.id, self.username, Role(self.role), self.scope_path, expires)

    def payload(self) -> str:
        return json.dumps(asdict(self))


async def publish(session: AsyncSession, change: GrantChange) -> None:
    """Queue the change for every process; PostgreSQL delivers it only if the transaction commits."""
    await notify(session, CHANNEL, change.payload())


async def publish_rebuild(session: AsyncSession) -> None:
    """Ask every process to rebuild from the database (after bulk changes such as seeding)."""
    await notify(session, CHANNEL, json.dumps({"op": "rebuild"}))


async def load_grants(session: AsyncSession) -> list[GrantRef]:
    rows = await grant_repo.live_grants_with_usernames(session, utcnow())
    return [GrantRef(g.id or 0, username, Role(g.role), g.scope_path, g.expires_at) for g, username in rows]


class AuthzState:
    """Holds the current Authorizer; requests read the reference, rebuilds replace it."""

    def __init__(self) -> None:
        self.current: Authorizer | None = None
        self._lock = asyncio.Lock()

    async def get(self, sessions: async_sessionmaker[AsyncSession]) -> Authorizer:
        if self.current is None:
            async with self._lock:
                if self.current is None:
                    await self.rebuild(sessions)
        assert self.current is not None
        return self.current

    async def rebuild(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Load every live grant and build a fresh enforcer in a worker thread, then swap."""
        async with sessions() as session:
            grants = await load_grants(session)
        self.current = await asyncio.to_thread(Authorizer, grants)
        # Keep the long-lived enforcer out of every full garbage collection (~200 ms at 100k grants:
        # bench/AUTHZ.md); unfreezing first lets the replaced one be collected.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        log.info("authorizer built", extra={"grants": len(grants)})

    def apply(self, change: GrantChange) -> None:
        if self.current is None:
            return  # the first build will read it from the database
        if change.op == "add":
            self.current.add(change.ref())
        else:
            self.current.remove(change.id, change.username, change.scope_path)


def conninfo_of(url: str) -> str:
    """psycopg's URL for SQLAlchemy's `postgresql+psycopg://…`."""
    return "postgresql://" + url.split("://", 1)[1]


async def listen(state: AuthzState, url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Apply grant changes from other processes; after any reconnect, rebuild to catch up."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo_of(url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                await state.rebuild(sessions)
                async for note in conn.notifies():
                    message = json.loads(note.payload)
                    if message.get("op") == "rebuild":
                        await state.rebuild(sessions)
                    else:
                        state.apply(GrantChange(**message))
        except asyncio.CancelledError:
            raise
        except Exception:  # any failure: log, wait, reconnect and rebuild; never die silently
            log.exception("grant listener failed; reconnecting")
            await asyncio.sleep(1)
