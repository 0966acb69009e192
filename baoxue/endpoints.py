"""What the plain HTTP endpoints (downloads, rosters) share with /graphql: a use-case context for the
caller of one request, and refusals as JSON."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse

from authz.authentication import Authentication
from authz.errors import AccessError
from authz.state import AuthzState
from resolvers.context import Context

from .observability import request_id_var


async def request_context(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], auth: Authentication, authz: AuthzState
) -> Context:
    """The context of one request's operation, in its own session and transaction."""
    return Context(
        session=session,
        principal=auth.principal,
        auth_error=auth.error,
        request_id=request_id_var.get(),
        authorizer=await authz.get(sessions),
        sessions=sessions,
    )


def refusal(exc: AccessError) -> JSONResponse:
    """401 with a Bearer challenge for a missing or bad credential, 403 otherwise; the message only."""
    if exc.code == "UNAUTHENTICATED":
        body = {"error": "unauthenticated", "message": str(exc)}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse({"error": "forbidden", "message": str(exc)}, status_code=403)
