"""Sending a county's cases up to the national platform (录入全国基础教育管理服务平台, POLICY 004 §9; README,
"Cases sent up"): what is owed, making a batch, marking it failed (resend) or accepted, downloading it.

Who: the county education bureau (`PLATFORM:UPLOAD` at its county; only roles that also hold
`CHILD:READ_PII` there get it, since the file carries national IDs and registry numbers in full).
Cities and provinces read the batches and the owed counts of their counties (`PLATFORM:READ`), never a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import col

from authz.errors import Forbidden
from models.base import utcnow
from models.platform_upload import PlatformBatch, PlatformChange, PlatformChangeKind, UploadStatus
from models.region import Region, RegionLevel
from models.repos import platform_uploads as repo
from models.repos import regions as region_repo
from models.repos.paging import Page

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_region
from ..paging import decode_id_cursor, page_size, parse_id
from ..versioning import check_version
from .errors import PlatformErrorCode
from .files import MEDIA_TYPES, BatchFileFormat, batch_code, file_of

PLATFORM = "PLATFORM"
REASON_LIMIT = 500


async def _county(ctx: Context, county_code: str, act: str) -> Region:
    """The county, if the caller holds PLATFORM:`act` over it. Without the right anywhere, FORBIDDEN; a county
    outside the caller's scope answers UNKNOWN_REGION, as a missing one does (README "Error codes")."""
    region = await _place(ctx, county_code, act, "countyCode")
    if region.level is not RegionLevel.COUNTY:
        raise BadInput("countyCode", PlatformErrorCode.NOT_A_COUNTY)
    return region


async def _place(ctx: Context, code: str, act: str, field: str) -> Region:
    access = ctx.access()
    if not access.holds_anywhere(PLATFORM, act):
        raise Forbidden()
    region = await region_repo.get_region(ctx.session, code)
    if region is None:
        raise unknown_region(field)
    access.require_at(PLATFORM, act, {"PLACE": [region.path]}, unknown_region(field))
    return region


def _require_personal_data(ctx: Context, county_path: str) -> None:
    """The file holds IDs in full: the caller must also hold CHILD:READ_PII over the county (either line)."""
    ctx.access().require("CHILD", "READ_PII", {"EDU": [county_path], "GOV": [county_path]})


def _uploads_at(ctx: Context, county_path: str) -> None:
    ctx.access().require(PLATFORM, "UPLOAD", {"PLACE": [county_path]})
    _require_personal_data(ctx, county_path)


async def upload_batch(ctx: Context, *, county_code: str) -> PlatformBatch:
    """Take every change the county owes the platform now into a new batch, marked sent in this transaction.

    Two uploads of one county at once: the county's lock orders them, and the second takes only what the
    first left (changes committed in between), or is refused NOTHING_OWED."""
    county = await _county(ctx, county_code, "UPLOAD")
    _uploads_at(ctx, county.path)
    await repo.lock_county(ctx.session, county.code)
    batch = await repo.add_batch(
        ctx.session,
        PlatformBatch(
            county_code=county.code,
            county_path=county.path,
            number=await repo.next_number(ctx.session, county.path),
            created_by=ctx.actor,
            province_code=county.path[:2],
        ),
    )
    assert batch.id is not None
    batch.lines = await repo.take_owed(ctx.session, batch.id, county.path)
    if batch.lines == 0:
        raise BadInput("countyCode", PlatformErrorCode.NOTHING_OWED)
    ctx.session.add(batch)
    await ctx.session.flush()
    await record_change(
        ctx,
        action="platform.upload",
        target_type="UploadBatch",
        target_id=str(batch.id),
        scope_path=county.path,
        summary={"batch": batch_code(batch), "lines": batch.lines},
    )
    return batch


async def _batch_to_change(ctx: Context, batch_id: str, version: int) -> PlatformBatch:
    """The batch, locked, if the caller uploads for its county; NOT_FOUND when not visible; CONFLICT if stale."""
    number = parse_id(batch_id)
    visible = await get_batches(ctx, [batch_id]) if number is not None else {}
    if number is None or batch_id not in visible:
        raise BadInput("batchId", PlatformErrorCode.NOT_FOUND, "没有这个批次", "no such batch")
    _uploads_at(ctx, visible[batch_id].county_path)
    batch = await repo.lock_batch(ctx.session, number)
    assert batch is not None, "batches are never deleted"
    check_version(batch, version)
    if batch.status is not UploadStatus.SENT:
        raise BadInput(
            "batchId",
            PlatformErrorCode.BAD_STATUS,
            f"批次状态为 {batch.status.value}，只有已发送（SENT）的批次可标记",
            f"the batch is {batch.status.value}: only a SENT batch can be marked",
        )
    return batch


