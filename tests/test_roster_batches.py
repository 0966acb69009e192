"""rosterImports through GraphQL: a county reads its own batches, the city above reads its counties', the
neighbouring county reads none; node(id) answers the same way."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from models import AuditLog
from tests.conftest import error_codes, gql, input_refusals, token_for
from tests.factories import make_child
from tests.ledger_support import WUDING_VILLAGE
from tests.roster_support import csv_bytes

HOUSEHOLD = Path(__file__).resolve().parent.parent / "docs" / "examples" / "rosters" / "532329-household.csv"
BATCHES = """query($filter: RosterImportFilter) { rosterImports(filter: $filter) { totalCount edges { node {
  id number kind jurisdictionCode asOf fileName status counts { read valid refused matched new } createdBy } } } }"""
# The demo holds Wuding's applied 中考 registration roster (datagen/demo/transitions.py): these tests read the
# household batches they stage.
HOUSEHOLD_ONLY = {"filter": {"kind": "HOUSEHOLD"}}
NODE = "query($id: ID!) { node(id: $id) { ... on RosterImport { number fileName } } }"


def household_file() -> dict[str, Any]:
    return {"file": (HOUSEHOLD.name, HOUSEHOLD.read_bytes(), "text/csv")}


async def staged(client: Any) -> dict[str, Any]:
    token = await token_for(client, "edu-county-532329")
    fields = {"kind": "HOUSEHOLD", "jurisdiction": "532329", "asOf": "2026-11-30"}
    response = await client.post(
        "/rosters", data=fields, files=household_file(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_county_reads_its_batch_with_provenance_and_counts(client: Any) -> None:
    body = await staged(client)
    result = await gql(client, BATCHES, HOUSEHOLD_ONLY, token=await token_for(client, "gov-county-532329"))
    nodes = [e["node"] for e in result["data"]["rosterImports"]["edges"]]
    assert [n["id"] for n in nodes] == [body["id"]]
    node = nodes[0]
    assert (node["kind"], node["jurisdictionCode"], node["status"], node["createdBy"]) == (
        "HOUSEHOLD", "532329", "STAGED", "edu-county-532329",
    )  # fmt: skip
    assert node["counts"] == {"read": 165, "valid": 160, "refused": 5, "matched": 159, "new": 1}


async def test_the_city_reads_its_counties_batches_and_filters_by_region(client: Any) -> None:
    await staged(client)
    city = await token_for(client, "edu-city-5323")
    assert (await gql(client, BATCHES, HOUSEHOLD_ONLY, token=city))["data"]["rosterImports"]["totalCount"] == 1
    other = await gql(client, BATCHES, {"filter": {"regionCode": "532328"}}, token=city)
    assert other["data"]["rosterImports"]["totalCount"] == 0


async def test_the_neighbouring_county_sees_no_batch_of_wuding_not_even_by_id(client: Any) -> None:
    body = await staged(client)
    neighbour = await token_for(client, "edu-county-532328")
    assert (await gql(client, BATCHES, token=neighbour))["data"]["rosterImports"]["totalCount"] == 0
    assert (await gql(client, NODE, {"id": body["id"]}, token=neighbour))["data"]["node"] is None
    mine = await gql(client, NODE, {"id": body["id"]}, token=await token_for(client, "edu-county-532329"))
    assert mine["data"]["node"] == {"number": body["number"], "fileName": "532329-household.csv"}


async def test_a_school_reads_no_batches(client: Any) -> None:
    await staged(client)
    school = await token_for(client, "staff-school-2153000036")
    result = await gql(client, BATCHES, token=school)
    assert error_codes(result) == ["FORBIDDEN"]  # no ROSTER:READ anywhere: refused, not an empty list
    assert result["data"] == {"rosterImports": None}


REFUSED = "/rosters/{}/refused.csv"


async def test_the_importer_downloads_the_refused_rows_with_their_reasons(client: Any, session: Any) -> None:
    """The original columns plus the reasons; the row outside the county was never kept, so it is not there."""
    body = await staged(client)
    token = await token_for(client, "edu-county-532329")
    response = await client.get(REFUSED.format(body["number"]), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][0] == "行号 / line"
    assert "公民身份号码" in lines[0]
    assert lines[0][-1] == "错误原因 / problems"
    assert [row[0] for row in lines[1:]] == ["162", "163", "165", "166"]
    assert "INVALID_CHECK_DIGIT" not in lines[1][-1]  # the reason is the message, in both languages
    assert "校验位" in lines[1][-1]
    assert "check digit" in lines[1][-1]
    audited = await session.scalar(
        select(func.count()).select_from(AuditLog).where(col(AuditLog.action) == "roster.download_refused_rows")
    )
    assert audited == 1


async def test_the_refused_rows_are_not_for_the_neighbour_the_city_or_an_anonymous_caller(client: Any) -> None:
    number = (await staged(client))["number"]
    url = REFUSED.format(number)

    async def status(username: str | None) -> int:
        headers = {"Authorization": f"Bearer {await token_for(client, username)}"} if username else {}
        return int((await client.get(url, headers=headers)).status_code)

    assert await status("edu-county-532328") == 404  # as if it did not exist
    assert await status("edu-city-5323") == 403  # reads the batch, not the children's cells
    assert await status(None) == 401


DISCARD = """mutation($input: DiscardRosterImportInput!) { discardRosterImport(input: $input) {
  rosterImport { number status decidedBy } errors { field message ... on RosterError { code } } } }"""


async def discard(
    client: Any, username: str, batch_id: str, version: int = 2, note: str = "名册有误 / wrong file"
) -> Any:
    token = await token_for(client, username)
    return await gql(client, DISCARD, {"input": {"id": batch_id, "version": version, "note": note}}, token)


async def test_a_discarded_batch_is_kept_and_its_file_may_be_imported_again(client: Any, session: Any) -> None:
    body = await staged(client)  # version 2: created, then its counts written
    result = (await discard(client, "edu-county-532329", body["id"]))["data"]["discardRosterImport"]
    assert result["errors"] == []
    assert result["rosterImport"] == {"number": body["number"], "status": "DISCARDED", "decidedBy": "edu-county-532329"}
    again = (await discard(client, "edu-county-532329", body["id"], version=3))["data"]["discardRosterImport"]
    assert [e["code"] for e in again["errors"]] == ["NOT_STAGED"]
    audited = (
        await session.scalars(
            select(AuditLog).where(
                col(AuditLog.action) == "roster.discard", col(AuditLog.target_id) == str(body["number"])
            )
        )
    ).all()  # the discard once, with who and why; the refused second discard leaves no row
    assert [(a.actor, a.reason, a.scope_path, a.summary["status"]) for a in audited] == [
        ("edu-county-532329", "名册有误 / wrong file", "53/5323/532329", {"before": "STAGED", "after": "DISCARDED"})
    ]
    assert (await staged(client))["number"] != body["number"]  # the same file, staged anew


async def test_a_discard_is_refused_on_a_stale_version_an_empty_note_and_outside_the_county(client: Any) -> None:
    body = await staged(client)
    stale = (await discard(client, "edu-county-532329", body["id"], version=1))["data"]["discardRosterImport"]
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    empty = (await discard(client, "edu-county-532329", body["id"], note="  "))["data"]["discardRosterImport"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("note", "REQUIRED")]
    neighbour = (await discard(client, "edu-county-532328", body["id"]))["data"]["discardRosterImport"]
    assert [(e["field"], e["code"]) for e in neighbour["errors"]] == [("id", "NOT_FOUND")]
    city = await discard(client, "edu-city-5323", body["id"])
    assert error_codes(city) == ["FORBIDDEN"]
    still = await gql(client, BATCHES, HOUSEHOLD_ONLY, token=await token_for(client, "edu-county-532329"))
    assert still["data"]["rosterImports"]["edges"][0]["node"]["status"] == "STAGED"


async def test_a_discard_note_with_a_nul_or_too_long_is_refused_by_name(client: Any) -> None:
    body = await staged(client)
    for note, code in (("坏\x00字", "INVALID_TEXT"), ("长" * 501, "TOO_LONG")):
        result = await discard(client, "edu-county-532329", body["id"], note=note)
        assert input_refusals(result) == [("input.note", code)]
        assert " / " in result["errors"][0]["message"]


ROWS = """query($id: ID!, $status: RowStatus, $after: String) { node(id: $id) { ... on RosterImport {
  rows(status: $status, first: 100, after: $after) { pageInfo { hasNextPage endCursor }
  edges { node { id line status nationalId name match problems { column code } student { id name } } } } } } }"""
APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status version counts { matched new } } errors { field message ... on RosterError { code } } } }"""


