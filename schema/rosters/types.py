"""Roster batches (名册导入批次) as the schema shows them: provenance and counts, no personal data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.roster import ROSTER_KIND_LABELS, RosterKind
from models.roster_import import ImportStatus
from models.roster_import import RosterImport as ImportRow
from resolvers.rosters import decisions, reading

from ..connection import Connection, to_connection
from ..context import Info
from ..enums import described
from ..errors import RosterError
from ..mutations import run_mutation
from ..nodes import node_id_of

described(RosterKind, ROSTER_KIND_LABELS, "名册类型（四查）/ kind of roster (the four checks)")
described(
    ImportStatus,
    {
        ImportStatus.STAGED: "已暂存，待人工应用或放弃 / staged: checked and matched, awaiting a person's decision",
        ImportStatus.APPLIED: "已应用 / applied",
        ImportStatus.DISCARDED: "已放弃（同一文件可再导入）/ discarded: the same file may be imported again",
    },
    "导入批次状态 / state of an import batch",
)


@strawberry.type(description="名册计数 / a batch's row counts.")
class RosterCounts:
    read: int = strawberry.field(description="读取行数 / data rows read (those outside the jurisdiction included).")
    valid: int = strawberry.field(description="有效行 / rows that passed every check.")
    refused: int = strawberry.field(
        description="拒收行（含辖区外）/ rows refused, those outside the jurisdiction included."
    )
    matched: int = strawberry.field(description="已对应到学生 / rows tied to a known child (exact on the national ID).")
    new: int = strawberry.field(description="新发现 / valid rows that fit no known child.")


@strawberry.type(description="名册导入批次 / a roster imported as a batch, with its provenance (POLICY 004 §2).")
class RosterImport(relay.Node):
    number: int = strawberry.field(description="批次号 / the batch's number (the CLI and the upload answer name it).")
    kind: RosterKind = strawberry.field(description="名册类型 / kind of roster.")
    jurisdiction_code: str = strawberry.field(description="导入辖区 / the jurisdiction it was imported for.")
    as_of: date = strawberry.field(description="名册日期 / the roster's as-of date.")
    file_name: str = strawberry.field(description="文件名 / the uploaded file's name.")
    file_sha256: str = strawberry.field(description="文件 SHA-256 / the file's hash (the same file is refused twice).")
    size_bytes: int = strawberry.field(description="文件大小（字节）/ the file's size in bytes.")
    status: ImportStatus = strawberry.field(description="状态 / state.")
    counts: RosterCounts = strawberry.field(description="计数 / row counts.")
    created_by: str = strawberry.field(description="导入人 / imported by.")
    created_at: datetime = strawberry.field(description="导入时间 / imported at.")
    decided_by: str | None = strawberry.field(description="应用或放弃人 / applied or discarded by.")
    decided_at: datetime | None = strawberry.field(description="应用或放弃时间 / applied or discarded at.")

    @classmethod
    def resolve_id(cls, root: RosterImport, *, info: Info) -> str:
        return str(root.number)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[RosterImport | None]:
        wanted = list(node_ids)
        found = await reading.get_imports(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: ImportRow) -> RosterImport:
        return cls(
            number=row.id or 0,
            kind=RosterKind(row.kind),
            jurisdiction_code=row.jurisdiction_code,
            as_of=row.as_of,
            file_name=row.file_name,
            file_sha256=row.file_sha256,
            size_bytes=row.size_bytes,
            status=row.status,
            counts=RosterCounts(
                read=row.rows_read,
                valid=row.rows_valid,
                refused=row.rows_refused,
                matched=row.rows_matched,
                new=row.rows_new,
            ),
            created_by=row.created_by,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )


@strawberry.input(description="名册批次筛选 / filter for roster batches.")
class RosterImportFilter:
    region_code: str | None = strawberry.field(default=None, description="区划子树 / batches of this region and below.")
    kind: RosterKind | None = strawberry.field(default=None, description="名册类型 / kind.")
    status: ImportStatus | None = strawberry.field(default=None, description="状态 / state.")


async def roster_imports(
    info: Info, filter: RosterImportFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[RosterImport]:
    f = filter or RosterImportFilter()
    page = await reading.list_imports(
        info.context, region_code=f.region_code, kind=f.kind, status=f.status, first=first, after=after
    )
    return to_connection(page, node=RosterImport.from_row, key=lambda r: str(r.id), after=after)


@strawberry.input(description="放弃导入批次 / discard a staged roster batch.")
class DiscardRosterImportInput:
    id: relay.GlobalID = strawberry.field(description="批次 ID / the batch's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    note: str = strawberry.field(description="放弃原因（最多 500 字）/ why it is discarded (at most 500 characters).")


@strawberry.type(description="导入批次操作结果 / result of a decision on a roster batch.")
class RosterImportPayload:
    roster_import: RosterImport | None = strawberry.field(default=None, description="批次 / the batch.")
    errors: list[RosterError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def discard_roster_import(info: Info, input: DiscardRosterImportInput) -> RosterImportPayload:
    return await run_mutation(
        info,
        RosterImportPayload,
        lambda: decisions.discard_import(
            info.context, import_id=node_id_of(input.id, "RosterImport"), version=input.version, note=input.note
        ),
        lambda row: RosterImportPayload(roster_import=RosterImport.from_row(row)),
    )
