"""Comparisons (三比对, POLICY 004 §2): runs over a county's applied rosters, and the findings people resolve.

A run is one county on one as-of date: which batches it compared (provenance) and what it found, raised,
kept and closed. A city or province run is one run per county. A finding is one child one comparison found:
raised OPEN; a person puts it on the suspected ledger (LEDGERED, linked both ways), ties it to an entry the
child already has (LEDGERED), or dismisses it with a typed reason and a note (DISMISSED); a later run closes
an open finding that no longer holds (CLOSED). `facts` fingerprints what the finding stands on, so a later
run does not raise again a finding dismissed for the same facts (`resolvers/comparisons/running.py`).

A finding holds personal data: it carries the child's paths and is scoped like a child on both lines
(ARCHITECTURE §3), plus the county that raised it, so the county sees its findings even for a child
baoxue knows elsewhere.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, version_field
from .child import Stage, stage_at
from .ledger import DropoutCategory


class FindingKind(enum.StrEnum):
    OUT_OF_SCHOOL = "OUT_OF_SCHOOL"  # household vs registry: 失学
    REGISTERED_NOT_ATTENDING = "REGISTERED_NOT_ATTENDING"  # registry vs in school: 在籍不在校
    POOR_HOUSEHOLD_DROPOUT = "POOR_HOUSEHOLD_DROPOUT"  # dropouts vs the poverty database


FINDING_KIND_LABELS = {
    FindingKind.OUT_OF_SCHOOL: "户籍比学籍：适龄失学 / household vs registry: school-age child out of school",
    FindingKind.REGISTERED_NOT_ATTENDING: "学籍比在校：在籍不在校 / registry vs in school: registered, not at school",
    FindingKind.POOR_HOUSEHOLD_DROPOUT: "辍学比贫困库：脱贫户/低保家庭辍学 / dropout from a poor household",
}


class FindingState(enum.StrEnum):
    OPEN = "OPEN"
    LEDGERED = "LEDGERED"  # on the suspected ledger: opened from the finding, or linked to an existing entry
    DISMISSED = "DISMISSED"
    CLOSED = "CLOSED"  # a later run found it no longer holds


FINDING_STATE_LABELS = {
    FindingState.OPEN: "待处理 / open, awaiting a person's decision",
    FindingState.LEDGERED: "已纳入台账 / on the suspected ledger (opened or linked)",
    FindingState.DISMISSED: "已排除（有原因）/ dismissed with a reason",
    FindingState.CLOSED: "已不成立（后续比对）/ no longer holds at a later run",
}


class FindingAction(enum.StrEnum):
    """What a person decides on an open finding."""

    LEDGER = "LEDGER"  # open a suspected-dropout entry from it (source COMPARISON)
    LINK = "LINK"  # tie it to an entry the child already has
    DISMISS = "DISMISS"  # with a typed reason and a note


FINDING_ACTION_LABELS = {
    FindingAction.LEDGER: "纳入疑似辍学台账 / open a suspected-dropout entry from it",
    FindingAction.LINK: "关联已有台账记录 / tie it to the child's existing entry",
    FindingAction.DISMISS: "排除（须有原因和说明）/ dismiss, with a typed reason and a note",
}


class DismissReason(enum.StrEnum):
    STUDYING_ELSEWHERE = "STUDYING_ELSEWHERE"
    DECEASED = "DECEASED"
    MOVED_ABROAD = "MOVED_ABROAD"
    AGE_ON_RECORD_WRONG = "AGE_ON_RECORD_WRONG"
    NOT_SCHOOL_AGE = "NOT_SCHOOL_AGE"
    HOME_OR_SPECIAL_EDUCATION = "HOME_OR_SPECIAL_EDUCATION"
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    OTHER = "OTHER"


DISMISS_REASON_LABELS = {
    DismissReason.STUDYING_ELSEWHERE: "在外地就读（须写明学校或省份）/ studying elsewhere (school or province named)",
    DismissReason.DECEASED: "死亡 / deceased",
    DismissReason.MOVED_ABROAD: "出国（境）/ moved abroad",
    DismissReason.AGE_ON_RECORD_WRONG: "户籍年龄与实际不符（J 类）/ age on the household record is wrong (J)",
    DismissReason.NOT_SCHOOL_AGE: "不在义务教育年龄 / not of compulsory-school age",
    DismissReason.HOME_OR_SPECIAL_EDUCATION: "送教上门或特殊教育 / taught at home or in special education",
    DismissReason.DUPLICATE_RECORD: "重复记录 / duplicate record",
    DismissReason.OTHER: "其他（须说明）/ other (explain)",
}


def proposed_category(birth_date: date, cutoff: date) -> DropoutCategory:
    """A for an out-of-school child of primary age, B of junior-secondary age (POLICY 003 annex 1 note 3),
    by the age on the province's cut-off day, as `models.child.stage_at` decides the stage of a child
    not enrolled."""
    return DropoutCategory.A if stage_at(None, birth_date, cutoff) is Stage.PRIMARY else DropoutCategory.B


class ComparisonRun(SQLModel, table=True):
    """One county compared on one as-of date: who, when, the batches compared, and the counts."""

    __tablename__ = "comparison_run"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    county_code: str = Field(foreign_key="region.code", max_length=12)
    county_path: str = Field(sa_type=path_type(), index=True)
    requested_code: str = Field(max_length=12, description="the region asked for: this county, or its city/province")
    as_of: date
    cutoff: date = Field(description="the province's school-age cut-off day of the as-of date's school year")
    batches: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=postgresql.JSONB, description="[{id, kind, jurisdiction, asOf}] compared"
    )
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_type=postgresql.JSONB, description="per kind: ran, found, raised, kept, closed, …"
    )
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    province_code: str = Field(max_length=2, index=True)


class ComparisonFinding(SQLModel, table=True):
    """One child a comparison found, from raising to a person's decision (or a later run closing it)."""

    __tablename__ = "comparison_finding"
    __table_args__ = (
        # One open finding per county, kind and child: a later run keeps it rather than raising it again.
        sa.Index(
            "ux_comparison_finding_open",
            "county_path",
            "kind",
            "child_id",
            unique=True,
            postgresql_where=sa.text("state = 'OPEN'"),
        ),
        sa.Index("ix_comparison_finding_county_kind_child", "county_path", "kind", "child_id"),
        sa.CheckConstraint(
            "state <> 'DISMISSED' OR (dismiss_reason IS NOT NULL AND dismiss_note IS NOT NULL)",
            name="ck_comparison_finding_dismissal",
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    run_id: int = Field(foreign_key="comparison_run.id", index=True, sa_type=sa.BigInteger)
    last_run_id: int = Field(foreign_key="comparison_run.id", sa_type=sa.BigInteger)
    closed_run_id: int | None = Field(default=None, foreign_key="comparison_run.id", sa_type=sa.BigInteger)
    kind: FindingKind = Field(sa_type=enum_type(FindingKind))
    state: FindingState = Field(default=FindingState.OPEN, sa_type=enum_type(FindingState))
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True, sa_type=sa.BigInteger)
    # The roster row it stems from: a household, registry or poverty row (roster_row has no sequence key).
    import_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    line: int | None = None
    facts: str = Field(max_length=32, description="md5 of the facts it stands on (see the module docstring)")
    proposed_category: DropoutCategory | None = Field(default=None, sa_type=enum_type(DropoutCategory))
    special_group: str | None = Field(default=None, max_length=24, description="POVERTY_REGISTERED or LOW_INCOME")
    evidence_entry_id: int | None = Field(
        default=None, foreign_key="ledger_entry.id", sa_type=sa.BigInteger, description="the entry it was found on"
    )
    county_path: str = Field(sa_type=path_type())  # led by ix_comparison_finding_county_kind_child
    school_path: str | None = Field(default=None, sa_type=path_type(), index=True)
    household_path: str | None = Field(default=None, sa_type=path_type(), index=True)
    residence_path: str | None = Field(default=None, sa_type=path_type(), index=True)
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id", index=True, sa_type=sa.BigInteger)
    dismiss_reason: DismissReason | None = Field(default=None, sa_type=enum_type(DismissReason))
    dismiss_note: str | None = Field(default=None, max_length=500)
    elsewhere_school_code: str | None = Field(default=None, max_length=10)
    elsewhere_province_code: str | None = Field(default=None, max_length=2)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = optional_time_field()
    created_at: datetime = created_at_field()
    province_code: str = Field(max_length=2, index=True)
    version: int = version_field()
