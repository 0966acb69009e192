"""Verifying each unreported pupil's reason (逐一核实原因) and the term-start persuasion rounds (开学初劝学),
POLICY 002 一(三).

- The school that lists the pupil states the reason, once the window has closed: its own staff or
  principal (LEDGER:WRITE held at the school itself). A bureau above reads it, it does not write it.
- TRANSFERRED names the receiving school, which must show the pupil: the pupil's enrolment history
  ends at that school (ENROL or TRANSFER_IN there, `recordEnrolmentChange`).
- ILL, ON_LEAVE, MOVED and UNREACHABLE say what was found in a note.
- SUSPECTED puts the pupil on the suspected-dropout ledger through the ledgers' own opening
  (`openLedgerEntry`'s rules: one open entry per child, relapse linked, audited), or links the entry
  the pupil already has.
- One explanation per pupil and term; a change sends its version. The pupil's row is locked first,
  so of two explanations at once one wins and the other gets CONFLICT.
- Townships, villages and the school record the persuasion rounds on listed children (VISIT:WRITE
  over the child), with or without a ledger entry; they are kept apart from the four steps of a case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from authz.errors import Forbidden
from models.base import today, utcnow
from models.enrolment import STARTS_ENROLMENT
from models.ledger import EntrySource, Ledger
from models.persuasion import VisitMethod
from models.report_tables import latest_change
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos import schools as school_repo
from models.repos import term_start as term_repo
from models.term_start import NOTE_REQUIRED, UnreportedExplanation, UnreportedReason, UnreportedVisit

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_school
from ..ledgers.common import save_entry
from ..ledgers.entries import enter
from ..paging import parse_id
from ..reports.common import clean_text
from .errors import TermStartErrorCode
from .listing import LEDGER, listed_row, parse_term, window_of

ROUND_METHODS = frozenset(
    {VisitMethod.HOME_VISIT, VisitMethod.PHONE, VisitMethod.JOINT_VISIT, VisitMethod.WRITTEN_NOTICE}
)


@dataclass(frozen=True)
class Explanation:
    student_id: str
    term: str
    reason: UnreportedReason
    receiving_school_code: str | None
    note: str | None
    version: int | None


@dataclass(frozen=True)
class RoundInput:
    student_id: str
    term: str
    visited_on: date
    method: VisitMethod
    participants: str
    outcome: str


async def _listed(ctx: Context, student_id: str, term: str) -> term_repo.UnreportedRow:
    """The pupil's row on the term's list: NOT_FOUND outside the caller's view (the listing school's
    path, the child's household or residence), NOT_LISTED when the pupil is not on it."""
    parse_term(term)
    number = parse_id(student_id)
    child = (await child_repo.get_children(ctx.session, [number])).get(number) if number is not None else None
    row = await listed_row(ctx, child.id or 0, child.province_code, term) if child is not None else None
    access = ctx.access()
    if row is not None and access.allows(LEDGER, "READ", _row_paths(row)) is not None:
        return row
    if row is None and child is not None and access.allows(LEDGER, "READ", child_repo.scope_paths(child)):
        raise BadInput("studentId", TermStartErrorCode.NOT_LISTED)
    raise BadInput("studentId", TermStartErrorCode.NOT_FOUND, "没有这个学生", "no such student")


def _row_paths(row: term_repo.UnreportedRow) -> dict[str, list[str | None]]:
    return {"EDU": [row.school_path], "GOV": [row.child.household_path, row.child.residence_path]}


