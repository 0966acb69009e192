"""Request ids, JSON logs, Prometheus metrics and security headers: everything every response shares."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter("baoxue_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("baoxue_http_request_duration_seconds", "HTTP request latency", ["route"])
GRAPHQL_OPERATIONS = Counter("baoxue_graphql_operations_total", "GraphQL operations", ["operation", "type"])
GRAPHQL_ERRORS = Counter("baoxue_graphql_errors_total", "GraphQL operations answered with errors", ["operation"])
GRAPHQL_LATENCY = Histogram("baoxue_graphql_operation_duration_seconds", "GraphQL operation latency", ["operation"])

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SAFE_OPERATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
KNOWN_ROUTES = {"/graphql", "/auth/token", "/healthz", "/readyz", "/metrics"}
DOWNLOAD_ROUTE = "/reports/{id}/download"


def _route_of(path: str) -> str:
    """The metrics label of a request path: a known route (ids folded), else "other"."""
    if path in KNOWN_ROUTES:
        return path
    if path.startswith("/reports/") and path.endswith("/download"):
        return DOWNLOAD_ROUTE
    return "other"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self.RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # pycasbin logs every role link of the whole policy at INFO on each rebuild: noise, and the policy.
    logging.getLogger("casbin").setLevel(max(logging.WARNING, root.level))


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID in and out), security headers, metrics and an access log."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production
        self.log = logging.getLogger("baoxue.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        route = _route_of(scope["path"])
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                self._security_headers(headers)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(route).observe(elapsed)
            self.log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)

    def _security_headers(self, headers: MutableHeaders) -> None:
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cache-Control", "no-store")
        if not headers.get("content-type", "").startswith("text/html"):
            # The GraphiQL page (development only) loads its scripts from a CDN, so it gets no CSP.
            headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        if self.production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class OperationMetrics(SchemaExtension):
    """Counts and times GraphQL operations by (sanitised) operation name."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        name = ctx.operation_name or "anonymous"
        name = name if _SAFE_OPERATION.match(name) else "invalid"
        try:
            kind = ctx.operation_type.value
        except Exception:  # no document, or an ambiguous one: the error is reported elsewhere
            kind = "unknown"
        GRAPHQL_OPERATIONS.labels(name, kind).inc()
        GRAPHQL_LATENCY.labels(name).observe(time.perf_counter() - started)
        if ctx.result is not None and ctx.result.errors:
            GRAPHQL_ERRORS.labels(name).inc()
