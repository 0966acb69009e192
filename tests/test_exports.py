"""GET /exports/{dataset} through real HTTP (issue 15 §1): the rows a GraphQL list shows the same account,
masked as GraphQL masks them, in CSV, JSON Lines and XLSX, audited, resumable; refusals by name.

INTEGRATOR holds EXPORT:RUN on both lines (authz/policy.csv); the county bureau does not.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from strawberry import relay

from models.audit import AuditLog
from models.child import mask_national_id, mask_national_id_sql
from models.persuasion import DeferralBasis, DeferralRequest
from resolvers.admin.accounts import create_account, create_token
from resolvers.exports import running
from tests.conftest import gql, token_for
from tests.export_support import (
    INTEGRATOR,
    NEIGHBOUR_INTEGRATOR,
    all_entries,
    all_students,
    csv_rows,
    export,
    jsonl_rows,
)
from tests.factories import make_child, make_entry, make_visit
from tests.ledger_support import COUNTY_EDU, WUDING, YUANMOU, YUANMOU_PRIMARY
from tests.report_support import PRINCIPAL, STAFF, submitted_march

GRANT = """mutation($input: GrantRoleInput!) { grantRole(input: $input) { errors { code } } }"""


async def audit_rows(session, export_id: str) -> list[AuditLog]:
    rows = await session.scalars(select(AuditLog).where(AuditLog.target_id == export_id).order_by(AuditLog.id))
    return list(rows)


async def test_children_csv_holds_the_rows_graphql_lists_masked_alike(client, session):
    """Same scope, same masking: the county integrator's export is its `students` list, row for row, with the
    national ID and registry number exactly as GraphQL shows them (no CHILD:READ_PII: masked)."""
    token = await token_for(client, INTEGRATOR)
    response = await export(client, token, "children")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8-sig").splitlines()[0].startswith("学生ID,姓名,性别,出生日期,身份证号")
    rows = csv_rows(response)
    listed = {s["id"]: s for s in await all_students(client, token)}
    assert len(listed) > 100  # more than one GraphQL page
    assert {r["id"] for r in rows} == set(listed)
    for row in rows:
        shown = listed[row["id"]]
        assert row["nationalId"] == (shown["nationalId"] or "")
        assert row["registryNumber"] == (shown["registryNumber"] or "")
        assert "*" in row["nationalId"] or row["nationalId"] == ""
        assert (row["name"], row["gender"], row["birthDate"]) == (shown["name"], shown["gender"], shown["birthDate"])
        assert row["specialGroups"] == ";".join(shown["specialGroups"])
        assert row["schoolCode"] == ((shown["school"] or {}).get("code") or "")
    assert [relay.GlobalID.from_id(r["id"]).type_name for r in rows[:1]] == ["Student"]


async def test_a_neighbour_integrator_exports_its_own_county_only(client, session):
    """双线四级 (POLICY 001): 元谋县's export is 元谋县's `students` list; a child wholly in 武定县 is not in it."""
    wuding_only = await make_child(session, name="武定学生")
    neighbour = await token_for(client, NEIGHBOUR_INTEGRATOR)
    theirs = {r["id"] for r in csv_rows(await export(client, neighbour, "children"))}
    assert theirs == {s["id"] for s in await all_students(client, neighbour)}
    assert relay.to_base64("Student", str(wuding_only.id)) not in theirs
    mine = {r["id"] for r in csv_rows(await export(client, await token_for(client, INTEGRATOR), "children"))}
    assert relay.to_base64("Student", str(wuding_only.id)) in mine


async def test_a_child_is_exported_on_the_government_line_too(client, session):
    """The government line reads a child by household or residence (ARCHITECTURE §3): a child living in 武定县
    and schooled in 元谋县 is in both counties' exports, one by each line."""
    child = await make_child(session, school=YUANMOU_PRIMARY, name="两县学生")
    gid = relay.to_base64("Student", str(child.id))
    for account in (INTEGRATOR, NEIGHBOUR_INTEGRATOR):
        rows = csv_rows(await export(client, await token_for(client, account), "children", region=account[-6:]))
        assert gid in {r["id"] for r in rows}, account