async def explain_unreported(ctx: Context, given: Explanation) -> term_repo.UnreportedRow:
    """Record (or, with its version, change) why a listed pupil has not reported."""
    row = await _listed(ctx, given.student_id, given.term)
    access = ctx.access()
    grant = access.allows(LEDGER, "WRITE", {"EDU": [row.school_path]})
    if grant is None or grant.scope_path != row.school_path:
        raise Forbidden()
    if today() <= row.window_end:
        raise BadInput(
            "term",
            TermStartErrorCode.WINDOW_OPEN,
            f"开学报到期至 {row.window_end.isoformat()} 结束，之后核实原因（002 一(三)）",
            f"the window closes on {row.window_end.isoformat()}: reasons are verified after it (POLICY 002 一(三))",
        )
    child_id = row.child.id or 0
    await child_repo.lock_children(ctx.session, [child_id])  # one writer of the pupil at a time
    existing = await term_repo.explanation(ctx.session, child_id, given.term, lock=True)
    if existing is not None and (given.version is None or given.version != existing.version):
        raise BadInput(
            "version",
            TermStartErrorCode.CONFLICT,
            f"该生原因已核实（版本 {existing.version}），修改须提供当前版本",
            f"the pupil is already explained (version {existing.version}): send that version to change it",
        )
    note = clean_text("note", given.note, 500)
    receiving = await _check_reason(ctx, row, given, note)
    entry_id = await _suspected_entry(ctx, row, given) if given.reason is UnreportedReason.SUSPECTED else None
    before = existing.reason.value if existing is not None else None
    if existing is None:
        saved = await term_repo.claim_explanation(
            ctx.session,
            {
                "child_id": child_id,
                "term": given.term,
                "school_code": row.school_code,
                "school_path": row.school_path,
                "reason": given.reason,
                "receiving_school_code": receiving,
                "note": note,
                "entry_id": entry_id,
                "explained_by": ctx.actor,
                "explained_at": utcnow(),
                "updated_at": utcnow(),
                "version": 1,
                "province_code": row.child.province_code,
            },
        )
        if saved is None:
            raise BadInput("version", TermStartErrorCode.CONFLICT)
    else:
        saved = existing
        saved.reason, saved.receiving_school_code, saved.note = given.reason, receiving, note
        saved.entry_id = entry_id
        saved.explained_by, saved.updated_at = ctx.actor, utcnow()
        saved.version += 1
        ctx.session.add(saved)
        await ctx.session.flush()
    await record_change(
        ctx,
        action="unreported.explain",
        target_type="UnreportedExplanation",
        target_id=str(saved.id),
        scope_path=row.school_path,
        summary={
            "student": str(child_id),
            "term": given.term,
            "before": before,
            "reason": given.reason.value,
            "receiving_school": receiving,
            "entry": str(entry_id) if entry_id else None,
        },
    )
    return replace(row, explanation=saved)


async def _check_reason(ctx: Context, row: term_repo.UnreportedRow, given: Explanation, note: str | None) -> str | None:
    """The reason's own rule; the receiving school of a transfer, which must show the pupil."""
    code = (given.receiving_school_code or "").strip() or None
    if given.reason is not UnreportedReason.TRANSFERRED:
        if code is not None:
            raise BadInput("receivingSchoolCode", TermStartErrorCode.NOT_APPLICABLE)
        if given.reason in NOTE_REQUIRED and note is None:
            raise BadInput("note", TermStartErrorCode.REQUIRED, "须写明核实情况", "say what was found")
        return None
    if code is None:
        raise BadInput("receivingSchoolCode", TermStartErrorCode.RECEIVING_SCHOOL_REQUIRED)
    if code == row.school_code:
        raise BadInput("receivingSchoolCode", TermStartErrorCode.SAME_SCHOOL)
    school = (await school_repo.get_schools(ctx.session, [code])).get(code)
    if school is None:
        raise unknown_school("receivingSchoolCode")
    events = (await child_repo.enrolment_events_of(ctx.session, [row.child.id or 0])).get(row.child.id or 0, [])
    latest = latest_change(events, today())
    if latest is None or latest.change not in STARTS_ENROLMENT or latest.school_code != code:
        raise BadInput(
            "receivingSchoolCode",
            TermStartErrorCode.NOT_AT_RECEIVING_SCHOOL,
            f"{school.name}尚无该生转入学籍：须先由转入学校登记转入",
            f"{code} does not show the pupil: the receiving school records the transfer in first",
        )
    return code


