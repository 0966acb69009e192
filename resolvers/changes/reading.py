"""Reading the change feed: scoped like the lists, masked like GraphQL, refused without EXPORT:RUN.

Who may read it: a caller holding `EXPORT:RUN` somewhere (INTEGRATOR has it). Each change is then shown
where the caller may both run exports and read its type (`CHILD:READ` for students, `LEDGER:READ` for
entries and what hangs off them, `REPORT:READ` for submitted reports), by the same SQL scope predicate
the lists use (authz/access.py over the list's own path columns, models/repos/change_feed.py).

A change that moved an object out of that scope (a child transferred to another county, a case handed
over and acknowledged) is shown to whoever saw it before as `LEFT_SCOPE` with no object, so a mirror
deletes it. Visits, plans, deferrals and handovers leave with their entry (they carry its `entryId`).

Grants change too. Every cursor carries a mark of the grants it was taken under, and the grants behind
each mark are kept per account (`change_feed_scope`). A cursor taken under grants since narrowed is
followed: first a `LEFT_SCOPE` tombstone for every student, ledger entry and report seen under the old
grants and not under the new ones (paged like changes, `TOMBSTONE_TYPES`), then the changes. A cursor
whose grants are unknown, or narrower than the account's grants now, is refused (SCOPE_CHANGED): rows
newly in scope were never sent, so the client exports again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from authz.access import Access, scope_over
from authz.catalogue import within
from authz.errors import Forbidden
from models.change_feed import ChangeType
from models.repos import change_feed as feed_repo
from models.repos.children import SCOPE_COLUMNS as CHILD_COLUMNS
from models.repos.ledger import ENTRY_SCOPE_COLUMNS
from models.repos.reports import REPORT_SCOPE_COLUMNS

from ..audit import record_durable
from ..context import Context
from ..errors import BadInput, unknown_region
from ..geography.regions import get_regions
from ..reports.common import own_unit_paths

EXPORT, RUN = "EXPORT", "RUN"
MAX_LIMIT = 10_000
LATEST = "latest"
"""`after=latest`: no changes, only the cursor of the newest one (take it before a full export)."""

# Which permission reads each type, and over which list's path columns.
READ_AS: dict[ChangeType, tuple[str, dict[str, list[Any]]]] = {
    ChangeType.STUDENT: ("CHILD", CHILD_COLUMNS),
    ChangeType.LEDGER_ENTRY: ("LEDGER", ENTRY_SCOPE_COLUMNS),
    ChangeType.PERSUASION_VISIT: ("LEDGER", ENTRY_SCOPE_COLUMNS),
    ChangeType.CASE_PLAN: ("LEDGER", ENTRY_SCOPE_COLUMNS),
    ChangeType.DEFERRAL_REQUEST: ("LEDGER", ENTRY_SCOPE_COLUMNS),
    ChangeType.HANDOVER: ("LEDGER", ENTRY_SCOPE_COLUMNS),
    ChangeType.REPORT: ("REPORT", REPORT_SCOPE_COLUMNS),
}
MOVABLE = {"CHILD", "LEDGER"}  # reports never move: their `was_` paths do not exist
TOMBSTONE_TYPES = (ChangeType.STUDENT, ChangeType.LEDGER_ENTRY, ChangeType.REPORT)
"""What a narrowed grant sends tombstones for; the rest leave with their ledger entry, as on a move."""
Grants = dict[str, dict[str, list[str]]]  # "OBJECT:ACTION" → line → paths


@dataclass(frozen=True)
class ChangePage:
    lines: list[str]  # one JSON object per change, as the API shows it (`cursor`, `changedAt`, `type`,
    # `objectId`, `operation`, `version`, `object`): sent as they are by GET /exports/changes
    end_cursor: str  # where to continue: the last change shown, or the newest one looked at
    has_next: bool


@dataclass(frozen=True)
class Position:
    """Where a cursor points: after change `seq`, read under the grants marked `mark`; while tombstones of
    a narrowed grant are being sent, also the old grants' mark and the last tombstone (type, id) sent."""

    seq: int
    mark: str = ""
    old_mark: str | None = None
    type_index: int = 0
    last_id: int = 0


def cursor_text(seq: int, scope: str, tombstones: tuple[str, int, int | str] | None = None) -> str:
    """A cursor before its base64 (models/repos/change_feed.py writes the same in SQL for each line)."""
    return f"change:{seq}:{scope}" + ("" if tombstones is None else ":{}:{}:{}".format(*tombstones))


def encode_cursor(seq: int, scope: str, tombstones: tuple[str, int, int] | None = None) -> str:
    return base64.urlsafe_b64encode(cursor_text(seq, scope, tombstones).encode()).decode()


