"""Attendance and the ledger rules (POLICY 003, annex 1, notes 1–2), run after each batch and by a sweep.

How days are counted is in models/ledger_rules.py (school days only; unknown is not absent):
- absent more than a school week without leave → a suspected-dropout entry opens on the 6th evidenced
  absent school day (source ATTENDANCE), with that evidence;
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
from models.ledger_rules import (
    Action,
    DayMark,
    LeaveReason,
    Mark,
    OpenEntry,
    Run,
    current_run,
    escalation_day,
    next_action,
    returned_on,
)
from models.repos import attendance as attendance_repo
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos import ledger_counts as count_repo
from models.repos import school_calendar as calendar_repo
from models.repos import schools as school_repo
from models.repos.children import SCOPE_COLUMNS
from models.school_calendar import CountyCalendar, county_of

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_school
from ..paging import parse_id
from .common import audit_entry, new_entry, responsible_county
from .errors import LedgerErrorCode

# How far back the rules read marks: a week to become suspected plus a month to become a dropout, with room.
LOOKBACK = timedelta(days=100)


@dataclass
class RulesOutcome:
    opened: list[LedgerEntry] = field(default_factory=list)
    reopened: list[LedgerEntry] = field(default_factory=list)  # back at school, then absent a week again
    escalated: list[LedgerEntry] = field(default_factory=list)
    returned: list[LedgerEntry] = field(default_factory=list)


# The longest leave one record covers (请假 up to a term's quarter); the repository reads back this far.
LONGEST_LEAVE = attendance_repo.LONGEST_LEAVE


@dataclass(frozen=True)
class Absence:
    """One child absent that day: without leave, or on leave with its reason and optional last day."""

    child_id: str
    leave_reason: LeaveReason | None = None
    leave_until: date | None = None


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
            raise unknown_school("classOf.schoolCode")
        # the school's own, even for an empty class
        access.require_at("ATTENDANCE", "WRITE", {"EDU": [school.path]}, unknown_school("classOf.schoolCode"))
        await _require_school_day(ctx, day, [school.path])
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
        _check_leave(n, day, absence)
        rows.append(_mark_row(ctx, child, day, absence))
    if school_code is None:
        await _require_school_day(ctx, day, [c.school_path for c in found.values() if c.school_path])
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
            "leave": {
                str(r["child_id"]): [r["leave_reason"], r["leave_until"] and r["leave_until"].isoformat()]
                for r in rows
                if r["mark"] is Mark.EXCUSED
            },
            "register": school is not None,
        },
    )


def _check_leave(n: int, day: date, absence: Absence) -> None:
    """A leave's last day comes after the day it starts and within LONGEST_LEAVE of it."""
    if absence.leave_until is not None and not day < absence.leave_until <= day + LONGEST_LEAVE:
        raise BadInput(
            f"absences.{n}.leave.until",
            "OUT_OF_RANGE",
            f"请假截止日须在当天之后 {LONGEST_LEAVE.days} 天以内",
            f"a leave ends after its first day and within {LONGEST_LEAVE.days} days of it",
        )


async def _require_school_day(ctx: Context, day: date, school_paths: Sequence[str]) -> None:
    """Attendance is recorded on school days only (the school's county calendar): NOT_A_SCHOOL_DAY."""
    calendars = await calendar_repo.county_calendars(ctx.session, {county_of(p) for p in school_paths})
    if any(not c.is_school_day(day) for c in calendars.values()):
        raise BadInput(
            "day",
            LedgerErrorCode.NOT_A_SCHOOL_DAY,
            f"{day.isoformat()} 不是上课日（周末、节假日、放假或学期外）",
            f"{day.isoformat()} is not a school day (weekend, holiday, day off or out of term)",
        )


