"""platform uploads: changes owed to the national platform, written by a trigger, and the batches sent

Every change the ministry's platform must be told of (POLICY 004 §9: 新增疑似辍学和辍学学生信息…及时录入) is
a `platform_change` row written by a trigger on `ledger_entry` in the changing transaction itself: an entry
opened (on the suspected or the dropout ledger), returned, reopened, placed, deferred, closed out. A suspected
entry closed because its dropout entry opened (ESCALATED_TO_DROPOUT) is not a close-out: the dropout entry's
opening tells the platform. An entry written with its later states already set (generated data) owes each of
them (a deferral on the day of its approved request, or today when none is recorded yet). Existing entries are filled the same way: nothing was sent before this migration.

Also the province setting `bimonth_report_due_day` (default 10) of the ministry's bimonthly dispatch (双月报).

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The changes an entry row owes when it is written whole (an insert, or the fill below): its opening and
# every later state it already holds. `e` is the entry; China time decides a timestamp's day.
WHOLE_ENTRY = """
SELECT e.id, e.responsible_path, e.ledger, e.opened_on, e.province_code, 1
UNION ALL SELECT e.id, e.responsible_path, 'RETURNED', e.returned_on, e.province_code, 2
 WHERE e.returned_on IS NOT NULL
UNION ALL SELECT e.id, e.responsible_path, 'PLACED', e.placed_on, e.province_code, 3
 WHERE e.placed_on IS NOT NULL
UNION ALL SELECT e.id, e.responsible_path, 'DEFERRED',
                 coalesce((SELECT (max(d.decided_at) AT TIME ZONE 'Asia/Shanghai')::date FROM deferral_request d
                            WHERE d.entry_id = e.id AND d.status = 'APPROVED'),
                          (now() AT TIME ZONE 'Asia/Shanghai')::date),
                 e.province_code, 4
 WHERE e.status = 'DEFERRED'
UNION ALL SELECT e.id, e.responsible_path, 'CLOSED_OUT', (e.closed_at AT TIME ZONE 'Asia/Shanghai')::date,
                 e.province_code, 5
 WHERE e.status = 'CLOSED' AND e.closed_at IS NOT NULL AND e.close_reason IS DISTINCT FROM 'ESCALATED_TO_DROPOUT'
"""

TRIGGER_SQL = """
CREATE FUNCTION platform_change_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    SELECT c.id, c.responsible_path, c.kind, c.happened_on, c.province_code
      FROM (SELECT NEW.*) AS e,
           LATERAL (WHOLE_ENTRY) AS c(id, responsible_path, kind, happened_on, province_code, step)
     ORDER BY c.step;
    RETURN NULL;
  END IF;
  IF NEW.status = 'RETURNED' AND OLD.status IS DISTINCT FROM 'RETURNED' THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    VALUES (NEW.id, NEW.responsible_path, 'RETURNED', coalesce(NEW.returned_on, today), NEW.province_code);
  END IF;
  IF NEW.status = 'OPEN' AND OLD.status = 'RETURNED' THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    VALUES (NEW.id, NEW.responsible_path, 'REOPENED', today, NEW.province_code);
  END IF;
  IF NEW.placed_on IS NOT NULL AND OLD.placed_on IS NULL THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    VALUES (NEW.id, NEW.responsible_path, 'PLACED', NEW.placed_on, NEW.province_code);
  END IF;
  IF NEW.status = 'DEFERRED' AND OLD.status IS DISTINCT FROM 'DEFERRED' THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    VALUES (NEW.id, NEW.responsible_path, 'DEFERRED', today, NEW.province_code);
  END IF;
  IF NEW.status = 'CLOSED' AND OLD.status IS DISTINCT FROM 'CLOSED'
     AND NEW.close_reason IS DISTINCT FROM 'ESCALATED_TO_DROPOUT' THEN
    INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
    VALUES (NEW.id, NEW.responsible_path, 'CLOSED_OUT',
            coalesce((NEW.closed_at AT TIME ZONE 'Asia/Shanghai')::date, today), NEW.province_code);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER platform_change_record AFTER INSERT OR UPDATE ON ledger_entry
  FOR EACH ROW EXECUTE FUNCTION platform_change_record();
""".replace("WHOLE_ENTRY", WHOLE_ENTRY)

FILL_SQL = """
INSERT INTO platform_change (entry_id, county_path, kind, happened_on, province_code)
SELECT c.id, c.responsible_path, c.kind, c.happened_on, c.province_code
  FROM ledger_entry AS e, LATERAL (WHOLE_ENTRY) AS c(id, responsible_path, kind, happened_on, province_code, step)
 ORDER BY e.id, c.step;
""".replace("WHOLE_ENTRY", WHOLE_ENTRY)

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS platform_change_record ON ledger_entry;
DROP FUNCTION IF EXISTS platform_change_record();
"""


def upgrade() -> None:
    op.create_table(
        "platform_batch",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("county_path", sa.Text(collation="C"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("SENT", "FAILED", "ACCEPTED", name="uploadstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("failed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("accepted_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("county_path", "number", name="uq_platform_batch_number"),
    )
    op.create_index(op.f("ix_platform_batch_county_path"), "platform_batch", ["county_path"], unique=False)
    kinds = ("SUSPECTED", "DROPOUT", "RETURNED", "REOPENED", "PLACED", "DEFERRED", "CLOSED_OUT")
    op.create_table(
        "platform_change",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("county_path", sa.Text(collation="C"), nullable=False),
        sa.Column("kind", sa.Enum(*kinds, name="platformchangekind", native_enum=False, length=24), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["platform_batch.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_platform_change_entry_id"), "platform_change", ["entry_id"], unique=False)
    op.create_index(
        "ix_platform_change_owed",
        "platform_change",
        ["county_path", "id"],
        unique=False,
        postgresql_where=sa.text("batch_id IS NULL"),
    )
    op.create_table(
        "platform_batch_line",
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Enum(*kinds, name="platformchangekind", native_enum=False, length=24), nullable=False),
        sa.Column("registry_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("national_id", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("gender", sa.Enum("MALE", "FEMALE", name="gender", native_enum=False, length=24), nullable=False),
        sa.Column("school_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(*"ABCDEFGHIJKLMNOPQRST", name="dropoutcategory", native_enum=False, length=24),
            nullable=True,
        ),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["platform_batch.id"]),
        sa.ForeignKeyConstraint(["change_id"], ["platform_change.id"]),
        sa.PrimaryKeyConstraint("batch_id", "seq"),
    )
    op.create_index(op.f("ix_platform_batch_line_change_id"), "platform_batch_line", ["change_id"], unique=False)
    op.execute(TRIGGER_SQL)
    op.execute(FILL_SQL)
    # The ministry's bimonthly dispatch (双月报): its due day in the month after the two months.
    op.add_column(
        "province_setting",
        sa.Column("bimonth_report_due_day", sa.Integer(), server_default="10", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("province_setting", "bimonth_report_due_day")
    op.execute(DROP_TRIGGER_SQL)
    op.drop_index(op.f("ix_platform_batch_line_change_id"), table_name="platform_batch_line")
    op.drop_table("platform_batch_line")
    op.drop_index("ix_platform_change_owed", table_name="platform_change", postgresql_where=sa.text("batch_id IS NULL"))
    op.drop_index(op.f("ix_platform_change_entry_id"), table_name="platform_change")
    op.drop_table("platform_change")
    op.drop_index(op.f("ix_platform_batch_county_path"), table_name="platform_batch")
    op.drop_table("platform_batch")
