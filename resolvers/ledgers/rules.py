"""Attendance and the ledger rules (POLICY 003, annex 1, notes 1–2), run after each batch and by a sweep.

- absent more than 7 calendar days without leave → a suspected-dropout entry opens (source ATTENDANCE);
- a suspected entry whose child is still absent more than a month later → a dropout entry, linked;
- attendance resumes → the entry is RETURNED, awaiting placement and close-out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from authz.errors import Forbidden
from models.base import today, utcnow
from models.child import Child
from models.ledger import CloseReason, EntrySource, EntryStatus, Ledger, LedgerEntry
from models.ledger_rules import Action, DayMark, Mark, OpenEntry, absent_since, add_month, next_action, returned_since
from models.ledger_rules import suspected_threshold_day as threshold_day
from models.repos import attendance as attendance_repo
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos import ledger_counts as count_repo
from models.repos import schools as school_repo
from models.repos.children import SCOPE_COLUMNS

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from .common import audit_entry, new_entry, responsible_county

# How far back the rules read marks: a week to become suspected plus a month to become a dropout, with room.
LOOKBACK = timedelta(days=100)


@dataclass
class RulesOutcome:
    opened: list[LedgerEntry] = field(default_factory=list)
    reopened: list[LedgerEntry] = field(default_factory=list)  # back at school, then absent a week again
    escalated: list[LedgerEntry] = field(default_factory=list)
    returned: list[LedgerEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Absence:
    child_id: str
    excused: bool


async def record_attendance(
    ctx: Context,
    *,
    day: date,
    absences: Sequence[Absence],
    school_code: str | None,
    grade: int | None,
) -> tuple[int, RulesOutcome]:
    """Record a day's absences, singly or as a class register, then run the rules for those children.

    With `school_code` and `grade` this is the class register: every other child of the class was present.
    """
    if day > today():
        raise BadInput("day", "FUTURE_DATE", "不能登记未来日期的考勤", "attendance cannot be recorded for a future day")
    access = ctx.access()
    ids = [parse_id(a.child_id) for a in absences]
    found = await child_repo.get_children(ctx.session, [i for i in ids if i is not None])
    members: list[Child] = []
    if school_code is not None or grade is not None:
        if school_code is None or grade is None:
            raise BadInput("classOf", "REQUIRED", "班级须同时给出学校和年级", "a class needs both school and grade")
        school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
        if school is None:
            raise BadInput("classOf.schoolCode", "NOT_FOUND", "没有这所学校", "no such school")
        access.require("ATTENDANCE", "WRITE", {"EDU": [school.path]})  # the school's own, even for an empty class
        members = await attendance_repo.class_members(ctx.session, school_code, grade)
    # Every child the batch may write for is locked first, in id order, as the sweep locks them
    # (ARCHITECTURE §12): batches and sweeps of the same children wait for each other, never deadlock.
    await child_repo.lock_children(ctx.session, [*found, *(m.id or 0 for m in members)])
    rows: list[dict[str, Any]] = []
    for n, (absence, child_id) in enumerate(zip(absences, ids, strict=True)):
        child = found.get(child_id or -1)
        if child is None or access.allows("CHILD", "READ", child_repo.scope_paths(child)) is None:
            raise BadInput(f"absences.{n}.studentId", "NOT_FOUND", "没有这个学生", "no such student")
        if child.school_code is None or (school_code is not None and child.school_code != school_code):
            raise BadInput(
                f"absences.{n}.studentId",
                "NOT_IN_CLASS",
                "该学生不在此学校（班级）就读",
                "the student is not enrolled in this school or class",
            )
        if grade is not None and child.grade != grade:
            raise BadInput(f"absences.{n}.studentId", "NOT_IN_CLASS", "该学生不在此班级", "not in this class")
        mark = Mark.EXCUSED if absence.excused else Mark.ABSENT
        rows.append(_mark_row(ctx, child, day, mark))
    # A child listed twice: the later listing stands. Written in id order, as the children were locked.
    rows = sorted({r["child_id"]: r for r in rows}.values(), key=lambda r: r["child_id"])
    marked = {r["child_id"] for r in rows}
    if members:
        await attendance_repo.upsert_register(
            ctx.session,
            {
                "school_code": school_code,
                "grade": grade,
                "day": day,
                "recorded_by": ctx.actor,
                "recorded_at": utcnow(),
                "province_code": members[0].province_code,
            },
        )
    for child in {c.id: c for c in found.values()}.values():
        access.require("ATTENDANCE", "WRITE", {"EDU": [child.school_path]})
    await attendance_repo.upsert_marks(ctx.session, rows)
    await _audit_batch(ctx, day, rows, school_code, grade, members or list(found.values()))
    outcome = await apply_rules(ctx, [*found.values(), *(m for m in members if m.id not in marked)], day)
    return len(rows), outcome


async def _audit_batch(
    ctx: Context, day: date, rows: list[dict[str, Any]], school: str | None, grade: int | None, children: list[Child]
) -> None:
    """One audit row per batch: who recorded which day for which class, and whom they marked absent."""
    await record_change(
        ctx,
        action="attendance.record",
        target_type="ClassRegister" if school else "AttendanceMark",
        target_id=f"{school}/{grade}/{day}" if school else str(day),
        scope_path=(children[0].school_path or "") if children else "",
        summary={
            "day": day.isoformat(),
            "absent": [r["child_id"] for r in rows if r["mark"] is Mark.ABSENT],
            "excused": [r["child_id"] for r in rows if r["mark"] is Mark.EXCUSED],
            "register": school is not None,
        },
    )


def _mark_row(ctx: Context, child: Child, day: date, mark: Mark) -> dict[str, Any]:
    return {
        "child_id": child.id,
        "day": day,
        "mark": mark,
        "school_code": child.school_code,
        "recorded_by": ctx.actor,
        "recorded_at": utcnow(),
        "province_code": child.province_code,
    }


async def sweep(ctx: Context, as_of: date) -> RulesOutcome:
    """The daily sweep: the rules for every child in the caller's sweep scope (all, for the operator)."""
    scope = None
    if not ctx.operator:
        access = ctx.access()
        if not access.holds_anywhere("LEDGER", "SWEEP"):
            raise Forbidden()
        scope = access.scope("LEDGER", "SWEEP", {"EDU": SCOPE_COLUMNS["EDU"]})
    children = await attendance_repo.rule_candidates(ctx.session, scope=scope, since=as_of - LOOKBACK, as_of=as_of)
    return await apply_rules(ctx, children, as_of)


