"""Reading roster batches: their provenance and counts, scoped by jurisdiction (`ROSTER:READ` over the
batch's place). A batch holds no personal data; its rows do, and are read as children are."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import ColumnElement, true

from models.repos import roster_imports as repo
from models.repos.paging import Page
from models.roster import RosterKind
from models.roster_import import ImportStatus, RosterImport

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id
from .errors import RosterErrorCode


async def list_imports(
    ctx: Context,
    *,
    region_code: str | None = None,
    kind: RosterKind | None = None,
    status: ImportStatus | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[RosterImport]:
    """The batches of my jurisdiction, oldest first: a county its own, a city or province its counties'."""
    scope = _readable(ctx)
    region_path = await filter_region_path(ctx, region_code)
    return await repo.list_imports(
        ctx.session,
        scope=scope,
        region_path=region_path,
        kind=kind.value if kind else None,
        status=status,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


async def get_imports(ctx: Context, ids: list[str]) -> dict[str, RosterImport]:
    """The batches among `ids` that I may read (others are simply absent)."""
    numbers = [n for n in (parse_id(i) for i in ids) if n is not None]
    return {str(b.id): b for b in await repo.imports_by_id(ctx.session, numbers, scope=_readable(ctx))}


def _readable(ctx: Context) -> ColumnElement[bool]:
    """The batches the caller may read: the operator (CLI) all of them."""
    return true() if ctx.operator else ctx.access().scope("ROSTER", "READ", repo.IMPORT_SCOPE_COLUMNS)


async def refused_rows_of(ctx: Context, import_id: str) -> tuple[RosterImport, AsyncIterator[repo.RefusedRow]]:
    """A batch's refused rows, for the error file: the original cells are personal data, so only those who
    may import for the batch's jurisdiction read them, and each download is audited."""
    batch = (await get_imports(ctx, [import_id])).get(import_id)
    if batch is None:
        raise BadInput("id", RosterErrorCode.NOT_FOUND, "没有这个导入批次", "no such roster batch")
    ctx.access().require("ROSTER", "IMPORT", {"PLACE": [batch.jurisdiction_path]})
    await record_change(
        ctx,
        action="roster.download_refused_rows",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=batch.jurisdiction_path,
        summary={"refused": batch.rows_refused},
    )
    assert batch.id is not None
    return batch, repo.refused_rows(ctx.session, batch.id)
