"""The daily export budget an export spends from (README, Budgets): `spend_export_rows`, `export_budget`.

The export (GET /exports/{dataset}) calls these; here they run on their own, for demo accounts.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authz.authentication import principal_of
from authz.catalogue import Level
from authz.enforcer import Authorizer
from authz.principal import CredentialKind
from models.repos import accounts
from resolvers.budgets import (
    DEFAULT_QUERY_COST_PER_MINUTE,
    EXPORT_BUDGET_SPENT,
    BudgetPolicy,
    BudgetSpent,
    export_budget,
    set_export_budget,
    spend_export_rows,
)
from resolvers.context import Context
from tests.ledger_support import WUDING_PRIMARY

STAFF = f"staff-school-{WUDING_PRIMARY}"
SCHOOL_ROWS, PROVINCE_ROWS = 100, 10_000
POLICY = BudgetPolicy(
    DEFAULT_QUERY_COST_PER_MINUTE,
    {level: PROVINCE_ROWS if level <= Level.PROVINCE else SCHOOL_ROWS for level in Level},
)


@pytest.fixture
def context_of(session: AsyncSession, sessions: async_sessionmaker[AsyncSession], authorizer: Authorizer):
    async def make(username: str) -> Context:
        account = await accounts.get_account_by_username(session, username)
        assert account is not None
        principal = principal_of(account, CredentialKind.SERVICE_TOKEN)
        return Context(session=session, principal=principal, authorizer=authorizer, sessions=sessions)

    return make


async def test_an_export_spends_its_rows_until_the_day_is_spent(context_of):
    ctx = await context_of(STAFF)
    assert (await export_budget(ctx, POLICY)).remaining == SCHOOL_ROWS
    assert (await spend_export_rows(ctx, 60, POLICY)).remaining == 40
    with pytest.raises(BudgetSpent) as refused:
        await spend_export_rows(ctx, 41, POLICY)  # all or none: 40 are left
    assert refused.value.code == EXPORT_BUDGET_SPENT
    assert refused.value.state.remaining == 40
    assert "剩余 40 行，本次需要 41 行" in str(refused.value)
    assert "40 left, it needs 41" in str(refused.value)
    assert 1 <= refused.value.state.resets_in_seconds <= 24 * 3600
    assert (await spend_export_rows(ctx, 40, POLICY)).remaining == 0
    with pytest.raises(BudgetSpent):
        await spend_export_rows(ctx, 0, POLICY)  # the check an export makes before its first byte
    assert (await export_budget(ctx, POLICY)).remaining == 0


async def test_a_province_integrator_may_export_more_than_a_school(context_of):
    integrator = await context_of("integrator-province-53")
    assert (await spend_export_rows(integrator, 5_000, POLICY)).remaining == PROVINCE_ROWS - 5_000
    staff = await context_of(STAFF)
    with pytest.raises(BudgetSpent):
        await spend_export_rows(staff, 5_000, POLICY)


async def test_an_admins_allowance_replaces_the_levels_default(context_of):
    admin = await context_of("admin-county-532329")
    await set_export_budget(admin, username=STAFF, rows_per_day=1_000)
    staff = await context_of(STAFF)
    assert (await export_budget(staff, POLICY)).allowance == 1_000
    assert (await spend_export_rows(staff, 999, POLICY)).remaining == 1
    await set_export_budget(admin, username=STAFF, rows_per_day=0)
    with pytest.raises(BudgetSpent):
        await spend_export_rows(staff, 1, POLICY)
