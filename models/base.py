"""Shared columns and helpers for every table."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field

CHINA_TIME = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date where the schools are (China Standard Time): school days and deadlines use it."""
    return datetime.now(CHINA_TIME).date()


def created_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now()},
        nullable=False,
    )


def updated_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "onupdate": utcnow},
        nullable=False,
    )


def optional_time_field() -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)


def version_field() -> Any:
    """Optimistic-concurrency counter (ARCHITECTURE §5): bumped by every write."""
    return Field(default=1, sa_column_kwargs={"server_default": "1"}, nullable=False)


def path_type() -> sa.Text:
    """Materialized jurisdiction paths use the C collation so a btree index serves prefix LIKE."""
    return sa.Text(collation="C")


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Policy codes stored as readable strings (no PostgreSQL enum types to migrate)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=max(24, *(len(str(m.value)) for m in enum_cls)),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
