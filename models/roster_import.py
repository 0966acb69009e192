"""Roster imports (名册导入): a batch staged with its provenance, its rows, and how each row matched a child.

Rosters are evidence, not truth (ARCHITECTURE §9): a batch is streamed into `roster_row` with COPY
(`models/repos/roster_imports.py`), each row validated and matched, and the batch is then applied or
discarded by a person. A match is exact on the national ID, or a candidate a person confirms; nothing
here merges two children.

A row carries the paths it would give a child, so it is scoped like a child on both lines (ARCHITECTURE §3),
and the province code, like every table that holds a child's data (ARCHITECTURE §8).
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, optional_time_field, path_type, version_field
from .child import Gender
from .roster import RosterKind

# The four kinds of roster (四查), as `models/roster.RosterKind` names them; the check constraint holds them.
ROSTER_KINDS = tuple(kind.value for kind in RosterKind)

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ImportStatus(enum.StrEnum):
    STAGED = "STAGED"  # read, validated and matched; nothing applied yet
    APPLIED = "APPLIED"  # a person applied it
    DISCARDED = "DISCARDED"  # a person discarded it: the same file may be staged again


class RowStatus(enum.StrEnum):
    VALID = "VALID"
    REFUSED = "REFUSED"  # kept with its problems, for the error-rows download


class RowMatch(enum.StrEnum):
    """How a valid row stands against the children already known (None: not matched yet).

    A candidate is decided by a person (`resolveRosterMatch`): CONFIRMED ties the row to the candidate,
    REJECTED makes it a child not known yet. Applying the batch registers NEW and REJECTED rows as children.
    """

    EXACT = "EXACT"  # the same national ID: `child_id`
    CANDIDATE = "CANDIDATE"  # one child of the county with the same name, birth date and gender: a person decides
    CONFIRMED = "CONFIRMED"  # a person confirmed the candidate: `child_id` is it
    REJECTED = "REJECTED"  # a person said the candidate is someone else: a new child on apply
    NEW = "NEW"  # no child fits, or several do


# Rows tied to a known child, and rows that become children when the batch is applied.
MATCHED = (RowMatch.EXACT, RowMatch.CONFIRMED)
UNKNOWN = (RowMatch.NEW, RowMatch.REJECTED)


class RosterImport(SQLModel, table=True):
    """One roster file brought in for a jurisdiction: who, when, which file, as of when, and its counts."""

    __tablename__ = "roster_import"
    __table_args__ = (
        # The same file for the same jurisdiction and kind is staged once unless discarded: the use case
        # refuses DUPLICATE_FILE, this index decides the race between two uploads (ARCHITECTURE §12).
        sa.Index(
            "ux_roster_import_live_file",
            "jurisdiction_path",
            "kind",
            "file_sha256",
            unique=True,
            postgresql_where=sa.text("status <> 'DISCARDED'"),
        ),
        sa.CheckConstraint(f"kind IN {ROSTER_KINDS!r}", name="ck_roster_import_kind"),
        sa.CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="ck_roster_import_sha256"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    kind: str = Field(max_length=24)  # EXAM_REGISTRATION is 17 characters (migration 0025)
    # A region's code, or CN (the nation) for a ministry's pushed-down list: no foreign key (migration 0022).
    jurisdiction_code: str = Field(max_length=12)
    jurisdiction_path: str = Field(sa_type=path_type(), index=True)
    as_of: date = Field(description="the day the roster describes (its export date)")
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    status: ImportStatus = Field(default=ImportStatus.STAGED, sa_type=enum_type(ImportStatus))
    rows_read: int = Field(default=0)
    rows_valid: int = Field(default=0)
    rows_refused: int = Field(default=0)
    rows_matched: int = Field(default=0)
    rows_new: int = Field(default=0)
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = optional_time_field()
    decision_note: str | None = Field(default=None, max_length=500)
    province_code: str = Field(max_length=2, index=True)
    version: int = version_field()


class RosterRow(SQLModel, table=True):
    """One line of a roster file: its original cells, what was read from them, what was wrong, its match.

    The key is (import, line): COPY writes it straight from the file, with no sequence to draw from, and
    a batch's rows are read in file order from the key's index, filtered by scope as they are read (rows
    are only ever listed within one batch, a county's file or less; migration 0030 dropped the path indexes,
    which cost the import more than they saved the reads).

    No column has a foreign key, on purpose: PostgreSQL checks a foreign key row by row, and on COPY the
    check of `import_id` took a quarter to a third of the server's time (64,000 → 87,000 rows/s without it,
    server side alone); the checks of `child_id` and `candidate_child_id` also locked each child's row.
    Rows are written only by `resolvers/rosters/staging.stage_file` (and `stage_rows`), for a batch the
    caller's transaction holds, with the children read in the same transaction; batches and children are
    never deleted (ARCHITECTURE §5).
    """

    __tablename__ = "roster_row"
    __table_args__ = (
        # The comparisons ask whether a child is on another batch: one probe each (migration 0015).
        sa.Index("ix_roster_row_child_import", "child_id", "import_id"),
        # Full pages: a row is written once with its match (`stage_file`); only the few candidates a
        # person decides are updated afterwards. (Matching used to update every row, with half of each
        # page left free for it: migration 0011.)
        {"postgresql_with": {"fillfactor": 100}},
    )

    import_id: int = Field(primary_key=True, sa_type=sa.BigInteger)
    line: int = Field(primary_key=True, description="the row's number in the file, the header being 1")
    status: RowStatus = Field(sa_type=enum_type(RowStatus))
    problems: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=postgresql.JSONB, description="[{column, code, message}]"
    )
    raw: dict[str, Any] = Field(
        # json, not jsonb: written once, read back whole, never queried inside (migration 0027)
        default_factory=dict,
        sa_type=postgresql.JSON,
        description="the original cells by header, in file order",
    )
    name: str | None = Field(default=None, max_length=50)
    gender: Gender | None = Field(default=None, sa_type=enum_type(Gender))
    birth_date: date | None = None
    national_id: str | None = Field(default=None, max_length=18)
    registry_number: str | None = Field(default=None, max_length=20)
    school_code: str | None = Field(default=None, max_length=10)
    grade: int | None = Field(default=None, ge=1, le=9)
    household_region_code: str | None = Field(default=None, max_length=12)
    residence_region_code: str | None = Field(default=None, max_length=12)
    poverty_kind: str | None = Field(default=None, max_length=24)
    no_id_reason: str | None = Field(default=None, max_length=200)
    registry_status: str | None = Field(default=None, max_length=24)  # models.roster.RegistryStatus; None: 在读
    school_path: str | None = Field(default=None, sa_type=path_type())
    household_path: str | None = Field(default=None, sa_type=path_type())
    residence_path: str | None = Field(default=None, sa_type=path_type())
    child_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # a child's id (no foreign key: above)
    match: RowMatch | None = Field(default=None, sa_type=enum_type(RowMatch))
    candidate_child_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # idem
    province_code: str = Field(max_length=2)


# The columns COPY writes, in order: every column of `roster_row` but the match, which is set afterwards.
COPY_COLUMNS = (
    "import_id", "line", "status", "problems", "raw", "name", "gender", "birth_date", "national_id",
    "registry_number", "school_code", "grade", "household_region_code", "residence_region_code", "poverty_kind",
    "no_id_reason", "registry_status", "school_path", "household_path", "residence_path", "province_code",
)  # fmt: skip
