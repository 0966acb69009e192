"""Deciding a staged batch (resolvers/rosters/decisions.py): candidates confirmed or rejected by a person,
then the batch applied, its unknown rows registered as children (ARCHITECTURE §9: never merged silently)."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from authz.errors import Forbidden
from models import AuditLog
from models.child import Child
from models.enrolment import EnrolmentEvent
from models.roster import RosterKind
from models.roster_import import RosterImport, RosterRow, RowMatch
from resolvers.context import Context
from resolvers.errors import BadInput
from resolvers.rosters.decisions import MatchDecision, apply_import, discard_import, resolve_matches
from resolvers.rosters.imports import import_roster
from tests.factories import free_national_id, make_child
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE
from tests.resolvers.conftest import ContextFor, refusal
from tests.roster_support import committed_example_batch, csv_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rosters"
COUNTY_EDU, NEIGHBOUR_EDU, CITY_EDU = "edu-county-532329", "edu-county-532328", "edu-city-5323"
HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码", "无身份证原因"]


async def stage(ctx: Context, rows: list[list[str]], kind: RosterKind = RosterKind.HOUSEHOLD) -> RosterImport:
    result = await import_roster(
        ctx, kind=kind, jurisdiction_code="532329", as_of=date(2026, 11, 30), file_name="摸排.csv",
        stream=io.BytesIO(csv_bytes(rows)),
    )  # fmt: skip
    return result.batch


async def row_of(session: AsyncSession, batch: RosterImport, line: int) -> RosterRow:
    row = await session.get(RosterRow, (batch.id, line))
    assert row is not None
    await session.refresh(row)
    return row


async def children(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Child)) or 0)


async def test_a_candidate_waits_for_a_person_then_the_batch_registers_only_the_children_not_known(
    session: AsyncSession, context_for: ContextFor
) -> None:
    """POLICY 004 §2 (铁脚板摸排): a door-to-door row with no ID and the name, birth date and gender of a known
    child is a candidate; the batch is not applied until a person decides; applying registers the new child."""
    known = await make_child(session, name="王小明", birth_date=date(2016, 3, 2), school=None)
    new_id = await free_national_id(session, "532329", date(2015, 6, 1))
    ctx = await context_for(COUNTY_EDU)
    batch = await stage(ctx, [
        HEADER,
        ["王小明", "男", "", "2016-03-02", WUDING_VILLAGE, WUDING_VILLAGE, "户口未登记"],
        ["赵新来", "男", new_id, "2015-06-01", WUDING_VILLAGE, "", ""],
    ])  # fmt: skip
    assert batch.id is not None
    candidate = await row_of(session, batch, 2)
    assert (candidate.match, candidate.candidate_child_id, candidate.child_id) == (RowMatch.CANDIDATE, known.id, None)
    assert (batch.rows_matched, batch.rows_new) == (0, 1)

    with pytest.raises(BadInput) as undecided:
        await apply_import(ctx, import_id=str(batch.id), version=batch.version)
    assert refusal(undecided) == ("id", "UNDECIDED_CANDIDATES")

    decided = await resolve_matches(ctx, decisions=[MatchDecision(f"{batch.id}.2", confirm=True)])
    assert (decided.rows_matched, decided.rows_new) == (1, 1)
    assert (await row_of(session, batch, 2)).child_id == known.id
    with pytest.raises(BadInput) as twice:
        await resolve_matches(ctx, decisions=[MatchDecision(f"{batch.id}.2", confirm=False)])
    assert refusal(twice) == ("decisions.0.rowId", "ALREADY_DECIDED")

    before = await children(session)
    applied = await apply_import(ctx, import_id=str(batch.id), version=decided.version, note="已核对")
    assert (applied.status, applied.decided_by) == ("APPLIED", COUNTY_EDU)
    assert await children(session) == before + 1
    registered = (await session.scalars(select(Child).where(col(Child.national_id) == new_id))).one()
    assert (registered.name, registered.household_region_code, registered.residence_region_code) == (
        "赵新来", WUDING_VILLAGE, WUDING_VILLAGE,  # lives where registered when the roster gives no address
    )  # fmt: skip
    assert registered.school_code is None
    assert (await row_of(session, batch, 3)).child_id == registered.id
    applied_here = (col(AuditLog.action) == "roster.apply", col(AuditLog.target_id) == str(batch.id))
    audit = (await session.scalars(select(AuditLog).where(*applied_here))).one()
    assert audit.summary["childrenRegistered"] == 1
    with pytest.raises(BadInput) as again:
        await apply_import(ctx, import_id=str(batch.id), version=applied.version)
    assert refusal(again) == ("id", "NOT_STAGED")


async def test_a_rejected_candidate_becomes_a_child_of_its_own(session: AsyncSession, context_for: ContextFor) -> None:
    known = await make_child(session, name="李小花", gender="FEMALE", birth_date=date(2014, 8, 8), school=None)
    ctx = await context_for(COUNTY_EDU)
    batch = await stage(ctx, [HEADER, ["李小花", "女", "", "2014-08-08", WUDING_VILLAGE, "", "户口未登记"]])
    decided = await resolve_matches(ctx, decisions=[MatchDecision(f"{batch.id}.2", confirm=False)])
    assert (decided.rows_matched, decided.rows_new) == (0, 1)
    await apply_import(ctx, import_id=str(batch.id), version=decided.version)
    row = await row_of(session, batch, 2)
    assert row.match is RowMatch.REJECTED
    assert row.child_id not in (None, known.id)
    child = await session.get(Child, row.child_id)
    assert child is not None
    assert (child.name, child.national_id, child.no_id_reason) == ("李小花", None, "户口未登记")


async def test_a_registry_roster_enrols_its_new_children_from_the_rosters_day(
    session: AsyncSession, context_for: ContextFor
) -> None:
    """A child on the registry that baoxue did not know is registered at that school and grade, with the
    enrolment event on the roster's as-of date; the registry gives no household, and the child says why."""
    number = await free_national_id(session, "532329", date(2017, 1, 9))
    ctx = await context_for(COUNTY_EDU)
    batch = await stage(
        ctx,
        [["姓名", "公民身份号码", "学籍号", "学校标识码", "年级"], ["钱学", number, "G" + number, WUDING_PRIMARY, "3"]],
        kind=RosterKind.REGISTRY,
    )
    await apply_import(ctx, import_id=str(batch.id), version=batch.version)
    child = (await session.scalars(select(Child).where(col(Child.national_id) == number))).one()
    assert (child.school_code, child.grade, child.registry_number) == (WUDING_PRIMARY, 3, "G" + number)
    assert child.household_region_code is None
    assert child.no_household_reason
    events = (await session.scalars(select(EnrolmentEvent).where(col(EnrolmentEvent.child_id) == child.id))).all()
    assert [(e.change, e.on, e.school_code) for e in events] == [("ENROL", date(2026, 11, 30), WUDING_PRIMARY)]


