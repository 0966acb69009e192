"""Ledger entries (台账记录): the suspected-dropout and dropout ledgers, never deleted, closed out (销号).

The school-age children ledger is derived from `child` (see `models/repos/ledger.py`), not stored.
An entry carries every path that decides who sees it (ARCHITECTURE §3), copied from the child and kept
current when the child moves, so a scoped list is one single-table predicate:
- the school the child attended when flagged (education line),
- household registration and residence (government line),
- the responsible region (flow-in region, 001 §2.2) and the other side of its latest handover.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, updated_at_field, version_field
from .child import Stage, stage_at


class Ledger(enum.StrEnum):
    SUSPECTED = "SUSPECTED"  # 疑似辍学学生台账 (includes out-of-school 失学 children)
    DROPOUT = "DROPOUT"  # 辍学学生台账


class EntryStatus(enum.StrEnum):
    OPEN = "OPEN"
    RETURNED = "RETURNED"  # back at school, awaiting placement and close-out
    DEFERRED = "DEFERRED"  # deferral approved: still followed up, counted under category P
    TRANSFERRED = "TRANSFERRED"  # handed to another region, awaiting its acknowledgement
    CLOSED = "CLOSED"  # closed out (销号)


class EntrySource(enum.StrEnum):
    ATTENDANCE = "ATTENDANCE"
    COMPARISON = "COMPARISON"  # 三比对
    DOOR_TO_DOOR = "DOOR_TO_DOOR"  # 铁脚板摸排
    MINISTRY = "MINISTRY"
    MANUAL = "MANUAL"


class DropoutCategory(enum.StrEnum):
    """Dropout categories A–T (POLICY 003, annex 1, note 3)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"
    H = "H"
    I = "I"  # noqa: E741 - the policy's own code
    J = "J"
    K = "K"
    L = "L"
    M = "M"
    N = "N"
    O = "O"  # noqa: E741 - the policy's own code
    P = "P"
    Q = "Q"
    R = "R"
    S = "S"
    T = "T"


CATEGORY_LABELS: dict[DropoutCategory, str] = {
    DropoutCategory.A: "小学适龄失学 / out of school, primary age",
    DropoutCategory.B: "初中适龄失学 / out of school, junior-secondary age",
    DropoutCategory.C: "因残辍学（能接受教育）/ dropped out for disability, can attend school",
    DropoutCategory.D: "因残辍学（经评估不能接受教育）/ dropped out for disability, assessed unfit for school",
    DropoutCategory.E: "因病 / illness",
    DropoutCategory.F: "厌学在家（短期）/ school-weariness, at home (short term)",
    DropoutCategory.G: "厌学在家（长期）/ school-weariness, at home (long term)",
    DropoutCategory.H: "外出打工（短期）/ working away (short term)",
    DropoutCategory.I: "外出打工（长期）/ working away (long term)",
    DropoutCategory.J: "户籍原因（户籍年龄与实际年龄不符）/ household-registration age differs from real age",
    DropoutCategory.K: "全日制培训机构代替义务教育 / full-time training institution instead of school",
    DropoutCategory.L: "入寺入教 / entering temples or religion",
    DropoutCategory.M: "早婚未育 / early marriage, no child",
    DropoutCategory.N: "早婚已育 / early marriage, with child",
    DropoutCategory.O: "超龄离校 / over-age leaving",
    DropoutCategory.P: "延缓入学 / deferred enrolment",
    DropoutCategory.Q: "在区域内外就读无学籍 / studying in or outside the region without a registry record",
    DropoutCategory.R: "易地扶贫搬迁后辍学 / dropout after poverty-relief relocation",
    DropoutCategory.S: "小升初辍学 / dropout at the primary-to-junior transition",
    DropoutCategory.T: "失踪或失联 / missing, lost contact",
}


class CloseReason(enum.StrEnum):
    """Why an entry was closed out (销号). An approved deferral is none: the deferred case stays open for
    persuasion (seed 001 二2: 并继续做好劝返复学工作), as status DEFERRED."""

    RETURNED_AND_PLACED = "RETURNED_AND_PLACED"
    ENROLLED_ELSEWHERE_CONFIRMED = "ENROLLED_ELSEWHERE_CONFIRMED"
    AGED_OUT = "AGED_OUT"
    DECEASED = "DECEASED"
    ESCALATED_TO_DROPOUT = "ESCALATED_TO_DROPOUT"  # a suspected entry superseded by its dropout entry
    OTHER = "OTHER"


CLOSE_REASON_LABELS: dict[CloseReason, str] = {
    CloseReason.RETURNED_AND_PLACED: "已返校并安置 / returned to school and placed",
    CloseReason.ENROLLED_ELSEWHERE_CONFIRMED: "经核实在外地就读 / confirmed enrolled elsewhere",
    CloseReason.AGED_OUT: "超出义务教育年龄 / beyond compulsory-education age",
    CloseReason.DECEASED: "死亡 / deceased",
    CloseReason.ESCALATED_TO_DROPOUT: "转入辍学台账 / moved to the dropout ledger",
    CloseReason.OTHER: "其他（须说明）/ other (explain)",
}


class Placement(enum.StrEnum):
    """Classified placement of a returned child (分类安置, POLICY 001)."""

    JOIN_CLASS = "JOIN_CLASS"
    SEPARATE_CLASS = "SEPARATE_CLASS"
    VOCATIONAL_INTEGRATION = "VOCATIONAL_INTEGRATION"
    INDIVIDUAL_TUTORING = "INDIVIDUAL_TUTORING"
    SPECIAL_SCHOOL = "SPECIAL_SCHOOL"
    HOME_TEACHING = "HOME_TEACHING"


