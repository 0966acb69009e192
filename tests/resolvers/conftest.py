"""Resolver-level tests: use cases called with a `Context` for a demo account, no HTTP, no schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from authz.authentication import principal_of
from authz.enforcer import Authorizer
from authz.principal import CredentialKind
from authz.state import load_grants
from models.repos import accounts
from resolvers.context import Context
from resolvers.errors import BadInput

ContextFor = Callable[[str], Awaitable[Context]]


@pytest.fixture(scope="session")
async def authorizer(engine: Any) -> Authorizer:
    """The seeded grants, as the app's authorizer holds them; built once per worker."""
    async with AsyncSession(engine) as session:
        return Authorizer(await load_grants(session))


@pytest.fixture
def context_for(session: AsyncSession, authorizer: Authorizer) -> ContextFor:
    """`await context_for(username)`: the context of an operation by that demo account, in the test's session."""

    async def make(username: str) -> Context:
        account = await accounts.get_account_by_username(session, username)
        assert account is not None, f"no account {username}"
        assert account.active, f"{username} is disabled"
        principal = principal_of(account, CredentialKind.PASSWORD_JWT)
        return Context(session=session, principal=principal, authorizer=authorizer, system_actor="test")

    return make


def refusal(excinfo: pytest.ExceptionInfo[BadInput]) -> tuple[str, str]:
    """The field and code of a typed refusal caught with `pytest.raises(BadInput)`."""
    return excinfo.value.error.field, excinfo.value.error.code
