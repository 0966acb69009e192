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


# An entry's keys, over the row `c` (as migration 0029, which keeps its own copy).
ENTRY_KEYS = """
  SELECT k.line, k.column_name, least(k.shared, 3)::smallint AS shared, kept_count_head(k.p) AS path,
         c.ledger, c.status
    FROM (VALUES
      ('EDU', 'school_path', 0, c.school_path),
      ('EDU', 'responsible_path', child_paths_shared(c.school_path, c.responsible_path), c.responsible_path),
      ('EDU', 'handover_path', greatest(child_paths_shared(c.school_path, c.handover_path),
                                        child_paths_shared(c.responsible_path, c.handover_path)), c.handover_path),
      ('GOV', 'household_path', 0, c.household_path),
      ('GOV', 'residence_path', child_paths_shared(c.household_path, c.residence_path), c.residence_path),
      ('GOV', 'responsible_path', greatest(child_paths_shared(c.household_path, c.responsible_path),
                                           child_paths_shared(c.residence_path, c.responsible_path)),
       c.responsible_path),
      ('GOV', 'handover_path', greatest(child_paths_shared(c.household_path, c.handover_path),
                                        child_paths_shared(c.residence_path, c.handover_path),
                                        child_paths_shared(c.responsible_path, c.handover_path)), c.handover_path)
    ) AS k(line, column_name, shared, p)
"""

# Recount from the entries. The caller holds a lock on `ledger_entry` that keeps writers out.
REBUILD_SQL = f"""
DELETE FROM ledger_entry_path_count;
INSERT INTO ledger_entry_path_count (line, column_name, shared, path, ledger, status, slot, entries)
SELECT k.*, 0, count(*) FROM ledger_entry c CROSS JOIN LATERAL ({ENTRY_KEYS}) k GROUP BY 1, 2, 3, 4, 5, 6;
ANALYZE ledger_entry_path_count;
"""  # noqa: S608 (fixed SQL, no input)
REBUILD_STATEMENTS = [s.strip() for s in REBUILD_SQL.split(";") if s.strip()]