PLACEMENT_LABELS: dict[Placement, str] = {
    Placement.JOIN_CLASS: "插班 / join an existing class",
    Placement.SEPARATE_CLASS: "单独编班 / separate class",
    Placement.VOCATIONAL_INTEGRATION: "普职融合 / general–vocational integration",
    Placement.INDIVIDUAL_TUTORING: "个别辅导 / individual tutoring",
    Placement.SPECIAL_SCHOOL: "特殊教育学校 / special-education school",
    Placement.HOME_TEACHING: "送教上门 / home teaching",
}

# Placements meant for disabled children (000 §9: special schools, 送教上门).
DISABILITY_PLACEMENTS = frozenset({Placement.SPECIAL_SCHOOL, Placement.HOME_TEACHING})


def county_of(path: str) -> str:
    """The county a jurisdiction path lies in (`53/5323/532329/...` → `53/5323/532329`)."""
    return "/".join(path.split("/")[:3])


def responsible_path(school_path: str | None, residence_path: str | None, household_path: str | None = None) -> str:
    """The flow-in region answers for a child (001 §2.2): the county of the school holding the registry
    record, or, for a child not enrolled, the county the child lives in (for one whose residence is not
    known, the county of the household registration; a child always has one of the three)."""
    place = school_path or residence_path or household_path
    if place is None:
        raise ValueError("a child has a school, a residence or a household registration")
    return county_of(place)


def from_child(
    *,
    school_code: str | None,
    school_path: str | None,
    grade: int | None,
    birth_date: date,
    household_path: str | None,
    residence_path: str | None,
    province_code: str,
    opened_on: date,
) -> dict[str, Any]:
    """What a new entry takes from its child, the one rule for the use cases and the generated data alike:
    the child's school, grade and paths, so the same people see the entry as see the child (ARCHITECTURE §3);
    the county that answers for it (001 §2.2); the stage on the day it opens, from the grade or the age."""
    return {
        "school_code": school_code,
        "school_path": school_path,
        "grade": grade,
        "stage": stage_at(grade, birth_date, opened_on),
        "household_path": household_path,
        "residence_path": residence_path,
        "responsible_path": responsible_path(school_path, residence_path, household_path),
        "province_code": province_code,
        "opened_on": opened_on,
    }


ENTRY_PATH_COLUMNS = ("school_path", "household_path", "residence_path", "responsible_path", "handover_path")


class LedgerEntry(SQLModel, table=True):
    """One child on the suspected-dropout or dropout ledger, from opening to close-out."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        sa.Index("ix_ledger_entry_status_ledger", "status", "ledger"),
        # At most one entry per child is not yet closed out: the rules and the sweeps rely on it.
        sa.Index(
            "ux_ledger_entry_active_child", "child_id", unique=True, postgresql_where=sa.text("status <> 'CLOSED'")
        ),
        # Scoped lists read (path, id) in index order (issue 18 §1, migration 0026).
        *(sa.Index(f"ix_ledger_entry_{c}", c, "id") for c in ENTRY_PATH_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    ledger: Ledger = Field(sa_type=enum_type(Ledger))
    child_id: int = Field(foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    status: EntryStatus = Field(default=EntryStatus.OPEN, sa_type=enum_type(EntryStatus))
    source: EntrySource = Field(sa_type=enum_type(EntrySource))
    category: DropoutCategory | None = Field(default=None, sa_type=enum_type(DropoutCategory))
    opened_on: date = Field(description="the day the rule held or the finding was made")
    opened_at: datetime = created_at_field()
    opened_by: str = Field(max_length=64)
    # The run of evidenced absence an attendance entry opened (or reopened, or escalated) on (issue 14 §1).
    evidence_first_absent_on: date | None = None
    evidence_last_absent_on: date | None = None
    evidence_school_days_absent: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=500)
    escalated_from_id: int | None = Field(default=None, foreign_key="ledger_entry.id", sa_type=sa.BigInteger)
    previous_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id", sa_type=sa.BigInteger)
    is_relapse: bool = Field(default=False)
    school_code: str | None = Field(default=None, max_length=10)
    grade: int | None = Field(default=None, ge=1, le=9)
    stage: Stage = Field(sa_type=enum_type(Stage))
    school_path: str | None = Field(default=None, sa_type=path_type())
    # The child's paths, empty like the child's (no household registration, residence not yet known).
    household_path: str | None = Field(default=None, sa_type=path_type())
    residence_path: str | None = Field(default=None, sa_type=path_type())
    responsible_path: str = Field(sa_type=path_type())
    handover_path: str | None = Field(default=None, sa_type=path_type())
    last_visit_on: date | None = None
    returned_on: date | None = None
    placement: Placement | None = Field(default=None, sa_type=enum_type(Placement))
    placement_school_code: str | None = Field(default=None, max_length=10)
    placement_note: str | None = Field(default=None, max_length=500)
    placed_on: date | None = None
    closed_at: datetime | None = optional_time_field()
    closed_by: str | None = Field(default=None, max_length=64)
    close_reason: CloseReason | None = Field(default=None, sa_type=enum_type(CloseReason))
    close_note: str | None = Field(default=None, max_length=500)
    province_code: str = Field(max_length=2, index=True)
    updated_at: datetime = updated_at_field()
    version: int = version_field()


class Handover(SQLModel, table=True):
    """A written notice handing a case to another county or province (001 §2.2), and its acknowledgement."""

    __tablename__ = "handover"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True, sa_type=sa.BigInteger)
    from_path: str = Field(sa_type=path_type())
    to_path: str = Field(sa_type=path_type())
    notice: str = Field(max_length=2000)
    sent_by: str = Field(max_length=64)
    sent_at: datetime = created_at_field()
    acknowledged_by: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = optional_time_field()
    province_code: str = Field(max_length=2)