async def rows_seen(client: Any, username: str, batch_id: str, status: str | None = "VALID") -> list[dict[str, Any]]:
    token, after = await token_for(client, username), None
    seen: list[dict[str, Any]] = []
    while True:
        result = await gql(client, ROWS, {"id": batch_id, "status": status, "after": after}, token=token)
        assert error_codes(result) == []
        node = result["data"]["node"]
        if node is None:
            return seen
        seen += [e["node"] for e in node["rows"]["edges"]]
        if not node["rows"]["pageInfo"]["hasNextPage"]:
            return seen
        after = node["rows"]["pageInfo"]["endCursor"]


async def test_the_importer_reads_every_row_in_full_and_each_full_read_is_audited(client: Any, session: Any) -> None:
    body = await staged(client)
    rows = await rows_seen(client, "edu-county-532329", body["id"], status=None)
    assert len(rows) == 164  # 165 read, the one of 元谋 never stored
    assert [r["line"] for r in rows if r["status"] == "REFUSED"] == [162, 163, 165, 166]
    valid = [r for r in rows if r["status"] == "VALID"]
    assert all("*" not in r["nationalId"] for r in valid if r["nationalId"])
    assert sum(r["match"] == "EXACT" for r in valid) == 159
    # The matched child is shown as Student shows it, to whom may read it: the bureau reads those at its
    # schools, not the 19 out of school (the county government does): 18, and the demo's 小升初 pupil 鲁嘉俊,
    # on the example roster and out of school since finishing primary (datagen/demo/transitions.py).
    assert sum(r["student"] is not None for r in valid) == 140
    audited = await session.scalar(
        select(func.count()).select_from(AuditLog).where(col(AuditLog.action) == "roster.read_personal_data")
    )
    assert audited == sum(1 for r in rows if r["nationalId"])


