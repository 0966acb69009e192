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

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..change_feed import ChangeEvent, ChangeFeedScope, ChangeFeedState, ChangeType
from ..child import Child
from ..ledger import Handover, LedgerEntry
from ..persuasion import CasePlan, DeferralRequest, PersuasionVisit
from ..report import Report
from .paths import SchoolPaths, within_path

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


# Columns that point at another object: the API's field name and the referenced type (shown as global IDs).
REFERENCES = {
    "child_id": ("studentId", ChangeType.STUDENT),
    "entry_id": ("entryId", ChangeType.LEDGER_ENTRY),
    "escalated_from_id": ("escalatedFromId", ChangeType.LEDGER_ENTRY),
    "previous_entry_id": ("previousEntryId", ChangeType.LEDGER_ENTRY),
}
AS_CODE = {"from_path": "fromRegionCode", "to_path": "toRegionCode"}  # a handover's paths: the codes they end in
PERSONAL = ("national_id", "registry_number")  # a child's, masked unless the reader holds CHILD:READ_PII
TABLES: dict[ChangeType, Any] = {
    ChangeType.STUDENT: Child,
    ChangeType.LEDGER_ENTRY: LedgerEntry,
    ChangeType.PERSUASION_VISIT: PersuasionVisit,
    ChangeType.CASE_PLAN: CasePlan,
    ChangeType.DEFERRAL_REQUEST: DeferralRequest,
    ChangeType.HANDOVER: Handover,
    ChangeType.REPORT: Report,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def api_object(
    change_type: ChangeType, stored: ColumnElement[Any], personal_data: ColumnElement[bool]
) -> ColumnElement[Any]:
    """A stored row (`to_jsonb` of the table's row) as the API shows it: the one place for the rule.

    GraphQL field names (camelCase), `id` and references as Relay global IDs, path columns left out (a
    handover's two paths shown as the region codes they end in), a child's national ID and registry number
    masked (first 6, last 4, as models/child.py `mask_national_id`) unless `personal_data`. Built as one
    `jsonb_build_object` per type from the model's columns, so PostgreSQL renders 10,000 changes in a few
    tens of milliseconds (bench/RESULTS.md, change feed).
    """
    args: list[Any] = ["id", func.change_global_id(change_type.value, stored["id"].astext)]
    for column in TABLES[change_type].__table__.columns:
        name = column.name
        if name == "id" or (name.endswith("_path") and name not in AS_CODE):
            continue
        if name in REFERENCES:
            field, target = REFERENCES[name]
            args += [field, func.change_global_id(target.value, stored[name].astext)]
        elif name in AS_CODE:
            args += [AS_CODE[name], func.regexp_replace(stored[name].astext, "^.*/", "")]
        elif change_type is ChangeType.STUDENT and name in PERSONAL:
            masked = func.to_jsonb(func.change_mask(stored[name].astext))
            args += [camel(name), case((personal_data, stored[name]), else_=masked)]
        else:
            args += [camel(name), stored[name]]
    return func.jsonb_build_object(*args)


def feed_line(
    *, cursor: Any, changed_at: Any, object_type: Any, object_id: Any, operation: Any, version: Any, shown: Any
) -> ColumnElement[str]:
    """One line of the feed as PostgreSQL writes it: the one place for its shape (changes and tombstones)."""
    line = func.jsonb_build_object(
        "cursor",
        func.translate(func.encode(func.convert_to(cursor, "UTF8"), "base64"), "+/", "-_"),  # URL-safe base64
        "changedAt",
        changed_at,
        "type",
        func.upper(func.regexp_replace(object_type, "([a-z])([A-Z])", "\\1_\\2", "g")),
        "objectId",
        func.change_global_id(object_type, func.cast(object_id, Text)),
        "operation",
        operation,
        "version",
        version,
        "object",
        shown,
    )
    return func.cast(line, Text)


def change_line(row: Any, types: Sequence[ChangeType], scope: str) -> ColumnElement[str]:
    """The change as one JSON object, built by PostgreSQL from the page's row (`visible`, `personal_data`
    computed once below): sent as it is, so the server parses no JSON (bench/RESULTS.md, change feed)."""
    shown = case(
        *((row.object_type == t.value, api_object(t, row.object, row.personal_data)) for t in types), else_=null()
    )
    return feed_line(
        cursor=func.concat("change:", row.seq, ":", scope),
        changed_at=row.changed_at,
        object_type=row.object_type,
        object_id=row.object_id,
        operation=case((row.visible, row.operation), else_=literal("LEFT_SCOPE")),
        version=row.version,
        shown=case((row.visible, shown), else_=null()),
    )


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
    types: Sequence[ChangeType],
    visible: ColumnElement[bool],
    was_visible: ColumnElement[bool],
    personal_data: ColumnElement[bool],
    limit: int,
    scope: str,
) -> tuple[list[FeedRow], bool]:
    """Changes numbered in (after, through], in commit order, that the caller sees now or saw before them.

    Returns the rows and whether more follow up to `through`. Each row's cursor carries the caller's `scope`
    mark (resolvers/changes/reading.py).
    """
    page = (
        select(
            FEED.seq,
            FEED.changed_at,
            FEED.object_type,
            FEED.object_id,
            FEED.operation,
            FEED.version,
            FEED.object,
            visible.label("visible"),
            personal_data.label("personal_data"),
            func.coalesce(FEED.school_path, FEED.household_path, FEED.residence_path).label("place"),
        )
        .where(
            FEED.seq > after,
            FEED.seq <= through,
            FEED.object_type.in_([t.value for t in types]),
            or_(visible, and_(FEED.moved, was_visible)),
        )
        .order_by(FEED.seq)
        .limit(limit + 1)
        .subquery()
    )
    statement = select(
        page.c.seq,
        page.c.object_type,
        page.c.object_id,
        change_line(page.c, types, scope).label("line"),
        page.c.visible,
        page.c.personal_data,
        page.c.place,
    ).order_by(page.c.seq)
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


