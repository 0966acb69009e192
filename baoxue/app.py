"""The starlette application: /graphql, /auth/token, /reports/{id}/download, /platform/batches/{id}/download,
/rosters, /exports/changes, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from authz.authentication import ThrottlePolicy, authenticate
from authz.passwords import use_profile as use_password_profile
from authz.state import AuthzState, listen
from authz.tokens import TokenConfig
from resolvers.compiled.jsonsql import dumps
from resolvers.context import Context
from resolvers.live.context import LiveContext
from resolvers.live.hub import Hub
from resolvers.reports.links import LINKS, LinkSigner
from resolvers.rosters.imports import sweep_orphans
from schema.budgets import BUDGET, BUDGET_REFUSED, budget_extensions, query_budgets
from schema.limits import Limits
from schema.root import build_schema

from .budget_metrics import BUDGET_REFUSALS, publish_budgets
from .changes import changes_endpoint
from .database import (
    autocommit_sessions,
    check_migrated,
    head_revision,
    make_engine,
    make_replica_engine,
    normalize_url,
    resolve_url,
)
from .downloads import download_endpoint
from .exports import export_endpoint
from .graphql_http import GRAPHQL_RESPONSE, JSON, http_refusal, is_request_error, negotiate, request_error_status
from .http_auth import token_endpoint
from .ide import graphiql_page, static_mount
from .live import MAX_SUBSCRIPTIONS, LiveHandler, LiveSocket, listen_live, live_context, sign_in
from .observability import OperationMetrics, RequestContextMiddleware, configure_logging, request_id_var
from .persisted import PersistedOperations
from .platform import batch_download_endpoint
from .rosters import refused_rows_endpoint, roster_endpoint, template_endpoint
from .settings import Settings

log = logging.getLogger("baoxue.app")


MAX_BODY_NESTING = 64
"""How deep a request body's JSON may nest (objects and lists); deeper bodies are refused before use."""

DEVELOPMENT_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"
"""Browser origins development allows without configuration (a frontend's dev server on any port)."""


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


def token_config(settings: Settings) -> TokenConfig:
    return TokenConfig(
        hs256_secret=settings.signing_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        rs256_public_keys=settings.rs256_public_keys,
        external_issuer=settings.jwt_external_issuer,
    )