async def test_full_personal_data_only_over_children_the_account_may_read_in_full(client, session):
    """CHILD:READ_PII per row: an integrator also holding the county bureau's role (READ_PII on the education line)
    gets full IDs for children schooled in the county, masked ones for those it reads only by household; the full
    export is audited as a personal-data read."""
    admin = await token_for(client, f"admin-county-{WUDING}")
    grant = {"username": INTEGRATOR, "role": "COUNTY_EDU", "jurisdictionCode": WUDING, "reason": "兼任"}
    assert (await gql(client, GRANT, {"input": grant}, admin))["data"]["grantRole"]["errors"] == []
    elsewhere = await make_child(session, school=YUANMOU_PRIMARY, name="外县就读")
    token = await token_for(client, INTEGRATOR)
    response = await export(client, token, "children", format="jsonl")
    rows = {r["id"]: r for r in jsonl_rows(response)}
    listed = {s["id"]: s for s in await all_students(client, token)}
    assert {i: r["nationalId"] for i, r in rows.items()} == {i: s["nationalId"] for i, s in listed.items()}
    assert any(r["nationalId"] and "*" not in r["nationalId"] for r in rows.values())  # in full where allowed
    assert rows[relay.to_base64("Student", str(elsewhere.id))]["nationalId"] == mask_national_id(elsewhere.national_id)
    start, pii, finish = await audit_rows(session, response.headers["x-export-id"])
    assert (start.action, start.actor, start.summary["fullPersonalData"]) == ("export.start", INTEGRATOR, True)
    assert (pii.action, finish.action) == ("export.read_personal_data", "export.finish")
    assert finish.summary == {"dataset": "children", "rows": len(rows), "complete": True}


async def test_every_export_is_audited_before_and_after(client, session):
    """Who, what, which filters, masked or not; then the row count (issue 15 §1, Audit)."""
    token = await token_for(client, INTEGRATOR)
    response = await export(client, token, "ledger-entries", region=WUDING, ledger="SUSPECTED", status="OPEN")
    rows = csv_rows(response)
    start, finish = await audit_rows(session, response.headers["x-export-id"])
    assert start.action == "export.start"
    assert start.actor == INTEGRATOR
    assert start.summary == {
        "dataset": "ledger-entries",
        "format": "csv",
        "filters": {"region": WUDING, "ledger": "SUSPECTED", "status": "OPEN"},
        "fullPersonalData": False,
    }
    assert start.scope_path.endswith(WUDING)
    assert start.id < finish.id
    assert finish.summary == {"dataset": "ledger-entries", "rows": len(rows), "complete": True}


async def test_ledger_entries_match_the_graphql_list_with_the_same_filters(client):
    token = await token_for(client, INTEGRATOR)
    listed = await all_entries(client, token, ledger="SUSPECTED", status=["OPEN"])
    rows = csv_rows(await export(client, token, "ledger-entries", ledger="SUSPECTED", status="OPEN"))
    assert listed
    assert {(r["id"], r["studentId"], r["version"]) for r in rows} == {
        (e["id"], e["student"]["id"], str(e["version"])) for e in listed
    }
    everything = csv_rows(await export(client, token, "ledger-entries"))
    assert {r["id"] for r in everything} == {e["id"] for e in await all_entries(client, token)}


