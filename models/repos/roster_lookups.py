"""What checking and matching a roster file asks of the database, a block of rows at a time, and the COPY
that writes the block into `roster_row` (resolvers/rosters/staging.py runs them; ARCHITECTURE §9).

Matching only reads children: it never touches one.
"""

from __future__ import annotations

from typing import Any, cast

import polars as pl
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..roster_import import COPY_COLUMNS
from .roster_staging import NEAR_CHILDREN

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
    return dict(rows.all())


# The children a candidate may be (the candidate rule's, `roster_staging.NEAR_CHILDREN`), each a CSV line:
# the name quoted (it may hold a comma or a quote), the others plain; `NEAR_PER_TEXT` lines a text.
NEAR_PER_TEXT = 4096
NEAR_CSV_SQL = f"""
SELECT convert_to(string_agg(concat_ws(
    ',', id, '"' || replace(name, '"', '""') || '"', to_char(birth_date, 'YYYY-MM-DD'), gender,
    coalesce(national_id, '')
), E'\\n'), 'UTF8')
  FROM (SELECT n.*, row_number() OVER () / :per_text AS part FROM ({NEAR_CHILDREN}) n) n
 GROUP BY part
"""  # noqa: S608 (constants only)
NEAR_SCHEMA = {"id": pl.Int64, "name": pl.String, "birth_date": pl.Date, "gender": pl.String, "national_id": pl.String}


async def near_children(session: AsyncSession, county_path: str | None, per_text: int = 0) -> pl.DataFrame:
    """The county's children (none without a county: a pushed-down list is matched on the national ID only),
    read as CSV texts that polars parses, as bytes (no Python string): a county's 76,000 children as rows of
    the driver cost the server 0.2 s of CPU and about 20 MB of Python objects. Several texts, not one: libpq
    keeps its input buffer as large as the largest message a connection received, for as long as the pool
    keeps the connection (one text of a county's children left 8 MB in each connection that read one). `per_text`:
    children a text (0: `NEAR_PER_TEXT`)."""
    if not county_path:
        return pl.DataFrame(schema=NEAR_SCHEMA)
    bounds = {"county": county_path, "county_end": county_path + "0", "per_text": per_text or NEAR_PER_TEXT}
    found = await session.scalars(text(NEAR_CSV_SQL), bounds)
    texts = list(found)
    frames = [pl.DataFrame(schema=NEAR_SCHEMA)]
    while texts:  # each text dropped once parsed
        frames.append(pl.read_csv(texts.pop(), has_header=False, new_columns=list(NEAR_SCHEMA), schema=NEAR_SCHEMA))
    return pl.concat(frames)


async def children_by_national_id(session: AsyncSession, national_ids: list[str]) -> pl.DataFrame:
    """(national_id, id) of the children holding these IDs, wherever they are (one probe of the unique index each)."""
    schema = {"national_id": pl.String, "id": pl.Int64}
    rows = await session.execute(
        text("SELECT national_id, id FROM child WHERE national_id = ANY(CAST(:ids AS text[]))"), {"ids": national_ids}
    )
    return pl.DataFrame([tuple(r) for r in rows.all()], schema=schema, orient="row")


async def copy_rows(session: AsyncSession, csv_text: bytes) -> None:
    """COPY a block of checked, matched rows (CSV in `COPY_SQL`'s columns) into `roster_row`, in the session's
    transaction."""
    driver = await _driver(session)
    async with driver.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        await copy.write(csv_text)


async def _driver(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The session's psycopg connection, in its transaction (COPY is the driver's)."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    return cast("psycopg.AsyncConnection[Any]", driver)
