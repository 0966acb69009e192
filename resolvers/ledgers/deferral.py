"""Deferral or suspension of schooling (延缓入学、休学, POLICY 001 §2.2): the county education bureau
proposes on one of the grounds, with the guardian's statement where the grounds need it; the county
leading group (county government) of the responsible county approves, never the one who proposed.
Approval keeps the case open for persuasion (并继续做好劝返复学工作): status DEFERRED, category P."""

from __future__ import annotations

from models.base import utcnow
from models.child import SpecialGroup
from models.ledger import DropoutCategory, EntryStatus, LedgerEntry
from models.persuasion import (
    JOINT_VISITS_FOR_DEFERRAL,
    DeferralBasis,
    DeferralRequest,
    DeferralStatus,
    VisitMethod,
)
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from .common import LEDGER, audit_entry, entry_for, require_not_closed, save_entry

# Grounds on which the guardian's statement is required: "监护人已履行相应法定义务，但学生本人拒不返校"
# qualifies the joint persuasions and the judicial ruling (seed 001 二2), not the expert assessment.
NEEDS_GUARDIAN_STATEMENT = frozenset({DeferralBasis.JOINT_VISITS, DeferralBasis.JUDICIAL_RULING})


async def request_deferral(
    ctx: Context,
    *,
    entry_id: str,
    basis: DeferralBasis,
    grounds: str,
    document_ref: str | None,
    guardian_statement: str | None = None,
    statement_visit_id: str | None = None,
) -> DeferralRequest:
    """Propose deferral or suspension (POLICY 001 §2.2): the county bureau, on one of its three grounds."""
    entry = await entry_for(ctx, entry_id, "PROPOSE_DEFERRAL")
    require_not_closed(entry)
    if entry.status is not EntryStatus.OPEN:
        raise BadInput(
            "entryId", "BAD_STATUS", "只有在册（OPEN）的记录可申请延缓", "only an OPEN entry can be deferred"
        )
    if not grounds.strip():
        raise BadInput("grounds", "REQUIRED", "须写明申请理由", "state the grounds")
    pending = (await ledger_repo.deferrals_of(ctx.session, [entry.id or 0])).get(entry.id or 0, [])
    if any(d.status is DeferralStatus.PENDING for d in pending):
        raise BadInput("entryId", "ALREADY_REQUESTED", "已有待审批的申请", "a request is already awaiting approval")
    await _check_basis(ctx, entry, basis, document_ref)
    statement = (guardian_statement or "").strip() or None
    visit_id = await _statement_visit(ctx, entry, basis, statement, statement_visit_id)
    request = DeferralRequest(
        entry_id=entry.id or 0,
        child_id=entry.child_id,
        basis=basis,
        grounds=grounds.strip(),
        document_ref=(document_ref or "").strip() or None,
        guardian_statement=statement,
        statement_visit_id=visit_id,
        requested_by=ctx.actor,
        province_code=entry.province_code,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await audit_entry(ctx, entry, "ledger.request_deferral", basis=basis, request=request.id)
    return request


async def _statement_visit(
    ctx: Context, entry: LedgerEntry, basis: DeferralBasis, statement: str | None, visit_id: str | None
) -> int | None:
    """The guardian's statement and the visit it was recorded on: both required after joint persuasions;
    after a judicial ruling the statement rests on the ruling (`documentRef`), a visit is optional."""
    if basis in NEEDS_GUARDIAN_STATEMENT and statement is None:
        raise BadInput(
            "guardianStatement",
            "REQUIRED",
            "须记录监护人已履行法定义务、学生本人拒不返校的情况（001 二2）",
            "record that the guardian has met their legal duty but the child refuses (POLICY 001 §2.2)",
        )
    if visit_id is None:
        if basis is DeferralBasis.JOINT_VISITS:
            raise BadInput(
                "statementVisitId",
                "REQUIRED",
                "须注明该情况记录于哪次劝返（001 二2）",
                "name the visit the statement was recorded on (POLICY 001 §2.2)",
            )
        return None
    number = parse_id(visit_id)
    visit = (await ledger_repo.get_visits(ctx.session, [number])).get(number) if number is not None else None
    if visit is None or visit.child_id != entry.child_id:
        raise BadInput("statementVisitId", "NOT_FOUND", "该学生没有这次劝返记录", "no such visit of this child")
    return number


async def _check_basis(ctx: Context, entry: LedgerEntry, basis: DeferralBasis, document_ref: str | None) -> None:
    if basis is DeferralBasis.JOINT_VISITS:
        visits = await ledger_repo.visits_of_child(ctx.session, entry.child_id)
        joint = sum(v.method is VisitMethod.JOINT_VISIT for v in visits)
        if joint < JOINT_VISITS_FOR_DEFERRAL:
            raise BadInput(
                "basis",
                "TOO_FEW_JOINT_VISITS",
                f"须经多部门联合劝返三次以上（现有 {joint} 次，001 §2.2）",
                f"needs three or more joint persuasion visits (has {joint}; POLICY 001 §2.2)",
            )
        return
    if not (document_ref or "").strip():
        raise BadInput(
            "documentRef",
            "DOCUMENT_REQUIRED",
            "须附司法裁判或专家委员会评估文书编号（001 §2.2）",
            "attach the ruling or the expert-committee assessment (POLICY 001 §2.2)",
        )
    if basis is DeferralBasis.EXPERT_ASSESSMENT:
        child = (await child_repo.get_children(ctx.session, [entry.child_id]))[entry.child_id]
        if SpecialGroup.DISABLED.value not in child.special_groups:
            raise BadInput(
                "basis",
                "NOT_DISABLED",
                "专家委员会评估仅适用于残疾儿童（001 §2.2）",
                "an expert-committee assessment applies to disabled children only (POLICY 001 §2.2)",
            )


async def decide_deferral(ctx: Context, *, deferral_id: str, approve: bool, note: str | None) -> DeferralRequest:
    """The county leading group (county government) of the responsible county approves or rejects; an
    approved deferral keeps the case open under category P. The request is locked first: of two deciders at
    once, the second waits and is told ALREADY_DECIDED."""
    number = parse_id(deferral_id)
    request = await ledger_repo.lock_deferral(ctx.session, number) if number is not None else None
    if request is None:
        raise BadInput("deferralId", "NOT_FOUND", "没有这个申请", "no such request")
    entry = await entry_for(ctx, str(request.entry_id), "APPROVE_DEFERRAL")
    # The leading group of the county answering for the case (001 二2), not the household side of a migrant's.
    ctx.access().require(LEDGER, "APPROVE_DEFERRAL", {"EDU": [entry.responsible_path], "GOV": [entry.responsible_path]})
    if request.status is not DeferralStatus.PENDING:
        raise BadInput("deferralId", "ALREADY_DECIDED", "该申请已审批", "the request has been decided")
    if request.requested_by == ctx.actor:
        raise BadInput("deferralId", "OWN_REQUEST", "不能审批自己提交的申请", "nobody approves their own request")
    if not approve and not (note or "").strip():
        raise BadInput("note", "REQUIRED", "驳回须说明理由", "a rejection needs a reason")
    if approve and entry.status is not EntryStatus.OPEN:
        raise BadInput(
            "deferralId",
            "BAD_STATUS",
            f"记录当前状态（{entry.status}）不能批准延缓",
            f"a {entry.status} entry cannot be deferred",
        )
    request.status = DeferralStatus.APPROVED if approve else DeferralStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = ctx.actor, utcnow(), note
    ctx.session.add(request)
    if approve:
        entry.status, entry.category = EntryStatus.DEFERRED, DropoutCategory.P
    await save_entry(ctx, entry, "ledger.decide_deferral", request=request.id, approved=approve)
    return request
