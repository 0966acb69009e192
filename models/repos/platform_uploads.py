"""Queries over the changes owed to the national platform and the batches sent (models/platform_upload.py).

Taking a county's owed changes into a batch is one statement, under the county's advisory lock
(`lock_county`): `UPDATE … SET batch_id WHERE batch_id IS NULL … RETURNING`, whose rows become the batch's
lines. A change is taken by exactly one batch (the row lock decides between two writers, and the loser
re-reads `batch_id`), and a change committed after the statement's snapshot is left owed for the next one.
List functions take the scope predicate they are given (ARCHITECTURE §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, text, update
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..platform_upload import PlatformBatch, PlatformBatchLine, PlatformChange, UploadStatus
from ..region import Region, RegionLevel
from .paging import Page, fetch_page
from .paths import within_path

BATCH_SCOPE_COLUMNS: dict[str, list[Any]] = {"PLACE": [col(PlatformBatch.county_path)]}
CHANGE_SCOPE_COLUMNS: dict[str, list[Any]] = {"PLACE": [col(PlatformChange.county_path)]}
LOCK_CLASS = 150023  # the advisory-lock class of a county's uploads (migration 0023)

TAKE_SQL = text(
    """
WITH taken AS (
  UPDATE platform_change SET batch_id = :batch
   WHERE county_path = :county AND batch_id IS NULL AND happened_on <= :through
  RETURNING id, entry_id, kind, happened_on
)
INSERT INTO platform_batch_line (batch_id, seq, change_id, entry_id, child_id, kind, registry_number, national_id,
                                 name, gender, school_code, grade, category, happened_on, province_code)
SELECT :batch, row_number() OVER (ORDER BY t.id), t.id, e.id, c.id, t.kind, c.registry_number, c.national_id,
       c.name, c.gender, e.school_code, e.grade, e.category, t.happened_on, e.province_code
  FROM taken t JOIN ledger_entry e ON e.id = t.entry_id JOIN child c ON c.id = e.child_id
"""
)


DEFERRAL_DAYS_SQL = text(
    """
UPDATE platform_change p
   SET happened_on = d.day
  FROM (SELECT entry_id, (max(decided_at) AT TIME ZONE 'Asia/Shanghai')::date AS day
          FROM deferral_request WHERE status = 'APPROVED' AND decided_at IS NOT NULL GROUP BY entry_id) d
 WHERE p.kind = 'DEFERRED' AND p.batch_id IS NULL AND d.entry_id = p.entry_id
"""
)


async def date_deferrals_by_their_decisions(session: AsyncSession) -> None:
    """Owed deferrals dated by their approved requests: for entries loaded before their requests (generated
    data), which the trigger could only date by the day of the load."""
    await session.execute(DEFERRAL_DAYS_SQL)


async def lock_county(session: AsyncSession, county_code: str) -> None:
    """Serialise a county's uploads until this transaction ends (batch numbers follow one another)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k, :c)"), {"k": LOCK_CLASS, "c": int(county_code)})


async def next_number(session: AsyncSession, county_path: str) -> int:
    found = await session.scalar(
        select(func.max(PlatformBatch.number)).where(col(PlatformBatch.county_path) == county_path)
    )
    return int(found or 0) + 1


async def add_batch(session: AsyncSession, batch: PlatformBatch) -> PlatformBatch:
    session.add(batch)
    await session.flush()
    return batch


async def take_owed(session: AsyncSession, batch_id: int, county_path: str, through: date = date.max) -> int:
    """Every change of the county owed now (that happened by `through`: the demo's history) becomes a line of
    the batch; how many."""
    await session.execute(TAKE_SQL, {"batch": batch_id, "county": county_path, "through": through})
    found = await session.scalar(select(func.count()).where(col(PlatformBatchLine.batch_id) == batch_id))
    return int(found or 0)