def _mark_row(ctx: Context, child: Child, day: date, absence: Absence) -> dict[str, Any]:
    return {
        "child_id": child.id,
        "day": day,
        "mark": Mark.EXCUSED if absence.leave_reason else Mark.ABSENT,
        "leave_reason": absence.leave_reason,
        "leave_until": absence.leave_until,
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
    calendars = await calendar_repo.county_calendars(ctx.session, {county_of(c.school_path or "") for c in unique})
    school_days: dict[str, list[date]] = {}
    for child in unique:
        county = county_of(child.school_path or "")
        if county not in school_days:
            calendar = calendars.get(county) or CountyCalendar()
            school_days[county] = calendar.school_days(since + timedelta(days=1), as_of)
        days = SchoolDays(marks.get(child.id or 0, []), school_days[county])
        await _apply_to_child(ctx, child, days, active.get(child.id or 0), as_of, outcome)
    return outcome


@dataclass(frozen=True)
class SchoolDays:
    """One child's known days and the school days of its county, over the rules' window."""

    marks: list[DayMark]
    days: list[date]


async def _apply_to_child(
    ctx: Context,
    child: Child,
    days: SchoolDays,
    entry: LedgerEntry | None,
    as_of: date,
    outcome: RulesOutcome,
) -> None:
    marks = days.marks
    # A suspected entry opened late by a sweep may already be due to escalate: apply until nothing is due.
    for _ in range(3):
        if entry is not None and entry.status is EntryStatus.RETURNED:
            run = current_run(marks, days.days, as_of)
            if run is not None and run.opens_on is not None and run.opens_on > (entry.returned_on or entry.opened_on):
                entry.status = EntryStatus.OPEN  # absent again, more than a school week
                entry.returned_on = None
                _set_evidence(entry, run)
                entry.version += 1
                ctx.session.add(entry)
                await audit_entry(ctx, entry, "ledger.rules.reopen", as_of=as_of, evidence=_evidence_of(run))
                outcome.reopened.append(entry)
            return
        if entry is not None and entry.status is not EntryStatus.OPEN:
            return  # deferred or in handover: the rules leave it to the people working the case
        since = _suspected_since(entry, days, as_of) if entry else as_of
        action = next_action(marks, days.days, as_of, OpenEntry(entry.ledger, since) if entry else None)
        if action is Action.NONE:
            return
        if action is Action.OPEN_SUSPECTED:
            run = current_run(marks, days.days, as_of)
            assert run is not None
            assert run.opens_on is not None
            if not await _after_last_close_out(ctx, child, run):
                return
            entry = await _open_suspected(ctx, child, run)
            outcome.opened.append(entry)
        elif action is Action.ESCALATE_TO_DROPOUT and entry is not None:
            on = escalation_day(marks, days.days, since, as_of)
            assert on is not None
            entry = await _escalate(ctx, child, entry, on, _run_through(days, since, on))
            outcome.escalated.append(entry)
        elif action is Action.MARK_RETURNED and entry is not None:
            entry.status = EntryStatus.RETURNED
            entry.returned_on = returned_on(marks, since, as_of)
            entry.version += 1
            ctx.session.add(entry)
            await ctx.session.flush()
            await audit_entry(ctx, entry, "ledger.rules.returned", returned_on=entry.returned_on)
            outcome.returned.append(entry)
            return


def _set_evidence(entry: LedgerEntry, run: Run) -> None:
    entry.evidence_first_absent_on = run.first
    entry.evidence_last_absent_on = run.last
    entry.evidence_school_days_absent = len(run.days)


def _evidence_of(run: Run) -> dict[str, Any]:
    return {
        "first_absent_on": run.first.isoformat(),
        "last_absent_on": run.last.isoformat(),
        "school_days": len(run.days),
    }


def _run_through(days: SchoolDays, since: date, on: date) -> Run:
    """The run the spell begun on `since` rests on, up to `on`."""
    run = current_run(days.marks, days.days, on)
    assert run is not None
    return Run(tuple(d for d in run.days if d <= on))


async def _after_last_close_out(ctx: Context, child: Child, run: Run) -> bool:
    """A run begun before the child's last (closed) entry opened was that entry's own: it opens nothing."""
    previous = await ledger_repo.last_closed_entry(ctx.session, child.id or 0)
    return previous is None or run.first > previous.opened_on


async def _open_suspected(ctx: Context, child: Child, run: Run) -> LedgerEntry:
    assert run.opens_on is not None
    previous = await ledger_repo.last_closed_entry(ctx.session, child.id or 0)
    entry = new_entry(
        child,
        ledger=Ledger.SUSPECTED,
        source=EntrySource.ATTENDANCE,
        opened_on=run.opens_on,
        opened_by=ctx.actor,
        previous_entry_id=previous.id if previous else None,
        is_relapse=previous is not None,
    )
    _set_evidence(entry, run)
    ctx.session.add(entry)
    await ctx.session.flush()
    await audit_entry(
        ctx,
        entry,
        "ledger.rules.open_suspected",
        opened_on=run.opens_on,
        relapse=entry.is_relapse,
        evidence=_evidence_of(run),
    )
    return entry


def _suspected_since(entry: LedgerEntry, days: SchoolDays, as_of: date) -> date:
    """When the entry's current spell of suspicion began: its opening or, for an entry reopened because the
    child came back and was then absent more than a school week again, the 6th day of that new absence."""
    if returned_on(days.marks, entry.opened_on, as_of) is not None:
        run = current_run(days.marks, days.days, as_of)
        if run is not None and run.opens_on is not None and run.opens_on > entry.opened_on:
            return run.opens_on
    return entry.opened_on


async def _escalate(ctx: Context, child: Child, suspected: LedgerEntry, on: date, run: Run) -> LedgerEntry:
    """The suspected entry is closed as superseded and a dropout entry opens on `on`, linked to it, with
    the run it rests on up to that day as its evidence."""
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
    _set_evidence(dropout, run)
    ctx.session.add(dropout)
    await ctx.session.flush()
    await audit_entry(ctx, dropout, "ledger.rules.escalate", from_entry=suspected.id, opened_on=on)
    return dropout