def decode_cursor(cursor: str | None) -> Position | None:
    """The position inside a cursor (seq 0: from the oldest kept change; None: `latest`)."""
    if cursor is None or cursor == "":
        return Position(0)
    if cursor == LATEST:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii") if len(cursor) <= 200 else ""
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    parts = text.split(":")
    numbers = [parts[1], *parts[4:]] if len(parts) in (3, 6) and parts[0] == "change" else []
    if not (numbers and all(n.isdigit() and len(n) <= 18 for n in numbers) and all(len(m) <= 16 for m in parts[2:4])):
        raise BadInput("after", "INVALID_CURSOR", "游标无效", "the cursor is not valid")
    if len(parts) == 3:
        return Position(int(parts[1]), parts[2])
    return Position(int(parts[1]), parts[2], parts[3], int(parts[4]), int(parts[5]))


def scope_grants(access: Access) -> Grants:
    """Every jurisdiction whose changes the caller may read now, by permission and line."""
    return {
        f"{obj}:{act}": {
            line: sorted(paths)
            for line, paths in access.authorizer.scope_paths(access.username, obj, act, access.now).items()
            if paths
        }
        for obj, act in sorted({(EXPORT, RUN), *((o, "READ") for o, _ in READ_AS.values())})
    }


def scope_mark(grants: Grants) -> str:
    """A short mark of the grants (a cursor carries it)."""
    granted = sorted(
        f"{key}:{line}:{path}" for key, lines in grants.items() for line, paths in lines.items() for path in paths
    )
    return hashlib.sha256("|".join(granted).encode()).hexdigest()[:12]


def narrowed(old: Grants, new: Grants) -> bool:
    """Does everything the new grants reach lie inside what the old ones reached (nothing newly in scope)?"""
    return all(
        any(within(path, held) for held in old.get(key, {}).get(line, []))
        for key, lines in new.items()
        for line, paths in lines.items()
        for path in paths
    )


def _scope_changed() -> BadInput:
    return BadInput(
        "after",
        "SCOPE_CHANGED",
        "授权范围已扩大或无法核对，游标作废：请重新全量导出，再从导出前取得的游标继续",
        "your grants widened since this cursor (or it cannot be checked): export again, then follow from a "
        "cursor taken before it",
    )


def check_limit(limit: int, maximum: int) -> int:
    if not 1 <= limit <= maximum:
        raise BadInput("first", "PAGE_SIZE", f"每页 1 到 {maximum} 条", f"between 1 and {maximum} changes per page")
    return limit


def _seen(
    grants: Grants, types: list[ChangeType], region_path: str | None, *, before: bool, drafts: list[str]
) -> ColumnElement[bool]:
    """Changes the caller sees (or, `before`, saw before them): per type, its READ and EXPORT:RUN scopes."""
    clauses: list[ColumnElement[bool]] = []
    for change_type in types:
        obj, list_columns = READ_AS[change_type]
        if before and obj not in MOVABLE:
            continue
        columns = feed_repo.feed_columns(list_columns, before=before)
        scope = _seen_under(grants, obj, columns)
        region = feed_repo.within_region(columns, region_path)
        if change_type is ChangeType.REPORT:
            scope = and_(scope, or_(feed_repo.submitted_report(), feed_repo.report_unit_in(drafts)))
        clauses.append(
            and_(feed_repo.FEED.object_type == change_type.value, scope, region if region is not None else true())
        )
    return or_(*clauses) if clauses else false()


async def _region_path(ctx: Context, region_code: str | None) -> str | None:
    if region_code is None:
        return None
    region = (await get_regions(ctx, [region_code])).get(region_code)
    if region is None:
        raise unknown_region("regionCode")
    return region.path


