"""The lists' `totalCount`: `count(*)` over the scope against the statement the list runs (issue 18 §1).

```
uv run python -m bench.list_counts --database-url postgresql://…/<a seeded database>
```

For the accounts of bench/plans.py (school to province, both lines): `schoolAgeChildren` (the default
cut-off, 31 August, and one inside a month, 15 September), `ledgerEntries` (no filter; SUSPECTED and OPEN)
and `students(filter: {enrolled: true})`. The figures must agree; each statement's execution time under
`EXPLAIN ANALYZE` (median of 5). Prints a Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import Select, func, select

from authz.access import ranges_over
from models.child import Child
from models.ledger import EntryStatus, Ledger, LedgerEntry
from models.province import school_age_birth_window
from models.repos.children import SCOPE_COLUMNS, children_page_query
from models.repos.ledger import ENTRY_SCOPE_COLUMNS, EntryFilter, entries_page_query, entry_conditions
from models.repos.paging import within_any

from .common import libpq
from .plans import accounts
from .scope_counts import GRANTS, literal_sql, timed


def lists(ranges_of: Callable[[dict[str, Any]], Any]) -> list[tuple[str, Select[Any], Select[Any]]]:
    """(list, its count(*), the list's own count statement) for one account."""
    out: list[tuple[str, Select[Any], Select[Any]]] = []
    children = ranges_of(SCOPE_COLUMNS)
    for cutoff in (date(2026, 8, 31), date(2026, 9, 15)):
        born = school_age_birth_window(cutoff)
        query = children_page_query(scope=children, region_path=None, enrolled=None, born=born, after=None, limit=50)
        rows = (
            select(func.count())
            .select_from(Child)
            .where(within_any(children), Child.birth_date > born[0], Child.birth_date <= born[1])
        )
        out.append((f"schoolAgeChildren (cut-off {cutoff:%d %b})", rows, query.count))
    entries = ranges_of(ENTRY_SCOPE_COLUMNS)
    for name, f in (
        ("ledgerEntries", EntryFilter()),
        ("ledgerEntries (SUSPECTED, OPEN)", EntryFilter(ledger=Ledger.SUSPECTED, statuses=(EntryStatus.OPEN,))),
    ):
        query = entries_page_query(scope=entries, filter=f, after=None, limit=50)
        rows = select(func.count()).select_from(LedgerEntry).where(within_any(entries), *entry_conditions(f))
        out.append((name, rows, query.count))
    query = children_page_query(scope=children, region_path=None, enrolled=True, after=None, limit=50)
    rows = select(func.count()).select_from(Child).where(within_any(children), Child.school_code.is_not(None))  # type: ignore[union-attr]
    out.append(("students (enrolled)", rows, query.count))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    dsn = libpq(parser.parse_args().database_url)
    print("| account | place | list | rows | `count(*)` ms | the list's count ms |")
    print("|---|---|---|---:|---:|---:|")
    with psycopg.connect(dsn) as conn:
        for username, place in accounts(dsn):
            line = "GOV" if "government" in place else "EDU"
            paths = [str(r[0]) for r in conn.execute(GRANTS, [username])]
            for name, rows, kept in lists(lambda columns: ranges_over({line: paths}, columns)):  # noqa: B023
                counted, counted_ms = timed(conn, literal_sql(rows))
                figure, kept_ms = timed(conn, literal_sql(kept))
                if figure != counted:
                    raise SystemExit(f"{username} {name}: the list says {figure} ≠ count(*) {counted}")
                print(f"| `{username}` | {place} | {name} | {counted:,} | {counted_ms:.2f} | {kept_ms:.2f} |")


if __name__ == "__main__":
    main()
