"""GraphQL enums built from the model enums, each value described with its Chinese term."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

from models.child import Stage
from models.ledger import (
    CATEGORY_LABELS,
    CLOSE_REASON_LABELS,
    PLACEMENT_LABELS,
    CloseReason,
    DropoutCategory,
    EntrySource,
    EntryStatus,
    Ledger,
    Placement,
)
from models.region import LEVEL_LABELS, RegionLevel
from models.school import KIND_LABELS, STAGE_LABELS, SchoolKind, SchoolStage

E = TypeVar("E", bound=enum.Enum)


def described(enum_cls: type[E], labels: dict[E, str], description: str) -> None:
    """Expose a model enum unchanged in the schema, with a description on every value."""
    strawberry.enum(enum_cls, description=description)
    for value in enum_cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels[enum_cls(value.value)]


described(
    Ledger,
    {
        Ledger.SUSPECTED: "疑似辍学学生台账（含失学）/ suspected dropouts, out-of-school children included",
        Ledger.DROPOUT: "辍学学生台账 / dropouts",
    },
    "台账 / ledger",
)
described(
    EntryStatus,
    {
        EntryStatus.OPEN: "在册 / open",
        EntryStatus.RETURNED: "已返校，待安置销号 / returned, awaiting placement and close-out",
        EntryStatus.DEFERRED: "延缓入学（持续跟踪，计入 P 类）/ deferred: followed up, counted under P",
        EntryStatus.TRANSFERRED: "已移交，待接收 / handed over, awaiting acknowledgement",
        EntryStatus.CLOSED: "已销号 / closed out",
    },
    "台账记录状态 / entry status",
)
described(
    EntrySource,
    {
        EntrySource.ATTENDANCE: "考勤 / attendance rules",
        EntrySource.COMPARISON: "三比对 / comparison of registers",
        EntrySource.DOOR_TO_DOOR: "铁脚板摸排 / door-to-door search",
        EntrySource.MINISTRY: "教育部下发 / ministry list",
        EntrySource.MANUAL: "人工登记 / entered by hand",
    },
    "发现途径 / how the child was found",
)
described(DropoutCategory, CATEGORY_LABELS, "辍学类别 A–T（003 附件1 注3）/ dropout category A–T (POLICY 003)")
described(CloseReason, CLOSE_REASON_LABELS, "销号原因 / close-out reason")
described(Placement, PLACEMENT_LABELS, "分类安置 / classified placement (POLICY 001)")
described(Stage, {Stage.PRIMARY: "小学 / primary", Stage.JUNIOR: "初中 / junior secondary"}, "学段 / stage")
described(RegionLevel, LEVEL_LABELS, "行政区划级别 / administrative level of a region")
described(SchoolStage, STAGE_LABELS, "学段 / school stage")
described(SchoolKind, KIND_LABELS, "办学类型 / kind of school")

__all__ = [
    "CloseReason",
    "DropoutCategory",
    "EntrySource",
    "EntryStatus",
    "Ledger",
    "Placement",
    "RegionLevel",
    "SchoolKind",
    "SchoolStage",
    "Stage",
]
