"""A file's cells staged in SQL: COPYed as read, checked in one statement, kept in scope, matched.

`stage_cells` on the operation's connection, or `stage_cells_in_parts` on two (a helper's half committed
first, published by the batch's commit); `hold_in_flight` and `sweep_orphan_rows` keep a crash between the
two commits from leaving rows no batch owns. The checks' SQL is resolvers/rosters/rows.py's (`CellChecks`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..child import birth_place_known
from ..roster_import import RosterImport
from .roster_staging import STAGE_TABLE, match_staged, new_stage, province_of

CELLS_TABLE = "roster_cells"


@dataclass
class SeenIds:
    """The (region prefix, birth year) of a file's IDs, as their first ten digits, gathered by Python while it
    writes the cells (`resolvers/rosters/cells.cell_blocks`) from the cells that are plain ASCII letters and
    digits; `unplain` when some ID cell is not (white space, full-width digits, hyphens, a NUL): then
    PostgreSQL normalises those cells and adds theirs (`CellChecks.birth_places_sql`)."""

    pairs: set[str] = field(default_factory=set)
    unplain: bool = False


@dataclass(frozen=True)
class CellChecks:
    """How a file's cells are checked in SQL (resolvers/rosters/rows.py writes it): `width` cells a row, the
    national ID in cell `id_cell` (None: no such column); the query of the (prefix, year) pairs of the ID cells
    that are not plain, for `birth_place_known`; the SELECT of each row's `columns` (status `out_of_scope` for
    a row to drop, counted); their parameters; the IDs seen while the cells were written (`ids`)."""

    width: int
    id_cell: int | None
    birth_places_sql: str
    select_sql: str
    columns: tuple[str, ...]
    params: Mapping[str, Any]
    out_of_scope: str
    duplicate: str  # the problems (JSON) of a later row of an ID already in the file
    ids: SeenIds = field(default_factory=SeenIds)


async def stage_cells(
    session: AsyncSession,
    import_id: int,
    blocks: AsyncIterable[str],
    checks: CellChecks,
    county_path: str | None,
) -> tuple[int, int]:
    """Stage a file from its cells: `check_cells`, the rows outside the jurisdiction dropped, then each row
    written once into `roster_row` with its match (EXACT, CANDIDATE or NEW: `roster_staging.STAGE_AND_MATCH_SQL`).
    Returns (rows staged, rows out of scope). The rows are never held in Python; all of it in the caller's
    transaction. Matching at import never touches a child (ARCHITECTURE §9)."""
    if county_path == "":
        raise ValueError("a county path is required")
    province_code = await province_of(session, import_id)
    await check_cells(session, import_id, province_code, blocks, checks)
    return await _keep_in_scope(session, checks, county_path)


async def _keep_in_scope(session: AsyncSession, checks: CellChecks, county_path: str | None) -> tuple[int, int]:
    """The checked rows outside the jurisdiction dropped, the others written with their match: (kept, dropped)."""
    dropped = await session.execute(
        text(f"DELETE FROM {STAGE_TABLE} WHERE status = :out"),  # noqa: S608 (constants only)
        {"out": checks.out_of_scope},
    )
    count = int(await session.scalar(text(f"SELECT count(*) FROM {STAGE_TABLE}")) or 0)  # noqa: S608 (idem)
    await match_staged(session, county_path)
    return count, int(cast(Any, dropped).rowcount)


async def stage_cells_in_parts(
    session: AsyncSession,
    helper: AsyncSession,
    import_id: int,
    blocks: AsyncIterable[str],
    checks: CellChecks,
    county_path: str | None,
) -> tuple[int, int]:
    """`stage_cells` on two connections at once (PostgreSQL checks and writes a row on one core: this uses the
    second), the blocks dealt to them in turn: `session` holds the batch (uncommitted), `helper` a transaction
    of its own, committed here once both halves are written, so the caller's commit publishes the batch with
    all its rows (until then no one can reach the helper's rows: every read of roster rows goes through their
    batch). A later row of an ID seen in the other half is then refused as `stage_cells` refuses one (the first
    line keeps it). If the caller does not commit, it must `delete_rows` afterwards (the helper's half stands).
    Returns (rows staged, rows out of scope)."""
    if county_path == "":
        raise ValueError("a county path is required")
    province_code = await province_of(session, import_id)
    halves: list[asyncio.Queue[str | None]] = [asyncio.Queue(maxsize=2), asyncio.Queue(maxsize=2)]

    refused: list[Exception] = []

    async def deal() -> None:
        turn = 0
        try:
            async for block in blocks:
                await halves[turn].put(block)
                turn ^= 1
        except Exception as exc:  # a file refused on reading: both halves end cleanly, then it is raised (a
            refused.append(exc)  # half cancelled mid-statement would leave its connection unusable)
        for half in halves:
            await half.put(None)

    async def blocks_of(half: asyncio.Queue[str | None]) -> AsyncIterator[str]:
        while (block := await half.get()) is not None:
            yield block

    async def stage(s: AsyncSession, half: asyncio.Queue[str | None]) -> tuple[int, int]:
        await check_cells(s, import_id, province_code, blocks_of(half), checks)
        return await _keep_in_scope(s, checks, county_path)

    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            group.create_task(deal())
            mine = group.create_task(stage(session, halves[0]))
            theirs = group.create_task(stage(helper, halves[1]))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from failed
    if refused:
        raise refused[0]  # as `stage_cells` raises it; the caller rolls both halves back
    await helper.commit()
    kept = [c for c in checks.columns if c not in ("line", "status", "problems", "raw")]
    cleared = ", ".join(f"{c} = NULL" for c in [*kept, "child_id", "match", "candidate_child_id"])
    await session.execute(
        text(f"""
WITH doubles AS (
    SELECT national_id, min(line) AS first FROM roster_row
     WHERE import_id = :import_id AND status = 'VALID' AND national_id IS NOT NULL
     GROUP BY national_id HAVING count(*) > 1
)
UPDATE roster_row r SET status = 'REFUSED', problems = CAST(:duplicate AS jsonb), {cleared}
  FROM doubles d
 WHERE r.import_id = :import_id AND r.status = 'VALID' AND r.national_id = d.national_id AND r.line > d.first
"""),  # noqa: S608 (the table's own names)
        {"import_id": import_id, "duplicate": checks.duplicate},
    )
    (count, dropped), (count_2, dropped_2) = mine.result(), theirs.result()
    return count + count_2, dropped + dropped_2


# While a batch's own transaction is open it holds this advisory lock: the rows another connection staged
# for it are then in flight, not orphans (`sweep_orphan_rows`).
IN_FLIGHT = "SELECT {fn}(hashtextextended('roster_import:' || CAST(:import_id AS text), 0))"


async def hold_in_flight(session: AsyncSession, import_id: int) -> None:
    """Mark the batch in flight until this transaction ends (before another connection commits rows for it)."""
    await session.execute(text(IN_FLIGHT.format(fn="pg_advisory_xact_lock")), {"import_id": import_id})


async def sweep_orphan_rows(session: AsyncSession) -> int:
    """Delete the rows of batches that never committed: a helper connection committed its half, then the
    process died before the batch's own commit (nothing can read such rows, but they must not stay). A batch
    whose transaction is still open holds its lock and is left alone. Returns the rows deleted."""
    orphans = await session.scalars(
        text("""
SELECT DISTINCT r.import_id FROM roster_row r
 WHERE NOT EXISTS (SELECT FROM roster_import b WHERE b.id = r.import_id)
""")
    )
    deleted = 0
    for import_id in list(orphans):
        free = await session.scalar(text(IN_FLIGHT.format(fn="pg_try_advisory_xact_lock")), {"import_id": import_id})
        committed = await session.scalar(select(col(RosterImport.id)).where(col(RosterImport.id) == import_id))
        if free and committed is None:  # asked after the lock: a batch committing meanwhile is seen here
            result = await session.execute(
                text("DELETE FROM roster_row WHERE import_id = :import_id"), {"import_id": import_id}
            )
            deleted += result.rowcount  # type: ignore[attr-defined]
        await session.commit()  # releases the lock
    return deleted


async def delete_rows(session: AsyncSession, import_id: int) -> None:
    """Remove a batch's rows: the helper's half of a batch whose own transaction did not commit."""
    await session.execute(text("DELETE FROM roster_row WHERE import_id = :import_id"), {"import_id": import_id})


async def check_cells(
    session: AsyncSession, import_id: int, province_code: str, blocks: AsyncIterable[str], checks: CellChecks
) -> None:
    """COPY the CSV `blocks` (`line`, `n`, `nul`, the cells) into a temporary table as they come, then check
    every row in one statement (`checks`) into the temporary `roster_stage` (rows out of scope included,
    with their status), unmatched."""
    cells = ", ".join(f"c{i} text" for i in range(checks.width))
    await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{CELLS_TABLE}"))
    await session.execute(text(f"CREATE TEMP TABLE {CELLS_TABLE} (line int, n int, nul text, {cells}) ON COMMIT DROP"))
    await new_stage(session)
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    async with driver.cursor() as cursor, cursor.copy(f"COPY {CELLS_TABLE} FROM STDIN (FORMAT csv)") as copy:
        async for block in blocks:
            await copy.write(block)
    # stdnum is asked once per (prefix, year) of the file: Python gathered the plain IDs' pairs while writing
    # the cells (a pass of PostgreSQL over every ID cost it about 7 µs a row); the other cells' are read here.
    pairs = {(p[:6], int(p[6:])) for p in checks.ids.pairs}
    if checks.ids.unplain:
        unplain = await session.execute(text(checks.birth_places_sql), dict(checks.params))
        pairs.update((prefix, year) for prefix, year in unplain)
    known = [f"{prefix}{year:04d}" for prefix, year in pairs if 1 <= year <= 9999 and birth_place_known(prefix, year)]
    await session.execute(text(f"ANALYZE {CELLS_TABLE} (line)"))  # its size; statistics of the cells cost more
    # Each row's values are computed once, in laterals the planner keeps apart (`OFFSET 0`): caching them by
    # their inputs (Memoize) only costs, as every row's are its own; JIT, as below.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL enable_memoize = off"))
    # The checked rows are held once (a CTE) and sorted for the file's doubles, then hashed by the match: with
    # the default 4 MB each spilled to temporary files.
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    # The checks' SQL is resolvers/rosters/rows.py's, every value in it a parameter.
    insert = f"INSERT INTO {STAGE_TABLE} (import_id, province_code, {', '.join(checks.columns)}) "
    select_checked = f"SELECT :import_id, :province_code, q.* FROM ({checks.select_sql}) q"  # noqa: S608
    params = {**checks.params, "import_id": import_id, "province_code": province_code, "birth_places": known}
    await session.execute(text(insert + select_checked), params)
