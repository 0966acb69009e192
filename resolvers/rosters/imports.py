"""Importing a roster (四查, POLICY 004 §2): a file becomes a STAGED batch with its provenance, every row
validated and matched to the children already known, nothing applied until a person decides
(ARCHITECTURE §9).

Who imports: county bureaus and county governments for their county; townships and villages their own
door-to-door lists (铁脚板), as HOUSEHOLD rows of their area (`ROSTER:IMPORT` over the jurisdiction).
A pushed-down list (`PUSHED`, 下发核实, POLICY 004 §9) is imported by the ministry for the nation (`CN`) or a
provincial department for its province (`VERIFICATION:SEND`); applying it routes the rows to counties
(resolvers/verification/sending.py).
Rows outside the importer's jurisdiction are refused and never stored. A file refused whole (encoding,
a missing column, empty, too large) stores nothing: the caller's transaction rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from authz.catalogue import Level, level_of_path
from models.base import today
from models.repos import jurisdictions, roster_cells
from models.repos import roster_imports as repo
from models.repos.roster_cells import CellChecks
from models.roster import RosterKind
from models.roster_import import RosterImport

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from .cells import cell_blocks
from .errors import RosterErrorCode
from .files import RosterFileError, cells_of, inspect_file
from .rows import cell_checks

log = logging.getLogger("baoxue.rosters")

MAX_ROSTER_BYTES = 200 * 1024 * 1024  # a province's household roster as CSV is about 100 MB
# From this size a file is checked and written in two halves on two connections (bench/RESULTS.md §f): a county's
# household roster (about 60,000 rows) is about 6 MB; a small file is not worth a second connection.
IN_PARTS_FROM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImportResult:
    batch: RosterImport
    out_of_scope: int  # rows refused as outside the jurisdiction, counted but never stored
    # To run if the caller's transaction does not commit: the rows written on a second connection are deleted.
    undo: Callable[[], Awaitable[None]] | None = None


async def import_roster(
    ctx: Context, *, kind: RosterKind, jurisdiction_code: str, as_of: date, file_name: str, stream: BinaryIO
) -> ImportResult:
    """Stage a roster for a jurisdiction: refused whole, or a STAGED batch with its counts."""
    session = ctx.session
    path = await jurisdictions.path_of(session, jurisdiction_code)
    pushed = kind is RosterKind.PUSHED
    if path is None or len(jurisdiction_code) == 10 or (path == "" and not pushed):
        raise BadInput("jurisdiction", RosterErrorCode.NOT_FOUND, "没有这个区划", "no such region")
    if not ctx.operator:
        ctx.access().require(*import_right(kind), {"PLACE": [path]})
    if pushed and level_of_path(path) > Level.PROVINCE:
        raise BadInput("jurisdiction", RosterErrorCode.NOT_A_SENDER)
    if not pushed and level_of_path(path) < Level.COUNTY:
        raise BadInput("jurisdiction", RosterErrorCode.NOT_A_COUNTY)
    if level_of_path(path) > Level.COUNTY and kind is not RosterKind.HOUSEHOLD:
        raise BadInput("kind", RosterErrorCode.HOUSEHOLD_ONLY)
    if as_of > today():
        raise BadInput("asOf", RosterErrorCode.FUTURE_DATE)
    if "\x00" in file_name:  # PostgreSQL text cannot hold NUL (ARCHITECTURE §12)
        raise BadInput("file", RosterErrorCode.INVALID_TEXT, "文件名含有不允许的字符", "the file name holds a NUL")
    try:
        file = await asyncio.to_thread(inspect_file, stream, file_name, max_bytes=MAX_ROSTER_BYTES)
    except RosterFileError as exc:
        raise BadInput("file", exc.code, exc.zh, exc.en) from exc
    batch = await repo.create_import(
        session, kind=kind.value, jurisdiction_code=jurisdiction_code, jurisdiction_path=path, as_of=as_of,
        file_name=file_name[:255], file_sha256=file.sha256, size_bytes=file.size, created_by=ctx.actor,
    )  # fmt: skip
    if batch is None:
        earlier = await repo.find_live_duplicate(session, path, kind.value, file.sha256)
        number = earlier.id if earlier else "?"
        raise BadInput(
            "file",
            RosterErrorCode.DUPLICATE_FILE,
            f"同一文件已导入（批次 {number}）",
            f"the same file was already imported (batch {number})",
        )
    assert batch.id is not None
    try:
        headers, rows = await asyncio.to_thread(cells_of, file, kind)
        checks = cell_checks(kind, headers, jurisdiction=path)
        # A pushed-down list is matched on the national ID only: its senders decide no candidates (they read
        # no children), and the county verifying a child registers it if no child holds the ID.
        county = None if pushed else _county_of(path)
        blocks = _in_threads(cell_blocks(rows, checks))
        undo = None
        if ctx.sessions is not None and file.size >= IN_PARTS_FROM_BYTES and _pooled(ctx.sessions):
            out_of_scope = await _stage_in_parts(ctx, ctx.sessions, batch.id, blocks, checks, county)
            undo = partial(_delete_rows, ctx.sessions, batch.id)
        else:
            _, out_of_scope = await roster_cells.stage_cells(session, batch.id, blocks, checks, county)
    except RosterFileError as exc:  # a missing column or an empty file, found on reading
        raise BadInput("file", exc.code, exc.zh, exc.en) from exc
    try:
        counts = await repo.count_rows(session, batch.id)
        batch.rows_read += out_of_scope
        batch.rows_refused += out_of_scope
        await record_change(
            ctx,
            action="roster.import",
            target_type="RosterImport",
            target_id=str(batch.id),
            scope_path=path,
            summary={
                "kind": kind.value, "file": batch.file_name, "sha256": file.sha256, "asOf": as_of.isoformat(),
                "counts": {**counts.__dict__, "outOfScope": out_of_scope},
            },
        )  # fmt: skip
        await session.flush()
    except BaseException:
        if undo is not None:  # the helper's committed half: nothing of the file may stand
            await session.rollback()
            await undo()
        raise
    return ImportResult(batch=batch, out_of_scope=out_of_scope, undo=undo)


async def _stage_in_parts(
    ctx: Context,
    sessions: async_sessionmaker[AsyncSession],
    import_id: int,
    blocks: AsyncIterator[str],
    checks: CellChecks,
    county: str | None,
) -> int:
    """Stage the file in two halves, the second on a connection of its own (`roster_cells.stage_cells_in_parts`), and
    return the rows out of scope. The helper's half is committed before this operation's transaction: if
    staging fails, this transaction is rolled back here and the helper's rows deleted; if the operation fails
    later, its caller runs `ImportResult.undo`. Until the operation commits, the helper's rows belong to no batch
    anyone can read."""
    await roster_cells.hold_in_flight(ctx.session, import_id)  # a sweep leaves the helper's committed half alone
    try:
        async with sessions() as helper:
            try:
                staged = await roster_cells.stage_cells_in_parts(ctx.session, helper, import_id, blocks, checks, county)
            finally:
                await helper.rollback()  # after a failure: its half (once committed, nothing is left to roll back)
    except BaseException:
        await ctx.session.rollback()
        await _delete_rows(sessions, import_id)
        raise
    return staged[1]


async def sweep_orphans(sessions: async_sessionmaker[AsyncSession]) -> int:
    """At start: delete the rows a helper connection committed for a batch that never did (the process died
    between the two commits of `_stage_in_parts`); returns how many."""
    async with sessions() as session:
        deleted = await roster_cells.sweep_orphan_rows(session)
    if deleted:
        log.warning("deleted roster rows of batches that never committed", extra={"rows": deleted})
    return deleted


def _pooled(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether a second connection is there to take: each session has a connection of its own (sessions bound
    to one connection, as the tests' are, would share it), and the pool has one to spare (uploads that each
    held a connection while waiting for a second could otherwise wait on each other until the pool times out)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return False
    pool = bind.sync_engine.pool
    return not isinstance(pool, QueuePool) or pool.checkedout() < pool.size()


async def _delete_rows(sessions: async_sessionmaker[AsyncSession], import_id: int) -> None:
    async with sessions() as cleaner:
        await roster_cells.delete_rows(cleaner, import_id)
        await cleaner.commit()


def import_right(kind: RosterKind) -> tuple[str, str]:
    """The right that imports (and applies, discards, lists the refused rows of) a roster of this kind: the
    four checks `ROSTER:IMPORT`; a pushed-down list `VERIFICATION:SEND` (the ministry, a provincial department)."""
    return ("VERIFICATION", "SEND") if kind is RosterKind.PUSHED else ("ROSTER", "IMPORT")


def _county_of(path: str) -> str:
    return "/".join(path.split("/")[:3])


async def _in_threads(blocks: Iterator[str]) -> AsyncIterator[str]:
    """Read the file a block at a time in a worker thread (parsing is CPU work), so the server keeps answering
    and PostgreSQL takes one block while the next is read."""
    while (block := await asyncio.to_thread(next, blocks, None)) is not None:
        yield block