async def _suspected_entry(ctx: Context, row: term_repo.UnreportedRow, given: Explanation) -> int:
    """The pupil's open ledger entry, or a new suspected entry opened as `openLedgerEntry` opens one (the
    child locked, no entry open, a relapse linked, audited as `ledger.open`)."""
    child_id = row.child.id or 0
    active = (await ledger_repo.active_entries(ctx.session, [child_id])).get(child_id)
    if active is not None:
        return active.id or 0
    if ctx.access().allows(LEDGER, "WRITE", child_repo.scope_paths(row.child)) is None:
        raise Forbidden()  # a pupil who has left the school is put on the ledger by the side that has it
    days = (row.window_end - row.first_day).days + 1
    entry = await enter(
        ctx,
        row.child,
        ledger=Ledger.SUSPECTED,
        source=EntrySource.MANUAL,
        opened_on=today(),
        note=f"{given.term} 开学后{days}天内未报到（002 一(三)）",
    )
    entry.version = 0
    await save_entry(
        ctx, entry, "ledger.open", ledger=Ledger.SUSPECTED, source=EntrySource.MANUAL, relapse=entry.is_relapse
    )
    return entry.id or 0


async def record_round(ctx: Context, given: RoundInput) -> UnreportedVisit:
    """Record a term-start persuasion round (开学初劝学) on a listed pupil: VISIT:WRITE over the child."""
    row = await _listed(ctx, given.student_id, given.term)
    if ctx.access().allows("VISIT", "WRITE", _row_paths(row)) is None:
        raise Forbidden()
    if given.method not in ROUND_METHODS:
        raise BadInput("method", TermStartErrorCode.METHOD_NOT_ALLOWED)
    if given.visited_on > today():
        raise BadInput("visitedOn", TermStartErrorCode.FUTURE_DATE)
    window = await window_of(ctx, row.child.province_code, given.term)
    half_end = (
        window.first_day.replace(month=6, day=30)
        if window.first_day.month <= 6
        else window.first_day.replace(month=12, day=31)
    )
    if not window.first_day <= given.visited_on <= half_end:
        raise BadInput("visitedOn", TermStartErrorCode.OUT_OF_RANGE)
    participants = clean_text("participants", given.participants, 200)
    outcome = clean_text("outcome", given.outcome, 1000)
    if participants is None:
        raise BadInput("participants", TermStartErrorCode.REQUIRED, "须填写参加人员", "name who took part")
    if outcome is None:
        raise BadInput("outcome", TermStartErrorCode.REQUIRED, "须填写劝学结果", "record the outcome")
    visit = UnreportedVisit(
        child_id=row.child.id or 0,
        term=given.term,
        visited_on=given.visited_on,
        method=given.method,
        participants=participants,
        outcome=outcome,
        recorded_by=ctx.actor,
        province_code=row.child.province_code,
    )
    ctx.session.add(visit)
    await ctx.session.flush()
    await record_change(
        ctx,
        action="unreported.visit",
        target_type="UnreportedVisit",
        target_id=str(visit.id),
        scope_path=row.child.residence_path or row.child.household_path or row.school_path,
        summary={"student": str(row.child.id), "term": given.term, "method": given.method.value},
    )
    return visit


async def get_rounds(ctx: Context, ids: list[str]) -> dict[str, UnreportedVisit]:
    """Rounds by id (`node`): each readable where its child is on the ledgers' view."""
    found = await term_repo.get_visits(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    kids = await child_repo.get_children(ctx.session, list({v.child_id for v in found.values()}))
    access = ctx.access()
    return {
        str(k): v
        for k, v in found.items()
        if (kid := kids.get(v.child_id)) is not None and access.allows(LEDGER, "READ", child_repo.scope_paths(kid))
    }


async def get_explanations(ctx: Context, ids: list[str]) -> dict[str, UnreportedExplanation]:
    """Explanations by id (`node`): each readable like its list item (the listing school's path, the
    child's household or residence)."""
    found = await term_repo.get_explanations(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    kids = await child_repo.get_children(ctx.session, list({x.child_id for x in found.values()}))
    access = ctx.access()
    out: dict[str, UnreportedExplanation] = {}
    for k, x in found.items():
        kid = kids.get(x.child_id)
        if kid is None:
            continue
        paths: dict[str, list[str | None]] = {"EDU": [x.school_path], "GOV": [kid.household_path, kid.residence_path]}
        if access.allows(LEDGER, "READ", paths):
            out[str(k)] = x
    return out
