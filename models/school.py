"""Schools (学校): national school identifier, stages, kind, and the school's jurisdiction path."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, updated_at_field, version_field


class SchoolStage(enum.StrEnum):
    PRIMARY = "PRIMARY"
    JUNIOR = "JUNIOR"
    NINE_YEAR = "NINE_YEAR"
    SPECIAL = "SPECIAL"


class SchoolKind(enum.StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"
    TEACHING_POINT = "TEACHING_POINT"


STAGE_LABELS: dict[SchoolStage, str] = {
    SchoolStage.PRIMARY: "小学 / primary",
    SchoolStage.JUNIOR: "初中 / junior secondary",
    SchoolStage.NINE_YEAR: "九年一贯制 / nine-year (primary and junior)",
    SchoolStage.SPECIAL: "特殊教育 / special education",
}

KIND_LABELS: dict[SchoolKind, str] = {
    SchoolKind.PUBLIC: "公办 / public",
    SchoolKind.PRIVATE: "民办 / private",
    SchoolKind.TEACHING_POINT: "教学点 / teaching point",
}


def stages_teaching(stage: SchoolStage) -> list[str]:
    """Stored stages that mean a school teaches `stage`: a nine-year school teaches primary and junior."""
    if stage in (SchoolStage.PRIMARY, SchoolStage.JUNIOR):
        return [stage.value, SchoolStage.NINE_YEAR.value]
    return [stage.value]


def is_school_path(path: str) -> bool:
    """Does the path end in a school (a 10-digit identifier) rather than a region?"""
    return len(path.rsplit("/", 1)[-1]) == 10


def school_path(region_path: str, school_code: str) -> str:
    """A school's scope path is its region's path plus the school (ARCHITECTURE §3)."""
    return f"{region_path}/{school_code}"


class School(SQLModel, table=True):
    """A primary, junior, nine-year or special-education school, or a teaching point (教学点)."""

    __tablename__ = "school"

    code: str = Field(primary_key=True, min_length=10, max_length=10)
    name: str = Field(max_length=200)
    region_code: str = Field(foreign_key="region.code", index=True, max_length=12)
    stages: list[str] = Field(sa_type=postgresql.ARRAY(sa.String(24)))
    kind: SchoolKind = Field(sa_type=enum_type(SchoolKind))
    path: str = Field(sa_type=path_type(), unique=True)
    province_code: str = Field(max_length=2, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    version: int = version_field()
