"""The county's answer on a pushed-down child (下发核实, POLICY 004 §9): `verifyTask`.

Who: the county education bureau (`VERIFICATION:VERIFY`, held at the county): it keeps the three ledgers
(004 §2) and the platform the lists come through is the education system's. The county government reads
the ledgers, not the tasks.

- CONFIRMED: the child's open ledger entry is linked, or a suspected-dropout entry is opened with
  `source: MINISTRY` through the ledger's own open path (every ledger rule applies). A child no record
  holds is registered from the list's row first, as applying a roster does.
- NOT_DROPOUT: a typed reason and a note (AT_SCHOOL also names the school).
- NOT_OURS: a note and the receiving county: the task is closed as REROUTED, naming it, and a new task opens
  there (due after that province's `verification_days`), linked to this one; the sender sees both.

The task is locked and its version checked: of two answers at once, one wins and the other gets CONFLICT
(or NOT_OPEN when it sent no stale version). Each answer is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authz.errors import Forbidden
from models.base import today, utcnow
from models.ledger import EntrySource, Ledger
from models.region import RegionLevel
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos import regions as region_repo
from models.repos import roster_imports as roster_repo
from models.repos import schools as school_repo
from models.repos import verification as repo
from models.roster_import import RosterImport
from models.verification import NotDropoutReason, Outcome, RouteRule, TaskStatus, VerificationTask

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..ledgers.entries import open_entry
from ..paging import parse_id
from .errors import VerificationErrorCode as Code
from .reading import visible_tasks

VERIFY = ("VERIFICATION", "VERIFY")


@dataclass(frozen=True)
class Answer:
    task_id: str
    version: int
    outcome: Outcome
    reason: NotDropoutReason | None = None
    school_code: str | None = None
    receiving_county: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Verified:
    task: VerificationTask
    rerouted_to: VerificationTask | None


async def verify_task(ctx: Context, answer: Answer) -> Verified:
    """Record the county's answer on an open task (see the module's docstring for each outcome)."""
    access = ctx.access()
    if not access.holds_anywhere(*VERIFY):
        raise Forbidden()
    number = parse_id(answer.task_id)
    seen = (await visible_tasks(ctx, [answer.task_id])).get(answer.task_id)
    if seen is None or number is None:
        raise BadInput("id", Code.NOT_FOUND)
    if seen.county_path is None or access.allows(*VERIFY, {"PLACE": [seen.county_path]}) is None:
        raise Forbidden()  # the sender or a level above reads the task; only its county answers
    task = await repo.lock_task(ctx.session, number)
    assert task is not None
    if task.version != answer.version:
        raise BadInput(
            "version", Code.CONFLICT, f"任务已被他人修改（当前版本 {task.version}）",
            f"the task changed since you read it (now version {task.version})",
        )  # fmt: skip
    if task.status is not TaskStatus.OPEN:
        raise BadInput("id", Code.NOT_OPEN)
    note = (answer.note or "").strip() or None
    rerouted = None
    match answer.outcome:
        case Outcome.CONFIRMED:
            _not_given(answer, "reason", "schoolCode", "receivingCountyCode")
            await _confirm(ctx, task, note)
        case Outcome.NOT_DROPOUT:
            _not_given(answer, "receivingCountyCode")
            await _not_dropout(ctx, task, answer, note)
        case Outcome.NOT_OURS:
            _not_given(answer, "reason", "schoolCode")
            rerouted = await _reroute(ctx, task, answer, note)
    task.outcome, task.note = answer.outcome, note
    task.status = TaskStatus.REROUTED if rerouted else TaskStatus.DONE
    task.verified_by, task.verified_at = ctx.actor, utcnow()
    task.version += 1
    ctx.session.add(task)
    await ctx.session.flush()
    await record_change(
        ctx,
        action="verification.verify",
        target_type="VerificationTask",
        target_id=str(task.id),
        scope_path=task.county_path,
        reason=note,
        summary={
            "outcome": answer.outcome.value,
            "reason": task.not_dropout_reason.value if task.not_dropout_reason else None,
            "schoolCode": task.school_code,
            "reroutedTo": task.rerouted_to_code,
            "newTask": rerouted.id if rerouted else None,
            "ledgerEntry": task.ledger_entry_id,
            "child": task.child_id,
        },
    )
    return Verified(task, rerouted)


def _not_given(answer: Answer, *fields: str) -> None:
    values = {"reason": answer.reason, "schoolCode": answer.school_code, "receivingCountyCode": answer.receiving_county}
    for field in fields:
        if values[field] is not None:
            raise BadInput(field, Code.NOT_APPLICABLE)


async def _confirm(ctx: Context, task: VerificationTask, note: str | None) -> None:
    """Link the child's open entry, or open one on the suspected ledger (source MINISTRY)."""
    child_id = task.child_id or await _child_of(ctx, task)
    child = (await child_repo.get_children(ctx.session, [child_id])).get(child_id)
    assert child is not None
    access = ctx.access()
    paths = child_repo.scope_paths(child)
    if access.allows("LEDGER", "READ", paths) is None or access.allows("LEDGER", "WRITE", paths) is None:
        raise BadInput("outcome", Code.CHILD_ELSEWHERE)
    await child_repo.lock_children(ctx.session, [child_id])  # the ledger's own order: child first
    entry = (await ledger_repo.active_entries(ctx.session, [child_id])).get(child_id)
    if entry is None:
        entry = await open_entry(
            ctx, student_id=str(child_id), ledger=Ledger.SUSPECTED, source=EntrySource.MINISTRY,
            opened_on=today(), category=None, note=note or f"下发核实任务 {task.id} / pushed-down task {task.id}",
        )  # fmt: skip
    task.child_id, task.ledger_entry_id = child_id, entry.id


