"""Importing a roster as a staged batch (resolvers/rosters/imports.py), with the example rosters of 武定县
(docs/examples/rosters/): who may import, what is kept, what is refused whole, the same file twice."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from authz.errors import Forbidden
from datagen.demo.people import national_id
from models import AuditLog
from models.child import Child
from models.roster import RosterKind
from models.roster_import import RosterImport, RosterRow, RowMatch, RowStatus
from resolvers.context import Context
from resolvers.errors import BadInput
from resolvers.rosters.decisions import discard_import
from resolvers.rosters.imports import import_roster
from resolvers.rosters.staging import ROWS_PER_BLOCK
from tests.ledger_support import STAFF
from tests.resolvers.conftest import ContextFor, refusal
from tests.roster_support import SHISHAN_VILLAGE, YUANMOU_VILLAGE, committed_example_batch, csv_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rosters"
COUNTY_EDU, NEIGHBOUR_EDU = "edu-county-532329", "edu-county-532328"
TOWNSHIP = "gov-township-532329101"


async def stage(ctx: Any, name: str, kind: RosterKind = RosterKind.HOUSEHOLD, jurisdiction: str = "532329") -> Any:
    data = (EXAMPLES / name).read_bytes()
    return await import_roster(
        ctx,
        kind=kind,
        jurisdiction_code=jurisdiction,
        as_of=date(2026, 11, 30),
        file_name=name,
        stream=io.BytesIO(data),
    )


async def batches(session: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(RosterImport)) or 0)


async def test_a_county_bureau_stages_its_household_roster_with_every_row_checked_and_matched(
    session: Any, context_for: ContextFor
) -> None:
    """POLICY 004 §2 (摸清底数): the file's 165 rows are read; the five bad ones are refused with their reasons,
    the 元谋 row among them never stored; the children already known are matched on the national ID."""
    audited = int(await session.scalar(select(func.count()).select_from(AuditLog)) or 0)
    result = await stage(await context_for(COUNTY_EDU), "532329-household.csv")
    batch = result.batch
    assert (batch.status, batch.kind, batch.jurisdiction_path) == ("STAGED", "HOUSEHOLD", "53/5323/532329")
    assert (batch.rows_read, batch.rows_valid, batch.rows_refused) == (165, 160, 5)
    assert (batch.rows_matched, batch.rows_new, result.out_of_scope) == (159, 1, 1)
    rows = (await session.scalars(select(RosterRow).where(RosterRow.import_id == batch.id))).all()
    assert len(rows) == 164  # the row outside the county is counted, never kept
    refused = {r.line: [p["code"] for p in r.problems] for r in rows if r.status is RowStatus.REFUSED}
    assert refused == {
        162: ["INVALID_CHECK_DIGIT"],
        163: ["BIRTH_DATE_MISMATCH"],
        165: ["DUPLICATE_IN_FILE"],
        166: ["REQUIRED", "INVALID_GENDER"],
    }
    assert all(r.raw for r in rows if r.status is RowStatus.REFUSED)  # the original cells, for the error file
    assert sum(r.match is RowMatch.EXACT for r in rows) == 159
    assert int(await session.scalar(select(func.count()).select_from(AuditLog)) or 0) == audited + 1


async def test_the_same_file_twice_is_refused_naming_the_earlier_batch(session: Any, context_for: ContextFor) -> None:
    ctx = await context_for(COUNTY_EDU)
    first = (await stage(ctx, "532329-household.csv")).batch
    with pytest.raises(BadInput) as excinfo:
        await stage(ctx, "532329-household.csv")
    assert refusal(excinfo) == ("file", "DUPLICATE_FILE")
    assert f"({first.id})" in excinfo.value.error.message.replace("批次 ", "(").replace("batch ", "(")
    # the same rows in the other encoding are another file: staged, with the same counts
    again = (await stage(ctx, "532329-household-gb18030.csv")).batch
    assert (again.rows_read, again.rows_valid, again.rows_matched) == (165, 160, 159)


async def test_the_registry_export_stages_from_xlsx(context_for: ContextFor) -> None:
    batch = (await stage(await context_for(COUNTY_EDU), "532329-registry.xlsx", RosterKind.REGISTRY)).batch
    assert batch.rows_read == batch.rows_valid == batch.rows_matched > 0


async def test_the_neighbouring_county_cannot_import_for_wuding(session: Any, context_for: ContextFor) -> None:
    before = await batches(session)
    with pytest.raises(Forbidden):
        await stage(await context_for(NEIGHBOUR_EDU), "532329-household.csv")
    assert await batches(session) == before


@pytest.mark.parametrize("username", [STAFF, "edu-city-5323"])
async def test_a_school_or_the_city_cannot_import_a_county_roster(context_for: ContextFor, username: str) -> None:
    with pytest.raises(Forbidden):
        await stage(await context_for(username), "532329-household.csv")


@pytest.mark.parametrize(
    ("username", "area"),
    [(TOWNSHIP, "532329101"), ("gov-village-532329101201", "532329101201")],
)
async def test_a_township_imports_only_its_door_to_door_household_list(
    session: Any, context_for: ContextFor, username: str, area: str
) -> None:
    """Townships and villages bring their own door-to-door (铁脚板) lists, as HOUSEHOLD rows of their area
    (seed 004 §2 入户摸排): another kind is refused, rows elsewhere are counted and never stored."""
    ctx = await context_for(username)
    with pytest.raises(BadInput) as excinfo:
        await stage(ctx, "532329-registry.xlsx", RosterKind.REGISTRY, jurisdiction=area)
    assert refusal(excinfo) == ("kind", "HOUSEHOLD_ONLY")
    result = await stage(ctx, "532329-household.csv", jurisdiction=area)
    assert 0 < result.batch.rows_valid < 160  # only the children of its own area
    assert result.out_of_scope > 1
    rows = (await session.scalars(select(RosterRow).where(RosterRow.import_id == result.batch.id))).all()
    valid = [r for r in rows if r.status == RowStatus.VALID]
    assert len(valid) == result.batch.rows_valid
    assert all(area in f"{r.household_path}/{r.residence_path}".split("/") for r in valid)


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        ("姓名,性别\n张三,男\n".encode(), "missing.csv", "MISSING_COLUMN"),
        ("姓名,公民身份号码,户籍地区划代码\n".encode(), "empty.csv", "EMPTY_FILE"),
        ("姓名,公民身份号码\n张三,1\n".encode("utf-16"), "utf16.csv", "BAD_ENCODING"),
        (b"%PDF-1.4 not a roster", "roster.pdf", "UNKNOWN_FORMAT"),
    ],
)
async def test_a_file_refused_whole_stores_nothing(
    session: Any, context_for: ContextFor, content: bytes, name: str, code: str
) -> None:
    ctx = await context_for(COUNTY_EDU)
    before = await batches(session)
    rows_before = int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0)  # the demo's list
    with pytest.raises(BadInput) as excinfo:
        async with session.begin_nested():  # as the endpoint and the CLI run it: refused, rolled back
            await import_roster(
                ctx, kind=RosterKind.HOUSEHOLD, jurisdiction_code="532329",
                as_of=date(2026, 11, 30), file_name=name, stream=io.BytesIO(content),
            )  # fmt: skip
    assert refusal(excinfo) == ("file", code)
    assert " / " in excinfo.value.error.message
    assert await batches(session) == before
    assert int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0) == rows_before


@pytest.mark.parametrize(
    ("jurisdiction", "as_of", "field", "code"),
    [
        ("5323", date(2026, 11, 30), "jurisdiction", "NOT_A_COUNTY"),
        ("532399", date(2026, 11, 30), "jurisdiction", "NOT_FOUND"),
        ("532329", date(2099, 1, 1), "asOf", "FUTURE_DATE"),
    ],
)
async def test_the_batch_itself_is_checked(ctx: Any, jurisdiction: str, as_of: date, field: str, code: str) -> None:
    """As the operator (the CLI), who may import anywhere: the rules of the batch still hold."""
    with pytest.raises(BadInput) as excinfo:
        await import_roster(
            ctx, kind=RosterKind.HOUSEHOLD, jurisdiction_code=jurisdiction, as_of=as_of,
            file_name="532329-household.csv", stream=io.BytesIO((EXAMPLES / "532329-household.csv").read_bytes()),
        )  # fmt: skip
    assert refusal(excinfo) == (field, code)


async def test_two_uploads_of_one_file_at_once_have_one_winner_and_a_typed_loser(engine: Any) -> None:
    """ARCHITECTURE §12: the second waits on the live-file index, then is refused DUPLICATE_FILE, not a 500."""
    data = (EXAMPLES / "532329-poverty.csv").read_bytes()

    async def upload(actor: str) -> Any:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            ctx = Context(session=session, principal=None, system_actor=actor, operator=True)
            try:
                result = await import_roster(
                    ctx, kind=RosterKind.POVERTY, jurisdiction_code="532329", as_of=date(2026, 11, 30),
                    file_name="532329-poverty.csv", stream=io.BytesIO(data),
                )  # fmt: skip
            except BadInput as exc:
                await session.rollback()
                return exc.error.code
            await session.commit()
            return result.batch.id

    outcomes = await asyncio.gather(upload("first"), upload("second"))
    try:
        winners = [o for o in outcomes if isinstance(o, int)]
        assert len(winners) == 1
        assert [o for o in outcomes if not isinstance(o, int)] == ["DUPLICATE_FILE"]
    finally:
        async with engine.begin() as conn:
            ids = [o for o in outcomes if isinstance(o, int)]
            await conn.execute(delete(RosterRow).where(col(RosterRow.import_id).in_(ids)))
            await conn.execute(delete(RosterImport).where(col(RosterImport.id).in_(ids)))
            await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "RosterImport"))


async def test_two_discards_of_one_batch_at_once_have_one_winner_and_a_typed_loser(engine: Any) -> None:
    """ARCHITECTURE §12: the batch row is locked; the second decision then sees the first (CONFLICT)."""
    batch = await committed_example_batch(engine, "532329-poverty.csv", RosterKind.POVERTY)
    number, version = str(batch.id), batch.version

    async def decide(actor: str) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            ctx = Context(session=session, principal=None, system_actor=actor, operator=True)
            try:
                await discard_import(ctx, import_id=number, version=version, note=f"{actor} 放弃")
                await asyncio.sleep(0.2)  # hold the lock: the other decision waits for this commit
            except BadInput as exc:
                await session.rollback()
                return exc.error.code
            await session.commit()
            return "DISCARDED"

    try:
        outcomes = sorted(await asyncio.gather(decide("first"), decide("second")))
        assert outcomes == ["CONFLICT", "DISCARDED"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(RosterRow).where(col(RosterRow.import_id) == batch.id))
            await conn.execute(delete(RosterImport).where(col(RosterImport.id) == batch.id))
            await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "RosterImport"))


async def test_a_file_name_holding_a_nul_is_refused_before_anything_is_written(session: Any, ctx: Any) -> None:
    """PostgreSQL text cannot hold NUL: refused by name at the input, never an internal error."""
    before = await batches(session)
    with pytest.raises(BadInput) as excinfo:
        await import_roster(
            ctx, kind=RosterKind.HOUSEHOLD, jurisdiction_code="532329", as_of=date(2026, 11, 30),
            file_name="bad\x00name.csv", stream=io.BytesIO((EXAMPLES / "532329-household.csv").read_bytes()),
        )  # fmt: skip
    assert refusal(excinfo) == ("file", "INVALID_TEXT")
    assert await batches(session) == before


def _many_rows(count: int) -> list[list[str]]:
    """A household roster of `count` children no one knows yet, each with its own valid ID (狮山村)."""
    header = ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码"]
    rows = [header]
    for n in range(count):
        born = date(2014, 1, 1) + timedelta(days=n % 1500)
        number = national_id("532329", born, 500 + n // 1500, male=n % 2 == 0)
        rows.append([f"测试{n}", "男" if n % 2 == 0 else "女", number, born.isoformat(), SHISHAN_VILLAGE])
    return rows


async def test_a_file_of_several_blocks_keeps_its_doubles_and_scope_across_blocks(
    session: Any, context_for: ContextFor
) -> None:
    """Blocks are checked one after another (resolvers/rosters/staging.py): an ID seen in an earlier block refuses
    the later row, a row of another county is dropped in any block, and every row is written once, in order."""
    rows = _many_rows(2 * ROWS_PER_BLOCK + 10)
    rows.append(["重复", rows[2][1], rows[2][2], rows[2][3], SHISHAN_VILLAGE])  # line 3's ID again, two blocks later
    rows.append(["元谋", "男", national_id("532328", date(2015, 3, 3), 7, male=True), "2015-03-03", YUANMOU_VILLAGE])
    result = await import_roster(
        await context_for(COUNTY_EDU), kind=RosterKind.HOUSEHOLD, jurisdiction_code="532329",
        as_of=date(2026, 11, 30), file_name="many.csv", stream=io.BytesIO(csv_bytes(rows)),
    )  # fmt: skip
    batch = result.batch
    assert (batch.rows_read, batch.rows_refused, result.out_of_scope) == (2 * ROWS_PER_BLOCK + 12, 2, 1)
    stored = (await session.scalars(select(RosterRow).where(col(RosterRow.import_id) == batch.id))).all()
    assert sorted(r.line for r in stored) == list(range(2, 2 * ROWS_PER_BLOCK + 13))  # all but 元谋's last line
    refused = [r for r in stored if r.status == RowStatus.REFUSED]
    assert [(r.line, [p["code"] for p in r.problems]) for r in refused] == [
        (2 * ROWS_PER_BLOCK + 12, ["DUPLICATE_IN_FILE"])
    ]
    valid = [r for r in stored if r.status == RowStatus.VALID]
    known: dict[str | None, int | None] = {}
    for number, child in await session.execute(select(Child.national_id, Child.id)):
        known[number] = child
    assert [(r.match, r.child_id) for r in valid] == [
        (RowMatch.EXACT, known[r.national_id]) if r.national_id in known else (RowMatch.NEW, None) for r in valid
    ]


async def test_a_file_refused_after_blocks_were_written_leaves_nothing(session: Any, context_for: ContextFor) -> None:
    """A field too long for the reader two blocks in: the file is refused whole (`UNKNOWN_FORMAT`) while earlier
    blocks were already COPYed; rolled back, nothing of it stays, and the connection goes on working."""
    rows = _many_rows(2 * ROWS_PER_BLOCK + 10)
    rows.append(["长", "男", "", "2015-03-03", "x" * 200_000])
    before = await batches(session)
    rows_before = int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0)
    with pytest.raises(BadInput) as excinfo:
        async with session.begin_nested():
            await import_roster(
                await context_for(COUNTY_EDU), kind=RosterKind.HOUSEHOLD, jurisdiction_code="532329",
                as_of=date(2026, 11, 30), file_name="long.csv", stream=io.BytesIO(csv_bytes(rows)),
            )  # fmt: skip
    assert refusal(excinfo) == ("file", "UNKNOWN_FORMAT")
    assert await batches(session) == before
    assert int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0) == rows_before


@pytest.mark.parametrize(
    ("kind", "jurisdiction", "header"),
    [
        (RosterKind.HOUSEHOLD, "532329", ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码"]),
        (RosterKind.PUSHED, "CN", ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码"]),
    ],
    ids=["county", "pushed-down"],
)
async def test_an_id_ending_in_a_nul_is_a_refused_row_not_a_failed_import(
    session: Any, ctx: Any, kind: RosterKind, jurisdiction: str, header: list[str]
) -> None:
    """An ID of 17 digits and a NUL is no ID to look for among the children elsewhere (PostgreSQL text cannot carry
    a NUL): its row is refused with the others' problems, and the rest of the file is staged."""
    good = national_id("532329", date(2015, 3, 3), 9, male=True)
    rows = [
        header,
        ["甲", "男", good[:17] + "\x00", "2015-03-03", SHISHAN_VILLAGE],
        ["乙", "男", good, "2015-03-03", SHISHAN_VILLAGE],
    ]
    result = await import_roster(
        ctx, kind=kind, jurisdiction_code=jurisdiction, as_of=date(2026, 11, 30),
        file_name="nul.csv", stream=io.BytesIO(csv_bytes(rows)),
    )  # fmt: skip
    stored = (await session.scalars(select(RosterRow).where(col(RosterRow.import_id) == result.batch.id))).all()
    by_line = {r.line: r for r in stored}
    assert by_line[2].status == RowStatus.REFUSED
    assert "INVALID_TEXT" in [p["code"] for p in by_line[2].problems]
    assert (by_line[3].status, by_line[3].national_id) == (RowStatus.VALID, good)