async def test_visits_deferrals_and_plans_are_those_of_readable_entries(client, session):
    """Visits, deferrals and plans are read through their ledger entry, as `LedgerEntry.visits` etc. show them."""
    ours = await make_entry(session)
    theirs = await make_entry(session, await make_child(session, village="532328101206", school=YUANMOU_PRIMARY))
    await make_visit(session, theirs)
    for entry in (ours, theirs):
        session.add(
            DeferralRequest(
                entry_id=entry.id, child_id=entry.child_id, basis=DeferralBasis.JOINT_VISITS, grounds="联合劝返未果",
                requested_by="factory", province_code="53",
            )
        )  # fmt: skip
    await session.flush()
    token = await token_for(client, INTEGRATOR)
    entries = await all_entries(client, token)
    visits = jsonl_rows(await export(client, token, "persuasion-visits", format="jsonl"))
    assert sorted((v["entryId"], v["visitedOn"], v["stage"]) for v in visits) == sorted(
        (e["id"], v["visitedOn"], v["stage"]) for e in entries for v in e["visits"]
    )
    assert relay.to_base64("LedgerEntry", str(theirs.id)) not in {v["entryId"] for v in visits}
    assert all(isinstance(v["participants"], list) for v in visits)
    deferrals = jsonl_rows(await export(client, token, "deferrals", format="jsonl"))
    assert relay.to_base64("LedgerEntry", str(theirs.id)) not in {d["entryId"] for d in deferrals}
    assert sorted((d["id"], d["status"]) for d in deferrals) == sorted(
        (d["id"], d["status"]) for e in entries for d in e["deferrals"]
    )
    approved = csv_rows(await export(client, token, "deferrals", status="APPROVED"))
    assert {d["id"] for d in approved} == {d["id"] for d in deferrals if d["status"] == "APPROVED"}
    plans = jsonl_rows(await export(client, token, "case-plans", format="jsonl"))
    assert sorted((p["studentId"], p["version"]) for p in plans) == sorted(
        {(e["student"]["id"], e["plan"]["version"]) for e in entries if e["plan"]}
    )
    assert visits
    assert deferrals
    assert plans


async def test_report_tables_hold_table1_of_submitted_reports_only(client):
    """Table 1 (摸底排查统计报表, POLICY 003 annex 1) of each submitted report, a row per stage, as `Report.table1`."""
    token = await token_for(client, INTEGRATOR)
    assert csv_rows(await export(client, token, "report-tables")) == []
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    rows = jsonl_rows(await export(client, token, "report-tables", format="jsonl"))
    assert {r["reportId"] for r in rows} == {report["id"]}
    table1 = {t["stage"]: t for t in report["table1"]}
    for row in rows:
        shown = table1[row["stage"]]
        assert (row["shouldAttend"], row["suspected"], row["dropouts"]) == (
            shown["shouldAttend"], shown["suspected"], shown["dropouts"],
        )  # fmt: skip
        assert {c["category"]: c["count"] for c in shown["byCategory"]} == {
            k[-1]: v for k, v in row.items() if k.startswith("dropouts") and len(k) == 9
        }
    neighbour = await token_for(client, NEIGHBOUR_INTEGRATOR)
    assert csv_rows(await export(client, neighbour, "report-tables")) == []


async def test_resuming_after_the_last_row_received_repeats_and_skips_nothing(client):
    token = await token_for(client, INTEGRATOR)
    everything = csv_rows(await export(client, token, "children"))
    for cut in (0, 57, len(everything) - 1):
        rest = csv_rows(await export(client, token, "children", after=everything[cut]["id"]))
        assert rest == everything[cut + 1 :]
    report_rows = csv_rows(await export(client, token, "report-tables"))
    assert report_rows == []  # no submitted report here; the cursor of a table row is checked below
    cursor = relay.to_base64("Table1Row", "1:JUNIOR")
    assert (await export(client, token, "report-tables", after=cursor)).status_code == 200


async def test_updated_after_gives_only_rows_changed_since(client, session):
    token = await token_for(client, INTEGRATOR)
    rows = jsonl_rows(await export(client, token, "children", format="jsonl"))
    latest = max(datetime.fromisoformat(r["updatedAt"]) for r in rows)
    child = await make_child(session, name="新登记")
    child.updated_at = latest + timedelta(seconds=1)
    await session.flush()
    changed = jsonl_rows(await export(client, token, "children", format="jsonl", updatedAfter=latest.isoformat()))
    assert [r["id"] for r in changed] == [relay.to_base64("Student", str(child.id))]


async def test_gb18030_and_machine_header_on_request(client):
    token = await token_for(client, INTEGRATOR)
    utf8 = csv_rows(await export(client, token, "children"))
    response = await export(client, token, "children", encoding="gb18030", header="machine")
    assert response.headers["content-type"] == "text/csv; charset=gb18030"
    assert not response.content.startswith("\ufeff".encode())
    assert response.content.decode("gb18030").startswith("id,name,gender")
    assert csv_rows(response, encoding="gb18030", headers=1) == utf8


