"""Regions and schools over GraphQL: connections, filters, Relay nodes; refused without sign-in."""

from __future__ import annotations

import base64

import pytest

from datagen.demo.places import SCHOOLS
from tests.conftest import error_codes, gql, token_for

REGIONS = """
query Regions($filter: RegionFilter, $first: Int, $after: String) {
  regions(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id code name level path parent { code name } } }
  }
}"""

SCHOOLS_QUERY = """
query Schools($filter: SchoolFilter, $first: Int, $after: String) {
  schools(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id code name kind stages region { code name level } } }
  }
}"""


@pytest.fixture
async def token(client):
    return await token_for(client, "edu-nation-CN")


async def test_chuxiong_counties_page_through_in_code_order(client, token):
    seen: list[str] = []
    after = None
    while True:
        result = await gql(client, REGIONS, {"filter": {"parentCode": "5323"}, "first": 3, "after": after}, token)
        conn = result["data"]["regions"]
        assert conn["totalCount"] == 10
        seen += [e["node"]["code"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 10
    assert "532329" in seen  # 武定县, named in POLICY 001


async def test_region_carries_name_level_path_and_parent(client, token):
    result = await gql(client, REGIONS, {"filter": {"parentCode": "5323"}, "first": 100}, token)
    wuding = next(e["node"] for e in result["data"]["regions"]["edges"] if e["node"]["code"] == "532329")
    assert wuding["name"] == "武定县"
    assert wuding["level"] == "COUNTY"
    assert wuding["path"] == "53/5323/532329"
    assert wuding["parent"] == {"code": "5323", "name": "楚雄彝族自治州"}


async def test_regions_filter_by_level(client, token):
    result = await gql(client, REGIONS, {"filter": {"level": "PROVINCE"}}, token)
    names = {e["node"]["name"] for e in result["data"]["regions"]["edges"]}
    assert names == {"云南省", "吉林省", "宁夏回族自治区"}
    assert all(e["node"]["parent"] is None for e in result["data"]["regions"]["edges"])


async def test_first_above_100_is_refused_with_a_typed_bilingual_error(client, token):
    result = await gql(client, REGIONS, {"first": 101}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    error = result["errors"][0]
    assert error["extensions"]["field"] == "first"
    assert "100" in error["message"]
    assert "之间" in error["message"]


async def test_a_forged_cursor_is_refused(client, token):
    result = await gql(client, REGIONS, {"after": base64.b64encode(b"nonsense").decode()}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "after"


async def test_schools_in_a_county_subtree(client, token):
    result = await gql(client, SCHOOLS_QUERY, {"filter": {"regionCode": "532329"}, "first": 100}, token)
    conn = result["data"]["schools"]
    expected = {s.code for s in SCHOOLS if s.region_code.startswith("532329")}
    assert {e["node"]["code"] for e in conn["edges"]} == expected
    assert conn["totalCount"] == len(expected)
    assert all(e["node"]["region"]["code"].startswith("532329") for e in conn["edges"])


async def test_school_stage_filter_counts_nine_year_schools_for_primary_and_junior(client, token):
    nine_year = [s for s in SCHOOLS if "NINE_YEAR" in s.stages]
    assert nine_year, "the demo data has nine-year schools"
    for stage in ("PRIMARY", "JUNIOR"):
        result = await gql(client, SCHOOLS_QUERY, {"filter": {"stage": stage}, "first": 100}, token)
        codes = {e["node"]["code"] for e in result["data"]["schools"]["edges"]}
        expected = {s.code for s in SCHOOLS if stage in s.stages or "NINE_YEAR" in s.stages}
        assert codes == expected
    special = await gql(client, SCHOOLS_QUERY, {"filter": {"stage": "SPECIAL"}}, token)
    assert special["data"]["schools"]["totalCount"] == 3


async def test_school_kind_filter(client, token):
    result = await gql(client, SCHOOLS_QUERY, {"filter": {"kind": "TEACHING_POINT"}, "first": 100}, token)
    edges = result["data"]["schools"]["edges"]
    assert edges
    assert all(e["node"]["kind"] == "TEACHING_POINT" for e in edges)
    assert len(edges) == sum(1 for s in SCHOOLS if s.kind == "TEACHING_POINT")


async def test_unknown_region_in_school_filter_is_a_typed_error(client, token):
    result = await gql(client, SCHOOLS_QUERY, {"filter": {"regionCode": "999999"}}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "filter.regionCode"


async def test_node_and_nodes_fetch_regions_and_schools_by_global_id(client, token):
    page = await gql(client, SCHOOLS_QUERY, {"filter": {"regionCode": "640402"}, "first": 1}, token)
    school = page["data"]["schools"]["edges"][0]["node"]
    region_id = base64.b64encode(b"Region:6404").decode()
    missing_id = base64.b64encode(b"Region:640499").decode()
    query = """query($id: ID!, $ids: [ID!]!) {
      node(id: $id) { id ... on School { code name } }
      nodes(ids: $ids) { id ... on Region { code name } ... on School { code } }
    }"""
    result = await gql(client, query, {"id": school["id"], "ids": [region_id, missing_id, school["id"]]}, token)
    assert result["data"]["node"] == {"id": school["id"], "code": school["code"], "name": school["name"]}
    assert result["data"]["nodes"] == [
        {"id": region_id, "code": "6404", "name": "固原市"},
        None,
        {"id": school["id"], "code": school["code"]},
    ]


@pytest.mark.parametrize(
    "query",
    [
        "{ regions { totalCount } }",
        "{ schools { totalCount } }",
        '{ node(id: "UmVnaW9uOjUz") { id } }',
        '{ nodes(ids: ["UmVnaW9uOjUz"]) { id } }',
    ],
)
async def test_reads_without_a_token_are_unauthenticated(client, query):
    result = await gql(client, query)
    assert not any((result["data"] or {}).values())
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_depth_and_alias_limits_refuse_abusive_queries(client, token):
    deep = "{ regions { edges { node { " + "parent { " * 12 + "code" + " }" * 12 + " } } } }"
    assert "exceeds maximum operation depth" in (await gql(client, deep, token=token))["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(20)) + " }"
    assert "aliases" in (await gql(client, aliases, token=token))["errors"][0]["message"]


async def test_token_limit_refuses_oversized_documents(client, token):
    huge = "{ " + " ".join(["viewer { username displayName isService }"] * 500) + " }"
    result = await gql(client, huge, token=token)
    assert result["data"] is None
    assert "token" in result["errors"][0]["message"].lower()


async def test_several_root_fields_share_one_session_safely(client, token):
    """Root fields run one after another: they share the operation's session and transaction."""
    query = "{ a: regions { totalCount } b: schools { totalCount } c: regions(filter: {level: CITY}) { totalCount } }"
    for _ in range(5):
        result = await gql(client, query, token=token)
        assert "errors" not in result
        assert result["data"]["c"]["totalCount"] == 3


async def test_cost_limit_refuses_queries_that_could_return_too_much(client, token):
    nested = (
        "{ regions(first: 100) { edges { node { code } } } "
        "schools(first: 100) { edges { node { code region { code } } } } }"
    )
    assert "errors" not in await gql(client, nested, token=token)  # a couple of full pages is fine
    page = "regions(first: 100) { edges { node { code name level path parent { code name level path } } } }"
    too_much = "{ " + " ".join(f"p{i}: {page}" for i in range(12)) + " }"
    result = await gql(client, too_much, token=token)
    assert result.get("data") is None
    assert "query cost" in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
