"""setExportBudget: a permission admin sets one account's export rows per day (README, Budgets)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.account import Account as AccountRow
from models.budget import ExportAllowance
from resolvers import budgets as budget_resolvers

from ..context import Info
from ..errors import AdminError
from ..inputs import ints, stored_in
from ..mutations import run_mutation


@strawberry.type(description="导出额度 / an account's own export budget, set by a permission admin.")
class ExportBudget:
    username: str = strawberry.field(description="账号 / the account.")
    rows_per_day: int = strawberry.field(description="每日可导出行数 / export rows a day (China Standard Time).")
    set_by: str = strawberry.field(description="设定人 / who set it.")
    updated_at: datetime = strawberry.field(description="设定时间 / when.")


@strawberry.input(description="设定导出额度 / set an account's export rows per day.")
class SetExportBudgetInput:
    username: str = strawberry.field(metadata=stored_in(AccountRow, "username"), description="用户名 / username.")
    rows_per_day: int = strawberry.field(
        metadata=ints(0, budget_resolvers.MAX_EXPORT_ROWS_PER_DAY),
        description=f"每日可导出行数 / export rows a day, 0–{budget_resolvers.MAX_EXPORT_ROWS_PER_DAY:,} "
        "(0 stops the account's exports).",
    )


@strawberry.type(description="设定导出额度结果 / result of setExportBudget.")
class SetExportBudgetPayload:
    budget: ExportBudget | None = strawberry.field(default=None, description="导出额度 / the budget as set.")
    errors: list[AdminError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def set_export_budget(info: Info, input: SetExportBudgetInput) -> SetExportBudgetPayload:
    def present(row: ExportAllowance) -> SetExportBudgetPayload:
        budget = ExportBudget(
            username=input.username, rows_per_day=row.rows_per_day, set_by=row.set_by, updated_at=row.updated_at
        )
        return SetExportBudgetPayload(budget=budget)

    return await run_mutation(
        info,
        SetExportBudgetPayload,
        lambda: budget_resolvers.set_export_budget(
            info.context, username=input.username, rows_per_day=input.rows_per_day
        ),
        present,
    )
