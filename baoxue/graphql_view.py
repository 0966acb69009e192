"""The GraphQL endpoint: strawberry over starlette, a session and the caller per operation (ARCHITECTURE §2),
the body's JSON bounded, the query budget in the answer, GraphQL over HTTP's status codes."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from authz.authentication import authenticate
from authz.state import AuthzState
from authz.tokens import TokenConfig
from resolvers.compiled.jsonsql import dumps
from resolvers.context import Context
from resolvers.live.context import LiveContext
from resolvers.live.hub import Hub
from resolvers.reports.links import LINKS, LinkSigner
from schema.budgets import BUDGET, BUDGET_REFUSED, budget_extensions, query_budgets
from schema.limits import Limits
from schema.root import build_schema

from .budget_metrics import BUDGET_REFUSALS
from .database import (
    autocommit_sessions,
)
from .graphql_http import GRAPHQL_RESPONSE, JSON, http_refusal, is_request_error, negotiate, request_error_status
from .ide import graphiql_page
from .live import MAX_SUBSCRIPTIONS, LiveHandler, LiveSocket, live_context, sign_in
from .observability import OperationMetrics, request_id_var
from .persisted import PersistedOperations
from .settings import Settings

MAX_BODY_NESTING = 64
"""How deep a request body's JSON may nest (objects and lists); deeper bodies are refused before use."""


