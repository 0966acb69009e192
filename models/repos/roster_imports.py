"""Roster imports (models/roster_import.py): batches, their counts, lists, decisions and registrations.

A batch is staged inside the caller's transaction, in this order: `create_import` (one row, refused by the
partial unique index when a live batch holds the same file), `resolvers/rosters/staging.stage_file` (the
file's rows checked a block at a time and each written once with its match, through `roster_lookups`),
`count_rows`; or, from parsed rows as the tests and the staging bench do,
`roster_staging.stage_rows` then `match_exact` and `match_candidates`, which follow the same matching rules.
Matching only ever fills a row's match columns: it never touches a child (ARCHITECTURE §9). List functions
take the scope predicate they are given (ARCHITECTURE §4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..roster import EXPECTED_ON_ROLL, HOLDS_PLACE
from ..roster_import import (
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
# child; a child with a school gets its enrolment event on the roster's day (学籍变动 starts there). A
# registry row's status decides whether and where (models/roster.py, above `HOLDS_PLACE`): at the school
# while the registry holds a place there, or when the pupil is marked as having left (辍学, 其他离校) and the
# row gives no household region; else at the household region only; never from a row saying 死亡, nor from
# one with no place left (such a row stays without a child).
# The residence is the household region when the roster gives none (现住址默认户籍地).
REGISTER_SQL = """
WITH listed AS (
    SELECT r.line, coalesce(r.registry_status, 'ENROLLED') AS registry_status, r.household_region_code
      FROM roster_row r
     WHERE r.import_id = :import_id AND r.status = 'VALID' AND r.child_id IS NULL AND r.match IN ('NEW', 'REJECTED')
), placed AS (
    SELECT line, registry_status = ANY(CAST(:holds_place AS text[]))
               OR (registry_status = ANY(CAST(:expected_on_roll AS text[])) AND household_region_code IS NULL)
               AS keeps_school,
           household_region_code
      FROM listed
     WHERE registry_status <> 'DECEASED'
), unknown AS (
    SELECT line, keeps_school, nextval(pg_get_serial_sequence('child', 'id')) AS child_id
      FROM placed
     WHERE keeps_school OR household_region_code IS NOT NULL
), born AS (
    INSERT INTO child (id, name, gender, birth_date, national_id, registry_number, special_groups, school_code,
                       grade, school_path, household_region_code, household_path, residence_region_code,
                       residence_path, no_household_reason, no_id_reason, province_code)
    SELECT u.child_id, r.name, r.gender, r.birth_date, r.national_id, r.registry_number,
           CASE WHEN r.poverty_kind IS NULL THEN '{}'::varchar[] ELSE ARRAY[r.poverty_kind]::varchar[] END,
           CASE WHEN u.keeps_school THEN r.school_code END, CASE WHEN u.keeps_school THEN r.grade END,
           CASE WHEN u.keeps_school THEN r.school_path END, r.household_region_code, r.household_path,
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
    row no known child fits is registered as a child, but for a registry row of a deceased pupil or of one
    with no place left in the county (`REGISTER_SQL`) (and unless `register` is false: a kind that is evidence
    only, models/roster.EVIDENCE_ONLY). Returns (re-matched, registered)."""
    params = {"import_id": batch.id}
    rematched = int(cast(Any, await session.execute(text(REMATCH_SQL), params)).rowcount)
    if not register:
        return rematched, 0
    result = await session.execute(
        text(REGISTER_SQL),
        {
            **params,
            "as_of": batch.as_of,
            "actor": actor,
            "no_household": NO_HOUSEHOLD_ON_ROSTER,
            "holds_place": sorted(HOLDS_PLACE),
            "expected_on_roll": sorted(EXPECTED_ON_ROLL),
        },
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
