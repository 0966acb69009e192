"""The change feed (issue 15 §2, ARCHITECTURE §10): one row per create, update, close-out or status change.

Rows are written by deferred triggers (migration 0019) at the writing transaction's commit, under one
transaction-level advisory lock, so `seq` is handed out in commit order: a transaction takes the lock
only after the one before it has become visible, so a reader that has seen `seq` N has seen every
change numbered below N that will ever exist. Reading "everything after my cursor" therefore never
skips a row, however the writers interleave. Each row keeps the object as of that change
(`to_jsonb` of the row) and the jurisdiction paths it was seen under then (and, when they changed,
the ones it had before, so a reader who could see it before and not now gets a LEFT_SCOPE tombstone).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import path_type

FEED_SETTING = "baoxue.change_feed"
"""A session setting: `off` makes the triggers skip (the synthetic seed's default; README, Integrators)."""

FEED_TRIGGER = "change_feed"
"""The name of the trigger on each followed table (migration 0019)."""


class ChangeType(enum.StrEnum):
    """The objects the feed follows, by their GraphQL type names (global IDs use the same names)."""

    STUDENT = "Student"
    LEDGER_ENTRY = "LedgerEntry"
    PERSUASION_VISIT = "PersuasionVisit"
    CASE_PLAN = "CasePlan"
    DEFERRAL_REQUEST = "DeferralRequest"
    HANDOVER = "Handover"
    REPORT = "Report"


class ChangeOperation(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    STATUS_CHANGE = "STATUS_CHANGE"
    CLOSE = "CLOSE"
    LEFT_SCOPE = "LEFT_SCOPE"  # never stored: the reader's view of a row whose paths moved out of its scope


def _path() -> Any:
    return Field(default=None, sa_type=path_type(), nullable=True)


class ChangeEvent(SQLModel, table=True):
    __tablename__ = "change_event"
    __table_args__ = (sa.Index("ix_change_event_changed_at", "changed_at", postgresql_using="brin"),)

    seq: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    changed_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), sa_column_kwargs={"server_default": sa.func.now()}, nullable=False
    )
    object_type: str = Field(max_length=24)
    object_id: int = Field(sa_type=sa.BigInteger)
    operation: str = Field(max_length=16)
    version: int = Field(sa_type=sa.BigInteger)
    object: dict[str, Any] = Field(sa_type=postgresql.JSONB)
    # The paths the object was seen under at the change (the columns its type's list scope reads).
    school_path: str | None = _path()
    household_path: str | None = _path()
    residence_path: str | None = _path()
    responsible_path: str | None = _path()
    handover_path: str | None = _path()
    unit_path: str | None = _path()
    # Only when the paths changed: the ones before (who saw it then and not now gets LEFT_SCOPE).
    moved: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    was_school_path: str | None = _path()
    was_household_path: str | None = _path()
    was_residence_path: str | None = _path()
    was_responsible_path: str | None = _path()
    was_handover_path: str | None = _path()


class ChangeFeedState(SQLModel, table=True):
    """One row: the highest `seq` pruned (a cursor below it has lost changes: CURSOR_EXPIRED)."""

    __tablename__ = "change_feed_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="ck_change_feed_state_one_row"),)

    id: int = Field(default=1, primary_key=True)
    pruned_through: int = Field(default=0, sa_type=sa.BigInteger)
    pruned_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)


class ChangeFeedScope(SQLModel, table=True):
    """The grants an account read the feed under, by the scope mark its cursors carry: when a grant is
    narrowed, what the account saw under the old mark and cannot see now is sent as LEFT_SCOPE tombstones
    (resolvers/changes/reading.py). Kept per account: a cursor never reveals another account's scope."""

    __tablename__ = "change_feed_scope"

    account_id: int = Field(primary_key=True, foreign_key="account.id")
    mark: str = Field(primary_key=True, max_length=16)
    grants: dict[str, Any] = Field(sa_type=postgresql.JSONB)  # "OBJECT:ACTION" → line → paths
    # The newest change when the account last read under this mark: no cursor of this mark lies beyond it.
    last_seq: int = Field(default=0, sa_type=sa.BigInteger)
    first_seen: datetime = Field(
        sa_type=sa.DateTime(timezone=True), sa_column_kwargs={"server_default": sa.func.now()}, nullable=False
    )
