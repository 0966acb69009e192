"""The demo's key transitions (README "Key transitions"): each list is non-empty, as the county bureau of 武定县
reads it, and the city reads counts (datagen/demo/transitions.py)."""

from __future__ import annotations

from datagen.demo.cases import demo_data
from datagen.demo.transitions import grade9_pupils, the_primary_leaver, unregistered
from tests.conftest import gql, token_for
from tests.ledger_support import COUNTY_EDU
from tests.transition_support import CITY_EDU, GAP_COUNTS, LEAVER_COUNTS, gaps, leavers


async def test_the_demo_county_lists_its_primary_leaver_and_its_unregistered_grade_9_pupil(client):
    data = demo_data()
    county = await token_for(client, COUNTY_EDU)
    leaver = data.children[the_primary_leaver(data)]
    page = (await leavers(client, county))["data"]["primaryLeaversNotEnrolled"]
    listed = {e["node"]["student"]["name"]: e["node"] for e in page["edges"]}
    assert listed[leaver["name"]]["proposedCategory"] == "S"
    assert listed[leaver["name"]]["finishedPrimaryOn"] == "2026-07-03"

    missing = data.children[unregistered(data)]
    registered = data.children[grade9_pupils(data)[1]]
    found = (await gaps(client, county, explained=False))["data"]["examRegistrationGaps"]
    shown = {e["node"]["student"]["name"] for e in found["edges"]}
    assert missing["name"] in shown
    assert registered["name"] not in shown

    city = await token_for(client, CITY_EDU)
    counts = await gql(client, GAP_COUNTS, {"r": "5323", "y": None, "by": "COUNTY"}, city)
    wuding = next(r for r in counts["data"]["examRegistrationGapCounts"] if r["regionCode"] == "532329")
    assert wuding["pupils"] > wuding["gaps"] >= 1
    leaving = await gql(client, LEAVER_COUNTS, {"r": "5323", "y": None, "by": "COUNTY"}, city)
    assert next(r for r in leaving["data"]["primaryLeaverCounts"] if r["regionCode"] == "532329")["listed"] >= 1
