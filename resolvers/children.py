"""Reading children: the education line by school, the government line by household or residence."""

from __future__ import annotations

from models.child import Child
from models.repos import children as child_repo
from models.repos.paging import Page

from .context import Context
from .paging import decode_cursor, page_size
from .regions import filter_region_path


async def list_children(
    ctx: Context,
    *,
    region_code: str | None = None,
    enrolled: bool | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[Child]:
    return await child_repo.list_children(
        ctx.session,
        scope=ctx.access().scope("CHILD", "READ", child_repo.SCOPE_COLUMNS),
        region_path=await filter_region_path(ctx, region_code),
        enrolled=enrolled,
        after=decode_cursor(after),
        limit=page_size(first),
    )


async def get_children(ctx: Context, ids: list[str]) -> dict[str, Child]:
    """Children by id; one outside the caller's scope answers like a missing one."""
    access = ctx.access()
    wanted = [int(i) for i in ids if i.isdigit()]
    found = await child_repo.get_children(ctx.session, wanted)
    return {
        str(child_id): child
        for child_id, child in found.items()
        if access.allows("CHILD", "READ", child_repo.scope_paths(child))
    }
