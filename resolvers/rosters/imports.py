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
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from authz.catalogue import Level, level_of_path
from models.base import today
from models.repos import jurisdictions
from models.repos import roster_imports as repo
from models.roster import RosterKind
from models.roster_import import RosterImport

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from . import staging
from .errors import RosterErrorCode
from .files import RosterFileError, blocks_of, inspect_file
from .rows import RowChecks

MAX_ROSTER_BYTES = 200 * 1024 * 1024  # a province's household roster as CSV is about 100 MB


@dataclass(frozen=True)
class ImportResult:
    batch: RosterImport
    out_of_scope: int  # rows refused as outside the jurisdiction, counted but never stored


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
        # The block size read at call time (a test sets it small, so a file spans many blocks).
        headers, blocks = await asyncio.to_thread(blocks_of, file, kind, staging.ROWS_PER_BLOCK)
        try:
            checks = RowChecks(kind, headers, jurisdiction=path)
            # A pushed-down list is matched on the national ID only: its senders decide no candidates (they
            # read no children), and the county verifying a child registers it if no child holds the ID.
            county = None if pushed else _county_of(path)
            staged = await staging.stage_file(session, batch.id, batch.province_code, blocks, checks, county)
        finally:
            blocks.close()  # its temporary files and the archive, also when staging fails part-way
    except RosterFileError as exc:  # a missing column or an empty file, found on reading
        raise BadInput("file", exc.code, exc.zh, exc.en) from exc
    out_of_scope = staged.out_of_scope
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
    return ImportResult(batch=batch, out_of_scope=out_of_scope)


def import_right(kind: RosterKind) -> tuple[str, str]:
    """The right that imports (and applies, discards, lists the refused rows of) a roster of this kind: the
    four checks `ROSTER:IMPORT`; a pushed-down list `VERIFICATION:SEND` (the ministry, a provincial department)."""
    return ("VERIFICATION", "SEND") if kind is RosterKind.PUSHED else ("ROSTER", "IMPORT")


def _county_of(path: str) -> str:
    return "/".join(path.split("/")[:3])
