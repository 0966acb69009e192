"""Roster rows on their way in: COPY, and the match each row is written with (ARCHITECTURE §9).

`stage_rows` COPYs parsed rows (the tests and the staging bench), `match_exact` and `match_candidates` then
match them: the matching rules in SQL, which the import's own matching of each block as it is written
(resolvers/rosters/staging.py) is held to by the tests. Matching only ever fills a row's match columns: it
never touches a child.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, cast

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..child import Child
from ..roster_import import COPY_COLUMNS, RosterImport, RosterRow, RowMatch, RowStatus

_NUL = "\\u0000"  # how JSON writes a NUL, which PostgreSQL cannot store (ARCHITECTURE, known traps)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # built once: json.dumps(**options) builds one a call


def _json(value: Any) -> str:
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    out = _ENCODER.encode(value)
    return out.replace(_NUL, "\\ufffd") if _NUL in out else out


def _copy_values(import_id: int, province_code: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
    get = row.get
    return (
        import_id, row["line"], str(row["status"]), _json(get("problems") or []), _json(get("raw") or {}),
        get("name"), get("gender"), get("birth_date"), get("national_id"), get("registry_number"),
        get("school_code"), get("grade"), get("household_region_code"), get("residence_region_code"),
        get("poverty_kind"), get("no_id_reason"), get("registry_status"), get("school_path"), get("household_path"),
        get("residence_path"), province_code,
    )  # fmt: skip


async def province_of(session: AsyncSession, import_id: int) -> str:
    """The batch's province code, which every row it stages carries (LookupError: no such batch)."""
    province_code = await session.scalar(
        select(col(RosterImport.province_code)).where(col(RosterImport.id) == import_id)
    )
    if province_code is None:
        raise LookupError(f"no roster import {import_id}")
    return str(province_code)


COPY_SQL = "COPY {table} (" + ", ".join(COPY_COLUMNS) + ") FROM STDIN"


async def stage_rows(
    session: AsyncSession,
    import_id: int,
    rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    *,
    table: str = "roster_row",
) -> int:
    """COPY the rows into `roster_row` for the batch, as they come (never all held at once), in the session's
    transaction; returns how many. Each row maps `line`, `status` and any parsed fields of `RosterRow` (absent:
    NULL), `problems` (a list of {column, code, message}) and `raw` (the cells by header). The province code
    is the batch's."""
    province_code = await province_of(session, import_id)
    connection = await session.connection()
    raw_connection = await connection.get_raw_connection()
    driver = raw_connection.driver_connection  # psycopg.AsyncConnection, in SQLAlchemy's transaction
    assert driver is not None
    count = 0
    async with driver.cursor() as cursor, cursor.copy(COPY_SQL.format(table=table)) as copy:
        async for row in rows if isinstance(rows, AsyncIterable) else _each(rows):
            await copy.write_row(_copy_values(import_id, province_code, row))
            count += 1
    return count


async def _each(rows: Iterable[Mapping[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    for row in rows:
        yield row


async def match_exact(session: AsyncSession, import_id: int) -> int:
    """Valid rows not matched yet whose national ID a child has: that child, EXACT. Returns the rows matched."""
    stmt = (
        update(RosterRow)
        .where(col(RosterRow.import_id) == import_id, col(RosterRow.status) == RowStatus.VALID)
        .where(col(RosterRow.match).is_(None), col(RosterRow.national_id) == col(Child.national_id))
        .values(child_id=Child.id, match=RowMatch.EXACT, candidate_child_id=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(cast(Any, result).rowcount)


# The candidate rule: the county's children on either government path (the import reads them through
# `roster_lookups.near_children`), and when one of them fits a row.
NEAR_CHILDREN = """
    SELECT id, name, birth_date, gender, national_id FROM child
     WHERE (household_path >= :county AND household_path < :county_end)
        OR (residence_path >= :county AND residence_path < :county_end)
"""
FITS = """n.name = r.name AND n.birth_date = r.birth_date AND n.gender = r.gender
       AND (r.national_id IS NULL OR n.national_id IS NULL OR n.national_id = r.national_id)"""

MATCH_CANDIDATES_SQL = f"""
WITH near AS ({NEAR_CHILDREN}), fits AS (
    SELECT r.line, count(n.id) AS n, min(n.id) AS child_id
      FROM roster_row r
      LEFT JOIN near n ON {FITS}
     WHERE r.import_id = :import_id AND r.status = 'VALID' AND r.match IS NULL
     GROUP BY r.line
), matched AS (
    UPDATE roster_row r
       SET match = CASE WHEN f.n = 1 THEN 'CANDIDATE' ELSE 'NEW' END,
           candidate_child_id = CASE WHEN f.n = 1 THEN f.child_id END
      FROM fits f
     WHERE r.import_id = :import_id AND r.line = f.line
    RETURNING r.match
)
SELECT count(*) FILTER (WHERE match = 'CANDIDATE') FROM matched
"""  # noqa: S608 (constants only)


async def match_candidates(session: AsyncSession, import_id: int, county_path: str) -> int:
    """Valid rows still unmatched (run `match_exact` first): CANDIDATE when exactly one child registered or
    living in the county has the row's name, birth date and gender (`candidate_child_id`, for a person to
    confirm or reject); NEW when none or several do. A child whose national ID differs from the row's is
    someone else and does not fit. Returns the rows given a candidate."""
    if not county_path:
        raise ValueError("a county path is required")
    params = {"import_id": import_id, "county": county_path, "county_end": county_path + "0"}
    return int(await session.scalar(text(MATCH_CANDIDATES_SQL), params) or 0)
