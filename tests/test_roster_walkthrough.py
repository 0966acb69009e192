"""The README's walk-through, as a county would do it over HTTP with the example rosters of 武定县
(docs/examples/rosters/): import the four rosters (四查), decide the candidates, apply them, compare
(三比对), and resolve what was found. Each comparison finds the cases the examples' README names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.base import today
from tests.conftest import error_codes, gql, token_for

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "rosters"
BUREAU, GOVERNMENT, NEIGHBOUR = "edu-county-532329", "gov-county-532329", "gov-county-532328"
ROWS = """query($id: ID!, $match: RowMatch) { node(id: $id) { ... on RosterImport {
  rows(match: $match, first: 100) { edges { node { id line name candidate { name } } } } } } }"""
RESOLVE_MATCH = """mutation($input: ResolveRosterMatchInput!) { resolveRosterMatch(input: $input) {
  rosterImport { version } errors { field ... on RosterError { code } } } }"""
APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status counts { matched new } } errors { field ... on RosterError { code } } } }"""
RUN = """mutation($input: RunComparisonInput!) { runComparison(input: $input) {
  runs { countyCode counts { kind ran found raised } } errors { field ... on ComparisonError { code } } } }"""
FINDINGS = """query($filter: ComparisonFindingFilter) { comparisonFindings(filter: $filter, first: 100) {
  totalCount edges { node { id version kind state proposedCategory specialGroup student { name } } } } }"""
RESOLVE = """mutation($input: ResolveFindingsInput!) { resolveFindings(input: $input) {
  findings { state ledgerEntry { source category } dismissal { reason } }
  errors { field ... on ComparisonError { code } } } }"""


async def upload(client: Any, username: str, name: str, kind: str) -> dict[str, Any]:
    token = await token_for(client, username)
    path = EXAMPLES / name
    response = await client.post(
        "/rosters",
        data={"kind": kind, "jurisdiction": "532329", "asOf": today().isoformat()},
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def apply(client: Any, username: str, batch: dict[str, Any], version: int) -> dict[str, Any]:
    token = await token_for(client, username)
    result = await gql(client, APPLY, {"input": {"id": batch["id"], "version": version}}, token=token)
    payload = result["data"]["applyRosterImport"]
    assert payload["errors"] == [], payload
    return dict(payload["rosterImport"])


async def findings(client: Any, username: str, kind: str) -> list[dict[str, Any]]:
    token = await token_for(client, username)
    result = await gql(client, FINDINGS, {"filter": {"kind": kind}}, token=token)
    assert error_codes(result) == []
    return [e["node"] for e in result["data"]["comparisonFindings"]["edges"]]


async def test_a_county_imports_compares_and_resolves_with_the_example_rosters(client: Any) -> None:
    household = await upload(client, GOVERNMENT, "532329-household.csv", "HOUSEHOLD")
    poverty = await upload(client, GOVERNMENT, "532329-poverty.csv", "POVERTY")
    registry = await upload(client, BUREAU, "532329-registry.xlsx", "REGISTRY")
    in_school = await upload(client, BUREAU, "532329-in-school.csv", "IN_SCHOOL")

    # The door-to-door child with no ID: a candidate if one child of the county fits, else new.
    token = await token_for(client, GOVERNMENT)
    candidates = await gql(client, ROWS, {"id": household["id"], "match": "CANDIDATE"}, token=token)
    rows = [e["node"] for e in candidates["data"]["node"]["rows"]["edges"]]
    version = 2
    if rows:
        decisions = [{"rowId": r["id"], "decision": "REJECT"} for r in rows]
        decided = await gql(client, RESOLVE_MATCH, {"input": {"decisions": decisions}}, token=token)
        assert decided["data"]["resolveRosterMatch"]["errors"] == []
        version = decided["data"]["resolveRosterMatch"]["rosterImport"]["version"]
    applied = await apply(client, GOVERNMENT, household, version)
    assert applied["status"] == "APPLIED"
    assert applied["counts"]["new"] >= 1  # 马小花, found door to door, now a child of the county
    for username, batch in ((GOVERNMENT, poverty), (BUREAU, registry), (BUREAU, in_school)):
        assert (await apply(client, username, batch, 2))["status"] == "APPLIED"

    bureau = await token_for(client, BUREAU)
    run = await gql(client, RUN, {"input": {"regionCode": "532329", "asOf": today().isoformat()}}, token=bureau)
    payload = run["data"]["runComparison"]
    assert payload["errors"] == []
    counts = {c["kind"]: c for c in payload["runs"][0]["counts"]}
    assert all(c["ran"] for c in counts.values())

    out = {f["student"]["name"]: f for f in await findings(client, GOVERNMENT, "OUT_OF_SCHOOL")}
    assert {"马小花"} <= set(out)
    assert all(f["proposedCategory"] in ("A", "B") for f in out.values())
    absent = {f["student"]["name"] for f in await findings(client, GOVERNMENT, "REGISTERED_NOT_ATTENDING")}
    assert {"张博文", "周思源"} <= absent
    poor = {f["student"]["name"]: f for f in await findings(client, GOVERNMENT, "POOR_HOUSEHOLD_DROPOUT")}
    assert {"张博文", "周思源"} <= set(poor)
    assert {poor["张博文"]["specialGroup"], poor["周思源"]["specialGroup"]} == {"POVERTY_REGISTERED", "LOW_INCOME"}

    # The neighbouring county sees none of it.
    assert await findings(client, NEIGHBOUR, "OUT_OF_SCHOOL") == []

    found = out["马小花"]
    ledgered = await gql(
        client, RESOLVE,
        {"input": {"decisions": [{"id": found["id"], "version": found["version"], "action": "LEDGER"}]}},
        token=await token_for(client, GOVERNMENT),
    )  # fmt: skip
    result = ledgered["data"]["resolveFindings"]
    assert result["errors"] == []
    assert result["findings"][0]["state"] == "LEDGERED"
    assert result["findings"][0]["ledgerEntry"]["source"] == "COMPARISON"
