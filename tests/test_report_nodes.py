"""Issue 17 §2: a report's versions, verdicts, findings and assessments are entities with a global id that
`node(id:)` resolves, scoped like their report (verdicts and findings name children: they need the
ledgers' read right over the unit too, as the report's lists do)."""

from __future__ import annotations

from tests.conftest import gql, token_for
from tests.ledger_support import make_student
from tests.report_support import COUNTY_EDU, MINISTRY, PRINCIPAL, STAFF, confirm_all, review, submitted_march

PARTS = """query($id: ID!) { report(id: $id) { versions { id number }
  verdicts { id studentId verdict } findings { id studentId note } } }"""
NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on ReportVersion { number } ... on ReportVerdictInfo { verdict } ... on ReportFindingInfo { note } } }"""
NEIGHBOUR = "edu-county-532328"


async def node(client, token, gid):
    return (await gql(client, NODE, {"id": gid}, token))["data"]["node"]


async def test_the_parts_of_a_report_are_nodes_scoped_like_their_report(client):
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    report = await submitted_march(client, staff, principal)
    missing = await make_student(client, county, enrolledOn="2025-09-01")
    verdicts = confirm_all(report)[:1]
    reviewed = await review(
        client,
        county,
        report,
        "RETURN",
        verdicts=verdicts,
        findings=[{"studentId": missing["id"], "note": "入户核实：学校未上报"}],
        reasons="遗漏一名学生",
    )
    assert reviewed["errors"] == []
    parts = (await gql(client, PARTS, {"id": report["id"]}, county))["data"]["report"]
    [version] = parts["versions"]
    [finding] = parts["findings"]
    ids = {version["id"], finding["id"], *(v["id"] for v in parts["verdicts"])}
    assert len(ids) == 2 + len(verdicts)  # distinct ids, one per entity

    # The reader of the report gets each part back by its id, with the same fields.
    assert await node(client, county, version["id"]) == {
        "id": version["id"],
        "__typename": "ReportVersion",
        "number": 1,
    }
    assert await node(client, county, finding["id"]) == {
        "id": finding["id"],
        "__typename": "ReportFindingInfo",
        "note": "入户核实：学校未上报",
    }
    for verdict in parts["verdicts"]:
        got = await node(client, principal, verdict["id"])  # the school reads its own report's verdicts
        assert got == {"id": verdict["id"], "__typename": "ReportVerdictInfo", "verdict": verdict["verdict"]}

    # A neighbouring county sees none of them; the ministry sees the version but no part naming a child.
    neighbour = await token_for(client, NEIGHBOUR)
    for gid in ids:
        assert await node(client, neighbour, gid) is None
    ministry = await token_for(client, MINISTRY)
    assert (await node(client, ministry, version["id"]))["number"] == 1
    assert await node(client, ministry, finding["id"]) is None
    for verdict in parts["verdicts"]:
        assert await node(client, ministry, verdict["id"]) is None
