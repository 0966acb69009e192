"""GET /reports/{id}/download?format=xlsx|csv: a report's file (issue 6 item 9).

The caller is read as for /graphql (`Authorization: Bearer …`), or from a link `Report.downloadUrl`
signed (`user`, `exp`, `sig`); either way REPORT:READ over the report's unit is checked again now.
One transaction per download: the audit row (`report.download`) is committed before the file leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry import relay

from authz.authentication import Authentication, authenticate
from authz.errors import AccessError
from authz.state import AuthzState
from authz.tokens import TokenConfig
from resolvers.errors import BadInput
from resolvers.reports.export import ReportFileFormat, download_report
from resolvers.reports.links import LinkSigner, SignedLink, link_principal

from .endpoints import refusal, request_context

log = logging.getLogger("baoxue.downloads")

NOT_FOUND = {"error": "not_found", "message": "没有这份报告 / no such report"}
BAD_FORMAT = {"error": "bad_format", "message": "format 应为 xlsx 或 csv / format must be xlsx or csv"}


def _report_number(text: str) -> int | None:
    """The report's number from the path: as downloadUrl writes it, or the report's global ID."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    try:
        gid = relay.GlobalID.from_id(text)
    except Exception:  # not a global ID at all: answers like a missing report
        return None
    node_id = gid.node_id
    if gid.type_name != "Report" or not (node_id.isascii() and node_id.isdigit()) or len(node_id) > 18:
        return None
    return int(node_id)


def _disposition(filename: str, ascii_filename: str) -> str:
    """RFC 6266 with RFC 5987's `filename*` for the Chinese name, and an ASCII name for old clients."""
    return f"attachment; filename=\"{ascii_filename}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, authz: AuthzState, links: LinkSigner
) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        try:
            fmt = ReportFileFormat(request.query_params.get("format", "xlsx").lower())
        except ValueError:
            return JSONResponse(BAD_FORMAT, status_code=400)
        number = _report_number(request.path_params["id"])
        query = request.query_params
        signed = any(k in query for k in ("sig", "exp", "user"))
        session = sessions()
        try:
            if signed:
                link = SignedLink(
                    user=query.get("user", ""),
                    report_id=number or 0,
                    format=fmt,
                    exp=query.get("exp", ""),
                    sig=query.get("sig", ""),
                )
                auth = Authentication(await link_principal(session, links, link))
            else:
                auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()
            if number is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            file = await download_report(ctx, str(number), fmt)
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
        log.info("report downloaded", extra={"report": number, "format": fmt.value, "actor": ctx.actor})
        return Response(
            file.content,
            media_type=file.media_type,
            headers={"Content-Disposition": _disposition(file.filename, file.ascii_filename)},
        )

    return download
