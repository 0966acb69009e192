"""settings by province and city

Settings are kept through the API (`updateProvinceSettings`, `updateCitySettings`, issue 14 §6), with a
`version` for optimistic concurrency. Guyuan's term survey (POLICY 003 §2(二)) is a city's choice
(固原市), not a whole province's: the switch moves from `province_setting` to `city_setting`. A province
that had it on keeps it on in each of its cities, so no county's calendar changes; going back, a
province has it on when any of its cities had.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "city_setting",
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("term_survey_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("city_code"),
    )
    op.create_index(op.f("ix_city_setting_province_code"), "city_setting", ["province_code"], unique=False)
    op.add_column("province_setting", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.execute(
        """
        INSERT INTO city_setting (city_code, province_code, term_survey_enabled)
        SELECT r.code, s.province_code, true
          FROM province_setting s JOIN region r ON r.parent_code = s.province_code AND r.level = 'CITY'
         WHERE s.term_survey_enabled
        """
    )
    op.drop_column("province_setting", "term_survey_enabled")


def downgrade() -> None:
    op.add_column(
        "province_setting",
        sa.Column("term_survey_enabled", sa.Boolean(), server_default="false", nullable=False),
    )
    op.execute(
        """
        INSERT INTO province_setting (province_code, age_cutoff_month, age_cutoff_day, term_survey_enabled)
        SELECT DISTINCT province_code, 8, 31, true FROM city_setting WHERE term_survey_enabled
        ON CONFLICT (province_code) DO UPDATE SET term_survey_enabled = true
        """
    )
    op.drop_column("province_setting", "version")
    op.drop_index(op.f("ix_city_setting_province_code"), table_name="city_setting")
    op.drop_table("city_setting")
