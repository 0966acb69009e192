"""Persisted operations: the GraphQL documents a client may send by their SHA-256 alone (README,
Persisted operations). Registered from the client's manifest by `baoxue operations add`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field


class PersistedOperation(SQLModel, table=True):
    """One document, keyed by the lowercase hex SHA-256 of its exact text (as the client hashed it)."""

    __tablename__ = "persisted_operation"

    sha256: str = Field(primary_key=True, min_length=64, max_length=64)
    document: str
    operation_name: str | None = Field(default=None, max_length=200)
    added_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