async def test_the_neighbour_and_the_city_can_neither_apply_nor_decide(
    session: AsyncSession, context_for: ContextFor
) -> None:
    await make_child(session, name="王小明", birth_date=date(2016, 3, 2), school=None)
    batch = await stage(
        await context_for(COUNTY_EDU), [HEADER, ["王小明", "男", "", "2016-03-02", WUDING_VILLAGE, "", "户口未登记"]]
    )
    neighbour = await context_for(NEIGHBOUR_EDU)
    with pytest.raises(BadInput) as hidden:
        await apply_import(neighbour, import_id=str(batch.id), version=batch.version)
    assert refusal(hidden) == ("id", "NOT_FOUND")
    with pytest.raises(BadInput) as hidden_row:
        await resolve_matches(neighbour, decisions=[MatchDecision(f"{batch.id}.2", confirm=True)])
    assert refusal(hidden_row) == ("id", "NOT_FOUND")
    city = await context_for(CITY_EDU)  # reads the batch, imports nothing
    with pytest.raises(Forbidden):
        await apply_import(city, import_id=str(batch.id), version=batch.version)
    with pytest.raises(Forbidden):
        await resolve_matches(city, decisions=[MatchDecision(f"{batch.id}.2", confirm=True)])
    assert (await row_of(session, batch, 2)).match is RowMatch.CANDIDATE


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], ("decisions", "REQUIRED")),
        ([MatchDecision("x", True)], ("decisions.0.rowId", "NOT_FOUND")),
        ([MatchDecision("{b}.2", True), MatchDecision("{b}.2", False)], ("decisions.1.rowId", "DUPLICATE_DECISION")),
        ([MatchDecision("{b}.2", True), MatchDecision("999999.2", True)], ("decisions.1.rowId", "MIXED_BATCHES")),
        ([MatchDecision("{b}.99", True)], ("decisions.0.rowId", "NOT_FOUND")),
        ([MatchDecision("{b}.2", True)] * 501, ("decisions", "TOO_MANY")),
    ],
)
async def test_bad_decisions_are_refused_by_name_and_nothing_is_decided(
    session: AsyncSession, context_for: ContextFor, decisions: list[MatchDecision], expected: tuple[str, str]
) -> None:
    await make_child(session, name="王小明", birth_date=date(2016, 3, 2), school=None)
    ctx = await context_for(COUNTY_EDU)
    batch = await stage(ctx, [HEADER, ["王小明", "男", "", "2016-03-02", WUDING_VILLAGE, "", "户口未登记"]])
    chosen = [MatchDecision(d.row_id.format(b=batch.id), d.confirm) for d in decisions]
    with pytest.raises(BadInput) as refused:
        async with session.begin_nested():
            await resolve_matches(ctx, decisions=chosen)
    assert refusal(refused) == expected
    assert (await row_of(session, batch, 2)).match is RowMatch.CANDIDATE


