"""Ledger entries counted per line, path column, county, ledger and status (migration 0029, issue 18 §1).

`ledgerEntries { totalCount }`, unfiltered or filtered by ledger and status, is a sum over these rows
at any scope down to a county (models/repos/kept_counts.py). Kept as `child_path_count` is
(models/child_counts.py): statement triggers, lock-free slots, a count is the sum over every slot of a key.

An entry is seen on a line through several paths (models/ledger.py): on the education line its school,
responsible and handover paths; on the government line its household, residence, responsible and
handover paths, in that order (`ENTRY_SCOPE_COLUMNS`). For each line and path it counts once under the
path's first three components, with `shared` the most components the path shares with any path before it
on that line (capped at 3): in a region's scope it belongs to the first of its paths inside the region.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import path_type
from .child_counts import keys_sql


class LedgerEntryPathCount(SQLModel, table=True):
    __tablename__ = "ledger_entry_path_count"

    line: str = Field(primary_key=True, max_length=3)
    column_name: str = Field(primary_key=True, max_length=16)
    shared: int = Field(primary_key=True, sa_type=sa.SmallInteger)
    path: str = Field(primary_key=True, sa_type=path_type())
    ledger: str = Field(primary_key=True, max_length=24)
    status: str = Field(primary_key=True, max_length=24)
    slot: int = Field(primary_key=True, sa_type=sa.BigInteger)
    entries: int = Field(sa_type=sa.BigInteger)


ENTRY_LINES = {  # each line's path columns in its ranges' order (models/repos/ledger.ENTRY_SCOPE_COLUMNS)
    "EDU": ["school_path", "responsible_path", "handover_path"],
    "GOV": ["household_path", "residence_path", "responsible_path", "handover_path"],
}
ALL_ENTRIES = keys_sql(
    ENTRY_LINES,
    [("ledger", "ledger"), ("status", "status")],
    "(SELECT 1 AS sign, * FROM ledger_entry) AS c",
    with_line=True,
)

# Recount from the entries. The caller holds a lock on `ledger_entry` that keeps writers out.
REBUILD_SQL = f"""
DELETE FROM ledger_entry_path_count;
INSERT INTO ledger_entry_path_count (line, column_name, shared, path, ledger, status, slot, entries)
SELECT line, column_name, shared, path, ledger, status, 0, sum(sign) FROM ({ALL_ENTRIES}) k GROUP BY 1, 2, 3, 4, 5, 6;
ANALYZE ledger_entry_path_count;
"""  # noqa: S608 (fixed SQL, no input)
REBUILD_STATEMENTS = [s.strip() for s in REBUILD_SQL.split(";") if s.strip()]
