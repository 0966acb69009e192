"""pushed-down lists: verification tasks, verification_days, the PUSHED roster kind

Lists of suspected dropouts pushed down by the ministry or a province (下发核实, POLICY 004 §9): the roster
kind PUSHED, each routed row's verification task, and the days a county has to verify (province_setting).
A ministry's list is imported for the nation (CN), so roster_import.jurisdiction_code loses its foreign key.
Downgrading removes the pushed-down batches and their rows with the tasks.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kinds() -> list[str]:
    """The kinds the current check allows, read from the database: another migration may add its own kind
    before or after this one (chained at merge), and each keeps the others'."""
    found = op.get_bind().execute(
        sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_roster_import_kind'")
    )
    return re.findall(r"'([A-Z_]+)'", found.scalar() or "")


def _check(kinds: list[str]) -> None:
    op.drop_constraint("ck_roster_import_kind", "roster_import", type_="check")
    listed = ", ".join(f"'{k}'" for k in kinds)
    op.create_check_constraint("ck_roster_import_kind", "roster_import", f"kind IN ({listed})")


def upgrade() -> None:
    # A ministry's list is imported for the nation, CN, which is no region row.
    op.drop_constraint("roster_import_jurisdiction_code_fkey", "roster_import", type_="foreignkey")
    _check([*(k for k in _kinds() if k != "PUSHED"), "PUSHED"])
    op.add_column("province_setting", sa.Column("verification_days", sa.Integer(), server_default="15", nullable=False))
    op.create_table(
        "verification_task",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("import_id", sa.BigInteger(), sa.ForeignKey("roster_import.id"), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sender_path", sa.Text(collation="C"), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=True),
        sa.Column("county_path", sa.Text(collation="C"), nullable=True),
        sa.Column("route", sa.Enum("SCHOOL", "RESIDENCE", "HOUSEHOLD", "REROUTED", name="routerule", native_enum=False, length=24), nullable=True),
        sa.Column("unroutable_reason", sa.Enum("NO_PLACE", "UNKNOWN_PLACE", "NOT_IN_A_COUNTY", name="unroutablereason", native_enum=False, length=24), nullable=True),
        sa.Column("status", sa.Enum("OPEN", "DONE", "REROUTED", "UNROUTABLE", name="taskstatus", native_enum=False, length=24), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("child_id", sa.BigInteger(), sa.ForeignKey("child.id"), nullable=True),
        sa.Column("outcome", sa.Enum("CONFIRMED", "NOT_DROPOUT", "NOT_OURS", name="outcome", native_enum=False, length=24), nullable=True),
        sa.Column("not_dropout_reason", sa.Enum("AT_SCHOOL", "TRANSFERRED", "GRADUATED", "DECEASED", "MOVED_ABROAD", "RECORD_ERROR", name="notdropoutreason", native_enum=False, length=24), nullable=True),
        sa.Column("school_code", sa.String(length=10), nullable=True),
        sa.Column("rerouted_to_code", sa.String(length=12), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("ledger_entry_id", sa.BigInteger(), sa.ForeignKey("ledger_entry.id"), nullable=True),
        sa.Column("previous_task_id", sa.BigInteger(), sa.ForeignKey("verification_task.id"), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("verified_by", sa.String(length=64), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )  # fmt: skip
    op.create_index("ix_verification_task_sender_path", "verification_task", ["sender_path"])
    op.create_index("ix_verification_task_county_path", "verification_task", ["county_path"])
    op.create_index("ix_verification_task_province_code", "verification_task", ["province_code"])
    op.create_index("ix_verification_task_import_county", "verification_task", ["import_id", "county_path"])
    op.create_index(
        "ux_verification_task_live_row",
        "verification_task",
        ["import_id", "line"],
        unique=True,
        postgresql_where=sa.text("status <> 'REROUTED'"),
    )


def downgrade() -> None:
    # The schema before had no pushed-down lists: their tasks, batches and rows go with it (children and
    # ledger entries a verification made stay).
    op.drop_table("verification_task")
    op.execute("DELETE FROM roster_row WHERE import_id IN (SELECT id FROM roster_import WHERE kind = 'PUSHED')")
    op.execute("DELETE FROM roster_import WHERE kind = 'PUSHED'")
    op.drop_column("province_setting", "verification_days")
    _check([k for k in _kinds() if k != "PUSHED"])
    op.create_foreign_key(
        "roster_import_jurisdiction_code_fkey", "roster_import", "region", ["jurisdiction_code"], ["code"]
    )
