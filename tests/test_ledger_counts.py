"""Ledger counts (汇总): kept current by a trigger as cases open, move and close; read within the
aggregate scope, with no personal data (the ministry reads them too)."""

from __future__ import annotations

from sqlalchemy import select, text

from models.ledger_counts import LedgerCount
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, make_student, open_entry

COUNTS = """query($r: String, $by: AggregateLevel) { ledgerCounts(regionCode: $r, by: $by) {
  regionCode ledger status stage category entries } }"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  errors { code } } }"""


async def counted(session) -> dict[tuple[str, str, str, str, str], int]:
    rows = await session.execute(select(LedgerCount).where(LedgerCount.entries != 0))
    return {(c.county_path, c.ledger, c.status, c.stage, c.category): c.entries for (c,) in rows.all()}


async def recounted(session) -> dict[tuple[str, str, str, str, str], int]:
    rows = await session.execute(
        text(
            "select responsible_path, ledger, status, stage, coalesce(category, ''), count(*) from ledger_entry"
            " where status <> 'CLOSED' group by 1, 2, 3, 4, 5"
        )
    )
    return {(p, led, st, sg, cat): n for p, led, st, sg, cat, n in rows.all()}


async def test_counts_follow_every_change_of_the_entries(client, sessions):
    county = await token_for(client, COUNTY_EDU)
    child = await make_student(client, county)
    entry = (await open_entry(client, county, child["id"], ledger="DROPOUT", category="F"))["entry"]
    close = {"entryId": entry["id"], "reason": "DECEASED", "version": entry["version"]}
    async with sessions() as session:
        assert await counted(session) == await recounted(session)
        before = sum((await counted(session)).values())
    assert (await gql(client, CLOSE, {"input": close}, county))["data"]["closeOutLedgerEntry"]["errors"] == []
    async with sessions() as session:
        assert await counted(session) == await recounted(session)
        assert sum((await counted(session)).values()) == before - 1


async def test_a_city_reads_its_counts_by_county_and_no_one_elses(client, sessions):
    token = await token_for(client, "edu-city-5323")
    rows = (await gql(client, COUNTS, {"by": "COUNTY"}, token))["data"]["ledgerCounts"]
    assert rows
    assert all(r["regionCode"].startswith("5323") for r in rows)
    async with sessions() as session:
        expected = await session.scalar(
            text("select count(*) from ledger_entry where status <> 'CLOSED' and responsible_path like '53/5323/%'")
        )
    assert sum(r["entries"] for r in rows) == expected
    by_city = (await gql(client, COUNTS, {"by": "CITY"}, token))["data"]["ledgerCounts"]
    assert {r["regionCode"] for r in by_city} == {"5323"}
    assert sum(r["entries"] for r in by_city) == expected


async def test_the_ministry_reads_national_counts_and_a_school_is_refused(client, sessions):
    ministry = await token_for(client, "edu-nation-CN")
    rows = (await gql(client, COUNTS, {"by": "PROVINCE"}, ministry))["data"]["ledgerCounts"]
    async with sessions() as session:
        total = await session.scalar(text("select count(*) from ledger_entry where status <> 'CLOSED'"))
    assert {r["regionCode"] for r in rows} == {"53", "22", "64"}
    assert sum(r["entries"] for r in rows) == total
    school = await token_for(client, "staff-school-2153000036")
    assert error_codes(await gql(client, COUNTS, {"by": "PROVINCE"}, school)) == ["FORBIDDEN"]
