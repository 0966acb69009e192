"""key transitions: 小升初 and 中考 registration

`province_setting.primary_leaver_days` (小升初: days after the autumn term start before a primary leaver
with no junior-school place is listed, default 30), the `EXAM_REGISTRATION` roster kind (中考报名名册) and
`exam_registration_explanation`, one explanation per grade-9 pupil and school year of a missing 中考
registration (POLICY 003 二(二); docs/POLICY.md "Key transitions").

Revision ID: 0025
Revises: 0021
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "('HOUSEHOLD', 'REGISTRY', 'IN_SCHOOL', 'POVERTY')"
KINDS_AFTER = "('HOUSEHOLD', 'REGISTRY', 'IN_SCHOOL', 'POVERTY', 'EXAM_REGISTRATION')"


def upgrade() -> None:
    op.add_column(
        "province_setting", sa.Column("primary_leaver_days", sa.Integer(), server_default="30", nullable=False)
    )
    op.drop_constraint("ck_roster_import_kind", "roster_import", type_="check")
    op.alter_column("roster_import", "kind", type_=sa.String(length=24), existing_nullable=False)
    op.create_check_constraint("ck_roster_import_kind", "roster_import", f"kind IN {KINDS_AFTER}")
    op.create_table(
        "exam_registration_explanation",
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "EMPLOYMENT",
                "ABROAD",
                "ILLNESS",
                "DROPOUT",
                "TRANSFERRED",
                "REGISTERED_NOT_LISTED",
                "OTHER",
                name="gapreason",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("school_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("school_path", sa.Text(collation="C"), nullable=False),
        sa.Column("explained_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("explained_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.PrimaryKeyConstraint("child_id", "school_year"),
    )
    op.create_index(
        op.f("ix_exam_registration_explanation_province_code"),
        "exam_registration_explanation",
        ["province_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_exam_registration_explanation_school_path"),
        "exam_registration_explanation",
        ["school_path"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_exam_registration_explanation_school_path"), table_name="exam_registration_explanation")
    op.drop_index(op.f("ix_exam_registration_explanation_province_code"), table_name="exam_registration_explanation")
    op.drop_table("exam_registration_explanation")
    # Batches of the kind are kept (history is never deleted): the earlier rule holds for new rows only.
    op.drop_constraint("ck_roster_import_kind", "roster_import", type_="check")
    op.execute(
        f"ALTER TABLE roster_import ADD CONSTRAINT ck_roster_import_kind CHECK (kind IN {KINDS_BEFORE}) NOT VALID"
    )
    op.drop_column("province_setting", "primary_leaver_days")