async def apply_rules(ctx: Context, children: Sequence[Child], as_of: date) -> RulesOutcome:
    """Apply the rules to these children as of a date; each step is audited."""
    outcome = RulesOutcome()
    if not children:
        return outcome
    # Locks in one order for every writer (ARCHITECTURE §12): the children (id order, read afresh), their
    # open entries (id order), then the counts of every county these entries answer to (key order),
    # before the first write. A batch and a sweep of the same pupils wait for each other; neither
    # inserts a second open entry for a child, and no two hold count locks in opposite orders.
    unique = await child_repo.lock_children(ctx.session, [c.id or 0 for c in children])
    active = await ledger_repo.active_entries(ctx.session, [c.id or 0 for c in unique])
    counties = [e.responsible_path for e in active.values()] + [responsible_county(c) for c in unique]
    await count_repo.lock_counties(ctx.session, counties)
    since = min([as_of - LOOKBACK, *(e.opened_on for e in active.values())])
    marks = await attendance_repo.day_marks(ctx.session, unique, since=since, as_of=as_of)
    for child in unique:
        await _apply_to_child(ctx, child, marks.get(child.id or 0, []), active.get(child.id or 0), as_of, outcome)
    return outcome


async def _apply_to_child(
    ctx: Context,
    child: Child,
    marks: list[DayMark],
    entry: LedgerEntry | None,
    as_of: date,
    outcome: RulesOutcome,
) -> None:
    # A suspected entry opened late by a sweep may already be due to escalate: apply until nothing is due.
    for _ in range(3):
        if entry is not None and entry.status is EntryStatus.RETURNED:
            if next_action(marks, as_of, None) is Action.OPEN_SUSPECTED:  # absent again, a week and more
                entry.status = EntryStatus.OPEN
                entry.returned_on = None
                entry.version += 1
                ctx.session.add(entry)
                await audit_entry(ctx, entry, "ledger.rules.reopen", as_of=as_of)
                outcome.reopened.append(entry)
            return
        if entry is not None and entry.status is not EntryStatus.OPEN:
            return  # deferred or in handover: the rules leave it to the people working the case
        since = _suspected_since(entry, marks, as_of) if entry else as_of
        action = next_action(marks, as_of, OpenEntry(entry.ledger, since) if entry else None)
        if action is Action.NONE:
            return
        if action is Action.OPEN_SUSPECTED:
            start = absent_since(marks, as_of)
            assert start is not None
            entry = await _open_suspected(ctx, child, threshold_day(start))
            outcome.opened.append(entry)
        elif action is Action.ESCALATE_TO_DROPOUT and entry is not None:
            entry = await _escalate(ctx, child, entry, since)
            outcome.escalated.append(entry)
        elif action is Action.MARK_RETURNED and entry is not None:
            entry.status = EntryStatus.RETURNED
            entry.returned_on = next(m.day for m in marks if m.mark is Mark.PRESENT and m.day > since)
            entry.version += 1
            ctx.session.add(entry)
            await ctx.session.flush()
            await audit_entry(ctx, entry, "ledger.rules.returned", returned_on=entry.returned_on)
            outcome.returned.append(entry)
            return


