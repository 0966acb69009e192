"""Attendance (考勤): absences per child per school day, and the class registers that make the
unmarked children of a class present that day (POLICY 003 annex 1 notes 1–2 read these)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type
from .ledger_rules import LeaveReason, Mark


class AttendanceMark(SQLModel, table=True):
    """One child's mark on one school day; a later record of the same day replaces it."""

    __tablename__ = "attendance_mark"
    __table_args__ = (
        sa.Index("ix_attendance_mark_day", "day"),
        sa.CheckConstraint(
            "(mark = 'EXCUSED') = (leave_reason IS NOT NULL) AND (leave_until IS NULL OR leave_until > day)",
            name="ck_attendance_mark_leave",
        ),
    )

    child_id: int = Field(foreign_key="child.id", primary_key=True, sa_type=sa.BigInteger)
    day: date = Field(primary_key=True)
    mark: Mark = Field(sa_type=enum_type(Mark))
    # Leave (请假, POLICY 002 二(七)): its reason, and the last day it covers when longer than the day.
    leave_reason: LeaveReason | None = Field(default=None, sa_type=enum_type(LeaveReason))
    leave_until: date | None = None
    school_code: str = Field(max_length=10)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)


class ClassRegister(SQLModel, table=True):
    """A class's register was taken that day: every child of the class without a mark was present."""

    __tablename__ = "class_register"

    school_code: str = Field(foreign_key="school.code", primary_key=True, max_length=10)
    grade: int = Field(primary_key=True, ge=1, le=9)
    day: date = Field(primary_key=True)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)
