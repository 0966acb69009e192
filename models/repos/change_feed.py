"""Queries over the change feed (models/change_feed.py). The scope predicates always come from the caller.

The feed's rows carry the same path columns, by the same names, as the tables whose lists they mirror,
so `feed_columns` turns a list's scope columns (children's, entries', reports') into the feed's and the
caller's grants filter both through the one rule in `authz` (ARCHITECTURE §4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, delete, false, func, literal, null, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..change_feed import ChangeEvent, ChangeFeedState
from .regions import SchoolPaths, within_path

FEED = ChangeEvent.__table__.c  # type: ignore[attr-defined]


def feed_columns(columns: Mapping[str, Sequence[Any]], *, before: bool = False) -> dict[str, list[Any]]:
    """A list's scope columns (per line) as the feed's columns of the same names; `before`: the paths the
    object had before its change (`was_…`), set only on a change that moved it."""
    prefix = "was_" if before else ""

    def same(column: Any) -> Any:
        if isinstance(column, SchoolPaths):
            return SchoolPaths(FEED[prefix + column.column.key])
        return FEED[prefix + column.key]

    return {line: [same(c) for c in cols] for line, cols in columns.items()}


def within_region(columns: Mapping[str, Sequence[Any]], region_path: str | None) -> ColumnElement[bool] | None:
    """Any of the object's paths, on either line, lies in the region (as the lists' region filters)."""
    if region_path is None:
        return None
    return or_(*(within_path(c, region_path) for cols in columns.values() for c in cols))


@dataclass(frozen=True)
class FeedRow:
    seq: int
    object_type: str
    object_id: int
    line: str  # the change as one JSON object, named and masked as the API shows it (`change_line`)
    visible: bool  # False: the caller saw it before this change and not after it (LEFT_SCOPE)
    personal_data: bool  # the caller may read this child's personal data in full
    place: str | None  # where a full read of personal data is audited: the child's school, else its home


def change_line(visible: ColumnElement[bool], personal_data: ColumnElement[bool]) -> ColumnElement[str]:
    """The change as the API shows it, built by PostgreSQL (`change_api_object`, migration 0019): the text is
    sent as it is, so 10,000 changes cost the server no JSON parsing (bench/RESULTS.md, change feed)."""
    cursor = func.translate(
        func.encode(func.convert_to(func.concat("change:", FEED.seq), "UTF8"), "base64"), "+/", "-_"
    )
    type_name = func.upper(func.regexp_replace(FEED.object_type, "([a-z])([A-Z])", "\\1_\\2", "g"))
    shown = func.jsonb_build_object(
        "cursor",
        cursor,
        "changedAt",
        FEED.changed_at,
        "type",
        type_name,
        "objectId",
        func.change_global_id(FEED.object_type, func.cast(FEED.object_id, Text)),
        "operation",
        case((visible, FEED.operation), else_=literal("LEFT_SCOPE")),
        "version",
        FEED.version,
        "object",
        case((visible, func.change_api_object(FEED.object_type, FEED.object, personal_data)), else_=null()),
    )
    return func.cast(shown, Text)


async def head(session: AsyncSession) -> int:
    """The highest committed change (0 for none). Every change numbered below it has committed too."""
    return int(await session.scalar(select(func.coalesce(func.max(FEED.seq), 0))) or 0)


async def pruned_through(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(col(ChangeFeedState.pruned_through)).where(col(ChangeFeedState.id) == 1)) or 0
    )


async def read_changes(
    session: AsyncSession,
    *,
    after: int,
    through: int,
    types: Sequence[str],
    visible: ColumnElement[bool],
    was_visible: ColumnElement[bool],
    personal_data: ColumnElement[bool],
    limit: int,
) -> tuple[list[FeedRow], bool]:
    """Changes numbered in (after, through], in commit order, that the caller sees now or saw before them.

    Returns the rows and whether more follow up to `through`.
    """
    statement = (
        select(
            FEED.seq,
            FEED.object_type,
            FEED.object_id,
            change_line(visible, personal_data).label("line"),
            visible.label("visible"),
            personal_data.label("personal_data"),
            func.coalesce(FEED.school_path, FEED.household_path, FEED.residence_path).label("place"),
        )
        .where(
            FEED.seq > after,
            FEED.seq <= through,
            FEED.object_type.in_(list(types)),
            or_(visible, and_(FEED.moved, was_visible)),
        )
        .order_by(FEED.seq)
        .limit(limit + 1)
    )
    rows = [FeedRow(**row._mapping) for row in (await session.execute(statement)).all()]
    return rows[:limit], len(rows) > limit


def submitted_report() -> ColumnElement[bool]:
    """A report's change is seen once the report was first submitted (drafts are their unit's own)."""
    submitted: ColumnElement[bool] = FEED.object["first_submitted_at"].astext.is_not(None)
    return submitted


def report_unit_in(paths: Sequence[str]) -> ColumnElement[bool]:
    return FEED.unit_path.in_(list(paths)) if paths else false()


async def prune(session: AsyncSession, *, before: datetime) -> tuple[int, int]:
    """Delete the changes made before `before`; returns (rows deleted, the new `pruned_through`).

    `pruned_through` is raised in the same transaction, so a reader whose cursor lies below it learns
    that changes it has not read are gone (CURSOR_EXPIRED) instead of silently missing them.
    """
    await session.execute(select(ChangeFeedState).where(col(ChangeFeedState.id) == 1).with_for_update())
    last = await session.scalar(select(func.max(FEED.seq)).where(FEED.changed_at < before))
    if last is None:
        return 0, await pruned_through(session)
    result = await session.execute(delete(ChangeEvent).where(FEED.seq <= last))
    await session.execute(
        update(ChangeFeedState)
        .where(col(ChangeFeedState.id) == 1, col(ChangeFeedState.pruned_through) < last)
        .values(pruned_through=last, pruned_at=func.now())
    )
    return int(result.rowcount or 0), int(last)  # type: ignore[attr-defined]


async def skip_feed_in_this_transaction(session: AsyncSession) -> None:
    """Writes of this transaction leave no changes (bulk loads that document it: README, Integrators)."""
    await session.execute(text("SELECT set_config('baoxue.change_feed', 'off', true)"))
