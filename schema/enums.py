"""GraphQL enums built from the model enums, each value described with its Chinese term."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

from models.region import LEVEL_LABELS, RegionLevel
from models.school import KIND_LABELS, STAGE_LABELS, SchoolKind, SchoolStage

E = TypeVar("E", bound=enum.Enum)


def described(enum_cls: type[E], labels: dict[E, str], description: str) -> None:
    """Expose a model enum unchanged in the schema, with a description on every value."""
    strawberry.enum(enum_cls, description=description)
    for value in enum_cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels[enum_cls(value.value)]


described(RegionLevel, LEVEL_LABELS, "行政区划级别 / administrative level of a region")
described(SchoolStage, STAGE_LABELS, "学段 / school stage")
described(SchoolKind, KIND_LABELS, "办学类型 / kind of school")

__all__ = ["RegionLevel", "SchoolKind", "SchoolStage"]
