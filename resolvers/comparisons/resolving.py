"""Resolving findings (ARCHITECTURE §9: a finding is resolved by a person), one or many at once.

Each decision: put the finding on the suspected ledger (LEDGER: an entry opened by the ledger's own use
case, source COMPARISON, linked both ways), tie it to an entry the child already has (LINK), or dismiss it
with a typed reason and a note (DISMISS). A list is all or nothing: the first refusal names its item
(`decisions.3.version`) and nothing of the list is kept, so a bulk decision is never half done. The
findings are locked in id order and their versions checked, so of two decisions on one finding at once
one wins and the other is CONFLICT. Every decision is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from models.base import utcnow
from models.comparison import ComparisonFinding, ComparisonRun, DismissReason, FindingAction, FindingState
from models.ledger import EntrySource, Ledger
from models.repos import comparisons as repo
from models.school import School

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..ledgers.entries import get_entries, open_entry
from ..paging import parse_id
from ..versioning import check_version
from .errors import ComparisonErrorCode as Code
from .reading import get_findings
from .running import COMPARISON

MAX_DECISIONS = 500
MAX_NOTE = 500
# GB/T 2260 province codes (11 北京 … 82 澳门): the province named may lie outside baoxue's regions.
PROVINCE_CODE = re.compile(r"[1-8][0-9]")


@dataclass(frozen=True)
class Decision:
    id: str
    version: int
    action: FindingAction
    entry_id: str | None = None
    reason: DismissReason | None = None
    note: str | None = None
    school_code: str | None = None
    province_code: str | None = None


async def resolve_findings(ctx: Context, decisions: list[Decision]) -> list[ComparisonFinding]:
    """Apply every decision, or none: the first refusal names its item."""
    if not decisions:
        raise BadInput("decisions", Code.REQUIRED, "至少一条处理决定", "at least one decision")
    if len(decisions) > MAX_DECISIONS:
        raise BadInput("decisions", Code.TOO_MANY)
    numbers: list[int] = []
    for i, d in enumerate(decisions):
        number = parse_id(d.id)
        if number in numbers:
            raise BadInput(f"decisions.{i}.id", Code.DUPLICATE_ID)
        numbers.append(number if number is not None else -1)
    visible = await get_findings(ctx, [d.id for d in decisions])
    for i, d in enumerate(decisions):
        if d.id not in visible:
            raise BadInput(f"decisions.{i}.id", Code.NOT_FOUND, "没有这条比对发现", "no such finding")
    locked = await repo.lock_findings(ctx.session, [n for n in numbers if n >= 0])
    resolved = []
    for i, (d, number) in enumerate(zip(decisions, numbers, strict=True)):
        try:
            resolved.append(await _decide(ctx, locked[number], d))
        except BadInput as exc:
            exc.error = replace(exc.error, field=f"decisions.{i}.{exc.error.field}")
            raise
    await ctx.session.flush()
    return resolved


async def _decide(ctx: Context, finding: ComparisonFinding, d: Decision) -> ComparisonFinding:
    ctx.access().require(COMPARISON, "RESOLVE", repo.finding_scope_paths(finding))
    check_version(finding, d.version)
    if finding.state is not FindingState.OPEN:
        raise BadInput("id", Code.NOT_OPEN, f"该发现已是 {finding.state}", f"the finding is {finding.state}")
    note = _note(d.note)
    summary: dict[str, Any] = {"action": d.action.value, "state": {"before": finding.state.value}}
    if d.action is FindingAction.DISMISS:
        await _dismiss(ctx, finding, d, note)
        summary |= {"reason": d.reason, "school": d.school_code, "province": d.province_code}
    else:
        if finding.child_id is None:
            raise BadInput("id", Code.NO_CHILD)
        entry_id = await (_ledger(ctx, finding, note) if d.action is FindingAction.LEDGER else _link(ctx, finding, d))
        finding.state, finding.ledger_entry_id = FindingState.LEDGERED, entry_id
        summary["entry"] = entry_id
    summary["state"]["after"] = finding.state.value
    finding.decided_by, finding.decided_at = ctx.actor, utcnow()
    finding.version += 1
    ctx.session.add(finding)
    await record_change(
        ctx,
        action=f"comparison.{d.action.value.lower()}",
        target_type="ComparisonFinding",
        target_id=str(finding.id),
        scope_path=finding.county_path,
        reason=note,
        summary={k: str(v) if isinstance(v, int) else v for k, v in summary.items() if v is not None},
    )
    return finding


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if "\x00" in text:  # PostgreSQL text cannot hold NUL (ARCHITECTURE §12)
        raise BadInput("note", Code.INVALID_TEXT)
    if len(text) > MAX_NOTE:
        raise BadInput("note", Code.TOO_LONG, f"不超过 {MAX_NOTE} 字", f"at most {MAX_NOTE} characters")
    return text or None


async def _ledger(ctx: Context, finding: ComparisonFinding, note: str | None) -> int:
    """A suspected-dropout entry opened by the ledger's use case, on the day the facts were found (the
    latest run's as-of date), with the category the comparison proposes (A or B for a child out of school)."""
    run = await ctx.session.get(ComparisonRun, finding.last_run_id)
    assert run is not None
    entry = await open_entry(
        ctx,
        student_id=str(finding.child_id),
        ledger=Ledger.SUSPECTED,
        source=EntrySource.COMPARISON,
        opened_on=run.as_of,
        category=finding.proposed_category,
        note=note or f"三比对发现 {finding.id} / comparison finding {finding.id}",
    )
    assert entry.id is not None
    return entry.id


async def _link(ctx: Context, finding: ComparisonFinding, d: Decision) -> int:
    if not d.entry_id:
        raise BadInput("entryId", Code.REQUIRED, "关联须指明台账记录", "a link names the ledger entry")
    entry = (await get_entries(ctx, [d.entry_id])).get(d.entry_id)
    if entry is None:
        raise BadInput("entryId", Code.NOT_FOUND, "没有这条台账记录", "no such ledger entry")
    if entry.child_id != finding.child_id:
        raise BadInput("entryId", Code.NOT_THIS_CHILD)
    assert entry.id is not None
    return entry.id


async def _dismiss(ctx: Context, finding: ComparisonFinding, d: Decision, note: str | None) -> None:
    if d.reason is None:
        raise BadInput("reason", Code.REQUIRED, "排除须选择原因", "a dismissal names its reason")
    if note is None:
        raise BadInput("note", Code.REQUIRED, "排除须写明说明", "a dismissal needs a note")
    school = (d.school_code or "").strip() or None
    province = (d.province_code or "").strip() or None
    if d.reason is DismissReason.STUDYING_ELSEWHERE:
        if school is None and province is None:
            raise BadInput("schoolCode", Code.ELSEWHERE_REQUIRED)
        if school is not None and not (school.isascii() and school.isdigit() and len(school) == 10):
            raise BadInput("schoolCode", Code.UNKNOWN_SCHOOL)
        if school is not None and await ctx.session.get(School, school) is None:
            raise BadInput("schoolCode", Code.UNKNOWN_SCHOOL)
        if province is not None and not PROVINCE_CODE.fullmatch(province):
            raise BadInput(
                "provinceCode", Code.UNKNOWN_REGION, "省级区划代码为两位数字", "a province code has 2 digits"
            )
    else:
        school = province = None  # named only for studying elsewhere
    finding.state, finding.dismiss_reason, finding.dismiss_note = FindingState.DISMISSED, d.reason, note
    finding.elsewhere_school_code, finding.elsewhere_province_code = school, province
