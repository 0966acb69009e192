"""Live events over WebSocket (README "Live events", ARCHITECTURE §11): graphql-transport-ws only.

- Sign-in is in `connection_init`: its payload carries `{"Authorization": "Bearer …"}` or
  `{"token": "…"}` (a JWT or a service token); a refused one closes the socket with 4403 Forbidden.
- Each operation on the socket runs with its own copy of the connection's context (its own session
  and cache: `LiveHandler`), each event with its own session (`LiveContext.event`).
- One LISTEN connection per process (`listen_live`) reads `baoxue_live` (events, accounts that lost
  access) and `baoxue_grants` (a revoked grant closes its account's connections) and feeds the `Hub`.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, date, datetime
from typing import Any

import jwt
import psycopg
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from authz.authentication import authenticate
from authz.enforcer import Authorizer
from authz.principal import CredentialKind, Principal
from authz.state import CHANNEL as GRANTS_CHANNEL
from authz.state import AuthzState, conninfo_of
from authz.tokens import TokenConfig, service_token_prefix
from models.base import today
from models.repos import accounts
from resolvers.live.context import LiveContext
from resolvers.live.events import CHANNEL as LIVE_CHANNEL
from resolvers.live.events import Announcement
from resolvers.live.hub import LISTENER_LOST, Hub
from resolvers.reports.links import LINKS, LinkSigner

from .persisted import PersistedOperations
from .settings import Settings

log = logging.getLogger("baoxue.live")

MAX_SUBSCRIPTIONS = 10
"""Operations one WebSocket may run at once: with each subscription's bounded queue, a connection's memory."""
MAX_TOKENS = 20_000  # only to tell a subscription from the rest; strawberry's own limit applies after

_operation_context: contextvars.ContextVar[LiveContext | None] = contextvars.ContextVar("live_operation", default=None)


class LiveSocket(ASGIWebSocketAdapter):
    """strawberry's socket adapter; a message the view's `decode_json` refuses (not a JSON object, nested
    too deep) closes the socket with 4400, as malformed JSON does, instead of ending it without a code."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
                yield message
        except HTTPException as exc:
            raise NonJsonMessageReceived from exc


class LiveHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """strawberry's graphql-transport-ws handler, with one context per operation instead of one shared by
    every operation of the socket: each operation runs in its own task, which sees its own copy."""

    @property
    def context(self) -> Any:
        return _operation_context.get() or self._connection_context

    @context.setter
    def context(self, value: Any) -> None:
        self._connection_context = value

    async def handle_subscribe(self, message: Any) -> None:
        """Before strawberry runs it: a persisted operation's hash becomes its document (and with
        BAOXUE_PERSISTED_ONLY only registered documents run, as over HTTP); only subscriptions run here,
        queries and mutations go over HTTP (one transaction per request, request ids, budgets' 429)."""
        connection = self._connection_context
        payload = message.get("payload") if isinstance(message, dict) else None
        if not self.connection_acknowledged or not isinstance(connection, LiveContext) or not isinstance(payload, dict):
            await super().handle_subscribe(message)  # strawberry's own answers: 4401, 4400
            return
        lookup = connection.for_operation()
        try:
            persisted: PersistedOperations = self.view.persisted  # type: ignore[attr-defined]  # graphql_view.GraphQLView's
            resolved = await persisted.resolve(payload.get("query"), payload.get("extensions"), lookup)
        finally:
            await lookup.session.close()
        refusal = resolved if isinstance(resolved, GraphQLError) else _not_a_subscription(resolved, payload)
        if refusal is not None:
            await self.send_message({"id": message.get("id"), "type": "error", "payload": [refusal.formatted]})
            return
        with_document: Any = {**message, "payload": {**payload, "query": resolved}}
        await super().handle_subscribe(with_document)

    async def run_operation(self, operation: Any) -> None:
        connection = self._connection_context
        if not isinstance(connection, LiveContext) or connection.principal is None:
            await super().run_operation(operation)
            return
        own = connection.for_operation()
        _operation_context.set(own)  # this task's context only
        try:
            await super().run_operation(operation)
        finally:
            await own.session.close()


SUBSCRIPTIONS_ONLY = GraphQLError(
    "WebSocket 只用于订阅；查询与变更请用 HTTP POST /graphql / the WebSocket carries subscriptions only: "
    "send queries and mutations over HTTP",
    extensions={"code": "SUBSCRIPTIONS_ONLY"},
)