async def mark_upload_failed(ctx: Context, *, batch_id: str, version: int, reason: str) -> PlatformBatch:
    """The platform refused or lost the batch: its changes are owed again and go in the next batch (resend).
    The batch and its lines stay, marked FAILED with who, when and why."""
    text = (reason or "").strip()
    if not text:
        raise BadInput("reason", PlatformErrorCode.REQUIRED, "须说明失败原因", "say why the upload failed")
    if len(text) > REASON_LIMIT:
        raise BadInput("reason", PlatformErrorCode.TOO_LONG, f"不超过 {REASON_LIMIT} 字", f"at most {REASON_LIMIT}")
    batch = await _batch_to_change(ctx, batch_id, version)
    released = await repo.release(ctx.session, batch.id or 0)
    batch.status, batch.failed_by, batch.failed_at, batch.failure_reason = (
        UploadStatus.FAILED,
        ctx.actor,
        utcnow(),
        text,
    )
    return await _save(ctx, batch, "platform.upload_failed", reason=text, owed_again=released)


async def mark_upload_accepted(ctx: Context, *, batch_id: str, version: int) -> PlatformBatch:
    """The platform took the batch."""
    batch = await _batch_to_change(ctx, batch_id, version)
    batch.status, batch.accepted_by, batch.accepted_at = UploadStatus.ACCEPTED, ctx.actor, utcnow()
    return await _save(ctx, batch, "platform.upload_accepted")


async def _save(ctx: Context, batch: PlatformBatch, action: str, **summary: object) -> PlatformBatch:
    batch.version += 1
    ctx.session.add(batch)
    await ctx.session.flush()
    await record_change(
        ctx,
        action=action,
        target_type="UploadBatch",
        target_id=str(batch.id),
        scope_path=batch.county_path,
        summary={"batch": batch_code(batch), **{k: str(v) for k, v in summary.items()}},
    )
    return batch


def _readable(ctx: Context) -> ColumnElement[bool]:
    return ctx.access().scope(PLATFORM, "READ", repo.BATCH_SCOPE_COLUMNS)


async def get_batches(ctx: Context, ids: list[str]) -> dict[str, PlatformBatch]:
    """The batches among `ids` the caller may read (PLATFORM:READ over their county); others are absent."""
    numbers = [n for n in (parse_id(i) for i in ids) if n is not None]
    found = await repo.batches_by_id(ctx.session, numbers, scope=_readable(ctx))
    return {str(k): v for k, v in found.items()}


async def get_changes(ctx: Context, ids: list[str]) -> dict[str, PlatformChange]:
    """Changes among `ids` of the counties the caller uploads for (they name children); others are absent."""
    numbers = [n for n in (parse_id(i) for i in ids) if n is not None]
    scope = ctx.access().scope(PLATFORM, "UPLOAD", repo.CHANGE_SCOPE_COLUMNS)
    return {str(k): v for k, v in (await repo.changes_by_id(ctx.session, numbers, scope=scope)).items()}


async def list_batches(
    ctx: Context,
    *,
    county_code: str | None = None,
    status: UploadStatus | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[PlatformBatch]:
    """Batches of my jurisdiction, oldest first; a county outside it (or none such) is refused."""
    if not ctx.access().holds_anywhere(PLATFORM, "READ"):
        raise Forbidden()
    path = (await _county(ctx, county_code, "READ")).path if county_code is not None else None
    return await repo.list_batches(
        ctx.session,
        scope=_readable(ctx),
        region_path=path,
        status=status,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


async def list_owed(
    ctx: Context,
    *,
    county_code: str,
    kind: PlatformChangeKind | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[PlatformChange]:
    """The changes the county owes the platform now, oldest first: for the county that uploads them."""
    county = await _county(ctx, county_code, "UPLOAD")
    return await repo.list_owed(
        ctx.session,
        county_path=county.path,
        kind=kind.value if kind else None,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


async def owed_counts(ctx: Context, *, region_code: str) -> list[repo.OwedCount]:
    """Each county of the region (a county itself, or a city's or province's): how many changes it owes
    the platform, since when, and its last batch. Counts only, for PLATFORM:READ over the region."""
    access = ctx.access()
    region = await _place(ctx, region_code, "READ", "regionCode")
    scope = access.scope(PLATFORM, "READ", {"PLACE": [col(Region.path)]})
    return await repo.owed_counts(ctx.session, scope=scope, root_path=region.path)


@dataclass(frozen=True)
class BatchFile:
    content: bytes
    media_type: str
    filename: str


async def download_batch(ctx: Context, batch_id: str, fmt: BatchFileFormat) -> BatchFile:
    """The batch's file, for the county that uploads it (with CHILD:READ_PII there): NOT_FOUND outside the
    caller's PLATFORM:READ view, FORBIDDEN for a reader who may not upload. Audited (`platform.download`)."""
    batch = (await get_batches(ctx, [batch_id])).get(batch_id)
    if batch is None:
        raise BadInput("batchId", PlatformErrorCode.NOT_FOUND, "没有这个批次", "no such batch")
    _uploads_at(ctx, batch.county_path)
    lines = await repo.lines_of(ctx.session, batch.id or 0)
    await record_change(
        ctx,
        action="platform.download",
        target_type="UploadBatch",
        target_id=str(batch.id),
        scope_path=batch.county_path,
        summary={"batch": batch_code(batch), "lines": len(lines), "format": fmt.value},
    )
    return BatchFile(
        content=file_of(batch, lines, fmt),
        media_type=MEDIA_TYPES[fmt],
        filename=f"platform_{batch.county_code}_{batch.number:04d}.{fmt.value}",
    )
