"""Cases sent up to the ministry's national platform (录入平台, POLICY 004 §9): the changes each county owes,
its batches, and the batch file (`GET /platform/batches/{id}/download`, baoxue/platform.py).

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import operations as ops
from .types import PlatformChange, PlatformOwedCount, UploadBatch


@strawberry.type
class Query:
    upload_batches: Connection[UploadBatch] | None = strawberry.field(
        resolver=ops.upload_batches,
        description="录入平台的批次 / upload batches of the counties I may read (PLATFORM:READ: a county its own, "
        "a city or province its counties'), oldest first; FORBIDDEN for a county outside my view. No personal data.",
    )
    owed_platform_changes: Connection[PlatformChange] | None = strawberry.field(
        resolver=ops.owed_platform_changes,
        description="待报平台的变动 / the changes my county owes the platform now, oldest first: what the next "
        "`uploadBatch` takes (PLATFORM:UPLOAD, the county bureau; FORBIDDEN for another county).",
    )
    platform_owed_counts: list[PlatformOwedCount] | None = strawberry.field(
        resolver=ops.platform_owed_counts,
        description="各县待报平台变动数 / for each county of a region: changes owed, the oldest one's day, the last "
        "batch (PLATFORM:READ over the region; FORBIDDEN outside it). Counts only.",
    )


@strawberry.type
class Mutation:
    upload_batch: ops.UploadBatchPayload = strawberry.mutation(
        resolver=ops.upload_batch,
        description="制作录入平台批次 / take every change my county owes the platform into a new batch, marked "
        "sent in the same transaction (nothing twice, nothing missed); NOTHING_OWED when there is none. "
        "The county bureau (PLATFORM:UPLOAD with CHILD:READ_PII).",
    )
    mark_upload_failed: ops.UploadBatchPayload = strawberry.mutation(
        resolver=ops.mark_upload_failed,
        description="标记批次失败 / the platform refused or lost a SENT batch: it is kept, marked FAILED with the "
        "reason, and its changes are owed again (the next batch resends them).",
    )
    mark_upload_accepted: ops.UploadBatchPayload = strawberry.mutation(
        resolver=ops.mark_upload_accepted,
        description="标记批次已接收 / the platform took a SENT batch.",
    )


__all__ = ["PlatformChange", "PlatformOwedCount", "Query", "UploadBatch"]
