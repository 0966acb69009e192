"""Term-start reporting (开学报到, POLICY 002 一(三)): "每学期开学后15天内，对未报到的学生登记造册并逐一核实原因".

The unreported list (未报到名单) itself is computed from the data on every read (models/repos/term_start.py):
enrolment history, attendance and the province's term dates. What is kept are the people's findings:

- `unreported_explanation` — the school's verified reason for one pupil and one term (one row per
  pupil × term, versioned, audited): transferred (to a receiving school that shows the pupil), ill,
  on leave, moved, unreachable, or put on the suspected ledger (the entry it opened or found).
- `unreported_visit` — a persuasion round on a listed child at term start (每学期开学初要协助各中小学校开展
  1-2次劝学工作，并做好记录), recorded by the township, the village or the school, whether or not the child
  has a ledger entry. Never deleted.
- `report_unreported` — the list as a school's term-start report (cadence TERM_START) froze it in one
  version: the written report to the county bureau and the township government.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, updated_at_field, version_field
from .child import Gender
from .persuasion import VisitMethod


class UnreportedReason(enum.StrEnum):
    """Why a listed pupil has not reported (核实原因, POLICY 002 一(三))."""

    TRANSFERRED = "TRANSFERRED"  # 转学: the receiving school shows the pupil
    ILL = "ILL"  # 因病
    ON_LEAVE = "ON_LEAVE"  # 请假
    MOVED = "MOVED"  # 随家庭迁居
    UNREACHABLE = "UNREACHABLE"  # 无法联系
    SUSPECTED = "SUSPECTED"  # 列入疑似辍学台账


UNREPORTED_REASON_LABELS: dict[UnreportedReason, str] = {
    UnreportedReason.TRANSFERRED: "已转学（转入学校可查）/ transferred to a school that shows the pupil",
    UnreportedReason.ILL: "因病未到校 / ill",
    UnreportedReason.ON_LEAVE: "请假 / on leave",
    UnreportedReason.MOVED: "随家庭迁居 / moved away with the family",
    UnreportedReason.UNREACHABLE: "无法联系 / unreachable",
    UnreportedReason.SUSPECTED: "列入疑似辍学台账 / put on the suspected-dropout ledger",
}

# Reasons the school states in words: the note is required (核实原因).
NOTE_REQUIRED = frozenset(
    {UnreportedReason.ILL, UnreportedReason.ON_LEAVE, UnreportedReason.MOVED, UnreportedReason.UNREACHABLE}
)


class UnreportedExplanation(SQLModel, table=True):
    """The verified reason one pupil listed at one school did not report at one term's start."""

    __tablename__ = "unreported_explanation"
    __table_args__ = (sa.UniqueConstraint("child_id", "term", name="uq_unreported_explanation_child_term"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    term: str = Field(max_length=16, description="2026-AUTUMN")
    school_code: str = Field(foreign_key="school.code", max_length=10, description="the school that lists the pupil")
    school_path: str = Field(sa_type=path_type(), index=True)
    reason: UnreportedReason = Field(sa_type=enum_type(UnreportedReason))
    receiving_school_code: str | None = Field(default=None, foreign_key="school.code", max_length=10)
    note: str | None = Field(default=None, max_length=500)
    entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id", sa_type=sa.BigInteger)
    explained_by: str = Field(max_length=64)
    explained_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()
    province_code: str = Field(max_length=2)


class UnreportedVisit(SQLModel, table=True):
    """A term-start persuasion round (开学初劝学) on a listed child. Never deleted."""

    __tablename__ = "unreported_visit"
    __table_args__ = (sa.Index("ix_unreported_visit_child_term", "child_id", "term"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", sa_type=sa.BigInteger)
    term: str = Field(max_length=16)
    visited_on: date
    method: VisitMethod = Field(sa_type=enum_type(VisitMethod))
    participants: str = Field(max_length=200)
    outcome: str = Field(max_length=1000)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)


class ReportUnreported(SQLModel, table=True):
    """One pupil of a term-start report's version, as it stood when generated (frozen once submitted)."""

    __tablename__ = "report_unreported"
    __table_args__ = (sa.UniqueConstraint("revision_id", "child_id", name="uq_report_unreported_child"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    revision_id: int = Field(foreign_key="report_revision.id", index=True, sa_type=sa.BigInteger)
    seq: int
    child_id: int = Field(foreign_key="child.id", sa_type=sa.BigInteger)
    name: str = Field(max_length=50)
    gender: Gender = Field(sa_type=enum_type(Gender))
    grade: int
    days_absent: int = Field(description="school days recorded absent without leave in the window")
    on_leave: bool = Field(description="on leave (请假) on a day of the window")
    reason: UnreportedReason | None = Field(default=None, sa_type=enum_type(UnreportedReason))
    receiving_school_code: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, max_length=500)
    entry_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    visits: int = Field(default=0, description="term-start persuasion rounds recorded by then")
    province_code: str = Field(max_length=2)