async def test_xlsx_streams_the_same_rows_and_refuses_past_the_sheet_limit(client, monkeypatch):
    token = await token_for(client, INTEGRATOR)
    expected = csv_rows(await export(client, token, "ledger-entries"))
    response = await export(client, token, "ledger-entries", format="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    lines = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][:3] == ["台账记录ID", "学生ID", "台账"]
    assert [dict(zip(lines[1], line, strict=True)) for line in lines[2:]] == expected
    monkeypatch.setattr(running, "XLSX_MAX_ROWS", len(expected) - 1)
    refused = await export(client, token, "ledger-entries", format="xlsx")
    assert refused.status_code == 422
    assert refused.json()["code"] == "TOO_MANY_ROWS"
    assert "format=csv" in refused.json()["message"]


async def test_a_service_token_exports(client, ctx):
    """Integrators run as service accounts with API tokens (README: Integrators)."""
    await create_account(
        ctx, username="svc-wuding", display_name="武定县数据对接", password=None, is_service=True,
        jurisdiction_code=WUDING,
    )  # fmt: skip
    issued = await create_token(ctx, username="svc-wuding", name="nightly export", valid_days=30)
    admin = await token_for(client, f"admin-county-{WUDING}")
    grant = {"username": "svc-wuding", "role": "INTEGRATOR", "jurisdictionCode": WUDING, "reason": "数据对接"}
    assert (await gql(client, GRANT, {"input": grant}, admin))["data"]["grantRole"]["errors"] == []
    by_service = csv_rows(await export(client, issued.secret, "children"))
    assert by_service == csv_rows(await export(client, await token_for(client, INTEGRATOR), "children"))


async def test_refusals_name_the_parameter(client):
    """Bad input is a 4xx JSON error, in Chinese and English, naming the parameter; a region outside the
    account's export scope answers exactly as a missing one."""
    token = await token_for(client, INTEGRATOR)
    cases = [
        ("nothing", {}, 404, "dataset", "UNKNOWN_DATASET"),
        ("children", {"format": "pdf"}, 400, "format", "BAD_FORMAT"),
        ("children", {"region": "53a"}, 400, "region", "BAD_REGION"),
        ("children", {"region": "999999"}, 404, "region", "UNKNOWN_REGION"),
        ("children", {"region": YUANMOU}, 404, "region", "UNKNOWN_REGION"),
        ("children", {"region": "5323"}, 404, "region", "UNKNOWN_REGION"),  # its city: beyond its grant
        ("children", {"updatedAfter": "yesterday"}, 400, "updatedAfter", "BAD_TIMESTAMP"),
        ("children", {"updatedAfter": "2026-10-01T00:00:00"}, 400, "updatedAfter", "BAD_TIMESTAMP"),
        ("children", {"schoolYear": "2026"}, 400, "schoolYear", "NOT_A_FILTER"),
        ("ledger-entries", {"status": "LOST"}, 400, "status", "BAD_VALUE"),
        ("ledger-entries", {"schoolYear": "26"}, 400, "schoolYear", "BAD_VALUE"),
        ("children", {"after": "abc"}, 400, "after", "INVALID_CURSOR"),
        ("children", {"after": relay.to_base64("LedgerEntry", "1")}, 400, "after", "INVALID_CURSOR"),
        ("children", {"encoding": "latin-1"}, 400, "encoding", "BAD_ENCODING"),
        ("children", {"format": "jsonl", "encoding": "gb18030"}, 400, "encoding", "BAD_ENCODING"),
        ("children", {"limit": "10"}, 400, "limit", "UNKNOWN_PARAMETER"),
    ]
    for dataset, params, status, field, code in cases:
        response = await export(client, token, dataset, **params)
        body = response.json()
        assert (response.status_code, body["field"], body["code"]) == (status, field, code), (dataset, params)
        assert " / " in body["message"]
    missing = (await export(client, token, "children", region="999999")).json()
    assert (await export(client, token, "children", region=YUANMOU)).json() == missing


async def test_accounts_without_export_run_are_refused(client):
    """Only INTEGRATOR holds EXPORT:RUN: a county bureau gets 403, nobody signed in 401."""
    refused = await export(client, await token_for(client, COUNTY_EDU), "children")
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert (await export(client, None, "children")).status_code == 401


async def test_the_database_masks_as_python_does(session):
    """`mask_national_id_sql` is `mask_national_id`, character for character, whatever the length."""
    samples = [
        "532329201705120017",
        "53232920170512001X",
        "G12345678901",
        "1234567890",
        "123456789",
        "12",
        "",
        "学籍号12345678",
    ]
    for sample in samples:
        masked = await session.scalar(select(mask_national_id_sql(text(":v").bindparams(v=sample))))
        assert masked == mask_national_id(sample), sample
    # A value of ten characters or fewer shows nothing of itself: six and four would be all of it.
    assert [mask_national_id(s) for s in ("1234567890", "G1234", "")] == ["**********", "*****", ""]
    assert mask_national_id("G12345678901") == "G12345**8901"


async def test_an_interrupted_stream_is_audited_and_resumes_without_duplicates(client, session, sessions, settings):
    """The client goes away mid-stream: the COPY stops, `export.finish` says incomplete, and a new export from the
    last complete row received gives exactly the rest."""
    from baoxue.app import create_app

    token = await token_for(client, "integrator-province-53")
    full = jsonl_rows(await export(client, token, "children", format="jsonl"))
    assert len(full) > 1000
    app = create_app(settings, sessions=sessions)
    received = bytearray()
    bodies = 0

    async def send(message):
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 2:
                raise OSError("connection reset by peer")
            received.extend(message["body"])

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/exports/children", "raw_path": b"/exports/children",
        "query_string": b"format=jsonl", "root_path": "", "server": ("baoxue.test", 80), "client": ("10.0.0.1", 1),
        "headers": [(b"host", b"baoxue.test"), (b"authorization", f"Bearer {token}".encode())],
    }  # fmt: skip
    with pytest.raises(Exception):  # noqa: B017, PT011  (Starlette turns the reset into ClientDisconnect)
        await app(scope, receive, send)
    lines = bytes(received).split(b"\n")
    got = [json.loads(line) for line in lines[:-1]]  # the last line may be cut
    assert 0 < len(got) < len(full)
    finish = (
        await session.scalars(
            select(AuditLog).where(AuditLog.action == "export.finish").order_by(AuditLog.id.desc()).limit(1)
        )
    ).one()
    assert finish.summary["complete"] is False
    assert len(got) <= finish.summary["rows"] < len(full)
    rest = jsonl_rows(await export(client, token, "children", format="jsonl", after=got[-1]["id"]))
    assert got + rest == full
    assert (await session.execute(text("SELECT 1"))).scalar() == 1  # the connection is usable after the cut


