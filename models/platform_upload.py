"""Cases sent up to the ministry's national platform (录入全国基础教育管理服务平台, POLICY 004 §9).

- `platform_change` — one row per change the platform must be told of: an entry opened on the suspected or
  dropout ledger, returned, reopened, placed, deferred or closed out. A trigger on `ledger_entry`
  (migration 0023) writes it in the same transaction as the change itself, so a change that commits is
  owed, and one that rolls back never was. `batch_id` is null while it is owed (不漏一人).
- `platform_batch` — one upload of a county: its number within the county, its status (sent, failed,
  accepted) with who/when/why. A failed batch puts its changes back to owed; the batch and its lines stay.
- `platform_batch_line` — what the batch's file holds, stored as it was made, so a download later gives
  the same bytes (README, "Cases sent up").
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, version_field
from .child import Gender
from .ledger import DropoutCategory


class PlatformChangeKind(enum.StrEnum):
    """What happened to an entry, as the platform's 状态 column names it."""

    SUSPECTED = "SUSPECTED"  # 新增疑似辍学 (an entry opened on the suspected ledger)
    DROPOUT = "DROPOUT"  # 新增辍学 (opened on the dropout ledger, an escalation included)
    RETURNED = "RETURNED"  # 已返校
    REOPENED = "REOPENED"  # 返校后再次缺课 (a returned entry open again)
    PLACED = "PLACED"  # 已安置
    DEFERRED = "DEFERRED"  # 延缓入学（批准）
    CLOSED_OUT = "CLOSED_OUT"  # 已销号


PLATFORM_STATUS_LABELS: dict[PlatformChangeKind, str] = {
    PlatformChangeKind.SUSPECTED: "疑似辍学",
    PlatformChangeKind.DROPOUT: "辍学",
    PlatformChangeKind.RETURNED: "已返校",
    PlatformChangeKind.REOPENED: "再次缺课",
    PlatformChangeKind.PLACED: "已安置",
    PlatformChangeKind.DEFERRED: "延缓入学",
    PlatformChangeKind.CLOSED_OUT: "已销号",
}


class UploadStatus(enum.StrEnum):
    SENT = "SENT"  # made and handed over; its changes are no longer owed
    FAILED = "FAILED"  # the platform refused or lost it: its changes are owed again (resend)
    ACCEPTED = "ACCEPTED"  # the platform took it


class PlatformChange(SQLModel, table=True):
    __tablename__ = "platform_change"
    __table_args__ = (
        # The owed changes of a county, in the order they were recorded.
        sa.Index("ix_platform_change_owed", "county_path", "id", postgresql_where=sa.text("batch_id IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True, sa_type=sa.BigInteger)
    county_path: str = Field(sa_type=path_type(), description="the entry's responsible county at the change")
    kind: PlatformChangeKind = Field(sa_type=enum_type(PlatformChangeKind))
    happened_on: date = Field(description="日期: the day of the change (opened, returned, placed, decided, closed)")
    recorded_at: datetime = created_at_field()
    batch_id: int | None = Field(default=None, foreign_key="platform_batch.id", sa_type=sa.BigInteger)
    province_code: str = Field(max_length=2)


class PlatformBatch(SQLModel, table=True):
    __tablename__ = "platform_batch"
    __table_args__ = (sa.UniqueConstraint("county_path", "number", name="uq_platform_batch_number"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    county_code: str = Field(max_length=12)
    county_path: str = Field(sa_type=path_type(), index=True)
    number: int = Field(description="the county's batch number: 1, 2, …")
    status: UploadStatus = Field(default=UploadStatus.SENT, sa_type=enum_type(UploadStatus))
    lines: int = 0
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    failed_by: str | None = Field(default=None, max_length=64)
    failed_at: datetime | None = optional_time_field()
    failure_reason: str | None = Field(default=None, max_length=500)
    accepted_by: str | None = Field(default=None, max_length=64)
    accepted_at: datetime | None = optional_time_field()
    version: int = version_field()
    province_code: str = Field(max_length=2)


class PlatformBatchLine(SQLModel, table=True):
    """One line of a batch's file, as the file gives it (student-registry fields, 学籍字段)."""

    __tablename__ = "platform_batch_line"

    batch_id: int = Field(foreign_key="platform_batch.id", primary_key=True, sa_type=sa.BigInteger)
    seq: int = Field(primary_key=True)
    change_id: int = Field(foreign_key="platform_change.id", index=True, sa_type=sa.BigInteger)
    entry_id: int = Field(sa_type=sa.BigInteger)
    child_id: int = Field(sa_type=sa.BigInteger)
    kind: PlatformChangeKind = Field(sa_type=enum_type(PlatformChangeKind))
    registry_number: str | None = Field(default=None, max_length=20)
    national_id: str | None = Field(default=None, max_length=18)
    name: str = Field(max_length=50)
    gender: Gender = Field(sa_type=enum_type(Gender))
    school_code: str | None = Field(default=None, max_length=10)
    grade: int | None = None
    category: DropoutCategory | None = Field(default=None, sa_type=enum_type(DropoutCategory))
    happened_on: date
    province_code: str = Field(max_length=2)
