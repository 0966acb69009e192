"""The starlette application: /graphql, /auth/token, /reports/{id}/download, /platform/batches/{id}/download,
/rosters, /exports/changes, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from authz.authentication import ThrottlePolicy
from authz.passwords import use_profile as use_password_profile
from authz.state import AuthzState, listen
from authz.tokens import TokenConfig
from resolvers.live.hub import Hub
from resolvers.reports.links import LinkSigner

from .budget_metrics import publish_budgets
from .changes import changes_endpoint
from .database import (
    check_migrated,
    head_revision,
    make_engine,
    make_replica_engine,
    normalize_url,
    resolve_url,
)
from .downloads import download_endpoint
from .exports import export_endpoint
from .graphql_view import GraphQLView
from .http_auth import token_endpoint
from .ide import static_mount
from .live import listen_live
from .memory import return_large_blocks
from .observability import RequestContextMiddleware, configure_logging
from .platform import batch_download_endpoint
from .rosters import refused_rows_endpoint, roster_endpoint, template_endpoint
from .settings import Settings

log = logging.getLogger("baoxue.app")


DEVELOPMENT_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"
"""Browser origins development allows without configuration (a frontend's dev server on any port)."""


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
        return_large_blocks()
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
        listener = live_listener = None
        if url is not None:
            listener = asyncio.create_task(listen(authz, url, sessions))  # builds once it listens
            live_listener = asyncio.create_task(listen_live(hub, url))
        log.info("baoxue started", extra={"environment": settings.environment})
        try:
            yield
        except asyncio.CancelledError:
            # uvicorn's forced exit (a second Ctrl-C, as `uv run` forwards the terminal's again) skips the
            # lifespan's shutdown and cancels it when the loop closes; starlette would then report a failed
            # shutdown with a traceback. Release the same things quietly instead.
            log.info("baoxue stopped without a graceful shutdown (forced exit)")
        for task in (listener, live_listener):
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
