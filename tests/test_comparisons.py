"""The comparisons (三比对) through HTTP and GraphQL: the county runs them over its applied rosters, reads and
resolves its findings (the child masked as everywhere), the entry opened links back; the city reads counts
by county and no finding; the neighbouring county and another city can neither run nor read nor resolve."""

from __future__ import annotations

from typing import Any

from resolvers.context import Context
from tests.comparison_support import AS_OF, wuding_cases
from tests.conftest import codes, error_codes, gql, payload, token_for
from tests.ledger_support import gid

RUN = """mutation($input: RunComparisonInput!) { runComparison(input: $input) {
  runs { id number countyCode asOf batches { number kind rosterImport { number } }
         counts { kind ran found raised kept closed suppressed onLedger specialGroupsSet } }
  errors { field code message } } }"""
FINDING_FIELDS = """id kind state countyCode proposedCategory specialGroup version
  source { number line } run { number } student { id name nationalId } ledgerEntry { id source category }"""
FINDINGS = f"""query($f: ComparisonFindingFilter) {{ comparisonFindings(filter: $f, first: 50) {{
  totalCount edges {{ node {{ {FINDING_FIELDS} }} }} }} }}"""
RESOLVE = f"""mutation($input: ResolveFindingsInput!) {{ resolveFindings(input: $input) {{
  findings {{ {FINDING_FIELDS} }} errors {{ field code message }} }} }}"""
COUNTS = "query($r: String) { comparisonCounts(regionCode: $r) { countyCode kind state reason count } }"
RUNS = "query { comparisonRuns { totalCount edges { node { number countyCode } } } }"
NODE = """query($id: ID!) { node(id: $id) { ... on ComparisonFinding { id kind }
  ... on LedgerEntry { findings { id kind state } } } }"""

COUNTY_EDU, COUNTY_GOV, NEIGHBOUR_EDU = "edu-county-532329", "gov-county-532329", "edu-county-532328"
CITY_EDU, OTHER_CITY_EDU = "edu-city-5323", "edu-city-6404"


async def run_wuding(client: Any, session: Any, ctx: Context) -> tuple[Any, dict[str, Any]]:
    cases = await wuding_cases(session, ctx)
    result = await gql(client, RUN, {"input": {"regionCode": "532329", "asOf": AS_OF.isoformat()}},
                       token=await token_for(client, COUNTY_EDU))  # fmt: skip
    body = payload(result, "runComparison")
    assert body["errors"] == []
    return cases, body["runs"][0]


