"""Reading children: the education line by school, the government line by household or residence."""

from __future__ import annotations

from typing import Any

from models.child import GRADES_OF_STAGE, Child, Guardian, SpecialGroup, Stage, home_path, home_path_of
from models.enrolment import EnrolmentEvent
from models.repos import children as child_repo
from models.repos.paging import Page, PageQuery, run_page

from ..audit import record_change, record_durable
from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path, filter_school_path
from ..paging import decode_keyset_cursor, page_size, parse_id


async def children_page_query(
    ctx: Context,
    *,
    region_code: str | None = None,
    enrolled: bool | None = None,
    school_code: str | None = None,
    stage: Stage | None = None,
    special_group: SpecialGroup | None = None,
    first: int | None = None,
    after: str | None = None,
) -> PageQuery:
    """The `students` page the caller may read, as statements (run by `list_children` or compiled)."""
    access = ctx.access()
    region_path = await filter_region_path(ctx, region_code)
    school_path = await filter_school_path(ctx, school_code)
    if region_path is not None and access.scope_within("CHILD", "READ", region_path):
        region_path = None  # the region holds the caller's whole scope: the filter adds nothing
    return child_repo.children_page_query(
        scope=access.list_ranges("CHILD", "READ", child_repo.SCOPE_COLUMNS),
        region_path=region_path,
        school_path=school_path,
        grades=GRADES_OF_STAGE[stage] if stage else None,
        special_group=special_group.value if special_group else None,
        enrolled=enrolled,
        after=decode_keyset_cursor(after),
        limit=page_size(first),
    )


async def list_children(ctx: Context, *, count: bool = True, **filters: Any) -> Page[Child]:
    """The `students` page (its total if `count`): see `children_page_query` for the filters."""
    return await run_page(ctx.session, Child, await children_page_query(ctx, **filters), count=count)


async def get_children(ctx: Context, ids: list[str]) -> dict[str, Child]:
    """Children by id; one outside the caller's scope answers like a missing one."""
    access = ctx.access()
    wanted = [n for n in map(parse_id, ids) if n is not None]
    found = await child_repo.get_children(ctx.session, wanted)
    return {
        str(child_id): child
        for child_id, child in found.items()
        if access.allows("CHILD", "READ", child_repo.scope_paths(child))
    }


async def personal_data_visible(ctx: Context, ids: list[str]) -> dict[str, bool]:
    """May the caller see these children's personal data (national ID, guardian phone) in full?

    Every full read is written to the audit log, one row per child, in this operation's transaction.
    """
    access = ctx.access()
    found = await child_repo.get_children(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    allowed = {
        str(child_id): access.allows("CHILD", "READ_PII", child_repo.scope_paths(child)) is not None
        for child_id, child in found.items()
    }
    for child_id, child in found.items():
        if allowed[str(child_id)]:
            await record_personal_data_read(
                ctx, child_id, school_path=child.school_path, home=(child.household_path, child.residence_path)
            )
    return allowed


async def record_personal_data_read(
    ctx: Context, child_id: int, *, school_path: str | None, home: tuple[str | None, str | None]
) -> None:
    """The audit row of one child's personal data served in full (the compiled path writes the same),
    placed at the child's school, else its home (household, then residence)."""
    await record_durable(
        ctx,
        action="student.read_personal_data",
        target_type="Student",
        target_id=str(child_id),
        scope_path=school_path or home_path_of(*home, school_path),
    )


async def reveal_national_id(ctx: Context, *, student_id: str, reason: str) -> str:
    """The full national ID, for a role with the right, with the reason in the audit log."""
    child = (await get_children(ctx, [student_id])).get(student_id)
    if child is None:
        raise BadInput("studentId", "NOT_FOUND", "没有这个学生", "no such student")
    if not reason.strip():
        raise BadInput("reason", "REQUIRED", "查看原因不能为空", "a reason is required")
    ctx.access().require("CHILD", "READ_PII", child_repo.scope_paths(child))
    if child.national_id is None:
        raise BadInput("studentId", "NO_NATIONAL_ID", "该学生没有身份证号记录", "no national ID on record")
    await record_change(
        ctx,
        action="student.reveal_national_id",
        target_type="Student",
        target_id=student_id,
        scope_path=home_path(child),
        reason=reason.strip(),
    )
    return child.national_id


async def guardians_of(ctx: Context, ids: list[str]) -> dict[str, list[Guardian]]:
    """Guardians of children the caller may read (the schema masks phones per `personal_data_visible`)."""
    visible = await get_children(ctx, ids)
    found = await child_repo.guardians_of(ctx.session, [int(i) for i in visible])
    return {i: found.get(int(i), []) for i in visible}


async def enrolment_history(ctx: Context, ids: list[str]) -> dict[str, list[EnrolmentEvent]]:
    """Enrolment history of children the caller may read."""
    visible = await get_children(ctx, ids)
    found = await child_repo.enrolment_events_of(ctx.session, [int(i) for i in visible])
    return {i: found.get(int(i), []) for i in visible}
