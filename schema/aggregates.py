"""Aggregates (汇总): counts of open ledger cases by region, ledger, status, stage and category."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers import aggregates

from .context import Info
from .enums import DropoutCategory, EntryStatus, Ledger, Stage


@strawberry.enum(description="汇总到哪一级 / the level counts are summed to")
class AggregateLevel(Enum):
    PROVINCE = strawberry.enum_value("PROVINCE", description="省 / province")
    CITY = strawberry.enum_value("CITY", description="市 / city")
    COUNTY = strawberry.enum_value("COUNTY", description="县 / county")


@strawberry.type(description="台账汇总的一行 / one line of the ledger counts.")
class LedgerCountRow:
    region_code: str = strawberry.field(description="区划代码（责任地）/ region (where the case is answered for).")
    ledger: Ledger = strawberry.field(description="台账 / ledger.")
    status: EntryStatus = strawberry.field(description="状态（未销号）/ status (not closed).")
    stage: Stage = strawberry.field(description="学段 / stage.")
    category: DropoutCategory | None = strawberry.field(description="辍学类别，未定为空 / category, null if not set.")
    entries: int = strawberry.field(description="人数 / how many children.")


async def ledger_counts(
    info: Info, region_code: str | None = None, by: AggregateLevel = AggregateLevel.CITY
) -> list[LedgerCountRow]:
    rows = await aggregates.ledger_counts_by(info.context, region_code=region_code, by=by.name)
    return [
        LedgerCountRow(
            region_code=r.region_path.rsplit("/", 1)[-1],
            ledger=Ledger(r.ledger),
            status=EntryStatus(r.status),
            stage=Stage(r.stage),
            category=DropoutCategory(r.category) if r.category else None,
            entries=r.entries,
        )
        for r in rows
    ]
