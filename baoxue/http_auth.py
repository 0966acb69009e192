"""POST /auth/token: the OAuth2 password grant, throttled, with no user enumeration."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse

from authz.authentication import ThrottlePolicy, login
from authz.tokens import TokenConfig

log = logging.getLogger("baoxue.auth")

INVALID = {"error": "invalid_grant", "error_description": "用户名或密码错误 / invalid username or password"}


def token_endpoint(sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, policy: ThrottlePolicy):  # type: ignore[no-untyped-def]
    async def issue_token(request: Request) -> JSONResponse:
        form = await request.form()
        username, password = form.get("username"), form.get("password")
        grant_type = form.get("grant_type", "password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "需要 username 和 password / username and password are required",
                },
                status_code=400,
            )
        if grant_type != "password":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        client = request.client.host if request.client else "unknown"
        async with sessions() as session:
            result = await login(
                session, username=username, password=password, client=client, tokens=tokens, policy=policy
            )
            await session.commit()
        if result.retry_after is not None:
            log.warning("login throttled", extra={"client": client})
            return JSONResponse(
                {
                    "error": "too_many_attempts",
                    "error_description": "尝试过多，请稍后再试 / too many attempts, retry later",
                },
                status_code=429,
                headers={"Retry-After": str(result.retry_after)},
            )
        if result.access_token is None:
            log.info("login refused", extra={"client": client})
            return JSONResponse(INVALID, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(
            {"access_token": result.access_token, "token_type": "bearer", "expires_in": result.expires_in}
        )

    return issue_token