async def _open_suspected(ctx: Context, child: Child, on: date) -> LedgerEntry:
    previous = await ledger_repo.last_closed_entry(ctx.session, child.id or 0)
    entry = new_entry(
        child,
        ledger=Ledger.SUSPECTED,
        source=EntrySource.ATTENDANCE,
        opened_on=on,
        opened_by=ctx.actor,
        previous_entry_id=previous.id if previous else None,
        is_relapse=previous is not None,
    )
    ctx.session.add(entry)
    await ctx.session.flush()
    await audit_entry(ctx, entry, "ledger.rules.open_suspected", opened_on=on, relapse=entry.is_relapse)
    return entry


def _suspected_since(entry: LedgerEntry, marks: list[DayMark], as_of: date) -> date:
    """When the entry's current spell of suspicion began: its opening or, for an entry reopened because the
    child came back and was then absent more than a week again, the 8th day of that new absence."""
    if returned_since(marks, entry.opened_on, as_of) and next_action(marks, as_of, None) is Action.OPEN_SUSPECTED:
        start = absent_since(marks, as_of)
        assert start is not None
        return threshold_day(start)
    return entry.opened_on


async def _escalate(ctx: Context, child: Child, suspected: LedgerEntry, since: date) -> LedgerEntry:
    """The suspected entry is closed as superseded and a dropout entry opens, linked to it."""
    on = add_month(since) + timedelta(days=1)
    suspected.status = EntryStatus.CLOSED
    suspected.close_reason = CloseReason.ESCALATED_TO_DROPOUT
    suspected.closed_at = utcnow()
    suspected.closed_by = ctx.actor
    suspected.version += 1
    ctx.session.add(suspected)
    await ctx.session.flush()
    dropout = new_entry(
        child,
        ledger=Ledger.DROPOUT,
        source=suspected.source,
        stage=suspected.stage,
        opened_on=on,
        opened_by=ctx.actor,
        escalated_from_id=suspected.id,
        previous_entry_id=suspected.previous_entry_id,
        is_relapse=suspected.is_relapse,
        responsible_path=suspected.responsible_path,
    )
    ctx.session.add(dropout)
    await ctx.session.flush()
    await audit_entry(ctx, dropout, "ledger.rules.escalate", from_entry=suspected.id, opened_on=on)
    return dropout
