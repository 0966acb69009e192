"""`ledgerEvents(regionCode)` (POLICY 004 §3 快速发现与响应): ledger entries opened, escalated, returned,
closed out, handovers received and deferrals decided inside a region, each re-read with the subscriber's
own access (the node loaders of `resolvers/ledgers/entries.py`) and dropped when it is out of the
subscriber's scope or region."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from authz.catalogue import within
from authz.errors import Forbidden
from models.ledger import Handover, LedgerEntry
from models.persuasion import DeferralRequest
from models.repos import ledger as ledger_repo

from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..ledgers import entries
from ..ledgers.common import LEDGER
from .context import LiveContext
from .events import Announcement, Kind, LedgerEventType


@dataclass(frozen=True)
class LedgerEvent:
    """One ledger event as its subscriber may see it."""

    type: LedgerEventType
    at: datetime
    entry: LedgerEntry
    handover: Handover | None = None
    deferral: DeferralRequest | None = None


async def ledger_region(ctx: LiveContext, region_code: str) -> str:
    """The region's path, if the caller may see the region (else UNKNOWN_REGION, as list filters answer)
    and holds the ledgers' read right somewhere in it or above it (else FORBIDDEN)."""
    try:
        path = await filter_region_path(ctx, region_code)
    except BadInput as exc:  # the only refusal there: a region the caller cannot see
        raise BadInput("regionCode", "UNKNOWN_REGION", "没有这个行政区划", "no such region") from exc
    assert path is not None
    granted = ctx.access().all_granted_paths(LEDGER, "READ")
    if not any(within(path, g) or within(g, path) for g in granted):
        raise Forbidden()
    return path


async def ledger_events(ctx: LiveContext, *, region_code: str) -> AsyncIterator[LedgerEvent]:
    """Every ledger event inside the region that the caller may read, as it commits, until unsubscribed."""
    region_path = await ledger_region(ctx, region_code)
    await ctx.between_events()
    assert ctx.hub is not None, "subscriptions run on a live connection"
    assert ctx.live is not None, "signed in at connection_init"
    subscription = ctx.hub.subscribe(ctx.live, Kind.LEDGER)
    try:
        while True:
            announcement = await subscription.queue.get()
            async with ctx.event():
                event = await reread(ctx, announcement, region_path)
                if event is not None:
                    yield event
    finally:
        ctx.hub.unsubscribe(subscription)


def _in_region(entry: LedgerEntry, region_path: str) -> bool:
    """As the `regionCode` list filter: one of the paths the entry is seen under lies in the region."""
    paths = ledger_repo.entry_scope_paths(entry).values()
    return any(p is not None and within(p, region_path) for line in paths for p in line)


async def reread(ctx: LiveContext, announcement: Announcement, region_path: str) -> LedgerEvent | None:
    """The event as this subscriber may see it now, or None (out of scope, out of the region, gone)."""
    entry = (await entries.get_entries(ctx, [str(announcement.id)])).get(str(announcement.id))
    if entry is None or not _in_region(entry, region_path):
        return None
    kind = LedgerEventType(announcement.type)
    event = LedgerEvent(kind, announcement.occurred_at, entry)
    if kind is LedgerEventType.HANDOVER_RECEIVED:
        sent = (await ledger_repo.handovers_of(ctx.session, [announcement.id])).get(announcement.id, [])
        latest = max(sent, key=lambda h: h.id or 0, default=None)
        if latest is None or not (within(latest.to_path, region_path) or within(region_path, latest.to_path)):
            return None  # the receiving side's event: a subscription on the sending side alone skips it
        return LedgerEvent(kind, event.at, entry, handover=latest)
    if kind is LedgerEventType.DEFERRAL_DECIDED and announcement.related is not None:
        found = await entries.get_deferrals(ctx, [str(announcement.related)])
        return LedgerEvent(kind, event.at, entry, deferral=found.get(str(announcement.related)))
    return event
