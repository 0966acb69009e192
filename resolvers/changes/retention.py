"""Retention of the change feed: `baoxue changes prune` deletes changes older than the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models.base import utcnow
from models.repos import change_feed as feed_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput

MAX_DAYS = 3650


@dataclass(frozen=True)
class Pruned:
    deleted: int
    through: int  # cursors below this change answer CURSOR_EXPIRED from now on


async def prune(ctx: Context, days: int) -> Pruned:
    """Delete the changes committed more than `days` days ago, in one transaction with its audit row."""
    if not 1 <= days <= MAX_DAYS:
        raise BadInput("days", "OUT_OF_RANGE", f"保留天数须为 1 到 {MAX_DAYS}", f"days must be 1 to {MAX_DAYS}")
    deleted, through = await feed_repo.prune(ctx.session, before=utcnow() - timedelta(days=days))
    await record_change(
        ctx,
        action="changes.prune",
        target_type="ChangeFeed",
        target_id=str(through),
        summary={"deleted": deleted, "pruned_through": through, "retention_days": days},
    )
    return Pruned(deleted, through)
