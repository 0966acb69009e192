"""Roster imports (models/roster_import.py): batches, their rows staged with COPY, matches, counts.

A batch is staged inside the caller's transaction, in this order: `create_import` (one row, refused by the
partial unique index when a live batch holds the same file), `stage_cells` (the file's cells COPYed,
streaming, into a temporary table, checked there in one statement, then each row written once with its
match), `count_rows`; or, from parsed rows as the tests and the staging bench do, `stage_rows` then
`match_exact` and `match_candidates`, which follow the same matching rules.
Matching only ever fills a row's match columns: it never touches a child (ARCHITECTURE §9). List functions
take the scope predicate they are given (ARCHITECTURE §4).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..child import Child, birth_place_known
from ..roster_import import (
    COPY_COLUMNS,
    MATCHED,
    ROSTER_KINDS,
    SHA256_HEX,
    UNKNOWN,
    ImportStatus,
    RosterImport,
    RosterRow,
    RowMatch,
    RowStatus,
)
from .paging import Page, fetch_page
from .paths import SchoolPaths, within_path

# Which path each line's scope is read from (ARCHITECTURE §3): a batch by its jurisdiction (the ROSTER
# permissions are granted over places), a row like a child (by school, or by household or residence).
IMPORT_SCOPE_COLUMNS: dict[str, list[Any]] = {"PLACE": [col(RosterImport.jurisdiction_path)]}
ROW_SCOPE_COLUMNS: dict[str, list[Any]] = {
    "EDU": [SchoolPaths(cast(Any, RosterRow.school_path))],
    "GOV": [col(RosterRow.household_path), col(RosterRow.residence_path)],
}


async def create_import(
    session: AsyncSession,
    *,
    kind: str,
    jurisdiction_code: str,
    jurisdiction_path: str,
    as_of: date,
    file_name: str,
    file_sha256: str,
    size_bytes: int,
    created_by: str,
) -> RosterImport | None:
    """A new STAGED batch, or None when a batch of the same file for the same jurisdiction and kind is live
    (staged or applied): then `find_live_duplicate` names it and the use case refuses DUPLICATE_FILE.

    Two uploads of one file at once: the second waits on the unique index until the first commits, then gets
    None (`ON CONFLICT DO NOTHING`), not a unique violation (ARCHITECTURE §12).
    """
    if kind not in ROSTER_KINDS:
        raise ValueError(f"unknown roster kind {kind!r}")
    if not SHA256_HEX.fullmatch(file_sha256):
        raise ValueError("file_sha256 must be 64 lowercase hex digits")
    batch = RosterImport(
        kind=kind, jurisdiction_code=jurisdiction_code, jurisdiction_path=jurisdiction_path, as_of=as_of,
        file_name=file_name, file_sha256=file_sha256, size_bytes=size_bytes, created_by=created_by,
        province_code=jurisdiction_code[:2],
    )  # fmt: skip
    stmt = (
        insert(RosterImport)
        .values(**batch.model_dump(exclude={"id"}))
        .on_conflict_do_nothing(
            index_elements=["jurisdiction_path", "kind", "file_sha256"],
            # The index's own predicate, as a literal: with a bound parameter PostgreSQL cannot infer the
            # partial index once psycopg prepares the statement (its 6th run on a connection), and fails.
            index_where=text("status <> 'DISCARDED'"),
        )
        .returning(RosterImport)
    )
    return (await session.scalars(stmt)).first()


async def find_live_duplicate(
    session: AsyncSession, jurisdiction_path: str, kind: str, sha256: str
) -> RosterImport | None:
    """The staged or applied batch of this file for this jurisdiction and kind, if any."""
    stmt = select(RosterImport).where(
        col(RosterImport.jurisdiction_path) == jurisdiction_path,
        col(RosterImport.kind) == kind,
        col(RosterImport.file_sha256) == sha256,
        col(RosterImport.status) != ImportStatus.DISCARDED,
    )
    return (await session.scalars(stmt)).first()


async def lock_import(session: AsyncSession, import_id: int) -> RosterImport | None:
    """The batch, locked for this transaction: applying or discarding it sees the latest row."""
    stmt = select(RosterImport).where(col(RosterImport.id) == import_id).with_for_update()
    return (await session.scalars(stmt)).first()


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
        get("poverty_kind"), get("no_id_reason"), get("school_path"), get("household_path"), get("residence_path"),
        province_code,
    )  # fmt: skip


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
    province_code = await session.scalar(
        select(col(RosterImport.province_code)).where(col(RosterImport.id) == import_id)
    )
    if province_code is None:
        raise LookupError(f"no roster import {import_id}")
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


# The matching rules, shared by `match_candidates` (rows already in `roster_row`) and `stage_cells` (rows
# on their way in): the county's children on either government path, and when one of them fits a row.
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


STAGE_TABLE = "roster_stage"
_STAGED_COLUMNS = ", ".join(COPY_COLUMNS)
# Each staged row once into `roster_row` with its match: EXACT on the national ID (one probe of the unique
# index per row: a county's IDs share their prefix, so the probes stay in one part of the index, where a hash
# join read the whole child table for every file), else the candidate rule of `match_candidates` over the
# county's children (CANDIDATE for exactly one, else NEW).
STAGE_AND_MATCH_SQL = f"""
WITH exact AS MATERIALIZED (
    SELECT r.line,
           CASE WHEN r.status = 'VALID' THEN (SELECT c.id FROM child c WHERE c.national_id = r.national_id) END AS id
      FROM {STAGE_TABLE} r
), near AS ({NEAR_CHILDREN}), fits AS (
    SELECT r.line, count(n.id) AS n, min(n.id) AS child_id
      FROM {STAGE_TABLE} r
      JOIN exact e ON e.line = r.line AND e.id IS NULL
      LEFT JOIN near n ON {FITS}
     WHERE r.status = 'VALID'
     GROUP BY r.line
)
INSERT INTO roster_row ({_STAGED_COLUMNS}, child_id, match, candidate_child_id)
SELECT {", ".join(f"r.{c}" for c in COPY_COLUMNS)}, e.id,
       CASE WHEN e.id IS NOT NULL THEN 'EXACT' WHEN f.n = 1 THEN 'CANDIDATE' WHEN f.n IS NOT NULL THEN 'NEW' END,
       CASE WHEN f.n = 1 THEN f.child_id END
  FROM {STAGE_TABLE} r JOIN exact e ON e.line = r.line LEFT JOIN fits f ON f.line = r.line
