"""change feed: change_event written by deferred triggers in commit order

Every create, update, close-out and status change of children, ledger entries, persuasion visits,
case plans, deferral requests, handovers and reports writes one `change_event` row (models/change_feed.py).
The triggers are deferred constraint triggers: they run at the writing transaction's commit, take one
transaction-level advisory lock, and only then draw `seq`. The lock is released after the commit has
become visible, so `seq` follows commit order and a reader's "after my cursor" never skips a row that
commits late (ARCHITECTURE §10). `SET baoxue.change_feed = off` skips them (the synthetic seed's default).

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-04 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → the GraphQL type name its changes carry
FOLLOWED = {
    "child": "Student",
    "ledger_entry": "LedgerEntry",
    "persuasion_visit": "PersuasionVisit",
    "case_plan": "CasePlan",
    "deferral_request": "DeferralRequest",
    "handover": "Handover",
    "report": "Report",
}

FUNCTION_SQL = """
CREATE FUNCTION change_feed_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_row jsonb := to_jsonb(NEW);
  old_row jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
  entry ledger_entry%ROWTYPE;
  op text := 'CREATE';
  p_school text; p_household text; p_residence text; p_responsible text; p_handover text; p_unit text;
  moved boolean := false;
  next_seq bigint;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF new_row = old_row THEN
      RETURN NULL;
    END IF;
    op := CASE
      WHEN TG_TABLE_NAME = 'ledger_entry' AND new_row->>'status' = 'CLOSED' AND old_row->>'status' <> 'CLOSED'
        THEN 'CLOSE'
      WHEN new_row->>'status' IS DISTINCT FROM old_row->>'status' THEN 'STATUS_CHANGE'
      ELSE 'UPDATE' END;
  END IF;
  -- Commit order: the lock is held to the end of this transaction, past the moment its rows become visible.
  PERFORM pg_advisory_xact_lock(150019);
  IF TG_TABLE_NAME IN ('child', 'ledger_entry') THEN
    p_school := new_row->>'school_path';
    p_household := new_row->>'household_path';
    p_residence := new_row->>'residence_path';
    p_responsible := new_row->>'responsible_path';
    p_handover := new_row->>'handover_path';
    moved := TG_OP = 'UPDATE' AND (
      p_school IS DISTINCT FROM old_row->>'school_path'
      OR p_household IS DISTINCT FROM old_row->>'household_path'
      OR p_residence IS DISTINCT FROM old_row->>'residence_path'
      OR p_responsible IS DISTINCT FROM old_row->>'responsible_path'
      OR p_handover IS DISTINCT FROM old_row->>'handover_path');
  ELSIF TG_TABLE_NAME = 'report' THEN
    p_unit := new_row->>'unit_path';
  ELSE
    -- Visits, deferrals and handovers are seen where their entry is; a plan where its child's latest entry is.
    IF TG_TABLE_NAME = 'case_plan' THEN
      SELECT * INTO entry FROM ledger_entry WHERE child_id = (new_row->>'child_id')::bigint ORDER BY id DESC LIMIT 1;
    ELSE
      SELECT * INTO entry FROM ledger_entry WHERE id = (new_row->>'entry_id')::bigint;
    END IF;
    p_school := entry.school_path;
    p_household := entry.household_path;
    p_residence := entry.residence_path;
    p_responsible := entry.responsible_path;
    p_handover := entry.handover_path;
  END IF;
  next_seq := nextval('change_event_seq_seq');
  INSERT INTO change_event (
    seq, changed_at, object_type, object_id, operation, version, object,
    school_path, household_path, residence_path, responsible_path, handover_path, unit_path, moved,
    was_school_path, was_household_path, was_residence_path, was_responsible_path, was_handover_path)
  VALUES (
    next_seq, now(), TG_ARGV[0], (new_row->>'id')::bigint, op,
    coalesce((new_row->>'version')::bigint, next_seq), new_row,
    p_school, p_household, p_residence, p_responsible, p_handover, p_unit, moved,
    CASE WHEN moved THEN old_row->>'school_path' END, CASE WHEN moved THEN old_row->>'household_path' END,
    CASE WHEN moved THEN old_row->>'residence_path' END, CASE WHEN moved THEN old_row->>'responsible_path' END,
    CASE WHEN moved THEN old_row->>'handover_path' END);
  RETURN NULL;
END $$;
"""

# Two helpers of how a stored row is shown (models/repos/change_feed.py `api_object`): a Relay global ID,
# and personal data masked as models/child.py `mask_national_id` masks it (first 6, last 4).
API_SQL = r"""
CREATE FUNCTION change_global_id(type_name text, object_id text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN encode(convert_to(type_name || ':' || object_id, 'UTF8'), 'base64');
CREATE FUNCTION change_mask(personal text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN left(personal, 6) || repeat('*', length(personal) - 10) || right(personal, 4);
"""

TRIGGER_SQL = """
CREATE CONSTRAINT TRIGGER change_feed AFTER INSERT OR UPDATE ON {table}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (current_setting('baoxue.change_feed', true) IS DISTINCT FROM 'off')
  EXECUTE FUNCTION change_feed_record('{type_name}');
"""


def upgrade() -> None:
    op.create_table(
        "change_event",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("object", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *(
            sa.Column(name, sa.Text(collation="C"), nullable=True)
            for name in ("school_path", "household_path", "residence_path", "responsible_path", "handover_path")
        ),
        sa.Column("unit_path", sa.Text(collation="C"), nullable=True),
        sa.Column("moved", sa.Boolean(), server_default=sa.false(), nullable=False),
        *(
            sa.Column(f"was_{name}", sa.Text(collation="C"), nullable=True)
            for name in ("school_path", "household_path", "residence_path", "responsible_path", "handover_path")
        ),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_change_event_changed_at", "change_event", ["changed_at"], postgresql_using="brin")
    op.create_table(
        "change_feed_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="ck_change_feed_state_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO change_feed_state (id, pruned_through) VALUES (1, 0)")
    op.execute(FUNCTION_SQL)
    op.execute(API_SQL)
    for table, type_name in FOLLOWED.items():
        op.execute(TRIGGER_SQL.format(table=table, type_name=type_name))


def downgrade() -> None:
    for table in FOLLOWED:
        op.execute(f"DROP TRIGGER IF EXISTS change_feed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS change_feed_record()")
    op.execute("DROP FUNCTION IF EXISTS change_mask(text)")
    op.execute("DROP FUNCTION IF EXISTS change_global_id(text, text)")
    op.drop_table("change_feed_state")
    op.drop_index("ix_change_event_changed_at", table_name="change_event", postgresql_using="brin")
    op.drop_table("change_event")
