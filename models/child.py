"""Children (适龄儿童少年): who they are, where they are registered and live, where they study.

A child carries two scopes (DESIGN §3): education (the school's path, empty when not enrolled) and
government (household-registration and residence paths).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, updated_at_field, version_field


class Gender(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


GENDER_LABELS = {Gender.MALE: "男 / male", Gender.FEMALE: "女 / female"}


class Child(SQLModel, table=True):
    """A school-age child, enrolled or not."""

    __tablename__ = "child"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    name: str = Field(max_length=50)
    gender: Gender = Field(sa_type=enum_type(Gender))
    birth_date: date
    school_code: str | None = Field(default=None, foreign_key="school.code", index=True, max_length=10)
    grade: int | None = Field(default=None, ge=1, le=9)
    school_path: str | None = Field(default=None, sa_type=path_type(), index=True)
    household_region_code: str = Field(foreign_key="region.code", max_length=12)
    household_path: str = Field(sa_type=path_type(), index=True)
    residence_region_code: str = Field(foreign_key="region.code", max_length=12)
    residence_path: str = Field(sa_type=path_type(), index=True)
    province_code: str = Field(max_length=2, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()
