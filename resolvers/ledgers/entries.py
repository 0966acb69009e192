"""Ledger entries: reading them in scope, opening one by hand, the category, return, placement, close-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from models.base import today, utcnow
from models.child import Child, SpecialGroup
from models.ledger import (
    DISABILITY_PLACEMENTS,
    CloseReason,
    DropoutCategory,
    EntrySource,
    EntryStatus,
    Handover,
    Ledger,
    LedgerEntry,
    Placement,
)
from models.ledger_categories import broken_rule, deferral_refusal, facts_of
from models.persuasion import CasePlan, DeferralRequest, DeferralStatus, PersuasionVisit
from models.province import SCHOOL_AGE, age_on
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos.jurisdictions import path_of
from models.repos.paging import Page, PageQuery, run_page

from ..context import Context
from ..errors import BadInput, unknown_school
from ..geography.regions import filter_region_path, filter_school_path
from ..paging import decode_keyset_cursor, page_size, parse_id
from .common import LEDGER, entry_for, new_entry, require_not_closed, save_entry
from .school_age import current_school_year, cutoff_day


def category_p_needs_deferral() -> BadInput:
    return BadInput(
        "category",
        "DEFERRAL_NOT_APPROVED",
        "P 类（延缓入学）只能由县级批准的延缓入学申请设定（001 二2）",
        "category P (deferred) comes only from a deferral approved at county level (POLICY 001 §2.2)",
    )


async def check_category(ctx: Context, entry: LedgerEntry, child: Child, category: DropoutCategory) -> None:
    """Refuse a category that contradicts the child's record (POLICY 003 annex 1 note 3,
    `models/ledger_categories.py`)."""
    refusal = deferral_refusal(category, entry.status is EntryStatus.DEFERRED)
    if refusal == "DEFERRAL_NOT_APPROVED":
        raise category_p_needs_deferral()
    if refusal == "BAD_STATUS":
        raise BadInput(
            "category",
            "BAD_STATUS",
            "延缓入学期间计入 P 类（001 二2）",
            "a deferred child counts under category P while deferred (POLICY 001 §2.2)",
        )
    events = (await child_repo.enrolment_events_of(ctx.session, [child.id or 0])).get(child.id or 0, [])
    year = current_school_year(entry.opened_on)
    requests = (await ledger_repo.deferrals_of(ctx.session, [entry.id or 0])).get(entry.id or 0, [])
    facts = facts_of(
        birth_date=child.birth_date,
        opened_on=entry.opened_on,
        year_start=await cutoff_day(ctx, year, entry.province_code),
        year_end=await cutoff_day(ctx, year + 1, entry.province_code),
        special_groups=child.special_groups,
        child_school_code=child.school_code,
        entry_school_code=entry.school_code,
        entry_grade=entry.grade,
        enrolment=[(e.change, e.grade) for e in events],
        requests=[(r.basis, r.status) for r in requests],
    )
    rule = broken_rule(category, facts)
    if rule is not None:
        raise BadInput(
            "category",
            "CATEGORY_MISMATCH",
            f"{rule.zh}（规则 {rule.name}，003 附件1 注3）",
            f"{rule.en} (rule {rule.name}, POLICY 003 annex 1 note 3)",
        )


async def entries_page_query(
    ctx: Context,
    *,
    filter: ledger_repo.EntryFilter,
    region_code: str | None = None,
    school_code: str | None = None,
    not_visited_days: int | None = None,
    first: int | None = None,
    after: str | None = None,
) -> PageQuery:
    """The `ledgerEntries` page the caller may read, as statements (run by `list_entries` or compiled)."""
    if not_visited_days is not None:
        if not_visited_days < 0:
            raise BadInput("noVisitForDays", "OUT_OF_RANGE", "天数不能为负", "the number of days cannot be negative")
        filter = replace(filter, not_visited_since=today() - timedelta(days=not_visited_days))
    if region_code is not None:
        filter = replace(filter, region_path=await filter_region_path(ctx, region_code))
    if school_code is not None:
        filter = replace(filter, school_path=await filter_school_path(ctx, school_code))
    return ledger_repo.entries_page_query(
        scope=ctx.access().list_ranges(LEDGER, "READ", ledger_repo.ENTRY_SCOPE_COLUMNS),
        filter=filter,
        after=decode_keyset_cursor(after),
        limit=page_size(first),
    )


async def list_entries(ctx: Context, *, count: bool = True, **arguments: Any) -> Page[LedgerEntry]:
    """The `ledgerEntries` page (its total if `count`): see `entries_page_query` for the arguments."""
    return await run_page(ctx.session, LedgerEntry, await entries_page_query(ctx, **arguments), count=count)


async def get_entries(ctx: Context, ids: list[str]) -> dict[str, LedgerEntry]:
    """Entries by id; one outside the caller's scope answers like a missing one."""
    access = ctx.access()
    found = await ledger_repo.get_entries(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    return {
        str(entry_id): entry
        for entry_id, entry in found.items()
        if access.allows(LEDGER, "READ", ledger_repo.entry_scope_paths(entry))
    }


async def get_deferrals(ctx: Context, ids: list[str]) -> dict[str, DeferralRequest]:
    """Deferral requests by id (`node`): each readable exactly where its ledger entry is."""
    found = await ledger_repo.get_deferrals(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    entries = await get_entries(ctx, sorted({str(d.entry_id) for d in found.values()}))
    return {str(k): d for k, d in found.items() if str(d.entry_id) in entries}


async def get_visits(ctx: Context, ids: list[str]) -> dict[str, PersuasionVisit]:
    """Persuasion visits by id (`node`): each readable exactly where its ledger entry is."""
    found = await ledger_repo.get_visits(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    entries = await get_entries(ctx, sorted({str(v.entry_id) for v in found.values()}))
    return {str(k): v for k, v in found.items() if str(v.entry_id) in entries}


async def get_handovers(ctx: Context, ids: list[str]) -> dict[str, Handover]:
    """Handovers by id (`node`): each readable exactly where its ledger entry is."""
    found = await ledger_repo.get_handovers(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    entries = await get_entries(ctx, sorted({str(h.entry_id) for h in found.values()}))
    return {str(k): h for k, h in found.items() if str(h.entry_id) in entries}


async def get_plans(ctx: Context, ids: list[str]) -> dict[str, CasePlan]:
    """Case plans by id (`node`): each readable where its child's latest ledger entry is."""
    access = ctx.access()
    found = await ledger_repo.get_plans(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    latest = await ledger_repo.latest_entries_of(ctx.session, {p.child_id for p in found.values()})
    return {
        str(k): plan
        for k, plan in found.items()
        if (entry := latest.get(plan.child_id)) is not None
        and access.allows(LEDGER, "READ", ledger_repo.entry_scope_paths(entry))
    }


async def child_for_ledger(ctx: Context, student_id: str, act: str) -> Child:
    """A child the caller may see on the ledgers (else NOT_FOUND) and do `act` for (else FORBIDDEN)."""
    number = parse_id(student_id)
    child = (await child_repo.get_children(ctx.session, [number])).get(number) if number is not None else None
    access = ctx.access()
    if child is None or access.allows(LEDGER, "READ", child_repo.scope_paths(child)) is None:
        raise BadInput("studentId", "NOT_FOUND", "没有这个学生", "no such student")
    access.require(LEDGER, act, child_repo.scope_paths(child))
    return child


async def open_entry(
    ctx: Context,
    *,
    student_id: str,
    ledger: Ledger,
    source: EntrySource,
    opened_on: date,
    category: DropoutCategory | None,
    note: str | None,
) -> LedgerEntry:
    """Open an entry from a finding (comparison, door-to-door, ministry list, by hand).

    Attendance findings open themselves (rules.py); a child already on a ledger is not entered twice.
    """
    child = await child_for_ledger(ctx, student_id, "WRITE")
    if source is EntrySource.ATTENDANCE:
        raise BadInput(
            "source",
            "RULE_OWNED",
            "考勤来源的记录由考勤规则自动生成（003 附件1 注1–2）",
            "attendance entries are opened by the attendance rules (POLICY 003 annex 1 notes 1–2)",
        )
    if opened_on > today():
        raise BadInput("openedOn", "FUTURE_DATE", "日期不能晚于今天", "the date cannot be in the future")
    # The child is locked first (ARCHITECTURE §12): of two openings at once, the second waits here and
    # then finds the first's entry, instead of meeting the unique index ux_ledger_entry_active_child.
    await child_repo.lock_children(ctx.session, [child.id or 0])
    if (await ledger_repo.active_entries(ctx.session, [child.id or 0])).get(child.id or 0):
        raise BadInput(
            "studentId",
            "ALREADY_ON_LEDGER",
            "该学生已有未销号的台账记录",
            "the student already has an entry that is not closed out",
        )
    entry = await enter(ctx, child, ledger=ledger, source=source, opened_on=opened_on, note=note)
    if category is not None:
        await check_category(ctx, entry, child, category)
        entry.category = category
    entry.version = 0
    return await save_entry(ctx, entry, "ledger.open", ledger=ledger, source=source, relapse=entry.is_relapse)


async def enter(
    ctx: Context, child: Child, *, ledger: Ledger, source: EntrySource, opened_on: date, note: str | None
) -> LedgerEntry:
    """A new entry for a child locked by the caller and found with no entry open (not yet saved): a child
    whose earlier entry was closed gets it marked as a relapse (反弹), linked to that entry."""
    previous = await ledger_repo.last_closed_entry(ctx.session, child.id or 0)
    return new_entry(
        child,
        ledger=ledger,
        source=source,
        opened_on=opened_on,
        opened_by=ctx.actor,
        note=note,
        previous_entry_id=previous.id if previous else None,
        is_relapse=previous is not None,
    )


async def set_category(ctx: Context, *, entry_id: str, category: DropoutCategory, version: int) -> LedgerEntry:
    """Set the dropout category A–T (POLICY 003 annex 1 note 3), if it fits the child's record."""
    entry = await entry_for(ctx, entry_id, "WRITE", version=version)
    require_not_closed(entry)
    child = (await child_repo.get_children(ctx.session, [entry.child_id]))[entry.child_id]
    await check_category(ctx, entry, child, category)
    before = entry.category
    entry.category = category
    return await save_entry(ctx, entry, "ledger.set_category", before=before, after=category)


async def mark_returned(ctx: Context, *, entry_id: str, returned_on: date, version: int) -> LedgerEntry:
    """The child is back at school (a finding not made by attendance): RETURNED, awaiting placement."""
    entry = await entry_for(ctx, entry_id, "WRITE", version=version)
    if entry.status not in (EntryStatus.OPEN, EntryStatus.DEFERRED):
        raise BadInput(
            "entryId", "BAD_STATUS", f"当前状态（{entry.status}）不能标记返校", f"a {entry.status} entry cannot return"
        )
    if not entry.opened_on <= returned_on <= today():
        raise BadInput(
            "returnedOn",
            "OUT_OF_RANGE",
            "返校日期须在建档日与今天之间",
            "the return date must lie between opening and today",
        )
    entry.status = EntryStatus.RETURNED
    entry.returned_on = returned_on
    return await save_entry(ctx, entry, "ledger.mark_returned", returned_on=returned_on)


async def record_placement(
    ctx: Context,
    *,
    entry_id: str,
    placement: Placement,
    school_code: str | None,
    placed_on: date,
    note: str | None,
    version: int,
) -> LedgerEntry:
    """Classified placement of a returned child (分类安置, POLICY 001): required before close-out."""
    entry = await entry_for(ctx, entry_id, "WRITE", version=version)
    if entry.status is not EntryStatus.RETURNED:
        raise BadInput(
            "entryId",
            "NOT_RETURNED",
            "只有已返校的学生才能安置（001 分类安置）",
            "only a returned child is placed (POLICY 001, classified placement)",
        )
    child = (await child_repo.get_children(ctx.session, [entry.child_id]))[entry.child_id]
    if placement in DISABILITY_PLACEMENTS and SpecialGroup.DISABLED.value not in child.special_groups:
        raise BadInput(
            "placement",
            "NOT_DISABLED",
            "特殊教育学校和送教上门用于残疾儿童（000 §9）",
            "special schools and home teaching are for disabled children (POLICY 000 §9)",
        )
    if school_code is not None and await path_of(ctx.session, school_code) is None:
        raise unknown_school("schoolCode")
    if placed_on < (entry.returned_on or entry.opened_on) or placed_on > today():
        raise BadInput(
            "placedOn", "OUT_OF_RANGE", "安置日期须在返校日与今天之间", "placement lies between the return and today"
        )
    entry.placement, entry.placement_school_code, entry.placed_on = placement, school_code, placed_on
    entry.placement_note = note
    return await save_entry(ctx, entry, "ledger.record_placement", placement=placement, school=school_code)


async def close_out(ctx: Context, *, entry_id: str, reason: CloseReason, note: str | None, version: int) -> LedgerEntry:
    """Close an entry out (销号): with a reason, never by deletion; each reason has its precondition."""
    entry = await entry_for(ctx, entry_id, "CLOSE", version=version)
    require_not_closed(entry)
    # The county answering for the case closes it (001 §2.2): not the household side of a migrant's case.
    ctx.access().require(LEDGER, "CLOSE", {"EDU": [entry.responsible_path], "GOV": [entry.responsible_path]})
    await _check_close_reason(ctx, entry, reason, note)
    entry.status = EntryStatus.CLOSED
    entry.close_reason, entry.close_note = reason, (note or "").strip() or None
    for request in (await ledger_repo.deferrals_of(ctx.session, [entry.id or 0])).get(entry.id or 0, []):
        if request.status is DeferralStatus.PENDING:  # nothing is left to decide
            request.status, request.decided_by, request.decided_at = DeferralStatus.WITHDRAWN, ctx.actor, utcnow()
            ctx.session.add(request)
    entry.closed_at, entry.closed_by = utcnow(), ctx.actor
    return await save_entry(ctx, entry, "ledger.close_out", reason=reason, note=note)


async def _check_close_reason(ctx: Context, entry: LedgerEntry, reason: CloseReason, note: str | None) -> None:
    if entry.status is EntryStatus.TRANSFERRED:
        raise BadInput(
            "entryId", "HANDOVER_PENDING", "移交尚未被接收，不能销号", "the handover is not yet acknowledged"
        )
    if entry.ledger is Ledger.DROPOUT and entry.category is None:
        raise BadInput(
            "entryId",
            "CATEGORY_REQUIRED",
            "辍学记录须先确定辍学类别（A–T，003 附件1 注3）才能销号",
            "a dropout entry needs its category A–T before close-out (POLICY 003 annex 1 note 3)",
        )
    if reason is CloseReason.ESCALATED_TO_DROPOUT:
        raise BadInput("reason", "RULE_OWNED", "该原因仅由考勤规则使用", "only the attendance rules use this reason")
    if reason is CloseReason.RETURNED_AND_PLACED and (entry.status is not EntryStatus.RETURNED or not entry.placement):
        raise BadInput(
            "reason",
            "PLACEMENT_REQUIRED",
            "返校学生须先完成分类安置才能销号（001）",
            "a returned child must be placed before close-out (POLICY 001)",
        )
    if reason is CloseReason.AGED_OUT:
        child = (await child_repo.get_children(ctx.session, [entry.child_id]))[entry.child_id]
        if age_on(child.birth_date, today()) <= SCHOOL_AGE[1]:
            raise BadInput(
                "reason",
                "STILL_SCHOOL_AGE",
                "该学生仍在义务教育年龄内（6–15 周岁）",
                "the child is still of compulsory-school age (6–15)",
            )
    if reason is CloseReason.OTHER and not (note or "").strip():
        raise BadInput("note", "REQUIRED", "“其他”原因须说明", "reason OTHER needs an explanation")


async def current_entries(ctx: Context, child_ids: list[str]) -> dict[str, LedgerEntry]:
    """Each child's entry not yet closed out, where the caller may read it."""
    access = ctx.access()
    found = await ledger_repo.active_entries(
        ctx.session, [n for n in map(parse_id, child_ids) if n is not None], lock=False
    )
    return {
        str(child_id): entry
        for child_id, entry in found.items()
        if access.allows(LEDGER, "READ", ledger_repo.entry_scope_paths(entry))
    }


async def students_of_entries(ctx: Context, child_ids: list[str]) -> dict[str, Child]:
    """The children of entries this operation already found in scope (an entry shows its student)."""
    found = await child_repo.get_children(ctx.session, [n for n in map(parse_id, child_ids) if n is not None])
    return {str(k): v for k, v in found.items()}


async def visits_of(ctx: Context, entry_ids: list[str]) -> dict[str, list[PersuasionVisit]]:
    found = await ledger_repo.visits_of(ctx.session, [int(i) for i in entry_ids])
    return {i: found.get(int(i), []) for i in entry_ids}


async def deferrals_of(ctx: Context, entry_ids: list[str]) -> dict[str, list[DeferralRequest]]:
    found = await ledger_repo.deferrals_of(ctx.session, [int(i) for i in entry_ids])
    return {i: found.get(int(i), []) for i in entry_ids}


async def handovers_of(ctx: Context, entry_ids: list[str]) -> dict[str, list[Handover]]:
    found = await ledger_repo.handovers_of(ctx.session, [int(i) for i in entry_ids])
    return {i: found.get(int(i), []) for i in entry_ids}


async def plans_of(ctx: Context, child_ids: list[str]) -> dict[str, CasePlan]:
    found = await ledger_repo.plans_of(ctx.session, [int(i) for i in child_ids])
    return {str(k): v for k, v in found.items()}