"""  # noqa: S608 (constants only)


async def _new_stage(session: AsyncSession) -> None:
    await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{STAGE_TABLE}"))
    await session.execute(text(f"CREATE TEMP TABLE {STAGE_TABLE} (LIKE roster_row INCLUDING DEFAULTS) ON COMMIT DROP"))


async def stage_and_match(
    session: AsyncSession,
    import_id: int,
    rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    county_path: str | None,
) -> int:
    """Parsed rows (as `stage_rows` takes them) written once with their match, as `stage_cells` writes a
    file's: COPY into the temporary stage, then `STAGE_AND_MATCH_SQL`. Returns how many rows. The tests hold
    it against `stage_rows` + `match_exact` + `match_candidates`: the two matching paths give the same."""
    if county_path == "":
        raise ValueError("a county path is required")
    await _new_stage(session)
    count = await stage_rows(session, import_id, rows, table=STAGE_TABLE)
    await _match_staged(session, county_path)
    return count


CELLS_TABLE = "roster_cells"


@dataclass
class SeenIds:
    """The (region prefix, birth year) of a file's IDs, as their first ten digits, gathered by Python while it
    writes the cells (`resolvers/rosters/rows.cell_blocks`) from the cells that are plain ASCII letters and
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
    written once into `roster_row` with its match (EXACT, CANDIDATE or NEW: `STAGE_AND_MATCH_SQL`). Returns
    (rows staged, rows out of scope). The rows are never held in Python; all of it in the caller's
    transaction. Matching at import never touches a child (ARCHITECTURE §9)."""
    if county_path == "":
        raise ValueError("a county path is required")
    province_code = await session.scalar(
        select(col(RosterImport.province_code)).where(col(RosterImport.id) == import_id)
    )
    if province_code is None:
        raise LookupError(f"no roster import {import_id}")
    await check_cells(session, import_id, province_code, blocks, checks)
    return await _keep_in_scope(session, checks, county_path)


async def _keep_in_scope(session: AsyncSession, checks: CellChecks, county_path: str | None) -> tuple[int, int]:
    """The checked rows outside the jurisdiction dropped, the others written with their match: (kept, dropped)."""
    dropped = await session.execute(
        text(f"DELETE FROM {STAGE_TABLE} WHERE status = :out"),  # noqa: S608 (constants only)
        {"out": checks.out_of_scope},
    )
    count = int(await session.scalar(text(f"SELECT count(*) FROM {STAGE_TABLE}")) or 0)  # noqa: S608 (idem)
    await _match_staged(session, county_path)
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
    province_code = await session.scalar(
        select(col(RosterImport.province_code)).where(col(RosterImport.id) == import_id)
    )
    if province_code is None:
        raise LookupError(f"no roster import {import_id}")
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
    await _new_stage(session)
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


async def _match_staged(session: AsyncSession, county_path: str | None) -> None:
    # No county: the comparisons with NULL match no child, so every row is EXACT or NEW.
    params = {"county": county_path, "county_end": county_path + "0" if county_path else None}
    # A fresh table has no statistics: plan on its real size (the key's statistics: all columns' took a third of
    # the time of the insert below, the raw cells' JSON most of it).
    await session.execute(text(f"ANALYZE {STAGE_TABLE} (line, status)"))
    # The statement's estimated cost (one index probe per row) passes the JIT thresholds, and compiling it took
    # 3.4 s of a 9 s insert of 67,000 rows; it runs well without.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text(STAGE_AND_MATCH_SQL), params)
    await session.execute(text(f"DROP TABLE {STAGE_TABLE}"))


@dataclass(frozen=True)
class RosterCounts:
    """A batch's counts. `matched`: rows tied to a known child (exact, or a candidate confirmed); `new`: rows
    no known child fits (a rejected candidate included). Valid rows neither matched nor new await a person's
    decision on their candidate."""

    read: int
    valid: int
    refused: int
    matched: int
    new: int


async def count_rows(session: AsyncSession, import_id: int) -> RosterCounts:
    """Count the batch's rows and write the counts onto the batch (its version bumped)."""
    r = RosterRow
    stmt = select(
        func.count(),
        func.count().filter(col(r.status) == RowStatus.VALID),
        func.count().filter(col(r.status) == RowStatus.REFUSED),
        func.count().filter(col(r.match).in_(MATCHED)),
        func.count().filter(col(r.match).in_(UNKNOWN)),
    ).where(col(r.import_id) == import_id)
    counts = RosterCounts(*(int(v) for v in (await session.execute(stmt)).one()))
    await session.execute(
        update(RosterImport)
        .where(col(RosterImport.id) == import_id)
        .values(**{f"rows_{k}": v for k, v in asdict(counts).items()}, version=col(RosterImport.version) + 1)
        .execution_options(synchronize_session="fetch")
    )
    return counts


