"""A WebSocket connection's context: signed in once at `connection_init`, then a fresh session, cache and
authorizer for each operation and for each event it delivers (nothing is shared between two events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from authz.enforcer import Authorizer
from models.base import today

from ..context import Context
from .hub import Closer, Hub, LiveConnection


@dataclass
class LiveContext(Context):
    """`connection_params` is the `connection_init` payload (strawberry sets it); `live` the connection
    once signed in; `current_authorizer` reads the process's live authorizer (grants change under a
    long-lived subscription); `clock` gives today in China (deadline events; tests set it)."""

    connection_params: dict[str, Any] | None = None
    hub: Hub | None = None
    close_socket: Closer | None = None  # the app's: closes this WebSocket with a code and a reason
    live: LiveConnection | None = None
    current_authorizer: Callable[[], Awaitable[Authorizer]] | None = None
    clock: Callable[[], date] = field(default=today)
    deadline_check_seconds: float = 600.0
    keep: dict[str, Any] = field(default_factory=dict)  # cache entries every operation keeps (signed links)

    def for_operation(self) -> LiveContext:
        """This connection's context for one operation: its own session and cache."""
        if self.sessions is None:
            raise RuntimeError("a live context needs its sessionmaker")
        return replace(self, session=self.sessions(), cache=dict(self.keep), on_commit=[], durable_audit=[])

    async def between_events(self) -> None:
        """End the operation's own transaction once the subscription is checked: a subscription lasts
        hours and must hold no database connection while it waits (each event opens its own)."""
        await self.session.commit()
        await self.session.close()

    @asynccontextmanager
    async def event(self) -> AsyncIterator[LiveContext]:
        """One event's re-read and resolution: a fresh session and today's authorizer, committed (the
        audit rows of full reads) once the event has been sent."""
        if self.sessions is None:
            raise RuntimeError("a live context needs its sessionmaker")
        previous = self.session
        self.session = self.sessions()
        self.cache = dict(self.keep)
        self.durable_audit = []
        if self.current_authorizer is not None:
            self.authorizer = await self.current_authorizer()
        try:
            yield self
            await self.session.commit()
        finally:
            await self.session.close()
            self.session = previous
