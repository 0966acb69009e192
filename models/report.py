"""Reports of the "four ones" (四个一, POLICY 004 §4–§7): one report per unit, cadence and period, kept in
numbered versions; each version holds its own frozen snapshot.

- `report` — the school's month, the county's quarter (or Guyuan's term survey), the city's semester,
  the province's school year: its unit (school or region) and path on the education line, period,
  deadline and the status of its current version.
- `report_revision` — version 1, 2, …: drafted, submitted, then approved or returned. A returned
  report is corrected as a new version; every version is kept with its rows, verdicts and findings.
- `report_figure` — Guyuan Table 1 (POLICY 003 annex 1) as generated: one row per stage, the total is
  their sum. `report_child` — Table 2 (annex 2, the dropout list) and the suspected list.
  Snapshot rows are written when a draft is generated and never recomputed once submitted.
- `report_verdict`, `report_finding` — the level above's re-check (复核) of a version.
- `report_source` — which approved versions an aggregate version (a county's, city's or province's)
  summed.
- `report_assessment` — the city's findings and guidance on each of its counties (调研, §6), the
  province's grade and findings on each of its cities (评估, §7), written on the draft before submission.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, updated_at_field, version_field
from .child import Gender, Stage
from .ledger import DropoutCategory, Ledger
from .reporting_calendar import Cadence, ReportLevel


class ReportStatus(enum.StrEnum):
    DRAFT = "DRAFT"  # generated, may be regenerated and annotated
    SUBMITTED = "SUBMITTED"  # frozen, awaiting the re-check one level up
    RETURNED = "RETURNED"  # sent back with reasons: corrected as a new version
    APPROVED = "APPROVED"  # re-checked and locked; the level above may still return it with a reason


LOCKED = (ReportStatus.SUBMITTED, ReportStatus.APPROVED)


def is_locked(status: ReportStatus) -> bool:
    """A report no longer changes once submitted or approved (`Report.locked`)."""
    return status in LOCKED


def is_locked_sql(status: Any) -> Any:
    """`is_locked` in SQL (the compiled `reports`; a test holds the two equal on every status)."""
    return sa.func.coalesce(status.in_([s.value for s in LOCKED]), sa.false())


def is_late(days_late: int | None) -> bool:
    """Was the first submission after the deadline (`Report.late`)?"""
    return bool(days_late)


def is_late_sql(days_late: Any) -> Any:
    """`is_late` in SQL (a test holds the two equal over generated values, null and zero included)."""
    return sa.func.coalesce(days_late, 0) != 0


class ReviewDecision(enum.StrEnum):
    APPROVE = "APPROVE"
    RETURN = "RETURN"


class Verdict(enum.StrEnum):
    CONFIRMED = "CONFIRMED"
    DISPUTED = "DISPUTED"


class AssessmentGrade(enum.StrEnum):
    """The province's grade of a city's work (评估等次, POLICY 004 §7)."""

    EXCELLENT = "EXCELLENT"  # 优秀
    GOOD = "GOOD"  # 良好
    PASS = "PASS"  # noqa: S105  合格 (a grade, not a password)
    FAIL = "FAIL"  # 不合格


ASSESSMENT_GRADE_LABELS = {
    AssessmentGrade.EXCELLENT: "优秀 / excellent",
    AssessmentGrade.GOOD: "良好 / good",
    AssessmentGrade.PASS: "合格 / pass",
    AssessmentGrade.FAIL: "不合格 / fail",
}


def _text(length: int) -> Any:
    return Field(default=None, max_length=length)


class Report(SQLModel, table=True):
    __tablename__ = "report"
    __table_args__ = (
        sa.UniqueConstraint("unit_code", "cadence", "period", name="uq_report_unit_period"),
        sa.Index("ix_report_level_period", "level", "period"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    level: ReportLevel = Field(sa_type=enum_type(ReportLevel))
    cadence: Cadence = Field(sa_type=enum_type(Cadence))
    period: str = Field(max_length=24)
    period_start: date
    period_end: date
    due_on: date
    unit_code: str = Field(max_length=12, description="the school's code or the region's division code")
    unit_name: str = Field(max_length=200)
    unit_path: str = Field(sa_type=path_type(), index=True)
    status: ReportStatus = Field(default=ReportStatus.DRAFT, sa_type=enum_type(ReportStatus))
    revision: int = Field(default=1, description="the number of the current version")
    first_submitted_at: datetime | None = optional_time_field()
    days_late: int | None = Field(default=None, description="days the first submission came after the deadline")
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()
    province_code: str = Field(max_length=2, index=True)


class ReportRevision(SQLModel, table=True):
    __tablename__ = "report_revision"
    __table_args__ = (sa.UniqueConstraint("report_id", "number", name="uq_report_revision_number"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    report_id: int = Field(foreign_key="report.id", index=True, sa_type=sa.BigInteger)
    number: int
    status: ReportStatus = Field(default=ReportStatus.DRAFT, sa_type=enum_type(ReportStatus))
    as_of: date = Field(description="the day the figures describe: the period's last day (a school year: 30 June)")
    generated_by: str = Field(max_length=64)
    generated_at: datetime = created_at_field()
    units_expected: int | None = Field(default=None, description="an aggregate: how many units it should sum")
    cohort_size: int | None = Field(default=None, description="the assessment's cohort (巩固率 denominator)")
    cohort_retained: int | None = Field(default=None, description="of the cohort, still in school or graduated")
    visit_term: str | None = Field(default=None, max_length=16, description="a county quarter: the term starting in it")
    schools_visited: int | None = Field(default=None, description="of its schools, visited at that term's start")
    schools_to_visit: int | None = Field(default=None, description="the county's schools then")
    submitted_by: str | None = _text(64)
    submitted_at: datetime | None = optional_time_field()
    days_late: int | None = None
    cosigned_by: str | None = _text(64)
    cosigned_at: datetime | None = optional_time_field()
    cosign_note: str | None = _text(500)
    reviewed_by: str | None = _text(64)
    reviewed_at: datetime | None = optional_time_field()
    decision: ReviewDecision | None = Field(default=None, sa_type=enum_type(ReviewDecision))
    review_reasons: str | None = _text(2000)
    returned_by: str | None = _text(64)
    returned_at: datetime | None = optional_time_field()
    return_reason: str | None = _text(2000)
    province_code: str = Field(max_length=2)


class ReportFigure(SQLModel, table=True):
    """One row of Table 1 (摸底排查统计报表): a stage's counts as of the version's `as_of` day."""

    __tablename__ = "report_figure"

    revision_id: int = Field(foreign_key="report_revision.id", primary_key=True, sa_type=sa.BigInteger)
    stage: Stage = Field(primary_key=True, sa_type=enum_type(Stage))
    should_attend: int = 0  # 应到校人数
    on_leave: int = 0  # 请假未到校人数
    suspected: int = 0  # 疑似辍学人数
    dropouts: int = 0  # 辍学人数
    dropouts_a: int = 0  # 其中：辍学学生分类 A–T
    dropouts_b: int = 0
    dropouts_c: int = 0
    dropouts_d: int = 0
    dropouts_e: int = 0
    dropouts_f: int = 0
    dropouts_g: int = 0
    dropouts_h: int = 0
    dropouts_i: int = 0
    dropouts_j: int = 0
    dropouts_k: int = 0
    dropouts_l: int = 0
    dropouts_m: int = 0
    dropouts_n: int = 0
    dropouts_o: int = 0
    dropouts_p: int = 0
    dropouts_q: int = 0
    dropouts_r: int = 0
    dropouts_s: int = 0
    dropouts_t: int = 0
    province_code: str = Field(max_length=2)


def category_column(category: DropoutCategory) -> str:
    """The Table 1 column of a dropout category: `dropouts_a` … `dropouts_t`."""
    return f"dropouts_{category.value.lower()}"


class ReportChild(SQLModel, table=True):
    """A child listed in a version: Table 2 (辍学学生信息统计报表, ledger DROPOUT) or the suspected list.

    Personal data is copied as it stood when the version was generated: the list never changes after.
    """

    __tablename__ = "report_child"
    __table_args__ = (sa.UniqueConstraint("revision_id", "entry_id", name="uq_report_child_entry"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    revision_id: int = Field(foreign_key="report_revision.id", index=True, sa_type=sa.BigInteger)
    ledger: Ledger = Field(sa_type=enum_type(Ledger))
    seq: int = Field(description="序号 within its list")
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    entry_id: int = Field(foreign_key="ledger_entry.id", sa_type=sa.BigInteger)
    name: str = Field(max_length=50)
    gender: Gender = Field(sa_type=enum_type(Gender))
    national_id: str | None = _text(18)
    registry_number: str | None = _text(20)
    home_address: str = Field(max_length=300, description="家庭住址: the residence region's full name")
    poverty_registered: bool = Field(description="是否建档立卡")
    category: DropoutCategory | None = Field(default=None, sa_type=enum_type(DropoutCategory))
    stage: Stage = Field(sa_type=enum_type(Stage))
    grade: int | None = None
    school_code: str | None = _text(10)
    opened_on: date
    school_after_return: str | None = _text(200)
    closed_out: bool = Field(description="是否销账: closed out on or before the version's as-of day")
    remarks: str | None = _text(500)
    note: str | None = Field(default=None, max_length=500, description="the reporting unit's own note")
    province_code: str = Field(max_length=2)


class ReportVerdict(SQLModel, table=True):
    """The reviewer's verdict on one listed child (复核: confirmed, or disputed with a comment)."""

    __tablename__ = "report_verdict"
    __table_args__ = (sa.UniqueConstraint("revision_id", "child_id", name="uq_report_verdict_child"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    revision_id: int = Field(foreign_key="report_revision.id", index=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", sa_type=sa.BigInteger)
    verdict: Verdict = Field(sa_type=enum_type(Verdict))
    comment: str | None = _text(500)
    given_by: str = Field(max_length=64)
    given_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)


class ReportFinding(SQLModel, table=True):
    """A child the reviewer found missing from the version (复核发现的遗漏)."""

    __tablename__ = "report_finding"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    revision_id: int = Field(foreign_key="report_revision.id", index=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", sa_type=sa.BigInteger)
    note: str = Field(max_length=500)
    found_by: str = Field(max_length=64)
    found_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)


class ReportSource(SQLModel, table=True):
    """An approved version that an aggregate version summed (a school's month in the county's quarter, a
    county's quarter in the city's semester, a city's semester in the province's school year)."""

    __tablename__ = "report_source"

    revision_id: int = Field(foreign_key="report_revision.id", primary_key=True, sa_type=sa.BigInteger)
    source_revision_id: int = Field(
        foreign_key="report_revision.id", primary_key=True, index=True, sa_type=sa.BigInteger
    )


class ReportAssessment(SQLModel, table=True):
    """The city's findings and guidance on one county (调研, POLICY 004 §6), or the province's grade and
    findings on one city (评估, §7): part of the aggregate version, frozen with it at submission."""

    __tablename__ = "report_assessment"
    __table_args__ = (sa.UniqueConstraint("revision_id", "subject_code", name="uq_report_assessment_subject"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    revision_id: int = Field(foreign_key="report_revision.id", index=True, sa_type=sa.BigInteger)
    subject_code: str = Field(max_length=12, description="the county (city report) or city (province report)")
    subject_name: str = Field(max_length=200)
    grade: AssessmentGrade | None = Field(default=None, sa_type=enum_type(AssessmentGrade))
    findings: str = Field(max_length=2000)
    guidance: str | None = _text(2000)
    given_by: str = Field(max_length=64)
    given_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)
