"""Role grants (授权): an account holds a role within a jurisdiction. Revoked, never deleted."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, optional_time_field, path_type


class GrantStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


def grant_status(grant: RoleGrant, now: datetime) -> GrantStatus:
    """Revoked beats expired; a grant without expiry stays active until revoked."""
    if grant.revoked_at is not None:
        return GrantStatus.REVOKED
    if grant.expires_at is not None and grant.expires_at <= now:
        return GrantStatus.EXPIRED
    return GrantStatus.ACTIVE


class RoleGrant(SQLModel, table=True):
    """(account, role, jurisdiction) with who granted it and why; revocation keeps the row."""

    __tablename__ = "role_grant"
    __table_args__ = (
        # One grant not revoked per account, role and place (ARCHITECTURE §12): `grantRole` inserts with
        # ON CONFLICT DO NOTHING against it. Expiry is a time, not a state, so it cannot be in the index:
        # a new grant of the role ends an expired one first (resolvers/admin/grants.py).
        sa.Index(
            "ux_role_grant_live",
            "account_id",
            "role",
            "scope_path",
            unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(max_length=32)
    jurisdiction_code: str = Field(max_length=12)
    scope_path: str = Field(sa_type=path_type(), index=True)
    expires_at: datetime | None = optional_time_field()
    granted_by: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    granted_at: datetime = created_at_field()
    revoked_at: datetime | None = optional_time_field()
    revoked_by: str | None = Field(default=None, max_length=64)
    revoke_reason: str | None = Field(default=None, max_length=500)
