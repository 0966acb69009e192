"""Verification tasks (下发核实, POLICY 004 §9): each child of a pushed-down list, routed to a county to verify.

The ministry (for the nation) or a provincial department (for its province) imports a list of suspected
dropouts as a roster of kind `PUSHED` (`models/roster.py`); applying the batch routes every valid row to the
county that answers for the child (`route`) and opens one task there, due `verification_days` later
(`province_setting`). A row no rule routes becomes an UNROUTABLE task with its reason, listed back to the
sender: nothing is dropped silently. The county answers CONFIRMED, NOT_DROPOUT (a typed reason and a note)
or NOT_OURS (naming the receiving county): the task is then closed as REROUTED and a new task opens there,
linked by `previous_task_id`, so the sender sees both (docs/POLICY.md, "Pushed-down lists").
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, version_field

DEFAULT_VERIFICATION_DAYS = 15  # 白城 2018 (POLICY 002 一(三)): each child verified within 15 days


class TaskStatus(enum.StrEnum):
    OPEN = "OPEN"  # routed, awaiting the county's answer
    DONE = "DONE"  # verified: CONFIRMED or NOT_DROPOUT
    REROUTED = "REROUTED"  # NOT_OURS: closed here, a new task opened in the receiving county
    UNROUTABLE = "UNROUTABLE"  # no county could be found: listed back to the sender with the reason


class RouteRule(enum.StrEnum):
    """Which rule routed the task (in this order: the registry school, the residence, the household)."""

    SCHOOL = "SCHOOL"
    RESIDENCE = "RESIDENCE"
    HOUSEHOLD = "HOUSEHOLD"
    REROUTED = "REROUTED"  # a county named the receiving county (NOT_OURS)


class UnroutableReason(enum.StrEnum):
    NO_PLACE = "NO_PLACE"  # the row names no school and no region
    UNKNOWN_PLACE = "UNKNOWN_PLACE"  # the codes it names are not known here
    NOT_IN_A_COUNTY = "NOT_IN_A_COUNTY"  # the places known are above a county (a province or city code only)


class Outcome(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # a dropout indeed: linked to (or opened on) the suspected-dropout ledger
    NOT_DROPOUT = "NOT_DROPOUT"  # with a typed reason and a note
    NOT_OURS = "NOT_OURS"  # the child belongs to another county, named


class NotDropoutReason(enum.StrEnum):
    AT_SCHOOL = "AT_SCHOOL"  # at school (the school named)
    TRANSFERRED = "TRANSFERRED"
    GRADUATED = "GRADUATED"
    DECEASED = "DECEASED"
    MOVED_ABROAD = "MOVED_ABROAD"
    RECORD_ERROR = "RECORD_ERROR"


# The statuses of a row's live task: one at a time (REROUTED tasks are history).
LIVE = (TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.UNROUTABLE)


def county_path_of(path: str | None) -> str | None:
    """The county a region or school path lies in (`53/5323/532329/…` → `53/5323/532329`); None above one."""
    if not path:
        return None
    parts = path.split("/")
    if len(parts) < 3 or len(parts[2]) != 6:
        return None
    return "/".join(parts[:3])


def route(
    school_path: str | None, residence_path: str | None, household_path: str | None, *, codes_given: bool
) -> tuple[str, RouteRule] | UnroutableReason:
    """The county that verifies a pushed-down child, and the rule that found it: the registry school's county
    (the flow-in region answers, POLICY 001 §2.2), else the residence's, else the household's; or why none."""
    for path, rule in ((school_path, RouteRule.SCHOOL), (residence_path, RouteRule.RESIDENCE)):
        if (county := county_path_of(path)) is not None:
            return county, rule
    if (county := county_path_of(household_path)) is not None:
        return county, RouteRule.HOUSEHOLD
    if school_path or residence_path or household_path:
        return UnroutableReason.NOT_IN_A_COUNTY
    return UnroutableReason.UNKNOWN_PLACE if codes_given else UnroutableReason.NO_PLACE


class VerificationTask(SQLModel, table=True):
    """One child of a pushed-down list (a roster row) to verify in one county, or listed back unroutable."""

    __tablename__ = "verification_task"
    __table_args__ = (
        # One live task per row of the list: a re-route closes the old one in the same transaction, and
        # two applications of one batch cannot both open tasks (the batch is locked, and this decides).
        sa.Index(
            "ux_verification_task_live_row",
            "import_id",
            "line",
            unique=True,
            postgresql_where=sa.text("status <> 'REROUTED'"),
        ),
        sa.Index("ix_verification_task_import_county", "import_id", "county_path"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    import_id: int = Field(foreign_key="roster_import.id", sa_type=sa.BigInteger)
    line: int = Field(description="the roster row's line in the pushed-down file")
    sender_path: str = Field(sa_type=path_type(), index=True, description="the batch's jurisdiction ('' nation)")
    county_code: str | None = Field(default=None, max_length=12)
    county_path: str | None = Field(default=None, sa_type=path_type(), index=True)
    route: RouteRule | None = Field(default=None, sa_type=enum_type(RouteRule))
    unroutable_reason: UnroutableReason | None = Field(default=None, sa_type=enum_type(UnroutableReason))
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_type=enum_type(TaskStatus))
    due_on: date | None = Field(default=None, description="verify by this day (open tasks)")
    child_id: int | None = Field(default=None, foreign_key="child.id", sa_type=sa.BigInteger)
    outcome: Outcome | None = Field(default=None, sa_type=enum_type(Outcome))
    not_dropout_reason: NotDropoutReason | None = Field(default=None, sa_type=enum_type(NotDropoutReason))
    school_code: str | None = Field(default=None, max_length=10, description="AT_SCHOOL: the school named")
    rerouted_to_code: str | None = Field(default=None, max_length=12, description="NOT_OURS: the county named")
    note: str | None = Field(default=None, max_length=500)
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id", sa_type=sa.BigInteger)
    previous_task_id: int | None = Field(default=None, foreign_key="verification_task.id", sa_type=sa.BigInteger)
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    verified_by: str | None = Field(default=None, max_length=64)
    verified_at: datetime | None = optional_time_field()
    province_code: str = Field(max_length=2, index=True)
    version: int = version_field()