def by_child(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    nodes = [e["node"] for e in result["data"]["comparisonFindings"]["edges"]]
    return {(n["kind"], n["student"]["id"]): n for n in nodes}


async def test_the_county_runs_reads_and_puts_a_finding_on_the_ledger_linked_both_ways(
    client: Any, session: Any, ctx: Context
) -> None:
    cases, run = await run_wuding(client, session, ctx)
    counts = {c["kind"]: c for c in run["counts"]}
    assert counts["OUT_OF_SCHOOL"] | {"kind": None} == {
        "kind": None, "ran": True, "found": 3, "raised": 2, "kept": 0, "closed": 0, "suppressed": 0,
        "onLedger": 1, "specialGroupsSet": 0,
    }  # fmt: skip
    assert sorted(b["kind"] for b in run["batches"]) == ["HOUSEHOLD", "IN_SCHOOL", "POVERTY", "REGISTRY"]
    assert all(b["rosterImport"] is not None for b in run["batches"])  # provenance the county may read
    edu = await token_for(client, COUNTY_EDU)
    found = by_child(await gql(client, FINDINGS, {"f": {"state": "OPEN"}}, token=edu))
    assert len(found) == 6
    child = gid("Student", cases.primary_out.id or 0)
    finding = found[("OUT_OF_SCHOOL", child)]
    assert (finding["proposedCategory"], finding["countyCode"], finding["run"]["number"]) == (
        "A",
        "532329",
        run["number"],
    )
    # Out of school, the child has no school: the education line's bureau sees the ID masked, the county
    # government (household registration) in full.
    assert "*" in finding["student"]["nationalId"]
    gov = by_child(
        await gql(client, FINDINGS, {"f": {"kind": "OUT_OF_SCHOOL"}}, token=await token_for(client, COUNTY_GOV))
    )
    assert gov[("OUT_OF_SCHOOL", child)]["student"]["nationalId"] == cases.primary_out.national_id

    decision = {"id": finding["id"], "version": finding["version"], "action": "LEDGER", "note": "入户核实"}
    body = payload(await gql(client, RESOLVE, {"input": {"decisions": [decision]}}, token=edu), "resolveFindings")
    assert body["errors"] == []
    (resolved,) = body["findings"]
    assert resolved["state"] == "LEDGERED"
    assert (resolved["ledgerEntry"]["source"], resolved["ledgerEntry"]["category"]) == ("COMPARISON", "A")
    back = await gql(client, NODE, {"id": resolved["ledgerEntry"]["id"]}, token=edu)
    assert back["data"]["node"]["findings"] == [{"id": finding["id"], "kind": "OUT_OF_SCHOOL", "state": "LEDGERED"}]

    again = payload(await gql(client, RESOLVE, {"input": {"decisions": [decision]}}, token=edu), "resolveFindings")
    assert (codes(again), again["errors"][0]["field"]) == (["CONFLICT"], "decisions.0.version")


async def test_the_city_reads_counts_by_county_and_state_but_no_finding(
    client: Any, session: Any, ctx: Context
) -> None:
    _, run = await run_wuding(client, session, ctx)
    city = await token_for(client, CITY_EDU)
    counts = (await gql(client, COUNTS, token=city))["data"]["comparisonCounts"]
    assert {(c["countyCode"], c["kind"], c["state"], c["count"]) for c in counts} == {
        ("532329", "OUT_OF_SCHOOL", "OPEN", 2),
        ("532329", "REGISTERED_NOT_ATTENDING", "OPEN", 2),
        ("532329", "POOR_HOUSEHOLD_DROPOUT", "OPEN", 2),
    }
    assert (await gql(client, FINDINGS, token=city))["data"]["comparisonFindings"]["totalCount"] == 0
    runs = (await gql(client, RUNS, token=city))["data"]["comparisonRuns"]
    assert [e["node"]["number"] for e in runs["edges"]] == [run["number"]]


async def test_a_neighbour_and_another_city_can_neither_run_nor_read_nor_resolve_wudings_comparisons(
    client: Any, session: Any, ctx: Context
) -> None:
    _, run = await run_wuding(client, session, ctx)
    edu = await token_for(client, COUNTY_EDU)
    nodes = [e["node"] for e in (await gql(client, FINDINGS, token=edu))["data"]["comparisonFindings"]["edges"]]
    finding = nodes[0]
    for account in (NEIGHBOUR_EDU, OTHER_CITY_EDU):
        token = await token_for(client, account)
        refused = await gql(client, RUN, {"input": {"regionCode": "532329", "asOf": AS_OF.isoformat()}}, token=token)
        # 武定 answers as a county that does not exist would (issue 17 §4)
        assert codes(refused["data"]["runComparison"]) == ["UNKNOWN_REGION"]
        assert (await gql(client, FINDINGS, token=token))["data"]["comparisonFindings"]["totalCount"] == 0
        assert (await gql(client, NODE, {"id": finding["id"]}, token=token))["data"]["node"] is None
        assert (await gql(client, COUNTS, token=token))["data"]["comparisonCounts"] == []
        assert (await gql(client, RUNS, token=token))["data"]["comparisonRuns"]["totalCount"] == 0
        decision = {"id": finding["id"], "version": finding["version"], "action": "DISMISS", "reason": "DECEASED",
                    "note": "x"}  # fmt: skip
        body = payload(await gql(client, RESOLVE, {"input": {"decisions": [decision]}}, token=token), "resolveFindings")
        assert codes(body) == ["NOT_FOUND"]
    still = await gql(client, NODE, {"id": finding["id"]}, token=edu)
    assert still["data"]["node"]["id"] == finding["id"]
    unchanged = by_child(await gql(client, FINDINGS, {"f": {"state": "OPEN"}}, token=edu))
    assert len(unchanged) == 6
    assert run["countyCode"] == "532329"


async def test_counts_by_state_and_reason_and_the_reason_and_region_filters_after_decisions(
    client: Any, session: Any, ctx: Context
) -> None:
    """One finding dismissed (deceased), one put on the ledger: the county filters its findings by reason and
    by region; the city and the province count them by state and reason, the same (seed 004 §2: 人账相符)."""
    await run_wuding(client, session, ctx)
    edu = await token_for(client, COUNTY_EDU)
    nodes = [e["node"] for e in (await gql(client, FINDINGS, token=edu))["data"]["comparisonFindings"]["edges"]]
    dropout = next(n for n in nodes if n["kind"] == "REGISTERED_NOT_ATTENDING")
    out = next(n for n in nodes if n["kind"] == "OUT_OF_SCHOOL")
    decisions = [
        {"id": dropout["id"], "version": dropout["version"], "action": "DISMISS", "reason": "DECEASED",
         "note": "死亡证明已核"},
        {"id": out["id"], "version": out["version"], "action": "LEDGER", "note": "入户核实"},
    ]  # fmt: skip
    body = payload(await gql(client, RESOLVE, {"input": {"decisions": decisions}}, token=edu), "resolveFindings")
    assert body["errors"] == []

    async def ids(token: str, f: dict[str, Any]) -> set[str]:
        result = await gql(client, FINDINGS, {"f": f}, token=token)
        return {e["node"]["id"] for e in result["data"]["comparisonFindings"]["edges"]}

    assert await ids(edu, {"reason": "DECEASED"}) == {dropout["id"]}
    assert await ids(edu, {"reason": "DECEASED", "state": "DISMISSED"}) == {dropout["id"]}
    assert await ids(edu, {"reason": "OTHER"}) == set()
    assert await ids(edu, {"regionCode": "532329"}) == {n["id"] for n in nodes}
    assert await ids(edu, {"regionCode": "53"}) == {n["id"] for n in nodes}  # a subtree holding the county
    neighbour = await gql(client, FINDINGS, {"f": {"regionCode": "532328"}}, token=edu)
    refusal = neighbour["errors"][0]["extensions"]  # the neighbour county, outside mine: as if it did not exist
    assert (refusal["field"], refusal["reason"]) == ("filter.regionCode", "UNKNOWN_REGION")
    assert await ids(edu, {"regionCode": "532329", "kind": "OUT_OF_SCHOOL", "state": "LEDGERED"}) == {out["id"]}

    expected = {
        ("532329", "OUT_OF_SCHOOL", "OPEN", None, 1),
        ("532329", "OUT_OF_SCHOOL", "LEDGERED", None, 1),
        ("532329", "REGISTERED_NOT_ATTENDING", "OPEN", None, 1),
        ("532329", "REGISTERED_NOT_ATTENDING", "DISMISSED", "DECEASED", 1),
        ("532329", "POOR_HOUSEHOLD_DROPOUT", "OPEN", None, 2),
    }
    for account in (CITY_EDU, "edu-province-53"):
        token = await token_for(client, account)
        for region in (None, "532329"):
            counts = (await gql(client, COUNTS, {"r": region}, token=token))["data"]["comparisonCounts"]
            assert {(c["countyCode"], c["kind"], c["state"], c["reason"], c["count"]) for c in counts} == expected
        assert (await gql(client, COUNTS, {"r": "532328"}, token=token))["data"]["comparisonCounts"] == []
        assert await ids(token, {"reason": "DECEASED"}) == set()  # counts, never the findings themselves
    other = await gql(client, COUNTS, {"r": "532329"}, token=await token_for(client, OTHER_CITY_EDU))
    assert other["data"] == {"comparisonCounts": None}  # another city: refused, nothing counted
    assert "DECEASED" not in str(other)
    assert error_codes(other) == ["BAD_USER_INPUT"], other
