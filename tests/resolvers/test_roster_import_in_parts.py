"""A large roster staged in two halves on two connections (resolvers/rosters/imports.py, `IN_PARTS_FROM_BYTES`):
the same rows as on one connection, the file's doubles refused across the halves, and nothing left of a file
that fails. These tests commit (the second connection cannot see a test's transaction) and clean up after."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from authz.errors import Forbidden
from baoxue.database import make_engine
from models import AuditLog
from models.roster import RosterKind
from models.roster_import import RosterImport, RosterRow
from resolvers.context import Context
from resolvers.errors import BadInput
from resolvers.rosters import imports
from resolvers.rosters.cells import ROWS_PER_BLOCK
from resolvers.rosters.imports import ImportResult, import_roster
from tests.resolvers.conftest import ContextFor, refusal

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rosters"
ROWS = text(
    "SELECT line, status, problems::text, raw::text, name, gender, birth_date, national_id, registry_number,"
    " school_code, grade, household_region_code, residence_region_code, no_id_reason, school_path,"
    " household_path, residence_path, child_id, match, candidate_child_id FROM roster_row"
    " WHERE import_id = :import_id ORDER BY line"
)


def large_household_file() -> bytes:
    """The example household roster made large: a first block of rows without IDs (the operation's half), then
    the example's rows 25 times, so most IDs are first seen in the second connection's half and seen again in
    both halves (every later copy is a double, refused DUPLICATE_IN_FILE)."""
    with (EXAMPLES / "532329-household.csv").open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    no_id = [[*r[:2], "", *r[3:6], "未落户"] for r in rows]
    filler = [no_id[i % len(no_id)] for i in range(ROWS_PER_BLOCK)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *filler, *(rows * 25)])
    return out.getvalue().encode()


@pytest.fixture
async def committed(engine: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that commit; every batch, row and audit row of a roster import written here is removed after."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        first = int(await s.scalar(text("SELECT coalesce(max(id), 0) FROM roster_import")) or 0)
    yield sessions
    async with engine.begin() as conn:
        await conn.execute(delete(RosterRow).where(col(RosterRow.import_id) > first))
        await conn.execute(delete(RosterImport).where(col(RosterImport.id) > first))
        await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "RosterImport"))


async def stage(ctx: Context, data: bytes) -> ImportResult:
    return await import_roster(
        ctx, kind=RosterKind.HOUSEHOLD, jurisdiction_code="532329", as_of=date(2026, 11, 30),
        file_name="532329-household-large.csv", stream=io.BytesIO(data),
    )  # fmt: skip


async def rows_written(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(RosterRow)) or 0)


async def test_a_file_staged_in_two_halves_keeps_the_rows_one_connection_writes(
    committed: async_sessionmaker[AsyncSession], ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = large_household_file()
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", len(data))
    async with committed() as session:
        in_parts = Context(session=session, principal=None, system_actor="test", operator=True, sessions=committed)
        halves = await stage(in_parts, data)
        await session.commit()
        assert halves.undo is not None  # it did go in two halves
        two = (await session.execute(ROWS, {"import_id": halves.batch.id})).all()
    one_result = await stage(ctx, data + b"\n")  # one connection (no sessions); a blank line: another file's hash
    assert one_result.undo is None
    one = (await ctx.session.execute(ROWS, {"import_id": one_result.batch.id})).all()
    assert len(two) + halves.out_of_scope == ROWS_PER_BLOCK + 165 * 25  # the 元谋 rows are never stored
    assert two == one
    # Blocks of rows go to the halves in turn: the IDs first seen in the second block (the helper's) come again in
    # the third (the operation's) and are refused there, as on one connection.
    block = {r.line: (r.line - 2) // ROWS_PER_BLOCK for r in two if '"DUPLICATE_IN_FILE"' in r.problems}
    assert sorted(set(block.values())) == [1, 2, 3]
    assert len(block) > 24 * 150  # nearly every row of the 24 later copies
    counts = ("rows_read", "rows_valid", "rows_refused", "rows_matched", "rows_new")
    assert [getattr(halves.batch, c) for c in counts] == [getattr(one_result.batch, c) for c in counts]


async def test_a_file_failing_on_reading_leaves_nothing_of_either_half(
    committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell over the CSV reader's limit, far into the file: both halves have written rows by then."""
    data = large_household_file() + ("张三,男," + "1" * 200_000 + ",2017-01-01,532329101001,,\n").encode()
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    before = await rows_written(committed)
    async with committed() as session:
        in_parts = Context(session=session, principal=None, system_actor="test", operator=True, sessions=committed)
        with pytest.raises(BadInput) as excinfo:
            await stage(in_parts, data)
        await session.rollback()
    assert refusal(excinfo) == ("file", "UNKNOWN_FORMAT")
    assert await rows_written(committed) == before


async def test_an_operation_that_does_not_commit_is_undone(
    committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second connection's half is committed before the operation: rolling the operation back and running
    `undo` (as POST /rosters does when its commit fails) leaves no row."""
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    before = await rows_written(committed)
    async with committed() as session:
        in_parts = Context(session=session, principal=None, system_actor="test", operator=True, sessions=committed)
        result = await stage(in_parts, large_household_file())
        assert await rows_written(committed) > before  # the helper's half, belonging to no batch yet
        await session.rollback()
    assert result.undo is not None
    await result.undo()
    assert await rows_written(committed) == before


async def test_the_neighbouring_county_cannot_stage_a_large_file(
    committed: async_sessionmaker[AsyncSession], context_for: ContextFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    before = await rows_written(committed)
    neighbour = await context_for("edu-county-532328")
    neighbour.sessions = committed
    with pytest.raises(Forbidden):
        await stage(neighbour, large_household_file())
    assert await rows_written(committed) == before


async def test_a_large_file_takes_no_second_connection_when_the_pool_has_none_to_spare(
    database_url: str, committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads that each held a connection while waiting for a second would wait on each other: with the pool's
    one connection taken by the operation itself, the file is staged on it alone, whole."""
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    engine = make_engine(database_url, pool_size=1, max_overflow=1)
    try:
        small_pool = async_sessionmaker(engine, expire_on_commit=False)
        async with small_pool() as session:
            ctx = Context(session=session, principal=None, system_actor="test", operator=True, sessions=small_pool)
            result = await stage(ctx, large_household_file())
            await session.commit()
        assert result.undo is None  # one connection
        assert result.batch.rows_read == ROWS_PER_BLOCK + 165 * 25
    finally:
        await engine.dispose()


async def test_rows_of_a_batch_that_never_committed_are_swept_and_none_in_flight(
    committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between the helper's commit and the operation's (no `undo` runs): the sweep at start
    (`imports.sweep_orphans`) deletes the helper's half, but never the half of a batch whose transaction is
    still open."""
    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    before = await rows_written(committed)
    async with committed() as session:
        in_parts = Context(session=session, principal=None, system_actor="test", operator=True, sessions=committed)
        result = await stage(in_parts, large_household_file())
        helpers_half = await rows_written(committed) - before
        assert helpers_half > 0
        assert await imports.sweep_orphans(committed) == 0  # in flight: its transaction holds the batch
        assert await rows_written(committed) == before + helpers_half
        await session.rollback()  # as a crash ends it: no commit, no undo
    assert result.undo is not None
    assert await imports.sweep_orphans(committed) == helpers_half
    assert await rows_written(committed) == before


async def test_the_app_sweeps_rows_a_crash_left_when_it_starts(
    committed: async_sessionmaker[AsyncSession], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same crash, then `baoxue serve`'s app starts on the database: its start removes the helper's half."""
    from baoxue.app import create_app
    from tests.conftest import make_settings

    monkeypatch.setattr(imports, "IN_PARTS_FROM_BYTES", 0)
    before = await rows_written(committed)
    async with committed() as session:
        in_parts = Context(session=session, principal=None, system_actor="test", operator=True, sessions=committed)
        await stage(in_parts, large_household_file())
        await session.rollback()  # the process "died": no commit, no undo
    assert await rows_written(committed) > before
    app = create_app(make_settings(database_url=database_url))
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if await rows_written(committed) == before:
                break
            await asyncio.sleep(0.1)
    assert await rows_written(committed) == before
