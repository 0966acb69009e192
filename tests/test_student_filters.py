"""The students connection's filters: school, stage and special group, always inside the caller's scope."""

from __future__ import annotations

from sqlalchemy import select

from models import Child
from tests.conftest import gql, token_for
from tests.ledger_support import COUNTY_EDU, WUDING, WUDING_PRIMARY, YUANMOU_PRIMARY

QUERY = """query($f: StudentFilter) { students(filter: $f, first: 100) {
  totalCount edges { node { grade stage specialGroups school { code } } } } }"""


async def wuding_children(session) -> list[Child]:
    return list(await session.scalars(select(Child).where(Child.school_path.like(f"53/5323/{WUDING}/%"))))


async def test_stage_filter_counts_the_grades_of_that_stage(client, session):
    token = await token_for(client, COUNTY_EDU)
    result = (await gql(client, QUERY, {"f": {"stage": "JUNIOR"}}, token))["data"]["students"]
    expected = [c for c in await wuding_children(session) if c.grade and c.grade >= 7]
    assert result["totalCount"] == len(expected)
    assert all(e["node"]["stage"] == "JUNIOR" for e in result["edges"])


async def test_special_group_and_school_filters(client, session):
    token = await token_for(client, COUNTY_EDU)
    children = await wuding_children(session)
    group = next(g for c in children for g in c.special_groups)  # one the demo's Wuding pupils have
    in_group = (await gql(client, QUERY, {"f": {"specialGroup": group}}, token))["data"]["students"]
    expected = [c for c in children if group in c.special_groups]
    assert in_group["totalCount"] == len(expected) > 0
    assert all(group in e["node"]["specialGroups"] for e in in_group["edges"])

    school = (await gql(client, QUERY, {"f": {"schoolCode": WUDING_PRIMARY}}, token))["data"]["students"]
    assert {e["node"]["school"]["code"] for e in school["edges"]} <= {WUDING_PRIMARY}
    assert school["totalCount"] == sum(c.school_code == WUDING_PRIMARY for c in await wuding_children(session))


async def test_a_neighbours_school_is_no_filter_at_all(client):
    """A school outside the caller's jurisdiction is refused like a missing one, not turned into 'everything'."""
    token = await token_for(client, COUNTY_EDU)
    result = await gql(client, QUERY, {"f": {"schoolCode": YUANMOU_PRIMARY}}, token)
    assert result["data"] == {"students": None}
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result["errors"][0]["extensions"]["field"] == "filter.schoolCode"


async def test_a_region_filter_holding_the_whole_scope_changes_nothing_and_a_smaller_one_narrows(client, session):
    """The county filtering by itself sees exactly its unfiltered list; by one township, only that township's."""
    token = await token_for(client, COUNTY_EDU)
    ids = """query($f: StudentFilter, $after: String) { students(filter: $f, first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id school { code } } } } }"""

    async def all_ids(f):
        seen, after = [], None
        while True:
            page = (await gql(client, ids, {"f": f, "after": after}, token))["data"]["students"]
            seen += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return seen, page["totalCount"]
            after = page["pageInfo"]["endCursor"]

    unfiltered = await all_ids(None)
    assert await all_ids({"regionCode": WUDING}) == unfiltered
    township = await all_ids({"regionCode": f"{WUDING}101"})
    expected = [c for c in await wuding_children(session) if c.school_path.startswith(f"53/5323/{WUDING}/{WUDING}101/")]
    assert 0 < township[1] < unfiltered[1]
    assert township[1] >= len(expected)  # at school in the township, or living or registered there
