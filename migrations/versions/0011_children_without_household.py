"""children without a household registration or an ID number

A child found door to door without a household registration or without an ID number (POLICY 004 §2
铁脚板摸排: 无户籍、无学籍) is registered with a reason instead: `child.no_household_reason` and
`child.no_id_reason`; the household and residence columns become nullable (a child from a school's roll may
have no known address yet), and so do the copies a ledger entry keeps of them. Check constraints keep
every child with a household registration or its reason, an ID number or its reason, and at least one
place (household, residence or school), and each path with its code.

Children registered before this revision without an ID number get the reason "登记时未注明" (not stated at
registration), so the constraint holds for them too; nothing else is rewritten.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_STATED = "登记时未注明 / not stated at registration"


def upgrade() -> None:
    op.add_column(
        "child", sa.Column("no_household_reason", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
    )
    op.add_column("child", sa.Column("no_id_reason", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    for column in ("household_region_code", "household_path", "residence_region_code", "residence_path"):
        op.alter_column("child", column, nullable=True)
    for column in ("household_path", "residence_path"):
        op.alter_column("ledger_entry", column, nullable=True)
    op.execute(
        sa.text(
            "UPDATE child SET no_id_reason = :reason WHERE national_id IS NULL AND no_id_reason IS NULL"
        ).bindparams(reason=NOT_STATED)
    )
    op.create_check_constraint(
        "ck_child_household_or_reason", "child", "household_region_code IS NOT NULL OR no_household_reason IS NOT NULL"
    )
    op.create_check_constraint(
        "ck_child_national_id_or_reason", "child", "national_id IS NOT NULL OR no_id_reason IS NOT NULL"
    )
    op.create_check_constraint(
        "ck_child_has_a_place",
        "child",
        "residence_region_code IS NOT NULL OR household_region_code IS NOT NULL OR school_code IS NOT NULL",
    )
    op.create_check_constraint(
        "ck_child_paths_follow_codes",
        "child",
        "(household_region_code IS NULL) = (household_path IS NULL)"
        " AND (residence_region_code IS NULL) = (residence_path IS NULL)",
    )


def downgrade() -> None:
    """Refused while a child or an entry lacks a household or residence: the older schema cannot hold it."""
    bind = op.get_bind()
    missing = bind.scalar(
        sa.text(
            "SELECT (SELECT count(*) FROM child WHERE household_path IS NULL OR residence_path IS NULL)"
            " + (SELECT count(*) FROM ledger_entry WHERE household_path IS NULL OR residence_path IS NULL)"
        )
    )
    if missing:
        raise RuntimeError(
            f"{missing} children or ledger entries have no household or residence path: revision 0010 cannot hold them"
        )
    for name in (
        "ck_child_paths_follow_codes",
        "ck_child_has_a_place",
        "ck_child_national_id_or_reason",
        "ck_child_household_or_reason",
    ):
        op.drop_constraint(name, "child", type_="check")
    for column in ("household_path", "residence_path"):
        op.alter_column("ledger_entry", column, nullable=False)
    for column in ("household_region_code", "household_path", "residence_region_code", "residence_path"):
        op.alter_column("child", column, nullable=False)
    op.drop_column("child", "no_id_reason")
    op.drop_column("child", "no_household_reason")