async def _child_of(ctx: Context, task: VerificationTask) -> int:
    """The child the row stands for: by its national ID, else registered from the row (as roster apply does)."""
    row = (await roster_repo.rows_by_key(ctx.session, [(task.import_id, task.line)]))[0]
    if row.national_id and (found := await child_repo.child_with_national_id(ctx.session, row.national_id)):
        return found
    batch = await ctx.session.get(RosterImport, task.import_id)
    assert batch is not None
    registered = await repo.register_row(
        ctx.session, import_id=task.import_id, line=task.line, province=task.province_code, as_of=batch.as_of,
        actor=ctx.actor, no_household=roster_repo.NO_HOUSEHOLD_ON_ROSTER,
    )  # fmt: skip
    if registered is None:  # another transaction registered the ID meanwhile
        assert row.national_id is not None
        found = await child_repo.child_with_national_id(ctx.session, row.national_id)
        assert found is not None
        return found
    await record_change(
        ctx, action="student.register", target_type="Student", target_id=str(registered),
        scope_path=task.county_path, summary={"from": f"verification task {task.id}"},
    )  # fmt: skip
    return registered


async def _not_dropout(ctx: Context, task: VerificationTask, answer: Answer, note: str | None) -> None:
    if answer.reason is None:
        raise BadInput("reason", Code.REASON_REQUIRED)
    if note is None:
        raise BadInput("note", Code.NOTE_REQUIRED)
    if answer.reason is NotDropoutReason.AT_SCHOOL:
        if not answer.school_code:
            raise BadInput("schoolCode", Code.SCHOOL_REQUIRED)
        if not await school_repo.get_schools(ctx.session, [answer.school_code]):
            raise BadInput("schoolCode", Code.UNKNOWN_SCHOOL)
    elif answer.school_code is not None:
        raise BadInput("schoolCode", Code.NOT_APPLICABLE)
    task.not_dropout_reason, task.school_code = answer.reason, answer.school_code


async def _reroute(ctx: Context, task: VerificationTask, answer: Answer, note: str | None) -> VerificationTask:
    if not answer.receiving_county:
        raise BadInput("receivingCountyCode", Code.COUNTY_REQUIRED)
    if note is None:
        raise BadInput("note", Code.NOTE_REQUIRED)
    county = await region_repo.get_region(ctx.session, answer.receiving_county)
    if county is None or county.level is not RegionLevel.COUNTY:
        raise BadInput("receivingCountyCode", Code.NOT_A_COUNTY)
    if county.path == task.county_path:
        raise BadInput("receivingCountyCode", Code.SAME_COUNTY)
    days = (await repo.verification_days(ctx.session, [county.code[:2]]))[county.code[:2]]
    task.rerouted_to_code = county.code
    task.status = TaskStatus.REROUTED  # the old task leaves the live index before the new one enters it
    ctx.session.add(task)
    await ctx.session.flush()
    new = VerificationTask(
        import_id=task.import_id, line=task.line, sender_path=task.sender_path, county_code=county.code,
        county_path=county.path, route=RouteRule.REROUTED, status=TaskStatus.OPEN,
        due_on=today() + timedelta(days=days), child_id=task.child_id, previous_task_id=task.id,
        created_by=ctx.actor, province_code=county.code[:2],
    )  # fmt: skip
    ctx.session.add(new)
    await ctx.session.flush()
    return new
