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
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, BinaryIO

from authz.catalogue import Level, level_of_path, within
from models.base import today
from models.region import path_of_code
from models.repos import jurisdictions
from models.repos import roster_imports as repo
from models.roster import RosterKind, RosterRecord, RowProblem
from models.roster_import import RosterImport, RowStatus

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from .errors import RosterErrorCode
from .files import RosterFileError, inspect_file, rows_of
from .rows import check_rows

MAX_ROSTER_BYTES = 200 * 1024 * 1024  # a province's household roster as CSV is about 100 MB
CHUNK_ROWS = 2000  # rows read and checked in a worker thread at a time, so the server keeps answering


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
    lookups = await _lookups(ctx, path)
    counted = _Counter()
    try:
        rows = _staged(kind, rows_of(file, kind), path, lookups, counted)
        # A pushed-down list is matched on the national ID only: its senders decide no candidates (they read
        # no children), and the county verifying a child registers it if no child holds the ID.
        county = None if pushed else _county_of(path)
        await repo.stage_and_match(session, batch.id, _in_threads(rows), county)
    except RosterFileError as exc:  # a missing column or an empty file, found on reading
        raise BadInput("file", exc.code, exc.zh, exc.en) from exc
    counts = await repo.count_rows(session, batch.id)
    batch.rows_read += counted.out_of_scope
    batch.rows_refused += counted.out_of_scope
    await record_change(
        ctx,
        action="roster.import",
        target_type="RosterImport",
        target_id=str(batch.id),
        scope_path=path,
        summary={
            "kind": kind.value, "file": batch.file_name, "sha256": file.sha256, "asOf": as_of.isoformat(),
            "counts": {**counts.__dict__, "outOfScope": counted.out_of_scope},
        },
    )  # fmt: skip
    await session.flush()
    return ImportResult(batch=batch, out_of_scope=counted.out_of_scope)


@dataclass
class _Counter:
    out_of_scope: int = 0


@dataclass(frozen=True)
class _Lookups:
    regions: dict[str, str]
    schools: dict[str, str]
    province: str

    def region_path(self, code: str) -> str | None:
        """A known region's path; a code of another province is placed by its digits, so it is out of scope."""
        found = self.regions.get(code)
        if found is None and code.isdigit() and len(code) in (2, 4, 6, 9, 12) and code[:2] != self.province:
            return path_of_code(code)
        return found

    def school_path(self, code: str) -> str | None:
        return self.schools.get(code)


def import_right(kind: RosterKind) -> tuple[str, str]:
    """The right that imports (and applies, discards, lists the refused rows of) a roster of this kind: the
    four checks `ROSTER:IMPORT`; a pushed-down list `VERIFICATION:SEND` (the ministry, a provincial department)."""
    return ("VERIFICATION", "SEND") if kind is RosterKind.PUSHED else ("ROSTER", "IMPORT")


async def _lookups(ctx: Context, path: str) -> _Lookups:
    province = path.split("/", 1)[0]
    if not province:  # the nation (a ministry's pushed-down list): every region and school
        regions, schools = await jurisdictions.paths_in_nation(ctx.session)
        return _Lookups(regions=regions, schools=schools, province="")
    regions, schools = await jurisdictions.paths_in_province(ctx.session, province)
    return _Lookups(regions=regions, schools=schools, province=province)


def _county_of(path: str) -> str:
    return "/".join(path.split("/")[:3])


def _staged(
    kind: RosterKind,
    rows: Iterator[tuple[int, dict[str, str]]],
    jurisdiction: str,
    lookups: _Lookups,
    counted: _Counter,
) -> Iterator[dict[str, Any]]:
    """Each checked row as `roster_row` columns; rows outside the jurisdiction are counted, not kept."""
    cells: dict[int, dict[str, str]] = {}

    def remembered() -> Iterator[tuple[int, dict[str, str]]]:
        for line, row in rows:
            cells.clear()
            cells[line] = row
            yield line, row

    checked = check_rows(
        kind,
        remembered(),
        region_path=lookups.region_path,
        school_path=lookups.school_path,
        in_scope=lambda paths: any(within(p, jurisdiction) for p in paths),
    )
    for result in checked:
        if isinstance(result, RosterRecord):
            yield _valid_row(result, lookups)
            continue
        if any(p.code == RosterErrorCode.OUT_OF_SCOPE.name for p in result):
            counted.out_of_scope += 1
            continue
        line = result[0].line
        yield {"line": line, "status": RowStatus.REFUSED, "problems": _problems(result), "raw": cells.get(line, {})}


def _valid_row(record: RosterRecord, lookups: _Lookups) -> dict[str, Any]:
    def region(code: str | None) -> str | None:
        return lookups.regions.get(code) if code else None

    return {
        "line": record.line, "status": RowStatus.VALID, "raw": record.raw,
        "name": record.name, "gender": record.gender.value, "birth_date": record.birth_date,
        "national_id": record.national_id, "registry_number": record.registry_number,
        "school_code": record.school_code, "grade": record.grade,
        "household_region_code": record.household_region_code, "residence_region_code": record.residence_region_code,
        "poverty_kind": record.special_group.value if record.special_group else None,
        "no_id_reason": record.no_id_reason,
        "school_path": lookups.schools.get(record.school_code) if record.school_code else None,
        "household_path": region(record.household_region_code), "residence_path": region(record.residence_region_code),
    }  # fmt: skip


def _problems(problems: list[RowProblem]) -> list[dict[str, str]]:
    return [{"column": p.column, "code": p.code, "message": f"{p.zh} / {p.en}"} for p in problems]


async def _in_threads(rows: Iterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Read and check the file a chunk at a time in a worker thread: parsing and ID checks are CPU work."""
    while chunk := await asyncio.to_thread(lambda: list(islice(rows, CHUNK_ROWS))):
        for row in chunk:
            yield row