async def test_others_read_rows_as_they_read_the_children_masked_without_the_right(client: Any) -> None:
    """ARCHITECTURE §4: a row is read like the child it describes. The city government reads its
    counties' household rows with the IDs masked; a township none (the batch is the county's: it reads
    its own door-to-door batches); the city education bureau none (no school on a household row); the
    neighbouring county nothing."""
    body = await staged(client)
    city_gov = await rows_seen(client, "gov-city-5323", body["id"])
    assert len(city_gov) == 160
    assert all(r["nationalId"] is None or r["nationalId"][6:-4] == "********" for r in city_gov)
    township = await rows_seen(client, "gov-township-532329101", body["id"])
    assert township == []
    assert await rows_seen(client, "edu-city-5323", body["id"]) == []
    assert await rows_seen(client, "edu-county-532328", body["id"]) == []
    row_id = city_gov[0]["id"]
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": row_id},
                     token=await token_for(client, "gov-county-532328"))  # fmt: skip
    assert node["data"]["node"] is None


REGISTRY_ROWS = """query($id: ID!) { node(id: $id) { ... on RosterImport {
  rows(status: VALID, first: 100) { edges { node { nationalId registryNumber } } } } } }"""


async def test_a_registry_rows_registry_number_is_masked_and_audited_like_its_national_id(
    client: Any, session: Any
) -> None:
    """The registry number is often "G" and the national ID: the city's education bureau (which reads the rows
    at its schools, without the right to personal data) sees both masked; the importing county reads both in
    full, and each full read is audited."""
    token = await token_for(client, "edu-county-532329")
    registry = HOUSEHOLD.with_name("532329-registry.xlsx")
    response = await client.post(
        "/rosters",
        data={"kind": "REGISTRY", "jurisdiction": "532329", "asOf": "2026-11-30"},
        files={"file": (registry.name, registry.read_bytes(), "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    batch = response.json()["id"]

    async def rows_as(username: str) -> list[dict[str, Any]]:
        result = await gql(client, REGISTRY_ROWS, {"id": batch}, token=await token_for(client, username))
        node = result["data"]["node"]
        return [e["node"] for e in node["rows"]["edges"]] if node else []

    city = await rows_as("edu-city-5323")
    assert len(city) == 100  # the first page
    assert all(r["registryNumber"][7:-4] == "*" * 8 for r in city)
    assert all(r["nationalId"][6:-4] == "*" * 8 for r in city if r["nationalId"])
    assert (
        await session.scalar(
            select(func.count()).select_from(AuditLog).where(col(AuditLog.action) == "roster.read_personal_data")
        )
        == 0
    )
    county = await rows_as("edu-county-532329")
    assert all("*" not in r["registryNumber"] for r in county)
    assert {r["registryNumber"] for r in county} == {f"G{r['nationalId']}" for r in county if r["nationalId"]}
    assert await session.scalar(
        select(func.count()).select_from(AuditLog).where(col(AuditLog.action) == "roster.read_personal_data")
    ) == len(county)
    assert await rows_as("edu-county-532328") == []


async def test_applying_the_household_roster_registers_its_new_child_over_http(client: Any) -> None:
    body = await staged(client)
    neighbour = await gql(client, APPLY, {"input": {"id": body["id"], "version": 2}},
                          token=await token_for(client, "gov-county-532328"))  # fmt: skip
    assert [e["code"] for e in neighbour["data"]["applyRosterImport"]["errors"]] == ["NOT_FOUND"]
    token = await token_for(client, "gov-county-532329")
    applied = await gql(client, APPLY, {"input": {"id": body["id"], "version": 2, "note": "已核对"}}, token=token)
    payload = applied["data"]["applyRosterImport"]
    assert payload["errors"] == []
    assert payload["rosterImport"]["status"] == "APPLIED"
    assert payload["rosterImport"]["counts"] == {"matched": 159, "new": 1}
    new = [r for r in await rows_seen(client, "gov-county-532329", body["id"]) if r["match"] == "NEW"]
    assert len(new) == 1
    assert new[0]["student"]["name"] == new[0]["name"]


RESOLVE_MATCH = """mutation($input: ResolveRosterMatchInput!) { resolveRosterMatch(input: $input) {
  rosterImport { number } errors { field ... on RosterError { code } } } }"""


async def test_candidates_are_decided_only_by_whoever_may_import_for_the_county_over_http(client: Any) -> None:
    """The neighbour finds no such batch, the city may not decide; a forged row id is NOT_FOUND by name."""
    body = await staged(client)
    row = (await rows_seen(client, "gov-county-532329", body["id"]))[0]
    decisions = {"input": {"decisions": [{"rowId": row["id"], "decision": "CONFIRM"}]}}
    neighbour = await gql(client, RESOLVE_MATCH, decisions, token=await token_for(client, "gov-county-532328"))
    assert [e["code"] for e in neighbour["data"]["resolveRosterMatch"]["errors"]] == ["NOT_FOUND"]
    city = await gql(client, RESOLVE_MATCH, decisions, token=await token_for(client, "gov-city-5323"))
    assert error_codes(city) == ["FORBIDDEN"]
    mine = await gql(client, RESOLVE_MATCH, decisions, token=await token_for(client, "gov-county-532329"))
    assert [(e["field"], e["code"]) for e in mine["data"]["resolveRosterMatch"]["errors"]] == [
        ("decisions.0.rowId", "ALREADY_DECIDED")  # an exact match, not a candidate: nothing to decide
    ]


async def test_confirming_and_rejecting_candidates_is_audited_with_who_decided_each_line(
    client: Any, session: Any
) -> None:
    """ARCHITECTURE §9: a candidate is never merged silently. One request confirms one door-to-door row as a
    known child and rejects another: the auditor finds one row for the request, on the batch, naming who
    decided and which lines were confirmed and which rejected; a refused repeat adds nothing."""
    await make_child(session, name="候选甲", birth_date=date(2016, 3, 2), school=None)
    await make_child(session, name="候选乙", gender="FEMALE", birth_date=date(2015, 8, 8), school=None)
    header = ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码", "无身份证原因"]
    lines = [
        header,
        ["候选甲", "男", "", "2016-03-02", WUDING_VILLAGE, "", "户口未登记"],
        ["候选乙", "女", "", "2015-08-08", WUDING_VILLAGE, "", "户口未登记"],
    ]
    token = await token_for(client, "gov-county-532329")
    response = await client.post(
        "/rosters",
        data={"kind": "HOUSEHOLD", "jurisdiction": "532329", "asOf": "2026-11-30"},
        files={"file": ("摸排.csv", csv_bytes(lines), "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    candidates = {r["line"]: r for r in await rows_seen(client, "gov-county-532329", batch["id"])}
    assert {line: r["match"] for line, r in candidates.items()} == {2: "CANDIDATE", 3: "CANDIDATE"}
    decisions = {"input": {"decisions": [
        {"rowId": candidates[2]["id"], "decision": "CONFIRM"}, {"rowId": candidates[3]["id"], "decision": "REJECT"},
    ]}}  # fmt: skip
    decided = await gql(client, RESOLVE_MATCH, decisions, token=token)
    assert decided["data"]["resolveRosterMatch"]["errors"] == []

    def resolved() -> Any:
        return select(AuditLog).where(col(AuditLog.action) == "roster.resolve_matches")

    (row,) = (await session.scalars(resolved())).all()
    assert (row.actor, row.target_type, row.target_id, row.scope_path) == (
        "gov-county-532329", "RosterImport", str(batch["number"]), "53/5323/532329",
    )  # fmt: skip
    assert (row.summary["confirmed"], row.summary["rejected"]) == ([2], [3])
    again = await gql(client, RESOLVE_MATCH, decisions, token=token)
    assert [e["code"] for e in again["data"]["resolveRosterMatch"]["errors"]] == ["ALREADY_DECIDED"]
    assert len((await session.scalars(resolved())).all()) == 1
