"""Reading the change feed: scoped like the lists, masked like GraphQL, refused without EXPORT:RUN.

Who may read it: a caller holding `EXPORT:RUN` somewhere (INTEGRATOR has it). Each change is then shown
where the caller may both run exports and read its type (`CHILD:READ` for students, `LEDGER:READ` for
entries and what hangs off them, `REPORT:READ` for submitted reports), by the same SQL scope predicate
the lists use (authz/access.py over the list's own path columns, models/repos/change_feed.py).

A change that moved an object out of that scope (a child transferred to another county, a case handed
over and acknowledged) is shown to whoever saw it before as `LEFT_SCOPE` with no object, so a mirror
deletes it. Visits, plans, deferrals and handovers leave with their entry (they carry its `entryId`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from authz.access import Access
from authz.errors import Forbidden
from models.change_feed import ChangeType
from models.repos import change_feed as feed_repo
from models.repos.children import SCOPE_COLUMNS as CHILD_COLUMNS
from models.repos.ledger import ENTRY_SCOPE_COLUMNS
from models.repos.reports import REPORT_SCOPE_COLUMNS

from ..audit import record_durable
from ..context import Context
from ..errors import BadInput
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


@dataclass(frozen=True)
class ChangePage:
    lines: list[str]  # one JSON object per change, as the API shows it (`cursor`, `changedAt`, `type`,
    # `objectId`, `operation`, `version`, `object`): sent as they are by GET /exports/changes
    end_cursor: str  # where to continue: the last change shown, or the newest one looked at
    has_next: bool


def encode_cursor(seq: int, scope: str) -> str:
    return base64.urlsafe_b64encode(f"change:{seq}:{scope}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    """The change number and scope mark inside a cursor ((0, ""): from the oldest kept change; None: `latest`)."""
    if cursor is None or cursor == "":
        return 0, ""
    if cursor == LATEST:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    _, number, scope = ([*text.split(":"), "", ""])[:3] if text.startswith("change:") else ("", "", "")
    if not (number.isdigit() and len(number) <= 18 and len(scope) <= 16):
        raise BadInput("after", "INVALID_CURSOR", "游标无效", "the cursor is not valid")
    return int(number), scope


def scope_mark(access: Access) -> str:
    """A short mark of every jurisdiction whose changes the caller may read now (a cursor carries it).

    A cursor taken under other grants is refused (SCOPE_CHANGED) rather than followed: changes already
    read under a wider scope would stay in the client's copy, and rows newly in scope would be missing.
    """
    granted = sorted(
        f"{obj}:{act}:{line}:{path}"
        for obj, act in {(EXPORT, RUN), *((o, "READ") for o, _ in READ_AS.values())}
        for line, paths in access.authorizer.scope_paths(access.username, obj, act, access.now).items()
        for path in paths
    )
    return hashlib.sha256("|".join(granted).encode()).hexdigest()[:12]


def check_limit(limit: int, maximum: int) -> int:
    if not 1 <= limit <= maximum:
        raise BadInput("first", "PAGE_SIZE", f"每页 1 到 {maximum} 条", f"between 1 and {maximum} changes per page")
    return limit


def _seen(
    access: Access, types: list[ChangeType], region_path: str | None, *, before: bool, drafts: list[str]
) -> ColumnElement[bool]:
    """Changes the caller sees (or, `before`, saw before them): per type, its READ and EXPORT:RUN scopes."""
    clauses: list[ColumnElement[bool]] = []
    for change_type in types:
        obj, list_columns = READ_AS[change_type]
        if before and obj not in MOVABLE:
            continue
        columns = feed_repo.feed_columns(list_columns, before=before)
        scope = and_(access.scope(obj, "READ", columns), access.scope(EXPORT, RUN, columns))
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
        raise BadInput("regionCode", "UNKNOWN_REGION", "没有这个行政区划或不在辖区内", "no such region in your view")
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
    mark = scope_mark(access)
    if position is not None and position[1] and position[1] != mark:
        raise BadInput(
            "after",
            "SCOPE_CHANGED",
            "授权范围已变化，游标作废：请重新全量导出，再从导出前取得的游标继续",
            "your grants changed since this cursor: export again, then follow from a cursor taken before it",
        )
    region_path = await _region_path(ctx, region_code)
    wanted = list(dict.fromkeys(types)) if types else list(ChangeType)
    # The newest change first, then the page below it: every change numbered up to it has committed.
    newest = max(await feed_repo.head(ctx.session), await feed_repo.pruned_through(ctx.session))
    if position is None:
        return ChangePage([], encode_cursor(newest, mark), False)
    start = position[0]
    drafts = sorted(own_unit_paths(ctx))
    student_columns = feed_repo.feed_columns(CHILD_COLUMNS)
    rows, has_next = await feed_repo.read_changes(
        ctx.session,
        after=start,
        through=newest,
        types=wanted,
        visible=_seen(access, wanted, region_path, before=False, drafts=drafts),
        was_visible=_seen(access, wanted, region_path, before=True, drafts=drafts),
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
