"""Each level sees only its own jurisdiction, on both lines (the issue's "done when" cases)."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from datagen.demo.places import SCHOOLS
from models import Child
from tests.conftest import error_codes, gql, token_for

WUDING, YUANMOU = "532329", "532328"  # two counties of 楚雄州 (5323)

SCHOOL_CODES = "query($f: SchoolFilter) { schools(filter: $f, first: 100) { totalCount edges { node { code } } } }"
CHILDREN = """{ students(first: 100) { totalCount edges { node {
  id name school { code } householdRegion { code } residenceRegion { code } } } } }"""


def gid(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def schools_in(county: str) -> set[str]:
    return {s.code for s in SCHOOLS if s.region_code.startswith(county)}


async def school_codes(client, token, regionCode=None):  # noqa: N803
    result = await gql(client, SCHOOL_CODES, {"f": {"regionCode": regionCode} if regionCode else None}, token)
    return {e["node"]["code"] for e in result["data"]["schools"]["edges"]}


async def test_county_bureau_sees_exactly_its_own_schools(client):
    token = await token_for(client, f"edu-county-{WUDING}")
    assert await school_codes(client, token) == schools_in(WUDING)


async def test_county_bureau_cannot_fetch_a_neighbours_school_by_node(client):
    token = await token_for(client, f"edu-county-{WUDING}")
    neighbour = sorted(schools_in(YUANMOU))[0]
    own = sorted(schools_in(WUDING))[0]
    result = await gql(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [gid("School", neighbour), gid("School", own)]},
        token,
    )
    assert result["data"]["nodes"] == [None, {"id": gid("School", own)}]


async def test_a_neighbours_school_answers_exactly_like_a_missing_one(client):
    token = await token_for(client, f"edu-county-{WUDING}")
    query = "query($id: ID!) { node(id: $id) { id } }"
    hidden = await gql(client, query, {"id": gid("School", sorted(schools_in(YUANMOU))[0])}, token)
    missing = await gql(client, query, {"id": gid("School", "2153999999")}, token)
    assert hidden == missing == {"data": {"node": None}}


async def test_city_bureau_sees_both_counties(client):
    token = await token_for(client, "edu-city-5323")
    codes = await school_codes(client, token)
    assert schools_in(WUDING) | schools_in(YUANMOU) <= codes
    assert codes == {s.code for s in SCHOOLS if s.region_code.startswith("5323")}


async def test_province_does_not_see_another_province(client):
    token = await token_for(client, "edu-province-53")
    assert not any(code.startswith("2164") for code in await school_codes(client, token))
    regions = await gql(client, '{ regions(filter: {parentCode: "6404"}) { totalCount } }', token=token)
    assert regions["data"]["regions"]["totalCount"] == 0


async def test_regions_show_own_subtree_and_ancestor_names_only(client):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(client, "{ regions(first: 100) { edges { node { code name } } } }", token=token)
    codes = {e["node"]["code"] for e in result["data"]["regions"]["edges"]}
    assert {"53", "5323", WUDING} <= codes
    assert all(c in ("53", "5323") or c.startswith(WUDING) for c in codes)
    assert YUANMOU not in codes


async def test_children_by_school_for_the_education_line(client, session):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(client, CHILDREN, token=token)
    nodes = [e["node"] for e in result["data"]["students"]["edges"]]
    assert nodes
    assert all(n["school"] and n["school"]["code"] in schools_in(WUDING) for n in nodes)
    expected = await session.scalar(
        select(Child.id).where(Child.school_path.like(f"53/5323/{WUDING}/%")).order_by(Child.id).limit(1)
    )
    assert expected is not None
    total = len((await session.scalars(select(Child.id).where(Child.school_path.like(f"53/5323/{WUDING}/%")))).all())
    assert result["data"]["students"]["totalCount"] == total


async def test_township_sees_children_by_household_or_residence_not_by_school(client, session):
    township = "532329101"  # 狮山镇, 武定县
    token = await token_for(client, f"gov-township-{township}")
    result = await gql(client, CHILDREN, token=token)
    nodes = [e["node"] for e in result["data"]["students"]["edges"]]
    in_town = [
        c
        for c in (await session.scalars(select(Child))).all()
        if c.household_region_code.startswith(township) or c.residence_region_code.startswith(township)
    ]
    assert {n["name"] for n in nodes} == {c.name for c in in_town}
    assert {int(base64.b64decode(n["id"]).decode().split(":")[1]) for n in nodes} == {c.id for c in in_town}
    assert len(nodes) == len(in_town)
    # out-of-school children (失学) are found by the government line only
    assert any(n["school"] is None for n in nodes)
    # a child studying at a school in this town but registered and living elsewhere is not theirs
    for n in nodes:
        assert n["householdRegion"]["code"].startswith(township) or n["residenceRegion"]["code"].startswith(township)


async def test_county_bureau_does_not_see_out_of_school_children(client):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(client, "{ students(filter: {enrolled: false}) { totalCount } }", token=token)
    assert result["data"]["students"]["totalCount"] == 0


async def test_migrant_child_is_seen_by_both_counties_on_their_lines(client, session):
    """POLICY 001 §2.2: the flow-in region organises persuasion, the household region keeps track."""
    migrants = [
        c for c in (await session.scalars(select(Child))).all() if c.household_path[:14] != c.residence_path[:14]
    ]
    child = next(c for c in migrants if c.household_region_code.startswith(WUDING))
    home_gov = await token_for(client, f"gov-county-{WUDING}")
    host_edu = await token_for(client, f"edu-county-{child.residence_region_code[:6]}")
    home_edu = await token_for(client, f"edu-county-{WUDING}")
    query = "query($id: ID!) { node(id: $id) { ... on Student { name } } }"
    assert (await gql(client, query, {"id": gid("Student", str(child.id))}, home_gov))["data"]["node"][
        "name"
    ] == child.name
    assert (await gql(client, query, {"id": gid("Student", str(child.id))}, host_edu))["data"]["node"][
        "name"
    ] == child.name
    assert (await gql(client, query, {"id": gid("Student", str(child.id))}, home_edu))["data"]["node"] is None


@pytest.mark.parametrize("username", ["edu-nation-CN", f"admin-county-{WUDING}"])
async def test_roles_without_personal_data_see_no_children(client, username):
    """They are refused the list, not shown an empty one that would read as "no children" (issue 17 §4)."""
    token = await token_for(client, username)
    result = await gql(client, "{ students { totalCount } }", token=token)
    assert result["data"] == {"students": None}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"]


async def test_children_without_a_token_are_refused(client):
    result = await gql(client, "{ students { totalCount } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
