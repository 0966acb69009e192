"""Key transitions (关键学段、关键时间节点, POLICY 003 二(二); docs/POLICY.md "Key transitions"): 小升初 and the
中考 registration of every junior graduate, as pure rules, and the explanation kept for a graduate who did
not register (查明原因、做出说明).

- 小升初: a pupil whose last enrolment change is finishing primary grade 6 (GRADUATE, grade 6) inside a school
  year, who holds no school place now, is listed from the autumn term start after that year plus
  `province_setting.primary_leaver_days` days (default 30). Category S is proposed for such a child.
- 中考: the grade-9 pupils of a school year (enrolled in grade 9 now, for the current school year; or whose
  grade-9 enrolment ended that year by graduating or leaving) are checked against the county's applied
  `EXAM_REGISTRATION` rosters of that year (by the roster's as-of day); a pupil found in none is a gap,
  matched exactly on the national ID, else on the registry number.
- The gate: the county report whose period holds 30 June of the school year's second calendar year (the
  quarter `YYYY-Q2`, Guyuan's `YYYY-SPRING-CLOSING` survey) is not submitted while a gap of the county for
  that school year has no explanation.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, version_field
from .ledger import DropoutCategory
from .reporting_calendar import Period, ReportLevel

PROPOSED_CATEGORY = DropoutCategory.S  # S 小升初辍学 (POLICY 003 annex 1 note 3)
GRADUATION_DAY = (6, 30)  # the end of the graduation term (学期末，6月底: 003 §2(二))
EXAM_GRADE = 9


class GapReason(enum.StrEnum):
    """Why a junior graduate did not register for 中考 (查明原因、做出说明)."""

    EMPLOYMENT = "EMPLOYMENT"  # 直接就业
    ABROAD = "ABROAD"  # 出国（境）
    ILLNESS = "ILLNESS"  # 疾病
    DROPOUT = "DROPOUT"  # 辍学：须在台账上
    TRANSFERRED = "TRANSFERRED"  # 转学（外地报名）
    REGISTERED_NOT_LISTED = "REGISTERED_NOT_LISTED"  # 已报名，名册未录入
    OTHER = "OTHER"  # 其他：须写明


GAP_REASON_LABELS = {
    GapReason.EMPLOYMENT: "直接就业 / went straight to work",
    GapReason.ABROAD: "出国（境）/ went abroad",
    GapReason.ILLNESS: "疾病 / illness",
    GapReason.DROPOUT: "辍学（须已在台账上）/ dropped out (must be on a ledger)",
    GapReason.TRANSFERRED: "转学，在外地报名 / transferred, registered elsewhere",
    GapReason.REGISTERED_NOT_LISTED: "已报名，名册未录入 / registered, missing from the roster",
    GapReason.OTHER: "其他（须写明）/ other (say what)",
}


class ExamRegistrationExplanation(SQLModel, table=True):
    """The explanation of one grade-9 pupil's missing 中考 registration in one school year: one row per
    (child, school year), revised in place under its version (each change audited with before and after)."""

    __tablename__ = "exam_registration_explanation"

    child_id: int = Field(primary_key=True, foreign_key="child.id", sa_type=sa.BigInteger)
    school_year: int = Field(primary_key=True, ge=2000, le=2100)
    reason: GapReason = Field(sa_type=enum_type(GapReason))
    note: str = Field(default="", max_length=500)
    school_code: str = Field(max_length=10, description="the grade-9 school the gap was explained for")
    school_path: str = Field(sa_type=path_type(), index=True)
    explained_by: str = Field(max_length=64)
    explained_at: datetime = created_at_field()
    province_code: str = Field(max_length=2, index=True)
    version: int = version_field()


def school_year_span(school_year: int) -> tuple[date, date]:
    """1 September – 31 August (models/report_tables.school_year_of)."""
    return date(school_year, 9, 1), date(school_year + 1, 8, 31)


def primary_leavers_listed_from(autumn_start: date, days: int) -> date:
    """The day a 小升初 cohort is listed: the next autumn term's start plus the province's days."""
    return autumn_start + timedelta(days=days)


def gated_school_year(level: ReportLevel, period: Period) -> int | None:
    """The school year whose 中考 gaps must all be explained before this report is submitted: a county
    report whose period holds 30 June (the graduation term's end) gates the school year ending then."""
    if level is not ReportLevel.COUNTY:
        return None
    for year in range(period.start.year, period.end.year + 1):
        if period.start <= date(year, *GRADUATION_DAY) <= period.end:
            return year - 1
    return None