def _not_a_subscription(document: str | None, payload: dict[str, Any]) -> GraphQLError | None:
    """The refusal of a document that is not a subscription (one strawberry cannot parse is left to it)."""
    if not isinstance(document, str):
        return None
    try:
        operation = get_operation_ast(parse(document, max_tokens=MAX_TOKENS), payload.get("operationName"))
    except GraphQLError:
        return None  # strawberry answers it (a syntax error closes the socket with 4400)
    if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
        return SUBSCRIPTIONS_ONLY
    return None


def _fixed_day(day: date) -> Callable[[], date]:
    """BAOXUE_LIVE_TODAY: the day deadline events count from (tests and demos only)."""
    return lambda: day


def live_context(
    websocket: WebSocket,
    *,
    sessions: async_sessionmaker[AsyncSession],
    authz: AuthzState,
    hub: Hub,
    settings: Settings,
    links: LinkSigner | None,
) -> LiveContext:
    """A WebSocket's context: nobody signed in until `connection_init` (a header is not read)."""

    async def close_socket(code: int, reason: str) -> None:
        await websocket.close(code=code, reason=reason)

    async def authorizer() -> Authorizer:
        return await authz.get(sessions)

    context = LiveContext(
        session=sessions(),
        principal=None,
        auth_error="sign in with connection_init",
        sessions=sessions,
        apply_grant_change=authz.apply,
        hub=hub,
        close_socket=close_socket,
        current_authorizer=authorizer,
        clock=_fixed_day(settings.live_today) if settings.live_today else today,
        deadline_check_seconds=settings.live_deadline_check_seconds,
        keep={LINKS: links} if links else {},
    )
    websocket.state.db_session = context.session
    websocket.state.graphql_context = context
    return context


def authorization_of(params: dict[str, Any] | None) -> str | None:
    """The credential of a `connection_init` payload, as an Authorization header value."""
    params = params or {}
    header = params.get("Authorization", params.get("authorization"))
    if isinstance(header, str):
        return header
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


async def _expires_at(session: AsyncSession, authorization: str, principal: Principal) -> datetime | None:
    """When the credential that signed the connection in stops being valid (just verified by `authenticate`)."""
    credential = authorization.partition(" ")[2].strip()
    if principal.credential is CredentialKind.SERVICE_TOKEN:
        prefix = service_token_prefix(credential)
        token = await accounts.get_token_by_prefix(session, prefix) if prefix else None
        return token.expires_at if token else None
    exp = jwt.decode(credential, options={"verify_signature": False}).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


async def sign_in(
    context: LiveContext, sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, hub: Hub
) -> None:
    """Sign the connection in from its `connection_init` payload, or refuse it (4403); the connection
    closes with TOKEN_EXPIRED when its credential expires."""
    authorization = authorization_of(context.connection_params)
    async with sessions() as session:
        auth = await authenticate(session, authorization, tokens)
        expires = await _expires_at(session, authorization or "", auth.principal) if auth.principal else None
        await session.commit()  # a service token's last use
    if auth.principal is None:
        raise ConnectionRejectionError({"message": "请登录 / sign-in required", "code": "UNAUTHENTICATED"})
    context.principal = auth.principal
    context.auth_error = None
    assert context.close_socket is not None, "the app gives every live context its socket's close"
    context.live = hub.connect(auth.principal.username, context.close_socket, expires)


def _grant_revoked(payload: str) -> str | None:
    """The account whose grant a `baoxue_grants` notification removed, if it removed one."""
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("op") == "remove" and isinstance(message.get("username"), str):
        return str(message["username"])
    return None


async def listen_live(hub: Hub, url: str) -> None:
    """Feed the hub from PostgreSQL; after a lost LISTEN connection, close every live connection (events
    may have been missed while it was down: clients reconnect) and listen again."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo_of(url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {LIVE_CHANNEL}")
                await conn.execute(f"LISTEN {GRANTS_CHANNEL}")
                async for note in conn.notifies():
                    if note.channel == GRANTS_CHANNEL:
                        username = _grant_revoked(note.payload)
                        if username is not None:
                            hub.access_lost(username)
                        continue
                    announcement = Announcement.parse(note.payload)
                    if announcement is not None:
                        hub.publish(announcement)
        except asyncio.CancelledError:
            raise
        except Exception:  # log, close what may have missed events, reconnect
            log.exception("live event listener failed; reconnecting")
            for connection in list(hub.connections):
                hub.close(connection, LISTENER_LOST)
            await asyncio.sleep(1)
