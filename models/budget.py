"""Budgets of an account: the query cost spent this minute, the export rows spent today, and the daily
export allowance a permission admin set for it (README, Budgets).

The counters live in PostgreSQL so that every server process spends from the same budget; each is
one row per account, changed by one atomic upsert (models/repos/budgets.py).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import updated_at_field, version_field


class QueryBudgetWindow(SQLModel, table=True):
    """The query cost an account spent in its current minute (a fixed window, by the database clock)."""

    __tablename__ = "query_budget_window"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    window_start: datetime = Field(sa_type=sa.DateTime(timezone=True))
    spent: int = Field(default=0, sa_type=sa.BigInteger)
    allowance: int = Field(sa_type=sa.BigInteger)  # as of the last charge: /metrics reports what remains


class ExportRowsSpent(SQLModel, table=True):
    """The export rows an account was granted on one day (China Standard Time)."""

    __tablename__ = "export_rows_spent"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    day: date = Field(primary_key=True)
    rows: int = Field(default=0, sa_type=sa.BigInteger)
    allowance: int = Field(sa_type=sa.BigInteger)  # as of the last charge: /metrics reports what remains


class ExportAllowance(SQLModel, table=True):
    """A permission admin's daily export allowance for one account, replacing its level's default."""

    __tablename__ = "export_allowance"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    rows_per_day: int = Field(sa_type=sa.BigInteger)
    set_by: str = Field(max_length=64)
    updated_at: datetime = updated_at_field()
    version: int = version_field()
