"""GET /platform/batches/{id}/download?format=csv|xlsx: an upload batch's file for the national platform.

The caller is read as for /graphql (`Authorization: Bearer …`); the county bureau that uploads for the
batch's county may have it (PLATFORM:UPLOAD with CHILD:READ_PII there: the file carries IDs in full).
One transaction per download: the audit row (`platform.download`) is committed before the file leaves.
The file is built from the batch's stored lines, so the same batch always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry import relay

from authz.authentication import authenticate
from authz.errors import AccessError
from authz.state import AuthzState
from authz.tokens import TokenConfig
from resolvers.errors import BadInput
from resolvers.platform.files import BatchFileFormat
from resolvers.platform.uploads import download_batch

from .endpoints import refusal, request_context

NOT_FOUND = {"error": "not_found", "message": "没有这个批次 / no such batch"}
BAD_FORMAT = {"error": "bad_format", "message": "format 应为 csv 或 xlsx / format must be csv or xlsx"}


def _batch_number(text: str) -> str:
    """The batch's number from the path: as `downloadUrl` writes it, or the batch's global ID."""
    if text.isascii() and text.isdigit():
        return text
    try:
        gid = relay.GlobalID.from_id(text)
    except Exception:  # not a global ID at all: answers like a missing batch
        return ""
    return gid.node_id if gid.type_name == "UploadBatch" else ""


def batch_download_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, authz: AuthzState
) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        try:
            fmt = BatchFileFormat(request.query_params.get("format", "csv").lower())
        except ValueError:
            return JSONResponse(BAD_FORMAT, status_code=400)
        session = sessions()
        try:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()
            file = await download_batch(ctx, _batch_number(request.path_params["id"]), fmt)
            await session.commit()
        except AccessError as exc:
            await session.rollback()
            return refusal(exc)
        except BadInput as exc:
            await session.rollback()
            if exc.error.code != "NOT_FOUND":
                raise
            return JSONResponse(NOT_FOUND, status_code=404)
        finally:
            await session.close()
        return Response(
            file.content,
            media_type=file.media_type,
            headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
        )

    return download
