"""Reading verification tasks and their progress (下发核实, POLICY 004 §9), scoped like the ledgers.

Who reads which tasks (`models/repos/verification.task_scope`):
- the county bureau its county's tasks, the city and provincial bureaus those routed into their subtree
  (`VERIFICATION:READ` over the task's county): a county never sees another county's tasks;
- a sender (`VERIFICATION:SEND`: the ministry at `CN`, a provincial department at its province) every task
  of the lists it sent itself, wherever they were routed or re-routed, the unroutable ones included, and
  nothing else: the ministry holds no other right over children.

Personal data: a task shows the child's name as the list gave it; the national ID in full only to the county
that verifies it (`VERIFICATION:VERIFY` over the task's county), audited; masked for everyone else. The
county's note is shown to that county only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, true

from authz.errors import Forbidden
from models.base import today
from models.repos import regions as region_repo
from models.repos import verification as repo
from models.repos.paging import Page
from models.roster_import import RosterRow
from models.verification import Outcome, TaskStatus, VerificationTask

from ..audit import record_durable
from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id

READ = ("VERIFICATION", "READ")
SEND = ("VERIFICATION", "SEND")


def _scope(ctx: Context) -> ColumnElement[bool]:
    """The tasks the caller may read; FORBIDDEN for a caller who may read none anywhere."""
    if ctx.operator:
        return true()
    access = ctx.access()
    counties = access.granted_paths(*READ, "PLACE")
    senders = sorted(access.exact_granted_paths(*SEND))
    if not counties and not senders:
        raise Forbidden()
    return repo.task_scope(counties, senders)


@dataclass(frozen=True)
class TaskView:
    """A task with the row it came from and what the caller may see of it."""

    task: VerificationTask
    row: RosterRow | None
    verifier: bool  # the county that answers it: full national ID and the note


async def _views(ctx: Context, tasks: list[VerificationTask]) -> list[TaskView]:
    rows = await repo.rows_of_tasks(ctx.session, tasks)
    views = []
    for task in tasks:
        verifier = ctx.operator or (
            task.county_path is not None
            and ctx.access().allows("VERIFICATION", "VERIFY", {"PLACE": [task.county_path]}) is not None
        )
        row = rows.get((task.import_id, task.line))
        if verifier and row is not None and row.national_id:
            await record_durable(
                ctx, action="verification.read_personal_data", target_type="VerificationTask",
                target_id=str(task.id), scope_path=task.county_path,
            )  # fmt: skip
        views.append(TaskView(task, row, verifier))
    return views


async def list_tasks(
    ctx: Context,
    *,
    batch_id: str | None = None,
    status: TaskStatus | None = None,
    overdue: bool | None = None,
    region_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[TaskView]:
    """The tasks I may read, oldest first, filtered."""
    scope = _scope(ctx)
    import_id = _batch_number(batch_id)
    region_path = await filter_region_path(ctx, region_code)
    page = await repo.list_tasks(
        ctx.session, scope=scope, today=today(), after=decode_id_cursor(after), limit=page_size(first),
        task_filter=repo.TaskFilter(import_id=import_id, status=status, overdue=overdue, region_path=region_path),
    )  # fmt: skip
    return Page(rows=await _views(ctx, page.rows), has_next=page.has_next, total=page.total)


def _batch_number(batch_id: str | None) -> int | None:
    if batch_id is None:
        return None
    number = parse_id(batch_id)
    if number is None:
        raise BadInput("filter.batchId", "NOT_FOUND", "没有这个批次", "no such batch")
    return number


async def visible_tasks(ctx: Context, ids: list[str]) -> dict[str, VerificationTask]:
    """The tasks among `ids` that I may read (others are simply absent)."""
    numbers = [n for n in (parse_id(i) for i in ids) if n is not None]
    return {str(t.id): t for t in await repo.tasks_by_id(ctx.session, numbers, scope=_scope(ctx))}


async def get_tasks(ctx: Context, ids: list[str]) -> dict[str, TaskView]:
    found = await visible_tasks(ctx, ids)
    return {str(v.task.id): v for v in await _views(ctx, list(found.values()))}


async def task_views(ctx: Context, tasks: list[VerificationTask]) -> list[TaskView]:
    return await _views(ctx, tasks)


Level = Literal["PROVINCE", "CITY", "COUNTY"]
DEPTH: dict[str, int] = {"PROVINCE": 1, "CITY": 2, "COUNTY": 3}


@dataclass
class Progress:
    """One region's tasks (region None: the unroutable ones), counted."""

    region_code: str | None
    region_name: str | None
    total: int = 0
    open: int = 0
    done: int = 0
    confirmed: int = 0
    not_dropout: dict[str, int] = field(default_factory=dict)
    rerouted: int = 0
    overdue: int = 0
    unroutable: int = 0


async def progress(ctx: Context, *, batch_id: str | None, by: Level) -> list[Progress]:
    """Per region of the level `by`, the tasks I may read (of one batch, or all: the reportingStatus-style
    view of what is owed), counted: total, open, done, confirmed, not a dropout by reason, re-routed, overdue,
    unroutable. A re-routed task counts in its first county as `rerouted` and its new one as a task there."""
    scope = _scope(ctx)
    groups = await repo.count_tasks(ctx.session, scope=scope, import_id=_batch_number(batch_id), today=today())
    by_region: dict[str | None, Progress] = {}
    for g in groups:
        code = g.county_path.split("/")[DEPTH[by] - 1] if g.county_path else None
        p = by_region.setdefault(code, Progress(region_code=code, region_name=None))
        p.total += g.count
        if g.status is TaskStatus.OPEN:
            p.open += g.count
            p.overdue += g.count if g.overdue else 0
        elif g.status is TaskStatus.DONE:
            p.done += g.count
            if g.outcome == Outcome.CONFIRMED:
                p.confirmed += g.count
            elif g.reason is not None:
                p.not_dropout[g.reason] = p.not_dropout.get(g.reason, 0) + g.count
        elif g.status is TaskStatus.REROUTED:
            p.rerouted += g.count
        else:
            p.unroutable += g.count
    names = await region_repo.get_regions(ctx.session, [c for c in by_region if c])
    for code, p in by_region.items():
        p.region_name = names[code].name if code in names else None
    return sorted(by_region.values(), key=lambda p: (p.region_code is None, p.region_code or ""))