def create_app(
    settings: Settings | None = None,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    """Build the app. Tests pass `sessions` bound to their own transaction; otherwise DATABASE_URL decides.

    BAOXUE_READ_REPLICA_URL adds a second, read-only engine that GraphQL queries read from.
    """
    settings = settings or Settings()
    engine: AsyncEngine | None = None
    url: str | None = None
    if sessions is None:
        configure_logging(settings.log_level)
        use_password_profile(settings.password_hasher)
        url = resolve_url(settings)
        check_migrated(url)
        engine = make_engine(url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
    replica_engine: AsyncEngine | None = None
    replica_sessions: async_sessionmaker[AsyncSession] | None = None
    if settings.read_replica_url:
        replica_url = normalize_url(settings.read_replica_url)
        check_migrated(replica_url)
        replica_engine = make_replica_engine(
            replica_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        replica_sessions = async_sessionmaker(replica_engine, expire_on_commit=False)
        log.info("queries read from the replica", extra={"replica": make_url(replica_url).render_as_string()})
    tokens = token_config(settings)
    policy = ThrottlePolicy(
        max_failures_per_user=settings.login_max_failures_per_user,
        max_failures_per_client=settings.login_max_failures_per_client,
        window=timedelta(seconds=settings.login_window_seconds),
    )
    head = head_revision()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def revision_at(make_session: async_sessionmaker[AsyncSession]) -> str | None:
        async with make_session() as session:
            current = await session.scalar(text("SELECT version_num FROM alembic_version"))
            return str(current) if current is not None else None

    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database, and the read replica where one is set (queries read it), answer at
        the code's migration."""
        body: dict[str, str | None] = {}
        for name, make_session in (("database", sessions), ("replica", replica_sessions)):
            if make_session is None:
                continue
            try:
                current = await revision_at(make_session)
            except Exception as exc:  # down or unreachable: not ready, whatever the cause
                log.warning("readiness check failed", extra={"target": name, "error": type(exc).__name__})
                return JSONResponse(body | {"status": "unavailable", name: "unreachable"}, status_code=503)
            if current != head:
                return JSONResponse(body | {"status": "unavailable", name: "not migrated"}, status_code=503)
            body[name] = "ok"
        return JSONResponse({"status": "ready", **body, "revision": head})

    async def metrics(request: Request) -> Response:
        """Only for the configured scraper: the counts name operations and routes (none set: not served)."""
        if not settings.metrics_token:
            return JSONResponse({"error": "not_found"}, status_code=404)
        if not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), f"Bearer {settings.metrics_token}".encode()
        ):
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await publish_budgets(sessions)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    authz = AuthzState()
    hub = Hub(settings.live_queue_size)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        listener = live_listener = sweeper = None
        if url is not None:
            listener = asyncio.create_task(listen(authz, url, sessions))  # builds once it listens
            live_listener = asyncio.create_task(listen_live(hub, url))
            sweeper = asyncio.create_task(sweep_orphans(sessions))  # roster rows a crash left behind
        log.info("baoxue started", extra={"environment": settings.environment})
        try:
            yield
        except asyncio.CancelledError:
            # uvicorn's forced exit (a second Ctrl-C, as `uv run` forwards the terminal's again) skips the
            # lifespan's shutdown and cancels it when the loop closes; starlette would then report a failed
            # shutdown with a traceback. Release the same things quietly instead.
            log.info("baoxue stopped without a graceful shutdown (forced exit)")
        for task in (listener, live_listener, sweeper):
            if task is not None:
                task.cancel()
        if engine is not None:
            await engine.dispose()
        if replica_engine is not None:
            await replica_engine.dispose()

    links = LinkSigner.from_secret(settings.signing_secret)
    graphql = GraphQLView(sessions, tokens, settings, authz, replica_sessions, links, hub)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        *([] if settings.production else [static_mount()]),  # GraphiQL's assets, development only
        WebSocketRoute("/graphql", graphql),  # graphql-transport-ws only: live events (README "Live events")
        Route("/auth/token", token_endpoint(sessions, tokens, policy), methods=["POST"]),
        Route("/reports/{id}/download", download_endpoint(sessions, tokens, authz, links), methods=["GET"]),
        Route("/rosters", roster_endpoint(sessions, tokens, authz), methods=["POST"]),
        Route("/platform/batches/{id}/download", batch_download_endpoint(sessions, tokens, authz), methods=["GET"]),
        # --- change feed (issue 15 §2): before any /exports/{dataset} route, which would take "changes" ---
        Route("/exports/changes", changes_endpoint(sessions, tokens, authz), methods=["GET"]),
        # --- end change feed ---
        # More specific /exports/… routes (the change feed) go above this one: routes match in order.
        Route("/exports/{dataset}", export_endpoint(sessions, tokens, authz, settings.budget_policy), methods=["GET"]),
        Route("/rosters/templates/{kind}.xlsx", template_endpoint(sessions, tokens), methods=["GET"]),
        Route("/rosters/{id}/refused.csv", refused_rows_endpoint(sessions, tokens, authz), methods=["GET"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    middleware = [
        # The peer is the client unless it is a trusted proxy (BAOXUE_TRUSTED_PROXIES); `baoxue serve`
        # turns uvicorn's own handling off, which would otherwise believe any loopback peer.
        *(
            [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)]
            if settings.trusted_proxies
            else []
        ),
        Middleware(RequestContextMiddleware, production=settings.production),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            # Development: a frontend's dev server on localhost or 127.0.0.1, any port, without configuration;
            # production allows BAOXUE_CORS_ORIGINS only.
            allow_origin_regex=None if settings.production else DEVELOPMENT_ORIGINS,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
