"""school calendar, leave reasons, the evidence of attendance entries, returned children in the statistics

Issue 14 §1: attendance counts on school days only (a province's terms and days, a county's days off,
over the national calendar); leave has a reason and an optional last day; an entry the attendance rules
open carries the run of evidenced absence it opened on. Existing leave marks get the reason OTHER.
Issue 14 §2: the month-end statistics count a child back at school awaiting close-out apart
(`awaiting_close_out`), not as suspected or a dropout; months already taken read 0 until taken again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 05:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_KIND = sa.Enum("DAY_OFF", "SCHOOL_DAY", name="daykind", native_enum=False, length=24)
LEAVE_REASON = sa.Enum("ILLNESS", "FAMILY", "OTHER", name="leavereason", native_enum=False, length=24)


def upgrade() -> None:
    op.create_table(
        "school_calendar",
        sa.Column("region_path", sa.Text(collation="C"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("region_path", "year"),
    )
    op.create_index("ix_school_calendar_province_code", "school_calendar", ["province_code"])
    op.create_table(
        "school_term",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("province_code", "first_day"),
    )
    op.create_table(
        "school_calendar_day",
        sa.Column("region_path", sa.Text(collation="C"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", DAY_KIND, nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("region_path", "day"),
    )
    op.create_index("ix_school_calendar_day_province_code", "school_calendar_day", ["province_code"])
    op.add_column("attendance_mark", sa.Column("leave_reason", LEAVE_REASON, nullable=True))
    op.add_column("attendance_mark", sa.Column("leave_until", sa.Date(), nullable=True))
    op.execute("UPDATE attendance_mark SET leave_reason = 'OTHER' WHERE mark = 'EXCUSED'")
    op.create_check_constraint(
        "ck_attendance_mark_leave",
        "attendance_mark",
        "(mark = 'EXCUSED') = (leave_reason IS NOT NULL) AND (leave_until IS NULL OR leave_until > day)",
    )
    op.add_column("ledger_entry", sa.Column("evidence_first_absent_on", sa.Date(), nullable=True))
    op.add_column("ledger_entry", sa.Column("evidence_last_absent_on", sa.Date(), nullable=True))
    op.add_column("ledger_entry", sa.Column("evidence_school_days_absent", sa.Integer(), nullable=True))
    op.add_column(
        "period_statistic",
        sa.Column("awaiting_close_out", sa.BigInteger(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("period_statistic", "awaiting_close_out")
    op.drop_column("ledger_entry", "evidence_school_days_absent")
    op.drop_column("ledger_entry", "evidence_last_absent_on")
    op.drop_column("ledger_entry", "evidence_first_absent_on")
    op.drop_constraint("ck_attendance_mark_leave", "attendance_mark", type_="check")
    op.drop_column("attendance_mark", "leave_until")
    op.drop_column("attendance_mark", "leave_reason")
    op.drop_index("ix_school_calendar_day_province_code", table_name="school_calendar_day")
    op.drop_table("school_calendar_day")
    op.drop_table("school_term")
    op.drop_index("ix_school_calendar_province_code", table_name="school_calendar")
    op.drop_table("school_calendar")
