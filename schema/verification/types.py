"""Verification tasks of pushed-down lists (下发核实, POLICY 004 §9) as the schema shows them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.base import today
from models.child import Gender, mask_national_id
from models.verification import NotDropoutReason, Outcome, RouteRule, TaskStatus, UnroutableReason
from models.verification import VerificationTask as TaskRow
from resolvers.rosters import reading as roster_reading
from resolvers.verification import reading, verifying

from ..connection import Connection, to_connection
from ..context import Info, loader
from ..enums import described
from ..errors import VerificationError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from ..rosters.types import RosterImport

described(
    TaskStatus,
    {
        TaskStatus.OPEN: "待核实 / routed, awaiting the county's answer",
        TaskStatus.DONE: "已核实 / verified: CONFIRMED or NOT_DROPOUT",
        TaskStatus.REROUTED: "已转交（非本县）/ NOT_OURS: closed here, a new task opened in the county named",
        TaskStatus.UNROUTABLE: "无法分派，退回下发方 / no county found: listed back to the sender with the reason",
    },
    "核实任务状态 / state of a verification task",
)
described(
    RouteRule,
    {
        RouteRule.SCHOOL: "按学籍学校所在县 / the registry school's county",
        RouteRule.RESIDENCE: "按现住址所在县 / the residence's county",
        RouteRule.HOUSEHOLD: "按户籍地所在县 / the household registration's county",
        RouteRule.REROUTED: "由原核实县转交 / named by the county that answered NOT_OURS",
    },
    "分派依据 / the rule that routed a task",
)
described(
    UnroutableReason,
    {
        UnroutableReason.NO_PLACE: "名单未载学校或区划 / the row names no school and no region",
        UnroutableReason.UNKNOWN_PLACE: "学校或区划代码不存在 / the codes it names are not known",
        UnroutableReason.NOT_IN_A_COUNTY: "区划在县级以上 / the places known are above a county",
    },
    "无法分派的原因 / why a row could not be routed",
)
described(
    Outcome,
    {
        Outcome.CONFIRMED: "确属疑似辍学，列入台账 / confirmed: on the suspected-dropout ledger",
        Outcome.NOT_DROPOUT: "非辍学（须选原因并说明）/ not a dropout, with its reason and a note",
        Outcome.NOT_OURS: "非本县，转交接收县 / not ours: re-routed to the county named",
    },
    "核实结果 / a county's answer",
)
described(
    NotDropoutReason,
    {
        NotDropoutReason.AT_SCHOOL: "在校就读（写明学校）/ at school (the school named)",
        NotDropoutReason.TRANSFERRED: "已转学 / transferred",
        NotDropoutReason.GRADUATED: "已毕业 / graduated",
        NotDropoutReason.DECEASED: "已死亡 / deceased",
        NotDropoutReason.MOVED_ABROAD: "出国（境）/ moved abroad",
        NotDropoutReason.RECORD_ERROR: "数据错误 / a record error",
    },
    "非辍学原因 / why a pushed-down child is not a dropout",
)


@strawberry.enum(description="汇总层级 / the level progress is counted at.")
class ProgressLevel(enum.Enum):
    PROVINCE = strawberry.enum_value("PROVINCE", description="按省 / per province")
    CITY = strawberry.enum_value("CITY", description="按市 / per city")
    COUNTY = strawberry.enum_value("COUNTY", description="按县 / per county")


@strawberry.type(
    description="核实任务：下发名单中的一名儿童，分派到县核实 / a child of a pushed-down list, routed to a county "
    "to verify (POLICY 004 §9). The name as the list gave it; the national ID and the note in full only to the "
    "county that verifies it (audited), masked for the sender and the levels between."
)
class VerificationTask(relay.Node):
    number: int = strawberry.field(description="任务号 / the task's number.")
    batch_number: int = strawberry.field(description="下发批次号 / the pushed-down batch's number.")
    line: int = strawberry.field(description="名单行号 / the line in the pushed-down file.")
    status: TaskStatus = strawberry.field(description="状态 / state.")
    route: RouteRule | None = strawberry.field(description="分派依据 / the rule that routed it (null: unroutable).")
    unroutable_reason: UnroutableReason | None = strawberry.field(
        description="无法分派的原因 / why no county was found (UNROUTABLE tasks)."
    )
    county_code: str | None = strawberry.field(description="核实县 / the county that verifies it.")
    due_on: date | None = strawberry.field(description="核实期限 / verify by this day.")
    overdue: bool = strawberry.field(description="已逾期未核实 / open past its due day.")
    name: str | None = strawberry.field(description="姓名（名单所载）/ name, as the list gave it.")
    gender: Gender | None = strawberry.field(description="性别 / gender.")
    registry_number: str | None = strawberry.field(description="学籍号（核实县可见）/ registry number (masked).")
    school_code: str | None = strawberry.field(description="名单所载学籍学校 / the registry school on the list.")
    household_region_code: str | None = strawberry.field(description="户籍地区划代码 / household region.")
    residence_region_code: str | None = strawberry.field(description="现住址区划代码 / residence region.")
    outcome: Outcome | None = strawberry.field(description="核实结果 / the county's answer.")
    not_dropout_reason: NotDropoutReason | None = strawberry.field(description="非辍学原因 / why not a dropout.")
    at_school_code: str | None = strawberry.field(description="在校学校 / the school named (AT_SCHOOL).")
    rerouted_to_code: str | None = strawberry.field(description="转交的接收县 / the county it was re-routed to.")
    note: str | None = strawberry.field(description="核实说明（仅核实县可见）/ the county's note (to that county).")
    ledger_entry_id: relay.GlobalID | None = strawberry.field(
        description="台账记录（确认时）/ the ledger entry linked or opened (CONFIRMED; read it with node())."
    )
    previous_task_id: relay.GlobalID | None = strawberry.field(
        description="转交前的任务 / the task this one was re-routed from."
    )
    created_at: datetime = strawberry.field(description="分派时间 / routed at.")
    verified_by: str | None = strawberry.field(description="核实人 / answered by.")
    verified_at: datetime | None = strawberry.field(description="核实时间 / answered at.")
    version: int = strawberry.field(description="版本，核实时回传 / version, sent back with the answer.")
    full_national_id: strawberry.Private[str | None]
    verifier: strawberry.Private[bool]

    @strawberry.field(description="身份证号：仅核实县可见全号（记入审计），其余遮蔽 / national ID: in full to the "  # type: ignore[untyped-decorator]
                      "county that verifies it (audited), else masked (first 6, last 4).")  # fmt: skip
    def national_id(self) -> str | None:
        return self.full_national_id if self.verifier else mask_national_id(self.full_national_id)

    @strawberry.field(description="下发批次（可读时）/ the pushed-down batch, if you may read it.")  # type: ignore[untyped-decorator]
    async def batch(self, info: Info) -> RosterImport | None:
        found = await loader(info, "verification-batches", roster_reading.get_imports).load(str(self.batch_number))
        return RosterImport.from_row(found) if found else None

    @classmethod
    def resolve_id(cls, root: VerificationTask, *, info: Info) -> str:
        return str(root.number)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[VerificationTask | None]:
        wanted = list(node_ids)
        found = await reading.get_tasks(info.context, wanted)
        return [cls.from_view(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_view(cls, view: reading.TaskView) -> VerificationTask:
        t, r, verifier = view.task, view.row, view.verifier
        return cls(
            number=t.id or 0, batch_number=t.import_id, line=t.line, status=t.status, route=t.route,
            unroutable_reason=t.unroutable_reason, county_code=t.county_code, due_on=t.due_on,
            overdue=t.status is TaskStatus.OPEN and t.due_on is not None and t.due_on < today(),
            name=r.name if r else None, gender=r.gender if r else None,
            registry_number=(r.registry_number if verifier else mask_national_id(r.registry_number)) if r else None,
            school_code=r.school_code if r else None,
            household_region_code=r.household_region_code if r else None,
            residence_region_code=r.residence_region_code if r else None,
            outcome=t.outcome, not_dropout_reason=t.not_dropout_reason, at_school_code=t.school_code,
            rerouted_to_code=t.rerouted_to_code, note=t.note if verifier else None,
            ledger_entry_id=_gid("LedgerEntry", t.ledger_entry_id),
            previous_task_id=_gid("VerificationTask", t.previous_task_id),
            created_at=t.created_at, verified_by=t.verified_by, verified_at=t.verified_at, version=t.version,
            full_national_id=r.national_id if r else None, verifier=verifier,
        )  # fmt: skip


def _gid(type_name: str, number: int | None) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(number)) if number else None


@strawberry.input(description="核实任务筛选 / filter for verification tasks.")
class VerificationTaskFilter:
    batch_id: relay.GlobalID | None = strawberry.field(default=None, description="下发批次 / one pushed-down batch.")
    status: TaskStatus | None = strawberry.field(default=None, description="状态 / state.")
    overdue: bool | None = strawberry.field(default=None, description="逾期未核实 / open past the due day (or not).")
    region_code: str | None = strawberry.field(default=None, description="核实县所在区划 / routed into this region.")


async def verification_tasks(
    info: Info, filter: VerificationTaskFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[VerificationTask] | None:
    f = filter or VerificationTaskFilter()
    page = await reading.list_tasks(
        info.context, batch_id=node_id_of(f.batch_id, "RosterImport") if f.batch_id else None, status=f.status,
        overdue=f.overdue, region_code=f.region_code, first=first, after=after,
    )  # fmt: skip
    return to_connection(page, node=VerificationTask.from_view, key=lambda v: str(v.task.id), after=after)


@strawberry.type(description="非辍学原因计数 / tasks answered NOT_DROPOUT for one reason.")
class ReasonCount:
    reason: NotDropoutReason = strawberry.field(description="原因 / the reason.")
    count: int = strawberry.field(description="任务数 / tasks.")


@strawberry.type(
    description="一个区划的核实进度（无个人信息）/ one region's verification progress, no personal data; the row "
    "with a null region holds the unroutable tasks."
)
class VerificationProgress:
    region_code: str | None = strawberry.field(description="区划代码（空：无法分派）/ region (null: unroutable).")
    region_name: str | None = strawberry.field(description="区划名称 / region name.")
    total: int = strawberry.field(description="任务数（转交前后各计一次）/ tasks (a re-routed child counts twice).")
    open: int = strawberry.field(description="待核实 / open.")
    done: int = strawberry.field(description="已核实 / verified (CONFIRMED or NOT_DROPOUT).")
    confirmed: int = strawberry.field(description="确认疑似辍学 / confirmed.")
    not_dropout: list[ReasonCount] = strawberry.field(description="非辍学，按原因 / not a dropout, by reason.")
    rerouted: int = strawberry.field(description="转交他县 / re-routed elsewhere (NOT_OURS).")
    overdue: int = strawberry.field(description="逾期未核实 / open past the due day.")
    unroutable: int = strawberry.field(description="无法分派 / unroutable.")


async def verification_progress(
    info: Info, batch_id: relay.GlobalID | None = None, by: ProgressLevel = ProgressLevel.COUNTY
) -> list[VerificationProgress] | None:
    rows = await reading.progress(
        info.context,
        batch_id=node_id_of(batch_id, "RosterImport") if batch_id else None,
        by=by.name,  # type: ignore[arg-type]
    )
    return [_progress(p) for p in rows]


def _progress(p: reading.Progress) -> VerificationProgress:
    reasons = [ReasonCount(reason=NotDropoutReason(k), count=v) for k, v in sorted(p.not_dropout.items())]
    return VerificationProgress(
        region_code=p.region_code, region_name=p.region_name, total=p.total, open=p.open, done=p.done,
        confirmed=p.confirmed, rerouted=p.rerouted, overdue=p.overdue, unroutable=p.unroutable, not_dropout=reasons,
    )  # fmt: skip


@strawberry.input(description="核实一名下发儿童 / the county's answer on a verification task.")
class VerifyTaskInput:
    id: relay.GlobalID = strawberry.field(description="任务 ID / the task's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    outcome: Outcome = strawberry.field(description="核实结果 / the answer.")
    reason: NotDropoutReason | None = strawberry.field(default=None, description="非辍学原因 / NOT_DROPOUT's reason.")
    school_code: str | None = strawberry.field(
        default=None, metadata=stored_in(TaskRow, "school_code"), description="在校学校 / AT_SCHOOL: the school."
    )
    receiving_county_code: str | None = strawberry.field(
        default=None, metadata=stored_in(TaskRow, "rerouted_to_code"), description="接收县 / NOT_OURS: the county."
    )
    note: str | None = strawberry.field(
        default=None, metadata=stored_in(TaskRow, "note"),
        description="核实说明（最多 500 字；非辍学、非本县必填）/ a note (required for NOT_DROPOUT and NOT_OURS).",
    )  # fmt: skip


@strawberry.type(description="核实结果 / result of a verification.")
class VerifyTaskPayload:
    task: VerificationTask | None = strawberry.field(default=None, description="核实后的任务 / the task answered.")
    rerouted_to: VerificationTask | None = strawberry.field(
        default=None, description="转交后的新任务（NOT_OURS）/ the new task in the receiving county."
    )
    errors: list[VerificationError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def verify_task(info: Info, input: VerifyTaskInput) -> VerifyTaskPayload:
    answer = verifying.Answer(
        task_id=node_id_of(input.id, "VerificationTask"), version=input.version, outcome=input.outcome,
        reason=input.reason, school_code=input.school_code, receiving_county=input.receiving_county_code,
        note=input.note,
    )  # fmt: skip

    async def present(done: verifying.Verified) -> VerifyTaskPayload:
        views = await reading.task_views(info.context, [t for t in (done.task, done.rerouted_to) if t is not None])
        shown = [VerificationTask.from_view(v) for v in views]
        return VerifyTaskPayload(task=shown[0], rerouted_to=shown[1] if len(shown) > 1 else None)

    return await run_mutation(info, VerifyTaskPayload, lambda: verifying.verify_task(info.context, answer), present)
