"""The comparisons (三比对) through HTTP and GraphQL: the county runs them over its applied rosters, reads and
resolves its findings (the child masked as everywhere), the entry opened links back; the city reads counts
by county and no finding; the neighbouring county and another city can neither run nor read nor resolve."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from models import AuditLog
from models.roster import RosterKind
from resolvers.context import Context
from tests.comparison_support import AS_OF, HEADERS, roster_line, wuding_cases
from tests.conftest import codes, error_codes, gql, payload, token_for
from tests.factories import make_child
from tests.ledger_support import gid, raw_id
from tests.roster_support import csv_bytes

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


async def audited(session: Any, action: str) -> list[AuditLog]:
    """Every audit row of this action, in the order written."""
    return list(
        await session.scalars(select(AuditLog).where(col(AuditLog.action) == action).order_by(col(AuditLog.id)))
    )


async def test_each_county_run_is_audited_once_with_who_ran_it_the_date_and_the_batches_compared(
    client: Any, session: Any, ctx: Context
) -> None:
    """ARCHITECTURE §5: an auditor finds who compared which county as of which day, over which rosters; a
    city's run is one run, and one row, per county it holds."""
    _, run = await run_wuding(client, session, ctx)
    (row,) = await audited(session, "comparison.run")
    assert (row.actor, row.target_type, row.target_id, row.scope_path) == (
        COUNTY_EDU, "ComparisonRun", str(run["number"]), "53/5323/532329",
    )  # fmt: skip
    assert row.summary["asOf"] == AS_OF.isoformat()
    assert sorted(row.summary["batches"]) == sorted(b["number"] for b in run["batches"])
    assert row.summary["counts"]["OUT_OF_SCHOOL"]["raised"] == 2

    city = await gql(client, RUN, {"input": {"regionCode": "5323", "asOf": AS_OF.isoformat()}},
                     token=await token_for(client, CITY_EDU))  # fmt: skip
    runs = payload(city, "runComparison")["runs"]
    assert len(runs) > 1
    by_city = [r for r in await audited(session, "comparison.run") if r.actor == CITY_EDU]
    assert sorted((r.target_id, r.scope_path.rsplit("/", 1)[-1]) for r in by_city) == sorted(
        (str(r["number"]), r["countyCode"]) for r in runs
    )


async def test_a_bulk_dismissal_is_audited_once_per_finding_with_its_reason_and_note(
    client: Any, session: Any, ctx: Context
) -> None:
    """One request dismisses two findings: the auditor sees two decisions, each with who dismissed which
    finding, the typed reason, where the child studies, and the note; a refused repeat adds nothing."""
    cases, _ = await run_wuding(client, session, ctx)
    edu = await token_for(client, COUNTY_EDU)
    found = by_child(await gql(client, FINDINGS, {"f": {"kind": "REGISTERED_NOT_ATTENDING"}}, token=edu))
    deceased = found[("REGISTERED_NOT_ATTENDING", gid("Student", cases.not_attending.id or 0))]
    elsewhere = found[("REGISTERED_NOT_ATTENDING", gid("Student", cases.registered_only.id or 0))]
    decisions = [
        {"id": deceased["id"], "version": deceased["version"], "action": "DISMISS", "reason": "DECEASED",
         "note": "死亡证明已核"},
        {"id": elsewhere["id"], "version": elsewhere["version"], "action": "DISMISS",
         "reason": "STUDYING_ELSEWHERE", "note": "随父母在广东就读", "provinceCode": "44"},
    ]  # fmt: skip
    body = payload(await gql(client, RESOLVE, {"input": {"decisions": decisions}}, token=edu), "resolveFindings")
    assert body["errors"] == []

    rows = await audited(session, "comparison.dismiss")
    assert [(r.actor, r.target_type, r.target_id, r.scope_path, r.reason) for r in rows] == [
        (COUNTY_EDU, "ComparisonFinding", str(raw_id(deceased["id"])), "53/5323/532329", "死亡证明已核"),
        (COUNTY_EDU, "ComparisonFinding", str(raw_id(elsewhere["id"])), "53/5323/532329", "随父母在广东就读"),
    ]
    assert [r.summary for r in rows] == [
        {"action": "DISMISS", "state": {"before": "OPEN", "after": "DISMISSED"}, "reason": "DECEASED"},
        {"action": "DISMISS", "state": {"before": "OPEN", "after": "DISMISSED"}, "reason": "STUDYING_ELSEWHERE",
         "province": "44"},
    ]  # fmt: skip
    again = payload(await gql(client, RESOLVE, {"input": {"decisions": decisions}}, token=edu), "resolveFindings")
    assert codes(again) == ["CONFLICT"]
    assert len(await audited(session, "comparison.dismiss")) == 2


