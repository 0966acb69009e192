"""The national platform's uploads as the schema shows them (录入平台, POLICY 004 §9): owed changes, batches."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.platform_upload import PlatformBatch as BatchRow
from models.platform_upload import PlatformChange as ChangeRow
from models.platform_upload import PlatformChangeKind, UploadStatus
from resolvers.ledgers import entries as entry_resolvers
from resolvers.platform import uploads
from resolvers.platform.files import BatchFileFormat, batch_code

from ..context import Info, loader
from ..enums import described
from ..ledgers.entries import LedgerEntry
from ..ledgers.persuasion import path_code

described(
    PlatformChangeKind,
    {
        PlatformChangeKind.SUSPECTED: "新增疑似辍学 / opened on the suspected ledger",
        PlatformChangeKind.DROPOUT: "新增辍学 / opened on the dropout ledger (an escalation included)",
        PlatformChangeKind.RETURNED: "已返校 / back at school",
        PlatformChangeKind.REOPENED: "再次缺课 / a returned child absent again: the entry is open again",
        PlatformChangeKind.PLACED: "已安置 / placed (分类安置)",
        PlatformChangeKind.DEFERRED: "延缓入学 / deferral approved",
        PlatformChangeKind.CLOSED_OUT: "已销号 / closed out",
    },
    "报送平台的变动 / a change the national platform must be told of",
)
described(
    UploadStatus,
    {
        UploadStatus.SENT: "已发送 / made and handed over: its changes are no longer owed",
        UploadStatus.FAILED: "失败待重发 / failed: its changes are owed again and go in the next batch",
        UploadStatus.ACCEPTED: "平台已接收 / the platform took it",
    },
    "批次状态 / state of an upload batch",
)
described(
    BatchFileFormat,
    {
        BatchFileFormat.CSV: "CSV（UTF-8，带 BOM）/ CSV, UTF-8 with a BOM",
        BatchFileFormat.XLSX: "Excel 工作簿 / Excel workbook",
    },
    "批次文件格式 / batch file format",
)


@strawberry.type(description="待报平台的变动 / a change of a ledger entry the county still owes the platform.")
class PlatformChange(relay.Node):
    change_id: strawberry.Private[int]
    entry_id: strawberry.Private[int]
    kind: PlatformChangeKind = strawberry.field(description="变动 / what happened.")
    happened_on: date = strawberry.field(description="日期 / the day it happened.")
    recorded_at: datetime = strawberry.field(description="记录时间 / when it was recorded.")
    county_code: str = strawberry.field(description="责任县 / the county that answers for the entry.")

    @classmethod
    def resolve_id(cls, root: PlatformChange, *, info: Info) -> str:
        return str(root.change_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PlatformChange | None]:
        wanted = list(node_ids)
        found = await uploads.get_changes(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: ChangeRow) -> PlatformChange:
        return cls(
            change_id=row.id or 0,
            entry_id=row.entry_id,
            kind=row.kind,
            happened_on=row.happened_on,
            recorded_at=row.recorded_at,
            county_code=path_code(row.county_path) or "",
        )

    @strawberry.field(description="台账记录 / the ledger entry (null outside your ledger view).")  # type: ignore[untyped-decorator]
    async def entry(self, info: Info) -> LedgerEntry | None:
        row = await loader(info, "entries", entry_resolvers.get_entries).load(str(self.entry_id))
        return LedgerEntry.from_row(row) if row else None


@strawberry.type(
    description="录入平台的批次 / one upload of a county's changes to the national platform (POLICY 004 §9)."
)
class UploadBatch(relay.Node):
    batch_id: strawberry.Private[int]
    number: int = strawberry.field(description="本县批次序号 / the county's batch number: 1, 2, …")
    code: str = strawberry.field(description="批次号（文件中的）/ the batch code the file carries, `532329-0001`.")
    county_code: str = strawberry.field(description="县 / the county.")
    status: UploadStatus = strawberry.field(description="状态 / state.")
    lines: int = strawberry.field(description="行数（变动数）/ how many changes it carries.")
    created_by: str = strawberry.field(description="制作人 / made by.")
    created_at: datetime = strawberry.field(description="制作时间 / made at.")
    failed_by: str | None = strawberry.field(description="标记失败人 / marked failed by.")
    failed_at: datetime | None = strawberry.field(description="标记失败时间 / marked failed at.")
    failure_reason: str | None = strawberry.field(description="失败原因 / why it failed.")
    accepted_by: str | None = strawberry.field(description="标记接收人 / marked accepted by.")
    accepted_at: datetime | None = strawberry.field(description="标记接收时间 / marked accepted at.")
    version: int = strawberry.field(description="版本，标记时回传 / version, sent back to mark it.")

    @classmethod
    def resolve_id(cls, root: UploadBatch, *, info: Info) -> str:
        return str(root.batch_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UploadBatch | None]:
        wanted = list(node_ids)
        found = await uploads.get_batches(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: BatchRow) -> UploadBatch:
        return cls(
            batch_id=row.id or 0,
            number=row.number,
            code=batch_code(row),
            county_code=row.county_code,
            status=row.status,
            lines=row.lines,
            created_by=row.created_by,
            created_at=row.created_at,
            failed_by=row.failed_by,
            failed_at=row.failed_at,
            failure_reason=row.failure_reason,
            accepted_by=row.accepted_by,
            accepted_at=row.accepted_at,
            version=row.version,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="下载地址（需 Authorization 头；仅本县教育局）/ the file's address: GET it with your "
        "`Authorization` header (the county bureau that uploads; audited)."
    )
    def download_url(self, format: BatchFileFormat = BatchFileFormat.CSV) -> str:
        return f"/platform/batches/{self.batch_id}/download?format={format.value}"


@strawberry.type(description="一个县待报平台的变动数 / a county's changes owed to the platform: counts only.")
class PlatformOwedCount:
    county_code: str = strawberry.field(description="县 / the county.")
    county_name: str = strawberry.field(description="县名 / its name.")
    owed: int = strawberry.field(description="待报变动数 / changes owed now.")
    oldest_owed_on: date | None = strawberry.field(description="最早一条的日期 / the oldest owed change's day.")
    last_batch_at: datetime | None = strawberry.field(description="最近一批的时间 / when its last batch was made.")
