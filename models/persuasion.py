"""Getting children back (劝返复学): persuasion visits, the one plan per child, deferral requests.

Every persuasion attempt is recorded (POLICY 004 §9); the legal four-step method (POLICY 000 §2,
POLICY 002 §1(三)) gives each visit its stage; deferral follows POLICY 001 §2.2.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, updated_at_field, version_field


class VisitMethod(enum.StrEnum):
    HOME_VISIT = "HOME_VISIT"
    PHONE = "PHONE"
    JOINT_VISIT = "JOINT_VISIT"
    WRITTEN_NOTICE = "WRITTEN_NOTICE"
    ORDER_TO_CORRECT = "ORDER_TO_CORRECT"
    JUDICIAL_DOCUMENT = "JUDICIAL_DOCUMENT"
    LEGAL_LIABILITY = "LEGAL_LIABILITY"


VISIT_METHOD_LABELS: dict[VisitMethod, str] = {
    VisitMethod.HOME_VISIT: "入户劝返 / home visit",
    VisitMethod.PHONE: "电话劝返 / phone call",
    VisitMethod.JOINT_VISIT: "多部门联合劝返 / joint visit by several departments",
    VisitMethod.WRITTEN_NOTICE: "书面通知 / written notice",
    VisitMethod.ORDER_TO_CORRECT: "责令限期改正 / order to correct within a time limit",
    VisitMethod.JUDICIAL_DOCUMENT: "司法文书督促 / judicial document urging return",
    VisitMethod.LEGAL_LIABILITY: "依法追究法律责任 / legal liability pursued",
}

# The four steps (依法控辍四步法, POLICY 000 §2): the first stage at which each method belongs.
FOUR_STEPS = {
    1: "学校、村委会劝返教育 / school and village persuade the guardian",
    2: "乡镇政府或县教育局责令限期改正 / township or county bureau orders correction",
    3: "司法部门发放文书督促 / judicial department issues documents",
    4: "依法追究法律责任 / legal liability pursued",
}
MIN_STAGE_OF_METHOD = {
    VisitMethod.ORDER_TO_CORRECT: 2,
    VisitMethod.JUDICIAL_DOCUMENT: 3,
    VisitMethod.LEGAL_LIABILITY: 4,
}


class LiabilityOutcome(enum.StrEnum):
    """What pursuing legal liability came to (step 4, seed 000 一2: 情节严重或构成犯罪的，依法追究法律责任)."""

    ADMONISHED = "ADMONISHED"
    ADMINISTRATIVE_PENALTY = "ADMINISTRATIVE_PENALTY"
    COURT_JUDGMENT = "COURT_JUDGMENT"
    CRIMINAL_LIABILITY = "CRIMINAL_LIABILITY"
    NOT_PURSUED = "NOT_PURSUED"


LIABILITY_OUTCOME_LABELS: dict[LiabilityOutcome, str] = {
    LiabilityOutcome.ADMONISHED: "训诫 / admonished",
    LiabilityOutcome.ADMINISTRATIVE_PENALTY: "行政处罚 / administrative penalty",
    LiabilityOutcome.COURT_JUDGMENT: "法院判决或裁定 / court judgment or ruling",
    LiabilityOutcome.CRIMINAL_LIABILITY: "追究刑事责任 / criminal liability",
    LiabilityOutcome.NOT_PURSUED: "经审查未予追究 / examined, not pursued",
}

JOINT_VISITS_FOR_DEFERRAL = 3  # "经多部门联合劝返三次以上" (POLICY 001 §2.2)


class Line(enum.StrEnum):
    EDU = "EDU"
    GOV = "GOV"


class PersuasionVisit(SQLModel, table=True):
    """One persuasion attempt for a child's case. Never deleted."""

    __tablename__ = "persuasion_visit"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    visited_on: date
    method: VisitMethod = Field(sa_type=enum_type(VisitMethod))
    stage: int = Field(ge=1, le=4)
    participants: list[dict[str, Any]] = Field(default_factory=list, sa_type=postgresql.JSONB)
    outcome: str = Field(max_length=1000)
    next_step: str | None = Field(default=None, max_length=500)
    next_on: date | None = None
    # Step 2's time limit (责令限期改正) and step 4's outcome: each only on its own method.
    correct_by: date | None = None
    liability_outcome: LiabilityOutcome | None = Field(default=None, sa_type=enum_type(LiabilityOutcome))
    recorded_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    province_code: str = Field(max_length=2)


class CasePlan(SQLModel, table=True):
    """One plan per child (一人一案): the goal, who answers for it on each line, the planned steps."""

    __tablename__ = "case_plan"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", unique=True, sa_type=sa.BigInteger)
    goal: str = Field(max_length=1000)
    responsible_edu: str = Field(max_length=200)
    responsible_gov: str = Field(max_length=200)
    steps: list[str] = Field(default_factory=list, sa_type=postgresql.JSONB)
    updated_by: str = Field(max_length=64)
    province_code: str = Field(max_length=2)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()


class DeferralBasis(enum.StrEnum):
    JOINT_VISITS = "JOINT_VISITS"  # jointly persuaded three or more times
    JUDICIAL_RULING = "JUDICIAL_RULING"
    EXPERT_ASSESSMENT = "EXPERT_ASSESSMENT"  # disabled child, county expert committee


DEFERRAL_BASIS_LABELS: dict[DeferralBasis, str] = {
    DeferralBasis.JOINT_VISITS: "多部门联合劝返三次以上 / jointly persuaded three or more times",
    DeferralBasis.JUDICIAL_RULING: "司法裁判 / a judicial ruling",
    DeferralBasis.EXPERT_ASSESSMENT: "残疾人教育专家委员会评估 / disability-education expert committee assessment",
}


class DeferralStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"  # the entry was closed out before a decision


class DeferralRequest(SQLModel, table=True):
    """A request to defer or suspend schooling (延缓入学 / 休学): proposed by the county education bureau,
    decided by the county leading group (county government, seed 001 二2)."""

    __tablename__ = "deferral_request"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True, sa_type=sa.BigInteger)
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    basis: DeferralBasis = Field(sa_type=enum_type(DeferralBasis))
    grounds: str = Field(max_length=2000)
    document_ref: str | None = Field(default=None, max_length=200)
    # 监护人已履行相应法定义务，但学生本人拒不返校 (seed 001 二2), and the visit it was recorded on.
    guardian_statement: str | None = Field(default=None, max_length=1000)
    statement_visit_id: int | None = Field(default=None, foreign_key="persuasion_visit.id", sa_type=sa.BigInteger)
    status: DeferralStatus = Field(default=DeferralStatus.PENDING, sa_type=enum_type(DeferralStatus))
    requested_by: str = Field(max_length=64)
    requested_at: datetime = created_at_field()
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = optional_time_field()
    decision_note: str | None = Field(default=None, max_length=1000)
    province_code: str = Field(max_length=2)
