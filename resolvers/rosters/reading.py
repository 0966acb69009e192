"""Reading roster batches: their provenance and counts, scoped by jurisdiction (`ROSTER:READ` over the
batch's place). A batch holds no personal data; its rows do, and are read as children are."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import ColumnElement, and_, or_, true
from sqlmodel import col

from models.repos import roster_imports as repo
from models.repos.paging import Page
from models.roster import RosterKind
from models.roster_import import ImportStatus, RosterImport, RosterRow, RowMatch, RowStatus

from ..audit import record_change, record_durable
from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id
from .errors import RosterErrorCode
from .imports import import_right


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
    scope = true() if ctx.operator else ctx.access().list_scope("ROSTER", "READ", repo.IMPORT_SCOPE_COLUMNS)
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
    """The batches the caller may read: the operator (CLI) all of them; a sender of pushed-down lists (the
    ministry, a provincial department) also the lists it sent, for exactly its own jurisdiction."""
    if ctx.operator:
        return true()
    access = ctx.access()
    sent = sorted(access.exact_granted_paths("VERIFICATION", "SEND"))
    readable = access.scope("ROSTER", "READ", repo.IMPORT_SCOPE_COLUMNS)
    if not sent:
        return readable
    own = and_(col(RosterImport.kind) == RosterKind.PUSHED.value, col(RosterImport.jurisdiction_path).in_(sent))
    return or_(readable, own)


async def refused_rows_of(ctx: Context, import_id: str) -> tuple[RosterImport, AsyncIterator[repo.RefusedRow]]:
    """A batch's refused rows, for the error file: the original cells are personal data, so only those who
    may import for the batch's jurisdiction read them, and each download is audited."""
    batch = (await get_imports(ctx, [import_id])).get(import_id)
    if batch is None:
        raise BadInput("id", RosterErrorCode.NOT_FOUND, "没有这个导入批次", "no such roster batch")
    ctx.access().require(*import_right(RosterKind(batch.kind)), {"PLACE": [batch.jurisdiction_path]})
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


async def list_rows(
    ctx: Context,
    import_id: str,
    *,
    status: RowStatus | None = None,
    match: RowMatch | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[RosterRow]:
    """A batch's rows the caller may read, in file order (see `_reads_whole_batch` for who reads which)."""
    batch = (await get_imports(ctx, [import_id])).get(import_id)
    if batch is None or batch.id is None:
        return Page(rows=[], has_next=False, total=0)
    whole = _reads_whole_batch(ctx, batch)
    scope = true() if whole else ctx.access().scope("CHILD", "READ", repo.ROW_SCOPE_COLUMNS)
    return await repo.list_rows(
        ctx.session,
        import_id=batch.id,
        scope=scope,
        status=status,
        match=match,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


def _reads_whole_batch(ctx: Context, batch: RosterImport) -> bool:
    """Rows are personal data. Whoever may import for the batch's jurisdiction reads all its rows in full:
    they brought the file, and must see a candidate to decide it (a county bureau's household roster holds
    children no school scope reaches). Anyone else reads a row as they would read the child it describes
    (`CHILD:READ`, and `CHILD:READ_PII` for the national ID, on either line)."""
    return ctx.operator or ctx.access().allows("ROSTER", "IMPORT", {"PLACE": [batch.jurisdiction_path]}) is not None


def row_paths(row: RosterRow) -> dict[str, list[str | None]]:
    return {"EDU": [row.school_path], "GOV": [row.household_path, row.residence_path]}


def row_key(import_id: int, line: int) -> str:
    """A row's id: its batch and line, `12.163`."""
    return f"{import_id}.{line}"


def parse_row_key(key: str) -> tuple[int, int] | None:
    number, _, line = key.partition(".")
    parsed = (parse_id(number), parse_id(line))
    return (parsed[0], parsed[1]) if parsed[0] is not None and parsed[1] is not None else None


async def get_rows(ctx: Context, ids: list[str]) -> dict[str, RosterRow]:
    """Rows by id (`12.163`) that the caller may read: the batch readable, the row like a child."""
    keys = {key: parsed for key in ids if (parsed := parse_row_key(key)) is not None}
    batches = await get_imports(ctx, sorted({str(i) for i, _ in keys.values()}))
    whole = {number for number, batch in batches.items() if _reads_whole_batch(ctx, batch)}
    wanted = [k for k in keys.values() if str(k[0]) in batches]
    return {
        row_key(row.import_id, row.line): row
        for row in await repo.rows_by_key(ctx.session, wanted)
        if str(row.import_id) in whole or ctx.access().allows("CHILD", "READ", row_paths(row))
    }


async def personal_data_of_rows(ctx: Context, ids: list[str]) -> dict[str, bool]:
    """May the caller read these rows' national IDs and registry numbers in full (the batch's importer, or
    `CHILD:READ_PII` over the row as for a child)? Every full read is audited, one audit row per row, kept
    whatever becomes of the operation."""
    rows = await get_rows(ctx, ids)
    batches = await get_imports(ctx, sorted({str(row.import_id) for row in rows.values()}))
    whole = {number for number, batch in batches.items() if _reads_whole_batch(ctx, batch)}
    allowed = {
        key: str(row.import_id) in whole or ctx.access().allows("CHILD", "READ_PII", row_paths(row)) is not None
        for key, row in rows.items()
    }
    for key, row in rows.items():
        if allowed[key] and (row.national_id or row.registry_number):
            await record_durable(
                ctx,
                action="roster.read_personal_data",
                target_type="RosterRow",
                target_id=key,
                scope_path=row.household_path or row.residence_path or row.school_path,
            )
    return allowed
