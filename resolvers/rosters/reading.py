"""Reading roster batches: their provenance and counts, scoped by jurisdiction (`ROSTER:READ` over the
batch's place). A batch holds no personal data; its rows do, and are read as children are."""

from __future__ import annotations

from models.repos import roster_imports as repo
from models.repos.paging import Page
from models.roster import RosterKind
from models.roster_import import ImportStatus, RosterImport

from ..context import Context
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id


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
    scope = ctx.access().scope("ROSTER", "READ", repo.IMPORT_SCOPE_COLUMNS)
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
    scope = ctx.access().scope("ROSTER", "READ", repo.IMPORT_SCOPE_COLUMNS)
    return {str(b.id): b for b in await repo.imports_by_id(ctx.session, numbers, scope=scope)}
