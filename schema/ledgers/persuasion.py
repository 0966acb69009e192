"""Getting children back, as the schema shows it: persuasion visits, plans, deferral requests, handovers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.ledger import Handover as HandoverRow
from models.persuasion import (
    DEFERRAL_BASIS_LABELS,
    LIABILITY_OUTCOME_LABELS,
    VISIT_METHOD_LABELS,
    DeferralBasis,
    DeferralStatus,
    LiabilityOutcome,
    Line,
    VisitMethod,
)
from models.persuasion import CasePlan as PlanRow
from models.persuasion import DeferralRequest as DeferralRow
from models.persuasion import PersuasionVisit as VisitRow
from resolvers.ledgers import entries as entry_resolvers

from ..context import Info
from ..enums import described

described(VisitMethod, VISIT_METHOD_LABELS, "劝返方式 / persuasion method")
described(LiabilityOutcome, LIABILITY_OUTCOME_LABELS, "追究法律责任的结果（四步法第 4 步）/ outcome of step 4")
described(DeferralBasis, DEFERRAL_BASIS_LABELS, "延缓入学依据 / grounds for deferral (POLICY 001 §2.2)")
described(
    DeferralStatus,
    {
        DeferralStatus.PENDING: "待审批 / awaiting approval",
        DeferralStatus.APPROVED: "已批准 / approved",
        DeferralStatus.REJECTED: "已驳回 / rejected",
        DeferralStatus.WITHDRAWN: "已撤回（记录已销号）/ withdrawn: the entry was closed out",
    },
    "审批状态 / decision",
)
described(Line, {Line.EDU: "教育线 / education line", Line.GOV: "政府线 / government line"}, "双线 / the two lines")


@strawberry.type(description="参加人员 / someone who took part in a visit.")
class Participant:
    name: str = strawberry.field(description="姓名 / name.")
    department: str = strawberry.field(description="部门 / department.")
    line: Line = strawberry.field(description="所属线 / line.")


@strawberry.type(description="劝返记录（每次劝返都记录，004 §9）/ one persuasion attempt.")
class PersuasionVisit(relay.Node):
    visit_id: strawberry.Private[int]
    visited_on: date = strawberry.field(description="日期 / date.")
    method: VisitMethod = strawberry.field(description="方式 / method.")
    stage: int = strawberry.field(description="四步法阶段 1–4（000 §2）/ four-step stage 1–4.")
    participants: list[Participant] = strawberry.field(description="参加人员 / who took part.")
    outcome: str = strawberry.field(description="结果 / outcome.")
    next_step: str | None = strawberry.field(description="下一步 / next step.")
    next_on: date | None = strawberry.field(description="下一步日期 / when.")
    correct_by: date | None = strawberry.field(
        description="责令限期改正的期限（第 2 步）/ the time limit of an order to correct (step 2)."
    )
    liability_outcome: LiabilityOutcome | None = strawberry.field(
        description="追究法律责任的结果（第 4 步）/ the outcome of pursuing legal liability (step 4)."
    )
    recorded_by: str = strawberry.field(description="记录人 / recorded by.")

    @classmethod
    def resolve_id(cls, root: PersuasionVisit, *, info: Info) -> str:
        return str(root.visit_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PersuasionVisit | None]:
        """Readable where the ledger entry it belongs to is."""
        wanted = list(node_ids)
        found = await entry_resolvers.get_visits(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: VisitRow) -> PersuasionVisit:
        return cls(
            visit_id=row.id or 0,
            correct_by=row.correct_by,
            liability_outcome=row.liability_outcome,
            visited_on=row.visited_on,
            method=row.method,
            stage=row.stage,
            participants=[
                Participant(name=p["name"], department=p["department"], line=Line(p["line"])) for p in row.participants
            ],
            outcome=row.outcome,
            next_step=row.next_step,
            next_on=row.next_on,
            recorded_by=row.recorded_by,
        )


@strawberry.type(description="延缓入学/休学申请（001 §2.2）/ a deferral or suspension request.")
class DeferralRequest(relay.Node):
    deferral_id: strawberry.Private[int]
    basis: DeferralBasis = strawberry.field(description="依据 / grounds.")
    grounds: str = strawberry.field(description="申请理由 / stated grounds.")
    document_ref: str | None = strawberry.field(description="裁判或评估文书编号 / ruling or assessment reference.")
    guardian_statement: str | None = strawberry.field(
        description="监护人已履行法定义务、学生本人拒不返校的记录（001 二2）/ the recorded statement that the guardian "
        "has met their legal duty but the child refuses."
    )
    statement_visit_id: strawberry.Private[int | None]
    status: DeferralStatus = strawberry.field(description="审批状态 / decision.")
    requested_by: str = strawberry.field(description="申请人 / requested by.")
    requested_at: datetime = strawberry.field(description="申请时间 / requested at.")
    decided_by: str | None = strawberry.field(description="审批人 / decided by.")
    decided_at: datetime | None = strawberry.field(description="审批时间 / decided at.")
    decision_note: str | None = strawberry.field(description="审批意见 / decision note.")

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="监护人声明所依据的劝返记录 / the visit the guardian's statement was recorded on."
    )
    async def statement_visit(self, info: Info) -> PersuasionVisit | None:
        if self.statement_visit_id is None:
            return None
        found = await entry_resolvers.get_visits(info.context, [str(self.statement_visit_id)])
        row = found.get(str(self.statement_visit_id))
        return PersuasionVisit.from_row(row) if row else None

    @classmethod
    def resolve_id(cls, root: DeferralRequest, *, info: Info) -> str:
        return str(root.deferral_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[DeferralRequest | None]:
        """Readable where the ledger entry it belongs to is."""
        wanted = list(node_ids)
        found = await entry_resolvers.get_deferrals(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: DeferralRow) -> DeferralRequest:
        return cls(
            deferral_id=row.id or 0,
            basis=row.basis,
            grounds=row.grounds,
            document_ref=row.document_ref,
            guardian_statement=row.guardian_statement,
            statement_visit_id=row.statement_visit_id,
            status=row.status,
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            decision_note=row.decision_note,
        )


@strawberry.type(description="书面移交（001 §2.2）/ a written handover to another region and its acknowledgement.")
class Handover(relay.Node):
    handover_id: strawberry.Private[int]
    from_region_code: str = strawberry.field(description="移出地区 / handed over by.")
    to_region_code: str = strawberry.field(description="接收地区 / handed to.")
    notice: str = strawberry.field(description="书面通知 / the written notice.")
    sent_by: str = strawberry.field(description="发出人 / sent by.")
    sent_at: datetime = strawberry.field(description="发出时间 / sent at.")
    acknowledged_by: str | None = strawberry.field(description="接收人 / acknowledged by.")
    acknowledged_at: datetime | None = strawberry.field(description="接收时间 / acknowledged at (null: pending).")

    @classmethod
    def resolve_id(cls, root: Handover, *, info: Info) -> str:
        return str(root.handover_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Handover | None]:
        """Readable where the ledger entry it belongs to is."""
        wanted = list(node_ids)
        found = await entry_resolvers.get_handovers(info.context, wanted)
        return [handover_from_row(found[i]) if i in found else None for i in wanted]


@strawberry.type(description="一人一案 / the child's plan: goal, both lines' leads, planned steps.")
class CasePlan(relay.Node):
    plan_id: strawberry.Private[int]
    goal: str = strawberry.field(description="目标 / goal.")
    responsible_edu: str = strawberry.field(description="教育线责任人 / lead on the education line.")
    responsible_gov: str = strawberry.field(description="政府线责任人 / lead on the government line.")
    steps: list[str] = strawberry.field(description="计划步骤 / planned steps.")
    updated_by: str = strawberry.field(description="更新人 / last updated by.")
    version: int = strawberry.field(description="版本（更新时提交）/ version, sent back with an update.")

    @classmethod
    def resolve_id(cls, root: CasePlan, *, info: Info) -> str:
        return str(root.plan_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CasePlan | None]:
        """Readable where the child's latest ledger entry is."""
        wanted = list(node_ids)
        found = await entry_resolvers.get_plans(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: PlanRow) -> CasePlan:
        return cls(
            plan_id=row.id or 0,
            goal=row.goal,
            responsible_edu=row.responsible_edu,
            responsible_gov=row.responsible_gov,
            steps=list(row.steps),
            updated_by=row.updated_by,
            version=row.version,
        )


def path_code(path: str | None) -> str | None:
    return path.rsplit("/", 1)[-1] if path else None


def handover_from_row(row: HandoverRow) -> Handover:
    return Handover(
        handover_id=row.id or 0,
        from_region_code=path_code(row.from_path) or "",
        to_region_code=path_code(row.to_path) or "",
        notice=row.notice,
        sent_by=row.sent_by,
        sent_at=row.sent_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )
