"""Pushed-down lists (下发核实, POLICY 004 §9): the tasks counties verify, and the progress of each batch.
Importing a list is `POST /rosters` with `kind=PUSHED`; applying it (`applyRosterImport`) routes it.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import types as verification_types


@strawberry.type
class Query:
    verification_tasks: Connection[verification_types.VerificationTask] | None = strawberry.field(
        resolver=verification_types.verification_tasks,
        description="下发核实任务 / tasks of pushed-down lists I may read, oldest first: a county its own, a city or "
        "province those routed into it (VERIFICATION:READ), a sender every task of the lists it sent "
        "(VERIFICATION:SEND); FORBIDDEN for roles with neither.",
    )
    verification_progress: list[verification_types.VerificationProgress] | None = strawberry.field(
        resolver=verification_types.verification_progress,
        description="核实进度（无个人信息）/ the tasks I may read (of one batch, or all) counted per province, city "
        "or county: done, confirmed, not a dropout by reason, re-routed, overdue, unroutable.",
    )


@strawberry.type
class Mutation:
    verify_task: verification_types.VerifyTaskPayload = strawberry.mutation(
        resolver=verification_types.verify_task,
        description="核实下发儿童（县教育局）/ the county bureau's answer on a task: CONFIRMED (ledger entry linked or "
        "opened, source MINISTRY), NOT_DROPOUT (reason and note), NOT_OURS (re-routed to the county named).",
    )
