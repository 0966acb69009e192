"""Migrant children (001 §2.2): the flow-in region answers for the case; handing it to another county
or province is a written notice the receiving side acknowledges. Both sides, and the household-registration
side, keep seeing the entry and its outcome."""

from __future__ import annotations

from models.base import utcnow
from models.ledger import EntryStatus, Handover, LedgerEntry
from models.region import RegionLevel, level_of_code
from models.repos import ledger as ledger_repo
from models.repos.jurisdictions import path_of

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from .common import LEDGER, entry_for, require_not_closed, save_entry


async def hand_over(ctx: Context, *, entry_id: str, to_region_code: str, notice: str, version: int) -> Handover:
    """Send the written notice to the county that will answer for the case (the new flow-in county, or the
    household-registration county, which then works with the new flow-in region: 001 §2.2). Only the side
    now responsible (its county or above) may send it."""
    entry = await entry_for(ctx, entry_id, "WRITE", version=version)
    require_not_closed(entry)
    ctx.access().require(LEDGER, "WRITE", {"EDU": [entry.responsible_path], "GOV": [entry.responsible_path]})
    if entry.status is EntryStatus.TRANSFERRED:
        raise BadInput(
            "entryId", "HANDOVER_PENDING", "上一次移交尚未被接收", "the last handover is not yet acknowledged"
        )
    if entry.status is not EntryStatus.OPEN:
        raise BadInput("entryId", "BAD_STATUS", "只有在册（OPEN）的记录可移交", "only an OPEN entry is handed over")
    try:
        level: RegionLevel | None = level_of_code(to_region_code)
    except ValueError:  # not a division code at all (a school's code, a typo): no county either
        level = None
    if level is not RegionLevel.COUNTY:  # the county that will answer for the case acknowledges it
        raise BadInput(
            "toRegionCode",
            "NOT_A_COUNTY",
            "须移交给将负责劝返的县（区）（001 §2.2）",
            "hand over to the county that will answer for the case (POLICY 001 §2.2)",
        )
    to_path = await path_of(ctx.session, to_region_code)
    if to_path is None:
        raise BadInput("toRegionCode", "UNKNOWN_REGION", "没有这个行政区划", "no such region")
    if to_path == entry.responsible_path:
        raise BadInput("toRegionCode", "SAME_REGION", "已由该地区负责", "that region is already responsible")
    if not notice.strip():
        raise BadInput(
            "notice", "REQUIRED", "须有书面通知内容（001 §2.2）", "the written notice is required (POLICY 001 §2.2)"
        )
    handover = Handover(
        entry_id=entry.id or 0,
        from_path=entry.responsible_path,
        to_path=to_path,
        notice=notice.strip(),
        sent_by=ctx.actor,
        province_code=entry.province_code,
    )
    ctx.session.add(handover)
    entry.status = EntryStatus.TRANSFERRED
    entry.handover_path = to_path
    await save_entry(ctx, entry, "ledger.hand_over", to=to_path)
    return handover


async def acknowledge(ctx: Context, *, handover_id: str) -> Handover:
    """The receiving side acknowledges: it becomes responsible; the sending side keeps read access."""
    number = parse_id(handover_id)
    handover = await ledger_repo.lock_handover(ctx.session, number) if number is not None else None
    entry: LedgerEntry | None = None
    if handover is not None:
        entry = await ledger_repo.lock_entry(ctx.session, handover.entry_id)
    access = ctx.access()
    if handover is None or entry is None or access.allows(LEDGER, "READ", ledger_repo.entry_scope_paths(entry)) is None:
        raise BadInput("handoverId", "NOT_FOUND", "没有这个移交", "no such handover")
    access.require(LEDGER, "WRITE", {"EDU": [handover.to_path], "GOV": [handover.to_path]})
    if handover.acknowledged_at is not None:
        raise BadInput("handoverId", "ALREADY_ACKNOWLEDGED", "该移交已接收", "already acknowledged")
    handover.acknowledged_by, handover.acknowledged_at = ctx.actor, utcnow()
    ctx.session.add(handover)
    entry.status = EntryStatus.OPEN
    entry.responsible_path, entry.handover_path = handover.to_path, handover.from_path
    await save_entry(ctx, entry, "ledger.acknowledge_handover", handover=handover.id)
    return handover
