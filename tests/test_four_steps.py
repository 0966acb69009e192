"""The legal four-step method (依法控辍四步法, seed 000 一2, seed 002 一(三)) through the API: who orders
correction, its time limit, judicial documents only once it passed without return, and step 4's outcome."""

from __future__ import annotations

from datetime import timedelta

from models.base import today
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF
from tests.persuasion_support import (
    CASE,
    COUNTY_GOV,
    PRINCIPAL,
    TOWNSHIP,
    codes,
    mutate,
    new_case,
    visit,
)

VILLAGE = "gov-village-532329101201"  # 狮山村, where the test children live
ORDER = {"method": "ORDER_TO_CORRECT", "people": [{"name": "王乡长", "department": "狮山镇人民政府", "line": "GOV"}]}
JUDICIAL = {
    "method": "JUDICIAL_DOCUMENT",
    "people": [{"name": "张法官", "department": "武定县人民法院", "line": "GOV"}],
}
LIABILITY = {"method": "LEGAL_LIABILITY", "people": [{"name": "张法官", "department": "武定县人民法院", "line": "GOV"}]}
MARK_RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { status version } errors { field code message } } }"""


def refusals(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def started(client, county: str) -> dict:
    """A case with its first step taken on 1 October 2026."""
    entry = await new_case(client, county)
    assert (await visit(client, county, entry, "2026-10-01"))["errors"] == []
    return entry


async def test_only_the_township_or_the_county_bureau_orders_correction(client):
    """Seed 000 一2 / seed 002 一(三): 由当地乡镇人民政府或者县级人民政府教育行政部门…责令限期改正 — a school, a
    village or the county government cannot record the order (NOT_ISSUER); a neighbouring bureau sees no case."""
    county = await token_for(client, COUNTY_EDU)
    entry = await started(client, county)
    for username in (STAFF, PRINCIPAL, VILLAGE, COUNTY_GOV):
        refused = await visit(
            client, await token_for(client, username), entry, "2026-10-05", stage=2, correctBy="2026-10-20", **ORDER
        )
        assert refusals(refused) == [("method", "NOT_ISSUER")], username
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert codes(await visit(client, neighbour, entry, "2026-10-05", stage=2, correctBy="2026-10-20", **ORDER)) == [
        "NOT_FOUND"
    ]
    # The school still records its own first-step visits on the case.
    assert (await visit(client, await token_for(client, STAFF), entry, "2026-10-04"))["errors"] == []

    township = await token_for(client, TOWNSHIP)
    ordered = await visit(client, township, entry, "2026-10-05", stage=2, correctBy="2026-10-20", **ORDER)
    assert ordered["errors"] == []
    assert (ordered["visit"]["method"], ordered["visit"]["correctBy"], ordered["visit"]["recordedBy"]) == (
        "ORDER_TO_CORRECT",
        "2026-10-20",
        TOWNSHIP,
    )
    other = await started(client, county)
    by_bureau = await visit(client, county, other, "2026-10-06", stage=2, correctBy="2026-10-21", **ORDER)
    assert by_bureau["errors"] == []


async def test_an_order_names_its_time_limit_and_only_an_order_has_one(client):
    """Seed 000 一2: 责令限期改正 — the order carries its time limit, after the order's day."""
    county = await token_for(client, COUNTY_EDU)
    entry = await started(client, county)
    assert refusals(await visit(client, county, entry, "2026-10-05", stage=2, **ORDER)) == [("correctBy", "REQUIRED")]
    same_day = await visit(client, county, entry, "2026-10-05", stage=2, correctBy="2026-10-05", **ORDER)
    assert refusals(same_day) == [("correctBy", "OUT_OF_RANGE")]
    home = await visit(client, county, entry, "2026-10-05", correctBy="2026-10-20")
    assert refusals(home) == [("correctBy", "NOT_APPLICABLE")]
    seen = (await gql(client, CASE, {"id": entry["id"]}, county))["data"]["node"]
    assert [v["method"] for v in seen["visits"]] == ["HOME_VISIT"]


