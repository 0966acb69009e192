"""term-start reporting: the unreported list's reasons, persuasion rounds, the report's frozen list

Issue 16 §4 (POLICY 002 一(三)): within 15 days of each term start (`province_setting.
term_start_report_days`), pupils who have not reported are listed and each reason verified
(`unreported_explanation`, one per pupil and term); townships record their term-start persuasion
rounds on listed children (`unreported_visit`); a school's term-start report (cadence TERM_START)
freezes its list in each version (`report_unreported`).

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON = sa.Enum(
    "TRANSFERRED", "ILL", "ON_LEAVE", "MOVED", "UNREACHABLE", "SUSPECTED",
    name="unreportedreason", native_enum=False, length=24,
)  # fmt: skip
GENDER = sa.Enum("MALE", "FEMALE", name="gender", native_enum=False, length=24)
METHOD = sa.Enum(
    "HOME_VISIT", "PHONE", "JOINT_VISIT", "WRITTEN_NOTICE", "ORDER_TO_CORRECT", "JUDICIAL_DOCUMENT", "LEGAL_LIABILITY",
    name="visitmethod", native_enum=False, length=24,
)  # fmt: skip


def upgrade() -> None:
    op.add_column(
        "province_setting", sa.Column("term_start_report_days", sa.Integer(), server_default="15", nullable=False)
    )
    op.create_table(
        "unreported_explanation",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("term", sa.String(length=16), nullable=False),
        sa.Column("school_code", sa.String(length=10), sa.ForeignKey("school.code"), nullable=False),
        sa.Column("school_path", sa.Text(collation="C"), nullable=False),
        sa.Column("reason", REASON, nullable=False),
        sa.Column("receiving_school_code", sa.String(length=10), sa.ForeignKey("school.code"), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), sa.ForeignKey("ledger_entry.id"), nullable=True),
        sa.Column("explained_by", sa.String(length=64), nullable=False),
        sa.Column("explained_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("child_id", "term", name="uq_unreported_explanation_child_term"),
    )
    op.create_index("ix_unreported_explanation_child_id", "unreported_explanation", ["child_id"])
    op.create_index("ix_unreported_explanation_school_path", "unreported_explanation", ["school_path"])
    op.create_table(
        "unreported_visit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("term", sa.String(length=16), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("method", METHOD, nullable=False),
        sa.Column("participants", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=1000), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_unreported_visit_child_term", "unreported_visit", ["child_id", "term"])
    op.create_table(
        "report_unreported",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("revision_id", sa.BigInteger(), sa.ForeignKey("report_revision.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("gender", GENDER, nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("days_absent", sa.Integer(), nullable=False),
        sa.Column("on_leave", sa.Boolean(), nullable=False),
        sa.Column("reason", REASON, nullable=True),
        sa.Column("receiving_school_code", sa.String(length=10), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("revision_id", "child_id", name="uq_report_unreported_child"),
    )
    op.create_index("ix_report_unreported_revision_id", "report_unreported", ["revision_id"])


def downgrade() -> None:
    op.drop_table("report_unreported")
    op.drop_table("unreported_visit")
    op.drop_table("unreported_explanation")
    op.drop_column("province_setting", "term_start_report_days")