async def test_a_finding_linked_to_the_childs_entry_is_audited_with_the_entry_and_the_note(
    client: Any, session: Any, ctx: Context
) -> None:
    """The county government ties a poor-household dropout to the entry the child already has: the auditor
    sees who linked which finding to which entry, and why."""
    cases, _ = await run_wuding(client, session, ctx)
    gov = await token_for(client, COUNTY_GOV)
    found = by_child(await gql(client, FINDINGS, {"f": {"kind": "POOR_HOUSEHOLD_DROPOUT"}}, token=gov))
    poor = found[("POOR_HOUSEHOLD_DROPOUT", gid("Student", cases.poor_on_ledger.id or 0))]
    entry = cases.entries["poor_on_ledger"]
    decision = {"id": poor["id"], "version": poor["version"], "action": "LINK",
                "entryId": gid("LedgerEntry", entry.id or 0), "note": "已在台账，劝返中"}  # fmt: skip
    body = payload(await gql(client, RESOLVE, {"input": {"decisions": [decision]}}, token=gov), "resolveFindings")
    assert body["errors"] == []

    (row,) = await audited(session, "comparison.link")
    assert (row.actor, row.target_type, row.target_id, row.scope_path, row.reason) == (
        COUNTY_GOV, "ComparisonFinding", str(raw_id(poor["id"])), "53/5323/532329", "已在台账，劝返中",
    )  # fmt: skip
    assert row.summary == {
        "action": "LINK", "state": {"before": "OPEN", "after": "LEDGERED"}, "entry": str(entry.id),
    }  # fmt: skip


VERSION = "query($id: ID!) { node(id: $id) { ... on RosterImport { version } } }"
APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status } errors { field code: message } } }"""


async def test_the_registry_status_decides_the_findings_from_upload_to_graphql(client: Any, session: Any) -> None:
    """学籍状态 end to end (POLICY 002 二(七)): the county uploads its household, registry (with the status
    column) and roll rosters over HTTP, applies them and runs the comparisons through GraphQL. A pupil marked
    辍学 or 在读 (blank) and on no roll is found registered but not attending; one on leave (休学) is not; a
    primary graduate on no junior registry is found out of school with no category proposed."""
    out: dict[str, Any] = {"school": None, "grade": None}
    dropped = await make_child(session, name="辍学甲", birth_date=date(2015, 2, 2), **out)
    suspended = await make_child(session, name="休学乙", birth_date=date(2016, 1, 1), **out)
    primary_done = await make_child(session, name="小升初丙", birth_date=date(2014, 3, 1), **out)
    studying = await make_child(session, name="在读丁", birth_date=date(2016, 5, 5))
    on_roll = await make_child(session, name="在校戊", birth_date=date(2016, 6, 6))
    registry = [(dropped, "辍学", "3"), (suspended, "休学", "3"), (primary_done, "毕业", "6"), (studying, "", "3")]
    rosters = {
        "HOUSEHOLD": [HEADERS[RosterKind.HOUSEHOLD]] + [roster_line(RosterKind.HOUSEHOLD, c) for c, _, _ in registry],
        "REGISTRY": [[*HEADERS[RosterKind.REGISTRY], "学籍状态"]]
        + [[*roster_line(RosterKind.REGISTRY, c)[:-1], grade, status] for c, status, grade in registry],
        "IN_SCHOOL": [HEADERS[RosterKind.IN_SCHOOL], roster_line(RosterKind.IN_SCHOOL, on_roll)],
    }
    edu = await token_for(client, COUNTY_EDU)
    for kind, rows in rosters.items():
        uploaded = await client.post(
            "/rosters",
            data={"kind": kind, "jurisdiction": "532329", "asOf": AS_OF.isoformat()},
            files={"file": (f"532329-{kind.lower()}.csv", csv_bytes(rows), "text/csv")},
            headers={"Authorization": f"Bearer {edu}"},
        )
        assert uploaded.status_code == 201, uploaded.text
        batch = uploaded.json()["id"]
        version = (await gql(client, VERSION, {"id": batch}, token=edu))["data"]["node"]["version"]
        applied = await gql(client, APPLY, {"input": {"id": batch, "version": version}}, token=edu)
        assert payload(applied, "applyRosterImport")["errors"] == []
    ran = await gql(client, RUN, {"input": {"regionCode": "532329", "asOf": AS_OF.isoformat()}}, token=edu)
    assert payload(ran, "runComparison")["errors"] == []
    found = by_child(await gql(client, FINDINGS, {"f": {"state": "OPEN"}}, token=edu))
    assert set(found) == {
        ("OUT_OF_SCHOOL", gid("Student", primary_done.id or 0)),
        ("REGISTERED_NOT_ATTENDING", gid("Student", dropped.id or 0)),
        ("REGISTERED_NOT_ATTENDING", gid("Student", studying.id or 0)),
    }
    assert found[("OUT_OF_SCHOOL", gid("Student", primary_done.id or 0))]["proposedCategory"] is None
    neighbour = await gql(client, FINDINGS, {"f": {"state": "OPEN"}}, token=await token_for(client, NEIGHBOUR_EDU))
    assert neighbour["data"]["comparisonFindings"]["totalCount"] == 0
