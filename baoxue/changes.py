"""GET /exports/changes?after=…&types=…&region=…&limit=…: the change feed as JSON Lines (issue 15 §2).

One line per change, named as the GraphQL `Change` fields (`cursor`, `changedAt`, `type`, `objectId`,
`operation`, `version`, `object`). The cursor to continue from is in the `X-Next-Cursor` header (also
when no change is returned), and `X-Has-More: true` says another page is already waiting.
The caller is read as for /graphql (a bearer token or a service token); everything else is
`resolvers/changes/reading.py`, the same as the GraphQL `changes` field. Refusals are JSON:
400 bad input naming the parameter, 404 a region that is missing or outside the caller's view,
410 `CURSOR_EXPIRED` (the changes after the cursor were pruned) or `SCOPE_CHANGED` (the caller's grants
changed since the cursor): export again; 401/403 as elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authz.authentication import authenticate
from authz.errors import AccessError
from authz.state import AuthzState
from authz.tokens import TokenConfig
from models.change_feed import ChangeType
from resolvers.changes import reading
from resolvers.errors import BadInput

from .endpoints import refusal, request_context

DEFAULT_LIMIT = 1_000
MEDIA_TYPE = "application/jsonl; charset=utf-8"
STATUS = {"CURSOR_EXPIRED": 410, "SCOPE_CHANGED": 410, "UNKNOWN_REGION": 404}


def _types(text: str | None) -> list[ChangeType] | None:
    if not text:
        return None
    try:
        return [ChangeType[name.strip()] for name in text.split(",")]
    except KeyError:
        names = ", ".join(t.name for t in ChangeType)
        raise BadInput("types", "UNKNOWN_TYPE", f"类型应为 {names}", f"types must be among {names}") from None


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        text = "0"
    try:
        return reading.check_limit(int(text), reading.MAX_LIMIT)
    except BadInput as exc:
        raise BadInput(
            "limit", exc.error.code, f"limit 须为 1 到 {reading.MAX_LIMIT}", f"limit must be 1 to {reading.MAX_LIMIT}"
        ) from None


def _refused(exc: BadInput) -> JSONResponse:
    e = exc.error
    body = {"error": e.code.lower(), "field": e.field, "code": e.code, "message": e.message}
    return JSONResponse(body, status_code=STATUS.get(e.code, 400))


def changes_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, authz: AuthzState
) -> Callable[[Request], Awaitable[Response]]:
    async def changes(request: Request) -> Response:
        query = request.query_params
        session = sessions()
        try:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()
            page = await reading.read_changes(
                ctx,
                after=query.get("after"),
                types=_types(query.get("types")),
                region_code=query.get("region"),
                limit=_limit(query.get("limit")),
            )
            await session.commit()  # the audit rows of full personal-data reads
        except AccessError as exc:
            await session.rollback()
            return refusal(exc)
        except BadInput as exc:
            await session.rollback()
            return _refused(exc)
        finally:
            await session.close()
        body = "".join(line + "\n" for line in page.lines)
        headers = {"X-Next-Cursor": page.end_cursor, "X-Has-More": "true" if page.has_next else "false"}
        return Response(body.encode("utf-8"), media_type=MEDIA_TYPE, headers=headers)

    return changes
