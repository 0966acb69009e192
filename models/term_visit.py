"""Term-start visits (开学时节进校、入户实地深度调研, POLICY 004 §5): each spring and autumn term the county
visits every school and checks its students one by one ("学校全覆盖、学生逐一核"). One row per school
and term; coverage is the county's schools visited over its schools."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, path_type, updated_at_field, version_field


class TermVisit(SQLModel, table=True):
    __tablename__ = "term_visit"
    __table_args__ = (
        sa.UniqueConstraint("school_code", "term", name="uq_term_visit_school_term"),
        sa.Index("ix_term_visit_county_term", "county_code", "term"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    term: str = Field(max_length=16, description="the term: a semester code, 2026-SPRING or 2026-AUTUMN")
    county_code: str = Field(max_length=6, description="the county that visited: the school's county")
    school_code: str = Field(max_length=10)
    school_path: str = Field(sa_type=path_type())
    visited_on: date
    students_checked: int = Field(default=0, ge=0, description="学生逐一核: students checked in person")
    households_visited: int = Field(default=0, ge=0, description="入户: homes visited")
    findings: str | None = Field(default=None, max_length=2000)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()
    province_code: str = Field(max_length=2, index=True)
