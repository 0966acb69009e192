"""GraphQL enums built from the model enums, each value described with its Chinese term."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

from models.region import LEVEL_LABELS
from models.region import RegionLevel as RegionLevelModel
from models.school import KIND_LABELS, STAGE_LABELS
from models.school import SchoolKind as SchoolKindModel
from models.school import SchoolStage as SchoolStageModel

E = TypeVar("E", bound=enum.Enum)


def described(enum_cls: type[E], labels: dict[E, str], description: str) -> type[E]:
    """Expose a model enum unchanged, with a description on every value."""
    strawberry.enum(enum_cls, description=description)
    for value in enum_cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels[enum_cls(value.value)]
    return enum_cls


RegionLevel = described(RegionLevelModel, LEVEL_LABELS, "行政区划级别 / administrative level of a region")
SchoolStage = described(SchoolStageModel, STAGE_LABELS, "学段 / school stage")
SchoolKind = described(SchoolKindModel, KIND_LABELS, "办学类型 / kind of school")
