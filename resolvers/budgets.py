"""Budgets (README, Budgets): the query cost an account may spend per minute and the export rows per day.

The allowance follows the highest jurisdiction level the account holds a live grant at (a province
integrator gets more than a school's staff; none at all counts as a school). A permission admin may
set one account's daily export rows (`set_export_budget`), replacing its level's default. Spends are
counted in PostgreSQL (models/repos/budgets.py), so the budgets hold across server processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from authz.catalogue import Level, level_of_path
from models.budget import ExportAllowance
from models.repos import budgets as budget_repo
from models.repos.budgets import Spend

from .admin.accounts import require_admin, visible_account
from .audit import record_change
from .context import Context
from .errors import BadInput

DEFAULT_QUERY_COST_PER_MINUTE: Mapping[Level, int | None] = {
    Level.NATION: 1_000_000,
    Level.PROVINCE: 600_000,
    Level.CITY: 300_000,
    Level.COUNTY: 150_000,
    Level.TOWNSHIP: 60_000,
    Level.VILLAGE: 30_000,
    Level.SCHOOL: 30_000,
}
DEFAULT_EXPORT_ROWS_PER_DAY: Mapping[Level, int] = {
    Level.NATION: 50_000_000,
    Level.PROVINCE: 20_000_000,
    Level.CITY: 5_000_000,
    Level.COUNTY: 1_000_000,
    Level.TOWNSHIP: 200_000,
    Level.VILLAGE: 50_000,
    Level.SCHOOL: 50_000,
}
MAX_EXPORT_ROWS_PER_DAY = 1_000_000_000  # setExportBudget's bound (checked at the input)
QUERY_BUDGET_SPENT = "QUERY_BUDGET_SPENT"
EXPORT_BUDGET_SPENT = "EXPORT_BUDGET_SPENT"


@dataclass(frozen=True)
class BudgetPolicy:
    """The allowances by level (BAOXUE_QUERY_BUDGETS, BAOXUE_EXPORT_ROWS_PER_DAY); a level's query
    budget of None is no budget: its operations are not counted."""

    query_cost_per_minute: Mapping[Level, int | None] = field(
        default_factory=lambda: dict(DEFAULT_QUERY_COST_PER_MINUTE)
    )
    export_rows_per_day: Mapping[Level, int] = field(default_factory=lambda: dict(DEFAULT_EXPORT_ROWS_PER_DAY))


@dataclass(frozen=True)
class BudgetState:
    """What an answer reports of a budget: the allowance, what remains, and when it is whole again."""

    allowance: int
    remaining: int
    resets_in_seconds: int


class BudgetSpent(Exception):
    """A budget cannot pay for this request: retry after `state.resets_in_seconds` (HTTP 429)."""

    def __init__(self, code: str, zh: str, en: str, state: BudgetState) -> None:
        self.code, self.state = code, state
        super().__init__(f"{zh} / {en}")


def account_level(ctx: Context) -> Level:
    """The highest jurisdiction level the caller holds a live grant at (no grant: a school's)."""
    access = ctx.access()
    levels = [level_of_path(g.scope_path) for g in access.authorizer.grants_of(access.username, access.now)]
    return min(levels, default=Level.SCHOOL)


def _state(spend: Spend, allowance: int) -> BudgetState:
    return BudgetState(allowance, max(0, allowance - spend.spent), spend.resets_in_seconds)


async def charge_query(ctx: Context, cost: int, policy: BudgetPolicy) -> BudgetState | None:
    """Spend an operation's cost from the caller's budget of this minute, or refuse it (BudgetSpent).

    Called before any resolver runs, on the primary, when the operation's transaction holds only the
    sign-in's reads: the spend commits at once on the operation's own connection (a second connection
    per request would let a burst exhaust the pool, every request holding one and waiting for another),
    so a refused or failed operation has still been paid for. None: the caller's level has no budget.
    """
    principal = ctx.signed_in()
    if ctx.on_replica:
        raise RuntimeError("the query budget is spent on the primary, before a query moves to the replica")
    allowance = policy.query_cost_per_minute[account_level(ctx)]
    if allowance is None:
        return None
    spend = await budget_repo.spend_query_cost(ctx.session, principal.account_id, cost, allowance)
    await ctx.session.commit()
    state = _state(spend, allowance)
    if not spend.granted:
        raise BudgetSpent(
            QUERY_BUDGET_SPENT,
            f"本分钟查询额度已用完（额度 {allowance}，本次代价 {cost}），请 {state.resets_in_seconds} 秒后重试",
            f"the query budget of this minute is spent (allowance {allowance}, this operation costs {cost}): "
            f"retry in {state.resets_in_seconds} s",
            state,
        )
    return state


async def export_allowance(ctx: Context, policy: BudgetPolicy, session: AsyncSession | None = None) -> int:
    """The caller's export rows per day: its own allowance if an admin set one, else its level's."""
    principal = ctx.signed_in()
    own = await budget_repo.get_export_allowance(session or ctx.session, principal.account_id)
    return own.rows_per_day if own is not None else policy.export_rows_per_day[account_level(ctx)]


async def export_budget(ctx: Context, policy: BudgetPolicy) -> BudgetState:
    """The caller's export budget today, without spending (for an export to check before it starts)."""
    allowance = await export_allowance(ctx, policy)
    spent, resets = await budget_repo.export_rows_spent_today(ctx.session, ctx.signed_in().account_id)
    return BudgetState(allowance, max(0, allowance - spent), resets)


async def spend_export_rows(ctx: Context, rows: int, policy: BudgetPolicy) -> BudgetState:
    """Spend `rows` export rows from the caller's budget of today (China Standard Time), all or none.

    An export reserves its rows this way before the first byte (`reserve_export_rows`); `BudgetSpent`
    (EXPORT_BUDGET_SPENT, HTTP 429 with Retry-After until midnight) when they do not fit, or when nothing
    is left at all. The spend commits in a transaction of its own, so it stands whatever becomes of the
    export; `settle_export_rows` corrects it by what was really sent.
    """
    if rows < 0:
        raise ValueError("rows must not be negative")
    principal = ctx.signed_in()
    if ctx.sessions is None:
        raise RuntimeError("no primary sessions in this context to count the budget")
    async with ctx.sessions() as session:
        allowance = await export_allowance(ctx, policy, session)
        spend = await budget_repo.spend_export_rows(session, principal.account_id, rows, allowance)
        await session.commit()
    state = _state(spend, allowance)
    if not spend.granted or (rows == 0 and state.remaining == 0):
        raise BudgetSpent(
            EXPORT_BUDGET_SPENT,
            f"今日导出额度不足（每日 {allowance} 行，剩余 {state.remaining} 行，本次需要 {rows} 行）："
            "请缩小范围（region、updatedAfter、筛选）、明日再试或联系权限管理员",
            f"today's export budget does not cover this export ({allowance} rows a day, {state.remaining} left, "
            f"it needs {rows}): narrow it (region, updatedAfter, filters), retry tomorrow or ask your permission "
            "admin",
            state,
        )
    return state


async def reserve_export_rows(ctx: Context, policy: BudgetPolicy, count: Callable[[int], Awaitable[int]]) -> int:
    """Reserve an export's rows before its first byte: `count(limit)` counts them (up to `limit`), and they
    are spent all or none. Spending while the rows stream would need a second connection per export."""
    remaining = (await export_budget(ctx, policy)).remaining
    rows = await count(remaining + 1)
    await spend_export_rows(ctx, rows, policy)
    return rows


async def settle_export_rows(ctx: Context, policy: BudgetPolicy, reserved: int, sent: int) -> None:
    """After the stream: pay for rows sent beyond the reservation, give back those never sent."""
    if sent != reserved:
        allowance = await export_allowance(ctx, policy)
        await budget_repo.settle_export_rows(ctx.session, ctx.signed_in().account_id, sent - reserved, allowance)


async def set_export_budget(ctx: Context, *, username: str, rows_per_day: int) -> ExportAllowance:
    """Set one account's export rows per day. Only a permission admin over the account's jurisdiction
    (others: FORBIDDEN, or NOT_FOUND for an account outside it), never for the admin's own account."""
    require_admin(ctx)
    account = await visible_account(ctx, username, "WRITE")
    if ctx.principal is not None and account.username == ctx.principal.username:
        raise BadInput("username", "SELF_GRANT", "不能为自己设定导出额度", "you cannot set your own export budget")
    assert account.id is not None
    before = await budget_repo.get_export_allowance(ctx.session, account.id)
    previous = before.rows_per_day if before is not None else None
    allowance = await budget_repo.set_export_allowance(ctx.session, account.id, rows_per_day, ctx.actor)
    await record_change(
        ctx,
        action="account.export_budget",
        target_type="Account",
        target_id=username,
        scope_path=account.home_path,
        summary={"before": {"rowsPerDay": previous}, "after": {"rowsPerDay": rows_per_day}},
    )
    return allowance
