"""Live events (issue 17 §6; README "Live events"): the root `Subscription`, over graphql-transport-ws.

The domain's root fields: `schema/root.py` makes this the schema's subscription type."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import date, datetime
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError

from authz.errors import AccessError
from resolvers.errors import BadInput
from resolvers.live import ledger as ledger_live
from resolvers.live import reports as report_live
from resolvers.live.context import LiveContext
from resolvers.live.events import LedgerEventType, ReportEventType

from ..context import Info
from ..enums import described
from ..ledgers.entries import LedgerEntry
from ..ledgers.persuasion import DeferralRequest, Handover, handover_from_row
from ..reports.types import Report

T = TypeVar("T")

described(
    LedgerEventType,
    {
        LedgerEventType.OPENED: "纳入台账（含规则重新纳入）/ an entry was opened (or reopened by the rules)",
        LedgerEventType.ESCALATED: "疑似辍学转为辍学 / a suspected dropout became a dropout: the new dropout entry",
        LedgerEventType.RETURNED: "学生已返校 / the child is back at school",
        LedgerEventType.CLOSED_OUT: "已销号 / the entry was closed out",
        LedgerEventType.HANDOVER_RECEIVED: "收到书面移交（001 §2.2）/ a handover to a region in the subscription",
        LedgerEventType.DEFERRAL_DECIDED: "缓学申请已审批 / a deferral request was approved or refused",
    },
    "台账实时事件类型 / what happened to a ledger entry",
)
described(
    ReportEventType,
    {
        ReportEventType.SUBMITTED: "本单位报告已报送 / a report of my unit was submitted",
        ReportEventType.RETURNED: "本单位报告被退回 / a report of my unit was returned",
        ReportEventType.APPROVED: "本单位报告已通过复核 / a report of my unit was approved",
        ReportEventType.AWAITING_RECHECK: "下级报告已报送，待我复核 / a submission awaits my re-check (复核)",
        ReportEventType.DEADLINE_IN_3_DAYS: "距报送截止 2–3 天 / my unit's report is due in 2–3 days",
        ReportEventType.DEADLINE_IN_1_DAY: "明天或今天截止 / my unit's report is due tomorrow or today",
        ReportEventType.DEADLINE_PASSED: "已过报送截止日，尚未报送 / the deadline passed and my unit has not submitted",
    },
    "报告实时事件类型 / what happened to a report, or which deadline is near",
)


@strawberry.type(description="台账实时事件 / a ledger event, re-read with my access when it is sent.")
class LedgerEvent:
    type: LedgerEventType = strawberry.field(description="事件类型 / what happened.")
    occurred_at: datetime = strawberry.field(description="发生时间 / when the change committed (about).")
    entry: LedgerEntry | None = strawberry.field(
        description="台账记录（按我的权限读取并脱敏）/ the entry as I may see it now, masked as queries mask it."
    )
    handover: Handover | None = strawberry.field(description="移交（HANDOVER_RECEIVED）/ the handover received.")
    deferral: DeferralRequest | None = strawberry.field(
        description="缓学申请（DEFERRAL_DECIDED）/ the deferral request decided."
    )


@strawberry.type(description="报送截止 / a deadline of one of my units.")
class ReportDeadline:
    unit_code: str = strawberry.field(description="填报单位代码 / the reporting unit (school or region code).")
    period: str = strawberry.field(description="报告期 / the period, e.g. 2026-03.")
    due_on: date = strawberry.field(description="截止日（本省设置）/ the deadline, per the province's settings.")
    days_left: int = strawberry.field(description="剩余天数（已过为负）/ days left, negative once passed.")


@strawberry.type(description="报告实时事件 / a report event or a deadline, re-read with my access when it is sent.")
class ReportEvent:
    type: ReportEventType = strawberry.field(description="事件类型 / what happened.")
    occurred_at: datetime = strawberry.field(description="发生时间 / when it happened (or was found, for deadlines).")
    report: Report | None = strawberry.field(
        description="报告（按我的权限读取；截止事件尚未起草时为空）/ the report as I may see it; null for a "
        "deadline with no report drafted yet."
    )
    deadline: ReportDeadline | None = strawberry.field(
        description="截止（截止类事件）/ the deadline, for deadline events."
    )


async def _refusals_coded(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """A refusal at subscribe time reaches the client as queries give it: `extensions.code` FORBIDDEN, or
    BAD_USER_INPUT with its field and reason (schema/extensions.py codes a query's errors the same way)."""
    try:
        async for item in stream:
            yield item
    except AccessError as exc:
        raise GraphQLError(str(exc), extensions={"code": exc.code}) from exc
    except BadInput as exc:
        e = exc.error
        raise GraphQLError(
            e.message, extensions={"code": "BAD_USER_INPUT", "field": e.field, "reason": e.code}
        ) from exc


def _live(info: Info) -> LiveContext:
    ctx = info.context
    if not isinstance(ctx, LiveContext):
        raise TypeError("subscriptions run over the WebSocket at /graphql")
    return ctx


async def ledger_events(
    info: Info,
    region_code: Annotated[
        str, strawberry.argument(description="行政区划代码：只推送该区划内的台账事件 / only events inside this region.")
    ],
) -> AsyncGenerator[LedgerEvent, None]:
    async for event in _refusals_coded(ledger_live.ledger_events(_live(info), region_code=region_code)):
        yield LedgerEvent(
            type=event.type,
            occurred_at=event.at,
            entry=LedgerEntry.from_row(event.entry),
            handover=handover_from_row(event.handover) if event.handover else None,
            deferral=DeferralRequest.from_row(event.deferral) if event.deferral else None,
        )


def _deadline(d: report_live.Deadline) -> ReportDeadline:
    return ReportDeadline(unit_code=d.unit_code, period=d.period, due_on=d.due_on, days_left=d.days_left)


async def report_events(info: Info) -> AsyncGenerator[ReportEvent, None]:
    async for event in _refusals_coded(report_live.report_events(_live(info))):
        deadline = event.deadline
        yield ReportEvent(
            type=event.type,
            occurred_at=event.at,
            report=Report.from_row(event.report) if event.report else None,
            deadline=_deadline(deadline) if deadline else None,
        )


@strawberry.type(description="实时事件入口 / the root of live events, over graphql-transport-ws.")
class Subscription:
    ledger_events: AsyncGenerator[LedgerEvent, None] = strawberry.subscription(
        resolver=ledger_events,
        description="辖区内台账事件：纳入、转辍学、返校、销号、收到移交、缓学审批；无台账查看权则拒绝 / ledger events "
        "in a region inside my scope: opened, escalated, returned, closed out, handover received, deferral decided; "
        "FORBIDDEN without the ledgers' read right there.",
    )
    report_events: AsyncGenerator[ReportEvent, None] = strawberry.subscription(
        resolver=report_events,
        description="本单位报告的报送、退回、通过，待我复核的报告，以及报送截止提醒（3 天、1 天、已过）/ my units' "
        "reports submitted, returned, approved; submissions awaiting my re-check; my units' deadlines.",
    )