async def test_judicial_documents_come_only_after_the_time_limit_passed_without_return(client):
    """Seed 000 一2 / seed 002 一(三): 逾期不改的，由司法部门依法发放相关司法文书 — not before the order's time
    limit has passed (NOT_OVERDUE), not for a child back at school, and then as step 3."""
    county = await token_for(client, COUNTY_EDU)
    entry = await started(client, county)
    assert (await visit(client, county, entry, "2026-10-05", stage=2, correctBy="2026-10-20", **ORDER))["errors"] == []
    for day in ("2026-10-10", "2026-10-20"):  # within the time limit, and on its last day
        assert refusals(await visit(client, county, entry, day, stage=3, **JUDICIAL)) == [("method", "NOT_OVERDUE")]
    # Reaching step 3 any other way is refused the same.
    joint = [
        {"name": "李校长", "department": "学校", "line": "EDU"},
        {"name": "王乡长", "department": "乡政府", "line": "GOV"},
    ]
    early_joint = await visit(client, county, entry, "2026-10-12", method="JOINT_VISIT", stage=3, people=joint)
    assert refusals(early_joint) == [("method", "NOT_OVERDUE")]
    judicial = await visit(client, county, entry, "2026-10-21", stage=3, **JUDICIAL)
    assert judicial["errors"] == []
    assert (judicial["visit"]["method"], judicial["visit"]["stage"]) == ("JUDICIAL_DOCUMENT", 3)

    back = await started(client, county)
    assert (await visit(client, county, back, "2026-10-05", stage=2, correctBy="2026-10-20", **ORDER))["errors"] == []
    current = (await gql(client, CASE, {"id": back["id"]}, county))["data"]["node"]
    returned = await mutate(
        client,
        MARK_RETURNED,
        "markReturned",
        {"entryId": back["id"], "returnedOn": "2026-10-18", "version": current["version"]},
        county,
    )
    assert returned["errors"] == []
    refused = await visit(client, county, back, "2026-10-25", stage=3, **JUDICIAL)
    assert refusals(refused) == [("method", "NOT_OVERDUE")]


async def test_legal_liability_records_its_outcome(client):
    """Seed 000 一2: 情节严重或构成犯罪的，依法追究法律责任 — step 4 is its own method with its own outcome,
    which no other method carries; it follows step 3 and is refused to a reader without the action."""
    county = await token_for(client, COUNTY_EDU)
    entry = await started(client, county)
    assert (await visit(client, county, entry, "2026-10-05", stage=2, correctBy="2026-10-12", **ORDER))["errors"] == []
    skipped = await visit(client, county, entry, "2026-10-20", stage=4, liabilityOutcome="COURT_JUDGMENT", **LIABILITY)
    assert refusals(skipped) == [("stage", "STAGE_SKIPPED")]
    assert (await visit(client, county, entry, "2026-10-15", stage=3, **JUDICIAL))["errors"] == []
    assert refusals(await visit(client, county, entry, "2026-10-20", stage=3, **LIABILITY)) == [
        ("stage", "METHOD_NEEDS_STAGE")
    ]
    assert refusals(await visit(client, county, entry, "2026-10-20", stage=4, **LIABILITY)) == [
        ("liabilityOutcome", "REQUIRED")
    ]
    stray = await visit(client, county, entry, "2026-10-20", stage=3, liabilityOutcome="NOT_PURSUED", **JUDICIAL)
    assert refusals(stray) == [("liabilityOutcome", "NOT_APPLICABLE")]
    city = await token_for(client, "edu-city-5323")
    forbidden = await visit(client, city, entry, "2026-10-20", stage=4, liabilityOutcome="COURT_JUDGMENT", **LIABILITY)
    assert error_codes(forbidden) == ["FORBIDDEN"]

    pursued = await visit(
        client,
        county,
        entry,
        "2026-10-20",
        stage=4,
        liabilityOutcome="COURT_JUDGMENT",
        outcome="法院判决监护人限期送子女入学",
        **LIABILITY,
    )
    assert pursued["errors"] == []
    assert (pursued["visit"]["stage"], pursued["visit"]["liabilityOutcome"]) == (4, "COURT_JUDGMENT")
    later = (today() + timedelta(days=1)).isoformat()
    assert refusals(
        await visit(client, county, entry, later, stage=4, liabilityOutcome="NOT_PURSUED", **LIABILITY)
    ) == [("visitedOn", "OUT_OF_RANGE")]