async def release(session: AsyncSession, batch_id: int) -> int:
    """A failed batch's changes are owed again (its lines stay as the record of what was sent)."""
    result = await session.execute(
        update(PlatformChange).where(col(PlatformChange.batch_id) == batch_id).values(batch_id=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def lock_batch(session: AsyncSession, batch_id: int) -> PlatformBatch | None:
    found = await session.scalars(
        select(PlatformBatch)
        .where(col(PlatformBatch.id) == batch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.first()


async def batches_by_id(
    session: AsyncSession, ids: Sequence[int], *, scope: ColumnElement[bool]
) -> dict[int, PlatformBatch]:
    rows = await session.scalars(select(PlatformBatch).where(col(PlatformBatch.id).in_(list(ids)), scope))
    return {row.id or 0: row for row in rows}


async def list_batches(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    region_path: str | None,
    status: UploadStatus | None,
    after: str | None,
    limit: int,
) -> Page[PlatformBatch]:
    where = [scope]
    if region_path is not None:
        where.append(within_path(col(PlatformBatch.county_path), region_path))
    if status is not None:
        where.append(col(PlatformBatch.status) == status)
    return await fetch_page(
        session, PlatformBatch, col(PlatformBatch.id), where, after=after, limit=limit, key_type=int
    )


async def lines_of(session: AsyncSession, batch_id: int) -> list[PlatformBatchLine]:
    rows = await session.scalars(
        select(PlatformBatchLine)
        .where(col(PlatformBatchLine.batch_id) == batch_id)
        .order_by(col(PlatformBatchLine.seq))
    )
    return list(rows)


async def list_owed(
    session: AsyncSession, *, county_path: str, kind: str | None, after: str | None, limit: int
) -> Page[PlatformChange]:
    where = [col(PlatformChange.county_path) == county_path, col(PlatformChange.batch_id).is_(None)]
    if kind is not None:
        where.append(col(PlatformChange.kind) == kind)
    return await fetch_page(
        session, PlatformChange, col(PlatformChange.id), where, after=after, limit=limit, key_type=int
    )


@dataclass(frozen=True)
class OwedCount:
    county_code: str
    county_name: str
    county_path: str
    owed: int
    oldest_owed_on: date | None
    last_batch_at: datetime | None


async def owed_counts(session: AsyncSession, *, scope: ColumnElement[bool], root_path: str) -> list[OwedCount]:
    """Every county inside `root_path` and the scope: its owed changes, the oldest one's day, its last batch."""
    owed = (
        select(
            col(PlatformChange.county_path).label("path"),
            func.count().label("owed"),
            func.min(PlatformChange.happened_on).label("oldest"),
        )
        .where(col(PlatformChange.batch_id).is_(None), within_path(col(PlatformChange.county_path), root_path))
        .group_by(col(PlatformChange.county_path))
        .subquery()
    )
    last = (
        select(col(PlatformBatch.county_path).label("path"), func.max(PlatformBatch.created_at).label("at"))
        .where(within_path(col(PlatformBatch.county_path), root_path))
        .group_by(col(PlatformBatch.county_path))
        .subquery()
    )
    stmt = (
        select_columns(
            col(Region.code),
            col(Region.name),
            col(Region.path),
            func.coalesce(owed.c.owed, 0),
            owed.c.oldest,
            last.c.at,
        )
        .outerjoin(owed, owed.c.path == col(Region.path))
        .outerjoin(last, last.c.path == col(Region.path))
        .where(col(Region.level) == RegionLevel.COUNTY, within_path(col(Region.path), root_path), scope)
        .order_by(col(Region.code))
    )
    return [OwedCount(*row) for row in (await session.execute(stmt)).all()]


async def changes_by_id(
    session: AsyncSession, ids: Sequence[int], *, scope: ColumnElement[bool]
) -> dict[int, PlatformChange]:
    rows = await session.scalars(select(PlatformChange).where(col(PlatformChange.id).in_(list(ids)), scope))
    return {row.id or 0: row for row in rows}
