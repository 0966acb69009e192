"""roster_row.registry_status: a registry row's 学籍状态

Issue 12 §1 (the registry roster's status). The student registry marks dropouts (辍学), other leaving
(其他离校), transfers (转出), suspensions (休学), graduation and death; the roll comparison and the apply
read it (models/roster.py `EXPECTED_ON_ROLL`, `HOLDS_PLACE`). Null on every row before it, which reads as
在读, as a registry export without the column does: the rows staged so far keep their meaning.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "roster_row", sa.Column("registry_status", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("roster_row", "registry_status")