async def list_imports(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    region_path: str | None = None,
    kind: str | None = None,
    status: ImportStatus | None = None,
    after: str | None,
    limit: int,
) -> Page[RosterImport]:
    """Batches within `scope` (over `IMPORT_SCOPE_COLUMNS`), oldest first, by id."""
    where = [scope]
    if region_path is not None:
        where.append(within_path(col(RosterImport.jurisdiction_path), region_path))
    if kind is not None:
        where.append(col(RosterImport.kind) == kind)
    if status is not None:
        where.append(col(RosterImport.status) == status)
    return await fetch_page(session, RosterImport, col(RosterImport.id), where, after=after, limit=limit, key_type=int)


async def list_rows(
    session: AsyncSession,
    *,
    import_id: int,
    scope: ColumnElement[bool],
    status: RowStatus | None = None,
    match: RowMatch | None = None,
    after: str | None,
    limit: int,
) -> Page[RosterRow]:
    """A batch's rows within `scope` (over `ROW_SCOPE_COLUMNS`), in file order, by line."""
    where = [scope, col(RosterRow.import_id) == import_id]
    if status is not None:
        where.append(col(RosterRow.status) == status)
    if match is not None:
        where.append(col(RosterRow.match) == match)
    return await fetch_page(session, RosterRow, col(RosterRow.line), where, after=after, limit=limit, key_type=int)


async def decide_candidates(
    session: AsyncSession, import_id: int, decisions: Mapping[int, bool]
) -> dict[int, RowMatch | None]:
    """Confirm (True) or reject (False) the candidate of each line; returns each line's match before the
    decision (None for a line that is not a valid row of the batch). Only lines still CANDIDATE change:
    lock the batch first, so two decisions on one line give one winner."""
    lines = list(decisions)
    found = dict(
        (
            await session.execute(
                select(col(RosterRow.line), col(RosterRow.match)).where(
                    col(RosterRow.import_id) == import_id,
                    col(RosterRow.line).in_(lines),
                    col(RosterRow.status) == RowStatus.VALID,
                )
            )
        ).all()
    )
    for confirm, outcome in ((True, RowMatch.CONFIRMED), (False, RowMatch.REJECTED)):
        chosen = [line for line in lines if decisions[line] is confirm and found.get(line) is RowMatch.CANDIDATE]
        if not chosen:
            continue
        await session.execute(
            update(RosterRow)
            .where(col(RosterRow.import_id) == import_id, col(RosterRow.line).in_(chosen))
            .values(match=outcome, child_id=col(RosterRow.candidate_child_id) if confirm else None)
            .execution_options(synchronize_session=False)
        )
    return {line: found.get(line) for line in lines}


async def count_undecided(session: AsyncSession, import_id: int) -> int:
    """Valid rows whose candidate awaits a person's decision: a batch is applied only when none is left."""
    stmt = select(func.count()).where(col(RosterRow.import_id) == import_id, col(RosterRow.match) == RowMatch.CANDIDATE)
    return int(await session.scalar(stmt) or 0)


