"""A person's decisions on a staged batch (ARCHITECTURE §9: applied or discarded by a person, never by
itself), and on its candidate matches (never merged silently).

Each decision locks the batch row first, so decisions on one batch queue and each sees the latest state:
two at once give one winner and a typed loser (CONFLICT, NOT_STAGED or ALREADY_DECIDED).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models.base import utcnow
from models.repos import roster_imports as repo
from models.roster import EVIDENCE_ONLY, RosterKind
from models.roster_import import ImportStatus, RosterImport, RowMatch

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..verification.sending import open_tasks
from ..versioning import check_version
from .errors import RosterErrorCode
from .imports import import_right
from .reading import get_imports, parse_row_key

# The note's bound is the column's, read from the table rather than written again.
MAX_NOTE: int = getattr(sa.inspect(RosterImport).columns["decision_note"].type, "length", 500)
MAX_MATCH_DECISIONS = 500  # one request's candidate decisions: a page of them, as a person works through a list


async def discard_import(ctx: Context, *, import_id: str, version: int, note: str) -> RosterImport:
    """Discard a staged batch (放弃): by whoever may import for its jurisdiction, with the reason. The batch
    and its rows are kept, marked DISCARDED with who, when and why; the same file may be imported again."""
    note = _note(note, required=True)
    batch = await _staged_batch(ctx, import_id, version)
    _decided(ctx, batch, ImportStatus.DISCARDED, note)
    await record_change(
        ctx,
        action="roster.discard",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=batch.jurisdiction_path,
        reason=note,
        summary={"status": {"before": "STAGED", "after": "DISCARDED"}},
    )
    await ctx.session.flush()
    return batch


async def apply_import(ctx: Context, *, import_id: str, version: int, note: str | None = None) -> RosterImport:
    """Apply a staged batch (应用): its rows become the county's evidence for the comparisons, and every row
    no known child fits is registered as a child (a school's rows enrolled there from the roster's day; a
    registry row's status may keep it from the school or from registering: `roster_imports.REGISTER_SQL`),
    except for a kind that is evidence only (a 中考 registration roster: models/roster.EVIDENCE_ONLY). A pushed-down
    list (`PUSHED`) is instead routed: each row becomes a verification task in its county
    (resolvers/verification/sending.py).

    Refused while a candidate awaits a person's decision: nothing is merged on a guess. A known child's
    record is never overwritten; where a roster differs, its rows show it.
    """
    note = _note(note or "", required=False)
    batch = await _staged_batch(ctx, import_id, version)
    assert batch.id is not None
    undecided = await repo.count_undecided(ctx.session, batch.id)
    if undecided:
        raise BadInput(
            "id",
            RosterErrorCode.UNDECIDED_CANDIDATES,
            f"尚有 {undecided} 行疑似对应待确认或否定",
            f"{undecided} candidate matches still await a decision",
        )
    if batch.kind == RosterKind.PUSHED:  # routed to the counties as tasks; children registered on confirmation
        rematched, registered = 0, 0
        routed = await open_tasks(ctx, batch)
    else:
        register = RosterKind(batch.kind) not in EVIDENCE_ONLY  # a 中考 registration registers nobody
        rematched, registered = await repo.register_unknown(ctx.session, batch, ctx.actor, register=register)
        routed = None
    counts = await repo.count_rows(ctx.session, batch.id)
    await ctx.session.refresh(batch)
    _decided(ctx, batch, ImportStatus.APPLIED, note or None)
    await record_change(
        ctx,
        action="roster.apply",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=batch.jurisdiction_path,
        reason=note or None,
        summary={
            "status": {"before": "STAGED", "after": "APPLIED"},
            "childrenRegistered": registered,
            "matchedSinceStaging": rematched,
            "counts": counts.__dict__,
            **({"tasks": routed} if routed is not None else {}),
        },
    )
    await ctx.session.flush()
    return batch


@dataclass(frozen=True)
class MatchDecision:
    row_id: str  # `12.163`: the batch and the line
    confirm: bool


async def resolve_matches(ctx: Context, *, decisions: list[MatchDecision]) -> RosterImport:
    """Confirm or reject candidate matches of a staged batch (确认或否定疑似对应), all or none: each line
    must still be a candidate. Confirming ties the row to the candidate child; rejecting makes it a child
    not known yet, registered when the batch is applied.

    No batch version is asked: each row's own state decides a race (the second decision on a line is
    ALREADY_DECIDED), so people working through different pages of one batch do not refuse each other."""
    if not decisions:
        raise BadInput("decisions", RosterErrorCode.REQUIRED, "至少一项决定", "at least one decision")
    if len(decisions) > MAX_MATCH_DECISIONS:
        raise BadInput(
            "decisions",
            RosterErrorCode.TOO_MANY,
            f"每次最多 {MAX_MATCH_DECISIONS} 项",
            f"at most {MAX_MATCH_DECISIONS} decisions at once",
        )
    by_line: dict[int, bool] = {}
    lines: list[int] = []
    batches = set()
    for i, decision in enumerate(decisions):
        key = parse_row_key(decision.row_id)
        if key is None:
            raise BadInput(f"decisions.{i}.rowId", RosterErrorCode.NOT_FOUND, "没有这一行", "no such row")
        batches.add(key[0])
        if len(batches) > 1:
            raise BadInput(f"decisions.{i}.rowId", RosterErrorCode.MIXED_BATCHES)
        if key[1] in by_line:
            raise BadInput(f"decisions.{i}.rowId", RosterErrorCode.DUPLICATE_DECISION)
        by_line[key[1]] = decision.confirm
        lines.append(key[1])
    batch = await _staged_batch(ctx, str(batches.pop()), None)
    assert batch.id is not None
    before = await repo.decide_candidates(ctx.session, batch.id, by_line)
    for i, line in enumerate(lines):
        match before[line]:
            case RowMatch.CANDIDATE:
                continue
            case None:
                raise BadInput(f"decisions.{i}.rowId", RosterErrorCode.NOT_FOUND, "没有这一有效行", "no such valid row")
            case _:
                raise BadInput(f"decisions.{i}.rowId", RosterErrorCode.ALREADY_DECIDED)
    counts = await repo.count_rows(ctx.session, batch.id)
    await ctx.session.refresh(batch)
    await record_change(
        ctx,
        action="roster.resolve_matches",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=batch.jurisdiction_path,
        summary={
            "confirmed": sorted(line for line, confirm in by_line.items() if confirm),
            "rejected": sorted(line for line, confirm in by_line.items() if not confirm),
            "counts": counts.__dict__,
        },
    )
    return batch


def _note(note: str, *, required: bool) -> str:
    note = note.strip()
    if required and not note:
        raise BadInput("note", RosterErrorCode.REQUIRED, "须写明原因", "say why")
    if "\x00" in note:  # PostgreSQL text cannot hold NUL (ARCHITECTURE §12)
        raise BadInput("note", RosterErrorCode.INVALID_TEXT)
    if len(note) > MAX_NOTE:
        raise BadInput("note", RosterErrorCode.TOO_LONG, f"不超过 {MAX_NOTE} 字", f"at most {MAX_NOTE} characters")
    return note


async def _staged_batch(ctx: Context, import_id: str, version: int | None) -> RosterImport:
    """The batch, visible to the caller, who may import for its jurisdiction; locked, at the version read
    (when one is given), still STAGED."""
    visible = (await get_imports(ctx, [import_id])).get(import_id)
    number = parse_id(import_id)
    if visible is None or number is None:
        raise BadInput("id", RosterErrorCode.NOT_FOUND, "没有这个导入批次", "no such roster batch")
    if not ctx.operator:
        ctx.access().require(*import_right(RosterKind(visible.kind)), {"PLACE": [visible.jurisdiction_path]})
    batch = await repo.lock_import(ctx.session, number)  # concurrent decisions queue here, then see the latest
    assert batch is not None
    await ctx.session.refresh(batch)
    if version is not None:
        check_version(batch, version)
    if batch.status is not ImportStatus.STAGED:
        raise BadInput("id", RosterErrorCode.NOT_STAGED)
    return batch


def _decided(ctx: Context, batch: RosterImport, status: ImportStatus, note: str | None) -> None:
    batch.status = status
    batch.decided_by, batch.decided_at, batch.decision_note = ctx.actor, utcnow(), note
    batch.version += 1
