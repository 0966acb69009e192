"""Enrolment history (学籍变动): enrol, transfer out and in, graduate, leave. The child row holds the
current enrolment; these events keep how it came to be."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type


class EnrolmentChange(enum.StrEnum):
    ENROL = "ENROL"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    GRADUATE = "GRADUATE"
    LEAVE = "LEAVE"


ENROLMENT_CHANGE_LABELS: dict[EnrolmentChange, str] = {
    EnrolmentChange.ENROL: "入学 / enrol",
    EnrolmentChange.TRANSFER_OUT: "转出 / transfer out",
    EnrolmentChange.TRANSFER_IN: "转入 / transfer in",
    EnrolmentChange.GRADUATE: "毕业 / graduate",
    EnrolmentChange.LEAVE: "离校 / leave school",
}

# Changes that end an enrolment (the child has no school afterwards) and those that start one.
ENDS_ENROLMENT = frozenset({EnrolmentChange.TRANSFER_OUT, EnrolmentChange.GRADUATE, EnrolmentChange.LEAVE})
STARTS_ENROLMENT = frozenset({EnrolmentChange.ENROL, EnrolmentChange.TRANSFER_IN})


class EnrolmentEvent(SQLModel, table=True):
    __tablename__ = "enrolment_event"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    change: EnrolmentChange = Field(sa_type=enum_type(EnrolmentChange))
    on: date
    school_code: str = Field(max_length=10)
    grade: int = Field(ge=1, le=9)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)
