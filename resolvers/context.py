"""What every use case receives: the session of this operation's transaction and the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authz.access import Access
from authz.enforcer import Authorizer
from authz.principal import Principal, require_principal
from authz.state import GrantChange
from models.base import utcnow


@dataclass
class Context:
    """One GraphQL operation (or one CLI command): one session, one transaction, one caller."""

    session: AsyncSession
    principal: Principal | None
    auth_error: str | None = None
    request_id: str | None = None
    system_actor: str = "system"
    operator: bool = False  # the operator's CLI: acts without a grant, still audited
    authorizer: Authorizer | None = None
    apply_grant_change: Callable[[GrantChange], None] | None = None
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    # Audit rows that must survive even if the operation rolls back (full reads of personal data
    # already sent to the caller): written again in a transaction of their own after a rollback.
    durable_audit: list[dict[str, Any]] = field(default_factory=list)
    sessions: async_sessionmaker[AsyncSession] | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    # A read replica (BAOXUE_READ_REPLICA_URL): an operation known to only read may run there.
    replica_sessions: async_sessionmaker[AsyncSession] | None = None
    on_replica: bool = False
    # A query on the primary reads without a transaction, each statement committing by itself
    # (baoxue/database.py: autocommit_sessions); a mutation moves to `sessions` first (`begin_writes`).
    autocommit: bool = False

    async def use_replica(self) -> None:
        """Run the rest of this read-only operation on the read replica, if one is configured.

        The primary's session is closed: it did the sign-in lookup, and nothing else. Audit rows
        this operation must keep are then written to the primary after it (`keep_durable_audit`).
        """
        if self.replica_sessions is None or self.sessions is None or self.on_replica:
            return
        await self.session.close()
        self.session = self.replica_sessions()
        self.on_replica = True
        self.autocommit = False  # the replica's session reads in a (read-only) transaction

    async def begin_writes(self) -> None:
        """Run the rest of this operation in one transaction: a mutation commits or rolls back as a whole.

        The sign-in's session read without one (`autocommit`); it is closed, like the primary's before
        a replica read.
        """
        if not self.autocommit or self.sessions is None:
            return
        await self.session.close()
        self.session = self.sessions()
        self.autocommit = False

    def signed_in(self) -> Principal:
        """The caller, or an UNAUTHENTICATED refusal naming why."""
        return require_principal(self.principal, self.auth_error)

    def access(self) -> Access:
        """The signed-in caller's access for this operation (UNAUTHENTICATED without one)."""
        principal = self.signed_in()
        if "access" not in self.cache:
            if self.authorizer is None:
                raise RuntimeError("no authorizer in this context")
            self.cache["access"] = Access(principal, self.authorizer, utcnow())
        access: Access = self.cache["access"]
        return access

    @property
    def actor(self) -> str:
        """Who the audit trail names: the signed-in account, else the operator (e.g. `cli`)."""
        return self.principal.username if self.principal else self.system_actor
