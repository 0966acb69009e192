"""POST /rosters: upload a roster (四查) as a staged batch (multipart: `kind`, `jurisdiction`, `asOf`, `file`);
GET /rosters/templates/{kind}.xlsx: the blank roster of a kind, for any signed-in account;
GET /rosters/{id}/refused.csv: a batch's refused rows, the original columns plus the reasons.

The caller is read as for /graphql (`Authorization: Bearer …`); `ROSTER:IMPORT` over the jurisdiction is
checked by the use case (resolvers/rosters/imports.py). One transaction per upload: a file refused whole,
or any refusal, stores nothing. Every limit of the body (a field unknown, repeated or over 1 KiB, a second
file, a body over MAX_ROSTER_BYTES by its Content-Length or while it streams) is a typed JSON error naming
the field. Answers JSON: the batch's global `id`, its `status` and its `counts`.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry import relay

from authz.authentication import authenticate
from authz.errors import AccessError
from authz.principal import require_principal
from authz.state import AuthzState
from authz.tokens import TokenConfig
from models.region import NATION_CODE
from models.roster import RosterKind
from resolvers.errors import BadInput
from resolvers.rosters import imports
from resolvers.rosters.errors import RosterErrorCode
from resolvers.rosters.imports import import_roster
from resolvers.rosters.reading import refused_rows_of
from resolvers.rosters.templates import template_xlsx

from .endpoints import refusal, request_context

log = logging.getLogger("baoxue.rosters")

MAX_FIELD_BYTES = 1024  # kind, jurisdiction and asOf are short; the file has its own limit
MULTIPART_OVERHEAD = 16 * 1024  # the three fields and the parts' headers, on top of the file's own limit
FIELDS = ("kind", "jurisdiction", "asOf", "file")
MAX_FIELDS = 8  # parsed before an unknown or repeated one is named; past this the parser stops reading


def _bad(exc: BadInput) -> JSONResponse:
    e = exc.error
    status = 413 if e.code == RosterErrorCode.TOO_LARGE.name else 400
    return JSONResponse(
        {"error": "bad_input", "field": e.field, "code": e.code, "message": e.message}, status_code=status
    )


def _too_large() -> BadInput:
    limit = imports.MAX_ROSTER_BYTES
    return BadInput(
        "file",
        RosterErrorCode.TOO_LARGE,
        f"文件超过大小上限 {limit} 字节",
        f"the file is over the size limit of {limit} bytes",
    )


async def _counted(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body, refused as soon as it passes `limit` bytes (a chunked upload declares no length)."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _too_large()
        yield chunk


async def _read_form(request: Request) -> FormData:
    """The multipart form, the file spooled to disk, with every limit refused as a typed error naming the field.

    Starlette's own `request.form()` answers its limits in plain English text; here the body's size is
    checked from its Content-Length before a byte is read, and counted while it is parsed.
    """
    limit = imports.MAX_ROSTER_BYTES + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    content_type = request.headers.get("content-type", "").lower()
    parser: MultiPartParser | FormParser
    if content_type.startswith("multipart/form-data"):
        parser = MultiPartParser(
            request.headers, _counted(request, limit), max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
    elif content_type.startswith("application/x-www-form-urlencoded"):  # the fields without a file
        parser = FormParser(
            request.headers, _counted(request, limit), max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
    else:
        return FormData()  # each field then refused as REQUIRED
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise _form_refusal(parser, exc.message) from None


def _form_refusal(parser: MultiPartParser | FormParser, message: str) -> BadInput:
    """A limit the form parser met, named by the part it was reading."""
    if isinstance(parser, MultiPartParser):
        field = parser._current_part.field_name or "file"
    else:
        field = unquote_plus(parser._field_name.decode("latin-1")) or "file"
    field = field[:64]
    if message.startswith(("Field exceeded", "Part exceeded")):
        return BadInput(
            field,
            RosterErrorCode.TOO_LONG,
            f"字段超过 {MAX_FIELD_BYTES} 字节",
            f"the field is longer than {MAX_FIELD_BYTES} bytes",
        )
    if message.startswith(("Too many fields", "Too many files")):
        return BadInput(field, RosterErrorCode.UNEXPECTED_FIELD)
    return BadInput(
        "file",
        RosterErrorCode.UNKNOWN_FORMAT,
        "上传内容不是有效的 multipart/form-data",
        "the upload is not valid multipart/form-data",
    )


def _fields(form: Any) -> tuple[RosterKind, str, date, UploadFile]:
    """The multipart fields, each refused by name when missing or malformed."""
    for name in form:
        if name not in FIELDS or len(form.getlist(name)) > 1:
            raise BadInput(name[:64], RosterErrorCode.UNEXPECTED_FIELD)
    kind, jurisdiction, as_of, file = (form.get(k) for k in FIELDS)
    for name, value in (("kind", kind), ("jurisdiction", jurisdiction), ("asOf", as_of), ("file", file)):
        if value is None or value == "":
            raise BadInput(name, RosterErrorCode.REQUIRED)
    if not isinstance(file, UploadFile):
        raise BadInput("file", RosterErrorCode.REQUIRED, "须上传名册文件", "upload the roster as a file")
    if not isinstance(kind, str) or kind not in RosterKind.__members__:
        raise BadInput("kind", RosterErrorCode.INVALID_KIND)
    if not isinstance(jurisdiction, str) or not (
        jurisdiction == NATION_CODE or (jurisdiction.isascii() and jurisdiction.isdigit())
    ):  # a region's code, or CN (the nation) for the ministry's pushed-down list
        raise BadInput("jurisdiction", RosterErrorCode.NOT_FOUND, "没有这个区划", "no such region")
    try:
        day = date.fromisoformat(str(as_of))
    except ValueError:
        raise BadInput("asOf", RosterErrorCode.INVALID_DATE) from None
    return RosterKind(kind), jurisdiction, day, file


def roster_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, authz: AuthzState
) -> Callable[[Request], Awaitable[Response]]:
    async def upload(request: Request) -> Response:
        session = sessions()
        try:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()  # before the upload is read
            form = await _read_form(request)
            try:
                kind, jurisdiction, as_of, file = _fields(form)
                result = await import_roster(
                    ctx, kind=kind, jurisdiction_code=jurisdiction, as_of=as_of,
                    file_name=file.filename or "roster", stream=file.file,
                )  # fmt: skip
            finally:
                await form.close()
            await session.commit()
        except AccessError as exc:
            await session.rollback()
            return refusal(exc)
        except BadInput as exc:
            await session.rollback()
            return _bad(exc)
        finally:
            await session.close()
        batch = result.batch
        log.info("roster staged", extra={"batch": batch.id, "kind": kind.value, "actor": ctx.actor})
        counts = {
            "read": batch.rows_read, "valid": batch.rows_valid, "refused": batch.rows_refused,
            "matched": batch.rows_matched, "new": batch.rows_new, "outOfScope": result.out_of_scope,
        }  # fmt: skip
        body = {
            "id": relay.to_base64("RosterImport", str(batch.id)),
            "number": batch.id,
            "status": batch.status,
            "counts": counts,
        }
        return JSONResponse(body, status_code=201)

    return upload


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig
) -> Callable[[Request], Awaitable[Response]]:
    async def template(request: Request) -> Response:
        async with sessions() as session:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
        try:
            require_principal(auth.principal, auth.error)
        except AccessError as exc:
            return refusal(exc)
        kind = request.path_params["kind"].upper()
        if kind not in RosterKind.__members__:
            return _bad(BadInput("kind", RosterErrorCode.INVALID_KIND))
        name = f"roster-template-{kind.lower()}.xlsx"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(template_xlsx(RosterKind(kind)), media_type=XLSX, headers=headers)

    return template


PROBLEMS_HEADER = "错误原因 / problems"


def _csv_line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def refused_rows_endpoint(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenConfig, authz: AuthzState
) -> Callable[[Request], Awaitable[Response]]:
    """The error file as UTF-8 CSV with a BOM (Excel opens it), streamed from a server-side cursor."""

    async def refused(request: Request) -> Response:
        number = request.path_params["id"]
        session = sessions()
        try:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()
            batch, rows = await refused_rows_of(ctx, number)
            await session.commit()  # the audit row stands before the first byte leaves
        except AccessError as exc:
            await session.rollback()
            await session.close()
            return refusal(exc)
        except BadInput as exc:
            await session.rollback()
            await session.close()
            return JSONResponse({"error": "not_found", "message": exc.error.message}, status_code=404)

        async def body() -> AsyncIterator[bytes]:
            try:
                yield "\ufeff".encode()
                headers: list[str] | None = None
                async for row in rows:
                    if headers is None:
                        headers = list(row.raw)
                        yield _csv_line(["行号 / line", *headers, PROBLEMS_HEADER])
                    reasons = "；".join(f"{p['column']}: {p['message']}" for p in row.problems)
                    yield _csv_line([str(row.line), *(str(row.raw.get(h, "")) for h in headers), reasons])
            finally:
                await session.close()

        name = f"roster-{batch.id}-refused.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)

    return refused