async def remember_scope(
    session: AsyncSession, account_id: int, mark: str, grants: Mapping[str, Any], newest: int
) -> None:
    """Keep the grants behind an account's scope mark (a mark names the same grants forever) and the
    newest change it was read at: every cursor ever given under the mark lies at or below it."""
    row = {"account_id": account_id, "mark": mark, "grants": grants, "last_seq": newest}
    stale = ChangeFeedScope.__table__.c.last_seq < newest  # type: ignore[attr-defined]
    upsert = insert(ChangeFeedScope).values(row)
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["account_id", "mark"], set_={"last_seq": upsert.excluded.last_seq}, where=stale
        )
    )


async def remembered_scope(session: AsyncSession, account_id: int, mark: str) -> ChangeFeedScope | None:
    return await session.get(ChangeFeedScope, (account_id, mark))


async def left_scope(
    session: AsyncSession,
    change_type: ChangeType,
    *,
    was_seen: ColumnElement[bool],
    moved_from_seen: ColumnElement[bool] | None,
    seen: ColumnElement[bool],
    after_seq: int,
    through: int,
    after_id: int,
    limit: int,
    cursor_prefix: str,
) -> list[tuple[int, str]]:
    """LEFT_SCOPE lines (id, line) for the objects of a type seen under the old grants, now or, by
    `moved_from_seen` over the feed's `was_` paths, before a move after `after_seq`, and not seen now; by
    id after `after_id`. Each line's cursor is `cursor_prefix` and the object's id."""
    table = TABLES[change_type]
    held = was_seen
    if moved_from_seen is not None:
        moved = select(FEED.object_id).where(
            FEED.object_type == change_type.value, FEED.seq > after_seq, FEED.seq <= through, FEED.moved,
            moved_from_seen,
        )  # fmt: skip
        held = or_(was_seen, col(table.id).in_(moved))
    line = feed_line(
        cursor=func.concat(cursor_prefix, col(table.id)),
        changed_at=func.now(),
        object_type=literal(change_type.value),
        object_id=col(table.id),
        operation=literal("LEFT_SCOPE"),
        version=col(table.version),
        shown=null(),
    )
    statement = (
        select(col(table.id), line)
        .where(held, seen.is_not(True), col(table.id) > after_id)  # NULL paths make `seen` NULL: not seen
        .order_by(col(table.id))
        .limit(limit)
    )
    return [(int(i), str(text_line)) for i, text_line in (await session.execute(statement)).all()]