async def read_changes(
    ctx: Context,
    *,
    after: str | None,
    types: list[ChangeType] | None,
    region_code: str | None,
    limit: int,
) -> ChangePage:
    """The caller's changes after `after`, oldest first. A cursor older than the retention: CURSOR_EXPIRED."""
    access = ctx.access()
    if not access.holds_anywhere(EXPORT, RUN):
        raise Forbidden()
    position = decode_cursor(after)
    grants = scope_grants(access)
    mark = scope_mark(grants)
    # The newest change first, then the page below it: every change numbered up to it has committed.
    newest = max(await feed_repo.head(ctx.session), await feed_repo.pruned_through(ctx.session))
    await _remember(ctx, mark, grants, newest)
    old_grants: Grants | None = None
    if position is not None and position.mark and position.mark != mark:
        if position.old_mark is not None:
            raise _scope_changed()
        old_grants = await _grants_behind(ctx, position.mark, position.seq)
        if not narrowed(old_grants, grants):
            raise _scope_changed()
        position = Position(position.seq, mark, position.mark)
    elif position is not None and position.old_mark is not None:
        old_grants = await _grants_behind(ctx, position.old_mark, position.seq)
    region_path = await _region_path(ctx, region_code)
    wanted = list(dict.fromkeys(types)) if types else list(ChangeType)
    if position is None:
        return ChangePage([], encode_cursor(newest, mark), False)
    start = position.seq
    if old_grants is not None and position.old_mark is not None:
        return await _tombstones(ctx, position, old_grants, grants, wanted, newest, limit)
    drafts = sorted(own_unit_paths(ctx))
    student_columns = feed_repo.feed_columns(CHILD_COLUMNS)
    rows, has_next = await feed_repo.read_changes(
        ctx.session,
        after=start,
        through=newest,
        types=wanted,
        visible=_seen(grants, wanted, region_path, before=False, drafts=drafts),
        was_visible=_seen(grants, wanted, region_path, before=True, drafts=drafts),
        personal_data=and_(
            feed_repo.FEED.object_type == ChangeType.STUDENT.value, access.scope("CHILD", "READ_PII", student_columns)
        ),
        limit=limit,
        scope=mark,
    )
    # Checked after reading: a prune that committed before the read is seen here, one after it took nothing read.
    if start < await feed_repo.pruned_through(ctx.session):
        raise BadInput(
            "after",
            "CURSOR_EXPIRED",
            "游标早于保留期，变更已清理：请重新全量导出，再从导出前取得的游标继续",
            "the cursor is older than the feed keeps changes: export again, then follow from a cursor taken before it",
        )
    for row in rows:
        if row.visible and row.personal_data:
            await record_durable(
                ctx,
                action="student.read_personal_data",
                target_type="Student",
                target_id=str(row.object_id),
                scope_path=row.place or "",
                reason="change feed",
            )
    end = rows[-1].seq if has_next else max(newest, start)
    return ChangePage([row.line for row in rows], encode_cursor(end, mark), has_next)


async def _remember(ctx: Context, mark: str, grants: Grants, newest: int) -> None:
    """Keep the grants behind this mark for the account, on the primary (a read may run on a replica)."""
    if ctx.sessions is None:
        await feed_repo.remember_scope(ctx.session, ctx.signed_in().account_id, mark, grants, newest)
        return
    async with ctx.sessions() as session:
        await feed_repo.remember_scope(session, ctx.signed_in().account_id, mark, grants, newest)
        await session.commit()


async def _grants_behind(ctx: Context, mark: str, seq: int) -> Grants:
    """The grants the account read under `mark`, if a cursor of that mark can point at `seq` (one made up
    from an old mark and a newer change is refused: it would show what the old grants showed, today)."""
    scope = await feed_repo.remembered_scope(ctx.session, ctx.signed_in().account_id, mark)
    if scope is None or seq > scope.last_seq:
        raise _scope_changed()
    grants: Grants = scope.grants
    return grants


def _seen_under(grants: Grants, obj: str, columns: dict[str, list[Any]]) -> ColumnElement[bool]:
    """What grants show of a type (now, or remembered behind a cursor's mark): its READ and EXPORT:RUN
    scopes over the columns, the one rule for changes, moves and tombstones."""
    return and_(
        scope_over(grants.get(f"{obj}:READ", {}), columns), scope_over(grants.get(f"{EXPORT}:{RUN}", {}), columns)
    )


async def _tombstones(
    ctx: Context, position: Position, old: Grants, new: Grants, wanted: list[ChangeType], newest: int, limit: int
) -> ChangePage:
    """A page of LEFT_SCOPE tombstones for what the old grants showed and the new ones do not (type by
    type, by id); when none are left, the cursor goes on to the changes after `position.seq`."""
    lines: list[str] = []
    kinds = [t for t in TOMBSTONE_TYPES if t in wanted]
    old_mark = position.old_mark or ""
    type_index, last_id = position.type_index, position.last_id
    while type_index < len(kinds) and len(lines) < limit:
        change_type = kinds[type_index]
        obj, columns = READ_AS[change_type]
        found = await feed_repo.left_scope(
            ctx.session,
            change_type,
            was_seen=_seen_under(old, obj, columns),
            moved_from_seen=_seen_under(old, obj, feed_repo.feed_columns(columns, before=True))
            if obj in MOVABLE
            else None,
            seen=_seen_under(new, obj, columns),
            after_seq=position.seq,
            through=newest,
            after_id=last_id,
            limit=limit - len(lines),
            cursor_prefix=cursor_text(position.seq, position.mark, (old_mark, type_index, "")),  # + the id
        )
        for object_id, line in found:
            lines.append(line)
            last_id = object_id
        if len(lines) < limit:
            type_index, last_id = type_index + 1, 0
    done = type_index >= len(kinds)
    end = encode_cursor(position.seq, position.mark, None if done else (old_mark, type_index, last_id))
    return ChangePage(lines, end, True)