async def test_update_time_is_utc_iso(client):
    token = await token_for(client, INTEGRATOR)
    row = jsonl_rows(await export(client, token, "children", format="jsonl"))[0]
    assert datetime.fromisoformat(row["updatedAt"]).tzinfo == UTC


async def test_text_that_needs_escaping_survives_both_formats(client, session):
    """Quotes, backslashes, commas and line breaks come back as they were, in CSV and in JSON Lines."""
    awkward = '王"小\\明,\n二\t世'
    child = await make_child(session, name=awkward, special_groups=["ORPHAN", "DISABLED"], disability_grade=2)
    gid = relay.to_base64("Student", str(child.id))
    token = await token_for(client, INTEGRATOR)
    row = next(r for r in jsonl_rows(await export(client, token, "children", format="jsonl")) if r["id"] == gid)
    assert row["name"] == awkward
    assert (row["specialGroups"], row["disabilityGrade"], row["birthDate"]) == (["ORPHAN", "DISABLED"], 2, "2017-05-12")
    assert row["disabilityCategory"] is None
    cells = next(r for r in csv_rows(await export(client, token, "children")) if r["id"] == gid)
    assert (cells["name"], cells["specialGroups"], cells["disabilityGrade"]) == (awkward, "ORPHAN;DISABLED", "2")
