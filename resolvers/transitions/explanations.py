"""Explaining a missing 中考 registration (查明原因、做出说明, POLICY 003 二(二)): by the pupil's grade-9
school or the county bureau (`TRANSITION:EXPLAIN` over the school's path).

One explanation per pupil and school year, revised under its version: the first is given with version 0,
a revision with the version read. Two at once give one winner and a typed loser (CONFLICT): the first by the
table's key (INSERT … ON CONFLICT DO NOTHING), a revision by the row lock and the version. Every change is
audited with before and after, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from authz.errors import Forbidden
from models.base import today, utcnow
from models.report_tables import school_year_of
from models.repos import transitions as repo
from models.transition import ExamRegistrationExplanation, GapReason

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from .errors import TransitionErrorCode
from .lists import TRANSITION

MAX_NOTE = 500


@dataclass(frozen=True)
class Explanation:
    """What `explainExamRegistrationGap` asks for."""

    pupil_id: str  # the child's id (the Student's global ID, decoded)
    school_year: int
    reason: GapReason
    note: str
    version: int  # 0 for the first explanation


def _note(note: str, reason: GapReason) -> str:
    note = note.strip()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in note):
        raise BadInput("note", TransitionErrorCode.INVALID_TEXT)
    if len(note) > MAX_NOTE:
        raise BadInput("note", TransitionErrorCode.TOO_LONG)
    if reason is GapReason.OTHER and not note:
        raise BadInput("note", TransitionErrorCode.NOTE_REQUIRED)
    return note


async def explain_gap(ctx: Context, given: Explanation) -> ExamRegistrationExplanation:
    """Record or revise the explanation of one pupil's missing 中考 registration."""
    access = ctx.access()
    if not access.holds_anywhere(TRANSITION, "EXPLAIN"):
        raise Forbidden()
    if not 2000 <= given.school_year <= 2100:
        raise BadInput("schoolYear", TransitionErrorCode.OUT_OF_RANGE)
    note = _note(given.note, given.reason)
    child_id = parse_id(given.pupil_id)
    current = given.school_year == school_year_of(today())
    found = await repo.gap_of(ctx.session, child_id, given.school_year, current) if child_id is not None else None
    if found is None:
        raise BadInput("pupilId", TransitionErrorCode.NOT_A_GAP)
    child, school = found
    if access.allows(TRANSITION, "EXPLAIN", {"EDU": [school.path]}) is None:
        raise BadInput("pupilId", TransitionErrorCode.NOT_A_GAP)  # as for a pupil who is no gap: nothing leaks
    if given.reason is GapReason.DROPOUT and not await repo.open_entries(ctx.session, [child.id]):
        raise BadInput("reason", TransitionErrorCode.LEDGER_ENTRY_REQUIRED)
    values = {"reason": given.reason, "note": note, "school_code": school.code, "school_path": school.path}
    assert child.id is not None
    if given.version == 0:
        inserted = await repo.insert_explanation(
            ctx.session,
            {
                "child_id": child.id,
                "school_year": given.school_year,
                **values,
                "explained_by": ctx.actor,
                "province_code": child.province_code,
            },
        )
        if not inserted:
            raise BadInput("version", TransitionErrorCode.CONFLICT)
        before = None
    row = await repo.lock_explanation(ctx.session, child.id, given.school_year)
    if row is None:
        raise BadInput("version", TransitionErrorCode.CONFLICT)
    if given.version != 0:
        if row.version != given.version:
            raise BadInput("version", TransitionErrorCode.CONFLICT)
        before = {"reason": row.reason.value, "note": row.note, "by": row.explained_by}
        row.reason, row.note, row.school_code, row.school_path = given.reason, note, school.code, school.path
        row.explained_by, row.explained_at, row.version = ctx.actor, utcnow(), row.version + 1
        ctx.session.add(row)
        await ctx.session.flush()
    await record_change(
        ctx,
        action="transition.explain_exam_gap",
        target_type="ExamRegistrationExplanation",
        target_id=f"{child.id}:{given.school_year}",
        scope_path=school.path,
        reason=note or None,
        summary={"before": before, "after": {"reason": given.reason.value, "note": note}, "version": row.version},
    )
    return row


def explanation_key(row: ExamRegistrationExplanation) -> str:
    """An explanation's id: the pupil and the school year (one explanation each)."""
    return f"{row.child_id}:{row.school_year}"


async def get_explanations(ctx: Context, ids: list[str]) -> dict[str, ExamRegistrationExplanation]:
    """Explanations by id, where the caller reads the gap list of the grade-9 school (a missing one and one
    outside scope answer alike)."""
    access, found = ctx.access(), {}
    for key in ids:
        child, _, year = key.partition(":")
        child_id, school_year = parse_id(child), parse_id(year)
        if child_id is None or school_year is None:
            continue
        row = await ctx.session.get(ExamRegistrationExplanation, (child_id, school_year))
        if row is not None and access.allows(TRANSITION, "READ", {"EDU": [row.school_path]}) is not None:
            found[key] = row
    return found
