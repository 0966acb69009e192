"""A person's decision on a staged batch (ARCHITECTURE §9: applied or discarded by a person, never by
itself). Discarding keeps the batch and its rows, marked DISCARDED with who, when and why; the same file
may then be imported again."""

from __future__ import annotations

import sqlalchemy as sa

from models.base import utcnow
from models.repos import roster_imports as repo
from models.roster_import import ImportStatus, RosterImport

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..versioning import check_version
from .errors import RosterErrorCode
from .reading import get_imports

# The note's bound is the column's, read from the table rather than written again.
MAX_NOTE: int = getattr(sa.inspect(RosterImport).columns["decision_note"].type, "length", 500)


async def discard_import(ctx: Context, *, import_id: str, version: int, note: str) -> RosterImport:
    """Discard a staged batch (放弃): by whoever may import for its jurisdiction, with the reason."""
    note = note.strip()
    if not note:
        raise BadInput("note", RosterErrorCode.REQUIRED, "须写明放弃原因", "say why it is discarded")
    if "\x00" in note:  # PostgreSQL text cannot hold NUL (ARCHITECTURE §12)
        raise BadInput("note", RosterErrorCode.INVALID_TEXT)
    if len(note) > MAX_NOTE:
        raise BadInput("note", RosterErrorCode.TOO_LONG, f"不超过 {MAX_NOTE} 字", f"at most {MAX_NOTE} characters")
    visible = (await get_imports(ctx, [import_id])).get(import_id)
    number = parse_id(import_id)
    if visible is None or number is None:
        raise BadInput("id", RosterErrorCode.NOT_FOUND, "没有这个导入批次", "no such roster batch")
    if not ctx.operator:
        ctx.access().require("ROSTER", "IMPORT", {"PLACE": [visible.jurisdiction_path]})
    batch = await repo.lock_import(ctx.session, number)  # concurrent decisions queue here, then see the latest
    assert batch is not None
    await ctx.session.refresh(batch)
    check_version(batch, version)
    if batch.status is not ImportStatus.STAGED:
        raise BadInput("id", RosterErrorCode.NOT_STAGED)
    batch.status = ImportStatus.DISCARDED
    batch.decided_by, batch.decided_at, batch.decision_note = ctx.actor, utcnow(), note
    batch.version += 1
    await record_change(
        ctx,
        action="roster.discard",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=batch.jurisdiction_path,
        reason=note,
        summary={"status": {"before": "STAGED", "after": "DISCARDED"}},
    )
    await ctx.session.flush()
    return batch
