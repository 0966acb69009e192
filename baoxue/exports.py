"""GET /exports/{dataset}: streaming bulk export (issue 15 §1; README "Integrators").

Built like the roster error file (baoxue/rosters.py): the caller is read as for /graphql (a bearer
JWT or a service token), the use case checks access and writes the opening audit rows, and that
transaction is committed before the first byte; then the rows stream from `COPY … TO STDOUT`
(CSV, JSON Lines) or a server-side cursor (XLSX) in constant memory. The closing audit row
(`Export.finish`) is written when the stream ends, whether it ran to its end or was cut off.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from datetime import date
from typing import Any, cast
from urllib.parse import quote

import anyio
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from authz.authentication import authenticate
from authz.errors import AccessError
from authz.state import AuthzState
from authz.tokens import TokenConfig
from models.base import today
from resolvers.budgets import BudgetPolicy, BudgetSpent
from resolvers.errors import BadInput
from resolvers.exports.errors import ExportErrorCode as E
from resolvers.exports.running import FILTERS, Export, ExportRequest, start_export

from .endpoints import refusal, request_context

log = logging.getLogger("baoxue.exports")

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson", "xlsx": None}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030"}
PARAMETERS = {"format", "region", "updatedAfter", "after", "encoding", "header", *FILTERS}
NOT_FOUND_CODES = {E.UNKNOWN_DATASET.name, E.UNKNOWN_REGION.name}
MAX_PARAMETER = 100  # characters: every parameter is short


def _bad(exc: BadInput) -> JSONResponse:
    e = exc.error
    if e.code in NOT_FOUND_CODES:
        status, kind = 404, "not_found"
    elif e.code == E.TOO_MANY_ROWS.name:
        status, kind = 422, "too_many_rows"
    else:
        status, kind = 400, "bad_input"
    return JSONResponse({"error": kind, "field": e.field, "code": e.code, "message": e.message}, status_code=status)


def _options(request: Request) -> tuple[ExportRequest, str, str]:
    """The parameters, each refused by name: unknown ones, repeated ones, bad formats and encodings."""
    query = request.query_params
    for name in query:
        if name not in PARAMETERS:
            raise BadInput(name, E.UNKNOWN_PARAMETER, f"不支持的参数 {name[:40]}", f"unknown parameter {name[:40]}")
        if len(query.getlist(name)) > 1 or len(query[name]) > MAX_PARAMETER:
            raise BadInput(
                name, E.BAD_VALUE, "参数只能给一次，且不超过 100 字符", "give a parameter once, ≤ 100 characters"
            )
    fmt = query.get("format", "csv").lower()
    if fmt not in FORMATS:
        raise BadInput("format", E.BAD_FORMAT)
    encoding = ENCODINGS.get(query.get("encoding", "utf-8").lower())
    if encoding is None or (encoding != "utf-8" and fmt != "csv"):
        raise BadInput("encoding", E.BAD_ENCODING)
    header = query.get("header", "both")
    if header not in ("both", "machine") or ("header" in query and fmt == "jsonl"):
        raise BadInput("header", E.BAD_HEADER)
    export = ExportRequest(
        dataset=request.path_params["dataset"],
        format=fmt,
        region=query.get("region"),
        updated_after=query.get("updatedAfter"),
        after=query.get("after"),
        filters={name: query[name] for name in FILTERS if name in query},
    )
    return export, encoding, header


def _csv_line(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\r\n') else c for c in cells) + "\n"


async def _csv(export: Export, encoding: str, header: str) -> AsyncGenerator[bytes, None]:
    columns = export.query.columns
    head = "" if header == "machine" else _csv_line([c.label for c in columns])
    head += _csv_line([c.name for c in columns])
    yield ("\ufeff" + head).encode() if encoding == "utf-8" else head.encode(encoding)  # Excel reads UTF-8 by its BOM
    async with aclosing(export.csv_chunks()) as chunks:
        async for chunk in chunks:  # whole rows: no character is split between chunks
            yield chunk if encoding == "utf-8" else chunk.decode("utf-8").encode(encoding)


def _cell(value: Any) -> Any:
    """A cell as the CSV writes it: dates in ISO text, no control characters (Excel refuses them)."""
    if isinstance(value, date):
        return value.isoformat()
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


async def _xlsx(export: Export) -> AsyncGenerator[bytes, None]:
    """A write-only workbook: rows go to a temporary file as they come; the file is sent when complete."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(export.dataset.name)
    sheet.append([c.label for c in export.query.columns])
    sheet.append([c.name for c in export.query.columns])
    async with aclosing(export.row_batches()) as batches:
        async for batch in batches:
            for row in batch:
                sheet.append([_cell(v) for v in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        await anyio.to_thread.run_sync(book.save, path)
        async with await anyio.open_file(path, "rb") as file:
            while chunk := await file.read(256 * 1024):
                yield chunk
    finally:
        os.unlink(path)


def _disposition(export: Export) -> str:
    ext = export.format
    name = f"{export.dataset.label}_{today():%Y%m%d}.{ext}"
    ascii_name = f"{export.dataset.name}_{today():%Y%m%d}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def export_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    tokens: TokenConfig,
    authz: AuthzState,
    budget: BudgetPolicy | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    async def export_rows(request: Request) -> Response:
        session = sessions()
        try:
            auth = await authenticate(session, request.headers.get("authorization"), tokens)
            ctx = await request_context(session, sessions, auth, authz)
            ctx.signed_in()
            options, encoding, header = _options(request)
            export = await start_export(ctx, options, budget)
            await session.commit()  # the audit rows stand before the first byte leaves
        except AccessError as exc:
            await session.rollback()
            await session.close()
            return refusal(exc)
        except BadInput as exc:
            await session.rollback()
            await session.close()
            return _bad(exc)
        except BudgetSpent as exc:
            await session.rollback()
            await session.close()
            spent = {"error": "budget_spent", "code": exc.code, "message": str(exc)}
            return JSONResponse(spent, status_code=429, headers={"Retry-After": str(exc.state.resets_in_seconds)})
        except BaseException:
            await session.close()
            raise

        if options.format == "xlsx":
            rows = _xlsx(export)
        elif options.format == "jsonl":
            rows = export.jsonl_chunks()
        else:
            rows = _csv(export, encoding, header)

        async def body() -> AsyncGenerator[bytes, None]:
            complete = False
            try:
                async with aclosing(rows) as chunks:
                    async for chunk in chunks:
                        yield chunk
                complete = True
            finally:
                with anyio.CancelScope(shield=True):  # a client gone still gets its closing audit row
                    await _close(session, export, complete)

        media = FORMATS[options.format] or XLSX
        if options.format == "csv":
            media += f"; charset={encoding}"
        headers = {"Content-Disposition": _disposition(export), "X-Export-Id": export.export_id}
        return ExportResponse(body(), media_type=media, headers=headers)

    return export_rows


class ExportResponse(StreamingResponse):
    """A stream whose body is closed however sending ends: a client gone mid-stream cuts the COPY at once
    and the export's closing audit row is written (Starlette leaves the body suspended after a send fails)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await cast(AsyncGenerator[bytes, None], self.body_iterator).aclose()


async def _close(session: AsyncSession, export: Export, complete: bool) -> None:
    try:
        if not complete:
            await session.rollback()  # the cut-off COPY's transaction
        await export.finish(complete=complete)
        await session.commit()
        log.info(
            "export finished",
            extra={"export": export.export_id, "dataset": export.dataset.name, "rows": export.rows,
                   "complete": complete, "actor": export.ctx.actor},
        )  # fmt: skip
    finally:
        await session.close()