async def test_an_apply_and_a_discard_at_once_have_one_winner_and_a_typed_loser(engine: Any) -> None:
    """ARCHITECTURE §12: both lock the batch; the second sees the first's decision (NOT_STAGED), on two
    connections, and the loser writes nothing."""
    batch = await committed_example_batch(engine, "532329-poverty.csv", RosterKind.POVERTY)
    number, version = str(batch.id), batch.version

    async def decide(actor: str, apply: bool) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            ctx = Context(session=session, principal=None, system_actor=actor, operator=True)
            try:
                if apply:
                    await apply_import(ctx, import_id=number, version=version)
                else:
                    await discard_import(ctx, import_id=number, version=version, note="重复")
                await asyncio.sleep(0.2)  # hold the lock: the other decision waits for this commit
            except BadInput as exc:
                await session.rollback()
                return exc.error.code
            await session.commit()
            return "APPLIED" if apply else "DISCARDED"

    outcomes = await asyncio.gather(decide("one", True), decide("two", False))
    try:
        assert sorted(o in ("APPLIED", "DISCARDED") for o in outcomes) == [False, True]
        assert [o for o in outcomes if o not in ("APPLIED", "DISCARDED")] in (["NOT_STAGED"], ["CONFLICT"])
        async with AsyncSession(engine) as session:
            kept = await session.get(RosterImport, batch.id)
            assert kept is not None
            assert kept.status in outcomes
    finally:
        async with engine.begin() as conn:
            made = select(col(RosterRow.child_id)).where(
                col(RosterRow.import_id) == batch.id, col(RosterRow.match).in_([RowMatch.NEW, RowMatch.REJECTED])
            )
            made_ids = [i for (i,) in (await conn.execute(made)).all() if i is not None]
            await conn.execute(delete(RosterRow).where(col(RosterRow.import_id) == batch.id))
            await conn.execute(delete(RosterImport).where(col(RosterImport.id) == batch.id))
            await conn.execute(delete(EnrolmentEvent).where(col(EnrolmentEvent.child_id).in_(made_ids)))
            await conn.execute(delete(Child).where(col(Child.id).in_(made_ids)))
            await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "RosterImport"))


async def test_two_decisions_on_one_candidate_at_once_have_one_winner_and_a_typed_loser(engine: Any) -> None:
    """ARCHITECTURE §12: both lock the batch; the second sees the row decided (ALREADY_DECIDED), on two
    connections, and the row keeps the winner's decision."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        known = await make_child(session, name="并发儿", birth_date=date(2016, 2, 2), school=None)
        ctx = Context(session=session, principal=None, system_actor="setup", operator=True)
        batch = await stage(ctx, [HEADER, ["并发儿", "男", "", "2016-02-02", WUDING_VILLAGE, "", "户口未登记"]])
        await session.commit()
    assert (await _match_of(engine, batch.id)) is RowMatch.CANDIDATE

    async def decide(actor: str, confirm: bool) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            ctx = Context(session=session, principal=None, system_actor=actor, operator=True)
            try:
                await resolve_matches(ctx, decisions=[MatchDecision(f"{batch.id}.2", confirm=confirm)])
                await asyncio.sleep(0.2)  # hold the lock: the other decision waits for this commit
            except BadInput as exc:
                await session.rollback()
                return exc.error.code
            await session.commit()
            return "CONFIRMED" if confirm else "REJECTED"

    outcomes = await asyncio.gather(decide("one", True), decide("two", False))
    try:
        winners = [o for o in outcomes if o in ("CONFIRMED", "REJECTED")]
        assert len(winners) == 1
        assert [o for o in outcomes if o not in winners] == ["ALREADY_DECIDED"]
        assert (await _match_of(engine, batch.id)) == winners[0]
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(RosterRow).where(col(RosterRow.import_id) == batch.id))
            await conn.execute(delete(RosterImport).where(col(RosterImport.id) == batch.id))
            await conn.execute(delete(Child).where(col(Child.id) == known.id))
            await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "RosterImport"))


async def _match_of(engine: Any, import_id: int | None) -> RowMatch | None:
    async with AsyncSession(engine) as session:
        row = await session.get(RosterRow, (import_id, 2))
        return row.match if row else None
