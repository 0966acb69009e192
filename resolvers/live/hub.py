"""One process's fan-out of live events: one LISTEN connection feeds it (baoxue/live.py), and it hands
each announcement to every subscription of that kind through a bounded queue.

Memory is bounded per connection: a subscription whose queue is full (its client reads slower than
events arrive) has its whole connection closed with SLOW_CONSUMER, never a longer queue. An account
that loses access (a grant revoked, the account disabled, a token revoked) has its connections closed
with ACCESS_CHANGED, whatever they subscribed to (README "Live events", close codes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.base import utcnow

from .events import Announcement, Kind

log = logging.getLogger("baoxue.live")


@dataclass(frozen=True)
class CloseCode:
    code: int
    reason: str


ACCESS_CHANGED = CloseCode(4410, "ACCESS_CHANGED: 授权已变更，请重新连接 / a grant was revoked or the account disabled")
LISTENER_LOST = CloseCode(4503, "EVENTS_INTERRUPTED: 事件通道中断，请重连 / the event feed was interrupted: reconnect")
TOKEN_EXPIRED = CloseCode(4411, "TOKEN_EXPIRED: 令牌已过期，请重新登录 / the credential expired: sign in again")
SLOW_CONSUMER = CloseCode(4413, "SLOW_CONSUMER: 事件积压，连接已关闭 / events queued past the limit: read faster")

Closer = Callable[[int, str], Awaitable[None]]


@dataclass(eq=False)
class LiveConnection:
    """One WebSocket of a signed-in account."""

    username: str
    close: Closer
    closing: CloseCode | None = None
    subscriptions: set[Subscription] = field(default_factory=set)
    expiry: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class Subscription:
    """One subscription's bounded queue of announcements, not yet re-read for its subscriber."""

    connection: LiveConnection
    kind: Kind
    queue: asyncio.Queue[Announcement]


class Hub:
    """Every live connection and subscription of this process."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.connections: set[LiveConnection] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def connect(self, username: str, close: Closer, expires_at: datetime | None = None) -> LiveConnection:
        """A signed-in connection; closed with TOKEN_EXPIRED when its credential expires."""
        connection = LiveConnection(username, close)
        self.connections.add(connection)
        if expires_at is not None:
            delay = max(0.0, (expires_at - utcnow()).total_seconds())
            connection.expiry = asyncio.get_running_loop().call_later(delay, self.close, connection, TOKEN_EXPIRED)
        return connection

    def disconnect(self, connection: LiveConnection) -> None:
        self.connections.discard(connection)
        connection.subscriptions.clear()
        if connection.expiry is not None:
            connection.expiry.cancel()

    def subscribe(self, connection: LiveConnection, kind: Kind) -> Subscription:
        subscription = Subscription(connection, kind, asyncio.Queue(maxsize=self.queue_size))
        connection.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.connection.subscriptions.discard(subscription)

    def publish(self, announcement: Announcement) -> None:
        """Hand an announcement to every subscription of its kind; ACCESS closes the account's connections."""
        if announcement.kind == Kind.ACCESS:
            if announcement.username:
                self.access_lost(announcement.username)
            return
        for connection in list(self.connections):
            if connection.closing is not None:
                continue
            for subscription in list(connection.subscriptions):
                if subscription.kind != announcement.kind:
                    continue
                try:
                    subscription.queue.put_nowait(announcement)
                except asyncio.QueueFull:
                    log.warning("live subscriber too slow; closing", extra={"username": connection.username})
                    self.close(connection, SLOW_CONSUMER)
                    break

    def access_lost(self, username: str) -> None:
        """Close every connection of the account (it reconnects with the access it has now)."""
        for connection in list(self.connections):
            if connection.username == username:
                self.close(connection, ACCESS_CHANGED)

    def close(self, connection: LiveConnection, code: CloseCode) -> None:
        if connection.closing is not None:
            return
        connection.closing = code
        self.connections.discard(connection)
        for subscription in connection.subscriptions:  # nothing more is read for it
            while not subscription.queue.empty():
                subscription.queue.get_nowait()
        task = asyncio.create_task(self._close(connection, code))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, connection: LiveConnection, code: CloseCode) -> None:
        try:
            await connection.close(code.code, code.reason)
        except Exception:  # already gone: nothing left to close
            log.debug("live connection already closed", extra={"username": connection.username})
