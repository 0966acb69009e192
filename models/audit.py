"""The audit trail: every mutation and every full read of personal data (ARCHITECTURE §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import created_at_field, path_type


class AuditLog(SQLModel, table=True):
    """Who did what to which object, when, why, with a before/after summary and the request id.

    `scope_path` is the jurisdiction the target belongs to, so the log can be read within scope.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    at: datetime = created_at_field()
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=64)
    target_id: str = Field(max_length=64)
    scope_path: str = Field(default="", sa_type=path_type(), index=True)
    reason: str | None = Field(default=None, max_length=500)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=postgresql.JSONB)
    request_id: str | None = Field(default=None, max_length=64)
