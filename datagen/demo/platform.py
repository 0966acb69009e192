"""The demo's exchange with the national platform (README, "Cases sent up"): 武定县 sent its cases up to the
end of September and the platform accepted them; what happened in October is still owed, so the county's
`uploadBatches` and `owedPlatformChanges` both have something to show."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.platform_upload import PlatformBatch, UploadStatus
from models.repos import platform_uploads as repo

COUNTY = "532329"  # 武定县
COUNTY_PATH = "53/5323/532329"
SENT_THROUGH = date(2026, 9, 30)
SENT_AT = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)  # 10:00 in China, 8 October 2026
ACCOUNT = f"edu-county-{COUNTY}"


async def seed_platform_batch(session: AsyncSession) -> int:
    """The county's first batch, accepted, if the county has none yet (the seed adds nothing twice)."""
    if await repo.next_number(session, COUNTY_PATH) > 1:
        return 0
    await repo.date_deferrals_by_their_decisions(session)  # the entries were loaded before their requests
    batch = await repo.add_batch(
        session,
        PlatformBatch(
            county_code=COUNTY,
            county_path=COUNTY_PATH,
            number=1,
            status=UploadStatus.ACCEPTED,
            created_by=ACCOUNT,
            created_at=SENT_AT,
            accepted_by=ACCOUNT,
            accepted_at=SENT_AT,
            province_code=COUNTY[:2],
        ),
    )
    batch.lines = await repo.take_owed(session, batch.id or 0, COUNTY_PATH, SENT_THROUGH)
    session.add(batch)
    await session.flush()
    return 1
