"""Reading the ledger counts (models/ledger_counts.py): province-wide figures from a few thousand rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..ledger_counts import REBUILD_SQL, LedgerCount
from .paths import within_path


@dataclass(frozen=True)
class CountRow:
    region_path: str
    ledger: str
    status: str
    stage: str
    category: str
    entries: int


async def counts_by_region(
    session: AsyncSession, *, scope: ColumnElement[bool], region_path: str | None, depth: int
) -> list[CountRow]:
    """Open entries summed per region `depth` path components deep (1 province, 2 city, 3 county)."""
    path = col(LedgerCount.county_path)
    region = func.concat_ws("/", *(func.split_part(path, "/", n) for n in range(1, depth + 1)))
    where = [scope, col(LedgerCount.entries) > 0]
    if region_path is not None:
        where.append(within_path(col(LedgerCount.county_path), region_path))
    c = LedgerCount
    group: list[Any] = [region, col(c.ledger), col(c.status), col(c.stage), col(c.category)]
    stmt = select(*group, func.sum(col(c.entries))).where(*where).group_by(*group).order_by(*group)
    rows = (await session.execute(stmt)).all()
    return [CountRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5])) for r in rows]


async def rebuild(session: AsyncSession) -> None:
    """Recount from the entries (after a bulk load that bypassed the trigger)."""
    for statement in REBUILD_SQL.strip().split(";\n"):
        if statement.strip():
            await session.execute(text(statement))


# A writer of one county's counts holds this advisory lock until it commits; the trigger of migration 0013
# takes the same keys in the same order.
LOCK_COUNTIES_SQL = text(
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended('ledger_count:' || p, 0) AS k"
    " FROM unnest(CAST(:paths AS text[])) AS p ORDER BY 1) AS keys"
)


async def lock_counties(session: AsyncSession, county_paths: Iterable[str]) -> None:
    """Hold these counties' count locks until commit, taken in key order as the trigger takes them
    (ARCHITECTURE §12): a writer of many entries (the attendance rules) takes them all before its
    first write, so it never holds one county while waiting for another that a writer holds."""
    paths = sorted(set(county_paths))
    if paths:
        await session.execute(LOCK_COUNTIES_SQL, {"paths": paths})