REMATCH_SQL = """
UPDATE roster_row r SET child_id = c.id, match = 'EXACT'
  FROM child c
 WHERE r.import_id = :import_id AND r.status = 'VALID' AND r.child_id IS NULL
   AND r.match IN ('NEW', 'REJECTED') AND c.national_id = r.national_id
"""

# One statement registers every row no known child fits, with ids drawn first so each row learns its
# child; a child with a school gets its enrolment event on the roster's day (学籍变动 starts there).
# The residence is the household region when the roster gives none (现住址默认户籍地).
REGISTER_SQL = """
WITH unknown AS (
    SELECT r.line, nextval(pg_get_serial_sequence('child', 'id')) AS child_id
      FROM roster_row r
     WHERE r.import_id = :import_id AND r.status = 'VALID' AND r.child_id IS NULL AND r.match IN ('NEW', 'REJECTED')
), born AS (
    INSERT INTO child (id, name, gender, birth_date, national_id, registry_number, special_groups, school_code,
                       grade, school_path, household_region_code, household_path, residence_region_code,
                       residence_path, no_household_reason, no_id_reason, province_code)
    SELECT u.child_id, r.name, r.gender, r.birth_date, r.national_id, r.registry_number,
           CASE WHEN r.poverty_kind IS NULL THEN '{}'::varchar[] ELSE ARRAY[r.poverty_kind]::varchar[] END,
           r.school_code, r.grade, r.school_path, r.household_region_code, r.household_path,
           coalesce(r.residence_region_code, r.household_region_code), coalesce(r.residence_path, r.household_path),
           CASE WHEN r.household_region_code IS NULL THEN :no_household END, r.no_id_reason, r.province_code
      FROM unknown u JOIN roster_row r ON r.import_id = :import_id AND r.line = u.line
    RETURNING id, school_code, grade, province_code
), enrolled AS (
    INSERT INTO enrolment_event (child_id, change, "on", school_code, grade, recorded_by, province_code)
    SELECT id, 'ENROL', :as_of, school_code, grade, :actor, province_code FROM born WHERE school_code IS NOT NULL
)
UPDATE roster_row r SET child_id = u.child_id
  FROM unknown u
 WHERE r.import_id = :import_id AND r.line = u.line
"""

# Why a child registered from a roster has no household region: the roster did not give one.
NO_HOUSEHOLD_ON_ROSTER = "名册未载户籍地 / not given by the roster"


async def register_unknown(
    session: AsyncSession, batch: RosterImport, actor: str, *, register: bool = True
) -> tuple[int, int]:
    """Apply a batch's rows: rows whose national ID a child took since staging become EXACT; every other
    row no known child fits is registered as a child (unless `register` is false: a kind that is evidence
    only, models/roster.EVIDENCE_ONLY). Returns (re-matched, registered)."""
    params = {"import_id": batch.id}
    rematched = int(cast(Any, await session.execute(text(REMATCH_SQL), params)).rowcount)
    if not register:
        return rematched, 0
    result = await session.execute(
        text(REGISTER_SQL),
        {**params, "as_of": batch.as_of, "actor": actor, "no_household": NO_HOUSEHOLD_ON_ROSTER},
    )
    return rematched, int(cast(Any, result).rowcount)


async def rows_by_key(session: AsyncSession, keys: Iterable[tuple[int, int]]) -> list[RosterRow]:
    """Rows by (batch, line); the caller checks each row's scope."""
    wanted = list(keys)
    if not wanted:
        return []
    stmt = select(RosterRow).where(tuple_(col(RosterRow.import_id), col(RosterRow.line)).in_(wanted))
    return list((await session.scalars(stmt)).all())


class RefusedRow(NamedTuple):
    line: int
    raw: dict[str, Any]
    problems: list[dict[str, Any]]


async def refused_rows(session: AsyncSession, import_id: int, *, chunk: int = 2000) -> AsyncIterator[RefusedRow]:
    """The batch's refused rows in file order, from a server-side cursor (constant memory): the error-rows
    download writes each row's original cells and its problems."""
    stmt = (
        select(col(RosterRow.line), col(RosterRow.raw), col(RosterRow.problems))
        .where(col(RosterRow.import_id) == import_id, col(RosterRow.status) == RowStatus.REFUSED)
        .order_by(col(RosterRow.line))
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(stmt)
    async for line, raw, problems in result:
        yield RefusedRow(int(line), raw, problems)


async def imports_by_id(session: AsyncSession, ids: list[int], *, scope: ColumnElement[bool]) -> list[RosterImport]:
    """The batches among `ids` within `scope`."""
    if not ids:
        return []
    return list((await session.scalars(select(RosterImport).where(col(RosterImport.id).in_(ids), scope))).all())
