"""The platform uploads' root fields: what is owed, the batches, making and marking them (one use case each)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.platform_upload import PlatformBatch as BatchRow
from models.platform_upload import PlatformChangeKind, UploadStatus
from resolvers.platform import uploads

from ..connection import Connection, to_connection
from ..context import Info
from ..errors import PlatformError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from .types import PlatformChange, PlatformOwedCount, UploadBatch


@strawberry.input(description="批次筛选 / filter for upload batches.")
class UploadBatchFilter:
    county_code: str | None = strawberry.field(default=None, description="县 / one county's batches.")
    status: UploadStatus | None = strawberry.field(default=None, description="状态 / state.")


async def upload_batches(
    info: Info, filter: UploadBatchFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[UploadBatch] | None:
    f = filter or UploadBatchFilter()
    page = await uploads.list_batches(
        info.context, county_code=f.county_code, status=f.status, first=first, after=after
    )
    return to_connection(page, node=UploadBatch.from_row, key=lambda r: str(r.id), after=after)


@strawberry.input(description="待报变动筛选 / filter for the changes a county owes the platform.")
class OwedPlatformChangeFilter:
    county_code: str = strawberry.field(description="县 / the county (your own).")
    kind: PlatformChangeKind | None = strawberry.field(default=None, description="变动 / kind of change.")


async def owed_platform_changes(
    info: Info, filter: OwedPlatformChangeFilter, first: int | None = None, after: str | None = None
) -> Connection[PlatformChange] | None:
    page = await uploads.list_owed(
        info.context, county_code=filter.county_code, kind=filter.kind, first=first, after=after
    )
    return to_connection(page, node=PlatformChange.from_row, key=lambda r: str(r.id), after=after)


async def platform_owed_counts(info: Info, region_code: str) -> list[PlatformOwedCount] | None:
    rows = await uploads.owed_counts(info.context, region_code=region_code)
    return [
        PlatformOwedCount(
            county_code=r.county_code,
            county_name=r.county_name,
            owed=r.owed,
            oldest_owed_on=r.oldest_owed_on,
            last_batch_at=r.last_batch_at,
        )
        for r in rows
    ]


@strawberry.input(description="制作录入平台批次 / make the county's next upload batch.")
class UploadBatchInput:
    county_code: str = strawberry.field(description="县 / your county.")


@strawberry.type(description="批次 / the batch, or why not.")
class UploadBatchPayload:
    batch: UploadBatch | None = strawberry.field(default=None, description="批次 / the batch.")
    errors: list[PlatformError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


def _present(row: BatchRow) -> UploadBatchPayload:
    return UploadBatchPayload(batch=UploadBatch.from_row(row))


async def upload_batch(info: Info, input: UploadBatchInput) -> UploadBatchPayload:
    return await run_mutation(
        info, UploadBatchPayload, lambda: uploads.upload_batch(info.context, county_code=input.county_code), _present
    )


@strawberry.input(description="标记批次上传失败 / mark a batch failed: its changes are owed again (resend).")
class MarkUploadFailedInput:
    batch_id: relay.GlobalID = strawberry.field(description="批次 ID / the batch's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    reason: str = strawberry.field(
        metadata=stored_in(BatchRow, "failure_reason"),
        description="失败原因（最多 500 字）/ why it failed (at most 500 characters).",
    )


async def mark_upload_failed(info: Info, input: MarkUploadFailedInput) -> UploadBatchPayload:
    return await run_mutation(
        info,
        UploadBatchPayload,
        lambda: uploads.mark_upload_failed(
            info.context, batch_id=node_id_of(input.batch_id, "UploadBatch"), version=input.version, reason=input.reason
        ),
        _present,
    )


@strawberry.input(description="标记批次已被平台接收 / mark a batch accepted by the platform.")
class MarkUploadAcceptedInput:
    batch_id: relay.GlobalID = strawberry.field(description="批次 ID / the batch's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def mark_upload_accepted(info: Info, input: MarkUploadAcceptedInput) -> UploadBatchPayload:
    return await run_mutation(
        info,
        UploadBatchPayload,
        lambda: uploads.mark_upload_accepted(
            info.context, batch_id=node_id_of(input.batch_id, "UploadBatch"), version=input.version
        ),
        _present,
    )
