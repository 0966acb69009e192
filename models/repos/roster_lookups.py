"""What checking and matching a roster file asks of the database, a block of rows at a time, and the COPY
that writes the block into `roster_row` (resolvers/rosters/staging.py runs them; ARCHITECTURE §9).

Matching only reads children: it never touches one.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..roster_import import COPY_COLUMNS

MATCH_COLUMNS = ("child_id", "match", "candidate_child_id")
COPY_SQL = "COPY roster_row (" + ", ".join((*COPY_COLUMNS, *MATCH_COLUMNS)) + ") FROM STDIN (FORMAT csv)"

_PATHS_SQL = {
    "region": "SELECT code, path FROM region WHERE code = ANY(CAST(:codes AS text[]))",
    "school": "SELECT code, path FROM school WHERE code = ANY(CAST(:codes AS text[]))",
}


async def paths_of(session: AsyncSession, table: str, codes: list[str]) -> dict[str, str]:
    """The scope path of each code that is a region (`table` "region") or a school ("school")."""
    if not codes:
        return {}
    rows = await session.execute(text(_PATHS_SQL[table]), {"codes": codes})
    return dict(rows.all())  # type: ignore[arg-type]


# The children a candidate may be: registered or living in the county (ARCHITECTURE §9).
NEAR_SQL = """
SELECT id, name, birth_date, gender::text AS gender, national_id FROM child
 WHERE (household_path >= :county AND household_path < :county_end)
    OR (residence_path >= :county AND residence_path < :county_end)
"""
NEAR_SCHEMA = {"id": pl.Int64, "name": pl.String, "birth_date": pl.Date, "gender": pl.String, "national_id": pl.String}


async def near_children(session: AsyncSession, county_path: str | None) -> pl.DataFrame:
    """The county's children (none without a county: a pushed-down list is matched on the national ID only)."""
    if not county_path:
        return pl.DataFrame(schema=NEAR_SCHEMA)
    rows = await session.execute(text(NEAR_SQL), {"county": county_path, "county_end": county_path + "0"})
    return pl.DataFrame([tuple(r) for r in rows.all()], schema=NEAR_SCHEMA, orient="row")


async def children_by_national_id(session: AsyncSession, national_ids: Iterable[str]) -> pl.DataFrame:
    """(national_id, id) of the children holding these IDs, wherever they are."""
    ids = list(national_ids)
    schema = {"national_id": pl.String, "id": pl.Int64}
    if not ids:
        return pl.DataFrame(schema=schema)
    rows = await session.execute(
        text("SELECT national_id, id FROM child WHERE national_id = ANY(CAST(:ids AS text[]))"), {"ids": ids}
    )
    return pl.DataFrame([tuple(r) for r in rows.all()], schema=schema, orient="row")


async def copy_rows(session: AsyncSession, csv_text: str) -> None:
    """COPY a block of checked, matched rows (CSV in `COPY_SQL`'s columns) into `roster_row`, in the session's
    transaction."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection  # psycopg.AsyncConnection
    assert driver is not None
    async with driver.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        await copy.write(csv_text)


async def delete_rows(session: AsyncSession, import_id: int) -> None:
    await session.execute(text("DELETE FROM roster_row WHERE import_id = :import_id"), {"import_id": import_id})