def _nested_deeper_than(value: object, limit: int) -> bool:
    """Without recursion: a body is checked before anything walks it recursively."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class GraphQLView(GraphQL[Context, None]):
    """Strawberry over starlette: a fresh session and the caller's principal per operation; over the
    WebSocket (graphql-transport-ws only), sign-in at `connection_init` and live events (baoxue/live.py).

    Sign-in and the authorizer always read the primary (`sessions`), sign-in without a transaction.
    UnitOfWork then moves a mutation to a transaction of its own, and, with `replica_sessions`, a query to
    the replica once the document shows it only reads.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tokens: TokenConfig,
        settings: Settings,
        authz: AuthzState,
        replica_sessions: async_sessionmaker[AsyncSession] | None = None,
        links: LinkSigner | None = None,
        hub: Hub | None = None,
    ) -> None:
        limits = Limits(
            settings.max_query_depth,
            settings.max_query_tokens,
            settings.max_query_aliases,
            settings.max_query_cost,
        )
        schema = build_schema(
            production=settings.production,
            limits=limits,
            extra_extensions=[OperationMetrics],
            on_the_primary=[query_budgets(settings.budget_policy, limits)],
            compiled=settings.compiled_reads,
        )
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=not settings.production,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
            # A browser page of another origin opens the WebSocket only from the origins allowed CORS
            # (the credential is in connection_init, never a cookie; this keeps the two lists one).
            allowed_origins=settings.cors_origin_list,
        )
        self.sessions = sessions
        self.reading_sessions = autocommit_sessions(sessions)
        self.replica_sessions = replica_sessions
        self.tokens = tokens
        self.authz = authz
        self.links = links
        self.persisted = PersistedOperations(required=settings.persisted_only)
        self.hub = hub or Hub(settings.live_queue_size)
        self.settings = settings

    graphql_transport_ws_handler_class = LiveHandler
    websocket_adapter_class = LiveSocket

    def encode_json(self, data: object) -> str:
        """UTF-8 JSON: Chinese names stay readable on the wire and in logs; the compiled path's JSON goes
        in as PostgreSQL built it."""
        return dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """A body (or GET `variables`) is a JSON object in UTF-8, nested at most MAX_BODY_NESTING deep."""
        try:
            value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except (ValueError, RecursionError) as exc:  # bad UTF-8 and bad JSON are ValueErrors
            raise HTTPException(400, "请求体不是 UTF-8 编码的 JSON / the body is not JSON in UTF-8") from exc
        if not isinstance(value, dict):
            raise HTTPException(400, "请求体须为 JSON 对象 / the body must be a JSON object")
        if _nested_deeper_than(value, MAX_BODY_NESTING):
            raise HTTPException(
                400, f"请求体嵌套超过 {MAX_BODY_NESTING} 层 / the body nests deeper than {MAX_BODY_NESTING} levels"
            )
        return value

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            return live_context(
                request,
                sessions=self.sessions,
                authz=self.authz,
                hub=self.hub,
                settings=self.settings,
                links=self.links,
            )
        session = self.reading_sessions()  # a mutation moves to a transaction (UnitOfWork)
        request.state.db_session = session
        auth = await authenticate(session, request.headers.get("authorization"), self.tokens)
        context = Context(
            session=session,
            autocommit=self.reading_sessions is not self.sessions,
            principal=auth.principal,
            auth_error=auth.error,
            request_id=request_id_var.get(),
            authorizer=await self.authz.get(self.sessions),
            apply_grant_change=self.authz.apply,
            sessions=self.sessions,
            replica_sessions=self.replica_sessions,
            cache={LINKS: self.links} if self.links else {},
        )
        request.state.graphql_context = context
        request.state.sub_response = response
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        """`connection_init`: sign in (README "Live events"); refused, the socket closes with 4403."""
        assert isinstance(context, LiveContext)
        await sign_in(context, self.sessions, self.tokens, self.hub)
        context.authorizer = await self.authz.get(self.sessions)
        return UNSET

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A persisted operation's hash becomes its document here, before strawberry parses anything."""
        resolved = await self.persisted.resolve(request_data.query, request_data.extensions, context)
        if isinstance(resolved, GraphQLError):
            return ExecutionResult(data=None, errors=[resolved])
        request_data.query = resolved
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            # GraphQL over HTTP: an operation GET may not run (a mutation; any in production) is 405.
            if request_adapter.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, exc.reason) from exc
            raise

    async def render_graphql_ide(self, request: Request) -> Response:
        """baoxue's own GraphiQL page: every asset from this server (baoxue/ide.py), and a sign-in form."""
        return graphiql_page()

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The caller's query budget goes into `extensions.budget`; a spent one answers 429 with Retry-After.

        In application/graphql-response+json a request error answers 4xx without `data` (graphql_http.py).
        """
        response = await self._with_budget(request, await super().process_result(request, result))
        if getattr(request.state, "media_type", JSON) == GRAPHQL_RESPONSE and is_request_error(response):
            response.pop("data", None)
            sub_response = request.state.sub_response
            if not sub_response.status_code:  # a spent budget's 429 stands
                sub_response.status_code = request_error_status(response)
                if sub_response.status_code == 401:
                    sub_response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def _with_budget(self, request: Any, response: GraphQLHTTPResponse) -> GraphQLHTTPResponse:
        context = getattr(request.state, "graphql_context", None)
        state = context.cache.get(BUDGET) if isinstance(context, Context) else None
        if isinstance(context, Context) and state is not None:
            response["extensions"] = {**(response.get("extensions") or {}), "budget": budget_extensions(state)}
            if context.cache.get(BUDGET_REFUSED):
                BUDGET_REFUSALS.labels(budget="query").inc()
                request.state.sub_response.status_code = 429
                request.state.sub_response.headers["Retry-After"] = str(state.resets_in_seconds)
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        media = None
        if isinstance(request, Request):
            media = negotiate(request.headers.get("accept"))
            request.state.media_type = media
        try:
            ide = isinstance(request, Request) and self.should_render_graphql_ide(self.request_adapter_class(request))
            if media is None and isinstance(request, Request) and not ide:
                raise HTTPException(
                    406, f"只提供 {GRAPHQL_RESPONSE} 或 {JSON} / answers only in {GRAPHQL_RESPONSE} or {JSON}"
                )
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            response = http_refusal(exc)
        finally:
            session = getattr(request.state, "db_session", None)
            if session is not None:
                await session.close()
            context = getattr(request.state, "graphql_context", None)
            if context is not None and context.session is not session:
                await context.session.close()  # the replica's, if the operation moved there
            if isinstance(context, LiveContext) and context.live is not None:
                self.hub.disconnect(context.live)
        if media == GRAPHQL_RESPONSE and response.headers.get("content-type", "").startswith(JSON):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response
