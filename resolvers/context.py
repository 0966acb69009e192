"""What every use case receives: the session of this operation's transaction and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal, require_principal


@dataclass
class Context:
    """One GraphQL operation (or one CLI command): one session, one transaction, one caller."""

    session: AsyncSession
    principal: Principal | None
    auth_error: str | None = None
    request_id: str | None = None
    system_actor: str = "system"
    cache: dict[str, Any] = field(default_factory=dict)

    def signed_in(self) -> Principal:
        """The caller, or an UNAUTHENTICATED refusal naming why."""
        return require_principal(self.principal, self.auth_error)

    @property
    def actor(self) -> str:
        """Who the audit trail names: the signed-in account, else the operator (e.g. `cli`)."""
        return self.principal.username if self.principal else self.system_actor
