"""Accounts, service-account API tokens and the login throttle."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, optional_time_field, path_type, updated_at_field, version_field


class Account(SQLModel, table=True):
    """A person's or a service's account. Disabled, never deleted (ARCHITECTURE §5).

    `home_path` is the jurisdiction it belongs to (where it was created): admins see accounts there.
    """

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str | None = Field(default=None, max_length=200)
    is_service: bool = Field(default=False)
    home_path: str = Field(default="", sa_type=path_type(), index=True)
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    disabled_at: datetime | None = optional_time_field()
    version: int = version_field()


class ApiToken(SQLModel, table=True):
    """A service-account token: only its SHA-256 is stored; the prefix stays visible to tell tokens apart."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, unique=True)
    token_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = optional_time_field()
    last_used_at: datetime | None = optional_time_field()


class LoginThrottle(SQLModel, table=True):
    """Failed logins per key (`user:<name>` or `client:<address>`) in the current window."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = Field(default=0)
    window_started_at: datetime = created_at_field()
