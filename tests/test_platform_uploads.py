"""Cases sent up to the national platform (issue 16 §2; seed 004 §9: 新增疑似辍学和辍学学生信息，
要及时录入管理服务平台，确保真实准确、不漏一人): what a county owes, its batches, their files, failed batches resent,
and who may."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.policy_table import role_permissions
from models.audit import AuditLog
from models.ledger import CloseReason, EntryStatus, Ledger
from models.platform_upload import PlatformChange
from tests.conftest import codes, error_codes, gql, payload, token_for
from tests.factories import make_child, make_entry
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, WUDING, gid, make_student, open_entry, raw_id

CITY_EDU = "edu-city-5323"
COUNTY_GOV = f"gov-county-{WUDING}"
OTHER_PROVINCE = "edu-province-22"

BATCH_FIELDS = "id number code countyCode status lines createdBy failureReason version downloadUrl"
UPLOAD = f"""mutation($input: UploadBatchInput!) {{ uploadBatch(input: $input) {{
  batch {{ {BATCH_FIELDS} }} errors {{ field code message }} }} }}"""
FAILED = f"""mutation($input: MarkUploadFailedInput!) {{ markUploadFailed(input: $input) {{
  batch {{ {BATCH_FIELDS} }} errors {{ field code message }} }} }}"""
ACCEPTED = f"""mutation($input: MarkUploadAcceptedInput!) {{ markUploadAccepted(input: $input) {{
  batch {{ {BATCH_FIELDS} }} errors {{ field code message }} }} }}"""
BATCHES = f"""query($f: UploadBatchFilter) {{ uploadBatches(filter: $f, first: 100) {{
  totalCount edges {{ node {{ {BATCH_FIELDS} }} }} }} }}"""
OWED = """query($f: OwedPlatformChangeFilter!, $after: String) {
  owedPlatformChanges(filter: $f, first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id kind happenedOn countyCode entry { id } } } } }"""
COUNTS = (
    """query($code: String!) { platformOwedCounts(regionCode: $code) { countyCode countyName owed oldestOwedOn } }"""
)


async def _changes(session: AsyncSession, entry_id: int) -> list[tuple[str, date]]:
    rows = await session.scalars(
        select(PlatformChange).where(PlatformChange.entry_id == entry_id).order_by(PlatformChange.id)
    )
    return [(r.kind.value, r.happened_on) for r in rows]


async def test_each_change_of_an_entry_is_owed_once(session: AsyncSession):
    """Every change the platform must hear of is owed as it is written: opened (suspected, dropout), returned,
    absent again, placed, deferred, closed out. A suspected entry closed by its escalation owes nothing: the
    dropout entry's opening tells the platform."""
    child = await make_child(session)
    entry = await make_entry(session, child, opened_on=date(2026, 10, 12))
    assert await _changes(session, entry.id or 0) == [("SUSPECTED", date(2026, 10, 12))]

    entry.status, entry.returned_on = EntryStatus.RETURNED, date(2026, 10, 20)
    await session.flush()
    entry.status, entry.returned_on = EntryStatus.OPEN, None
    await session.flush()
    entry.status, entry.returned_on = EntryStatus.RETURNED, date(2026, 11, 2)
    await session.flush()
    entry.placed_on = date(2026, 11, 3)
    await session.flush()
    entry.placed_on = date(2026, 11, 4)  # a correction of the day is no new placement
    await session.flush()
    entry.status, entry.close_reason = EntryStatus.CLOSED, CloseReason.RETURNED_AND_PLACED
    entry.closed_at = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # 6 November in China
    await session.flush()
    kinds = await _changes(session, entry.id or 0)
    assert [k for k, _ in kinds] == ["SUSPECTED", "RETURNED", "REOPENED", "RETURNED", "PLACED", "CLOSED_OUT"]
    assert kinds[1][1] == date(2026, 10, 20)
    assert kinds[4][1] == date(2026, 11, 3)
    assert kinds[5][1] == date(2026, 11, 6)

    other = await make_child(session)
    suspected = await make_entry(session, other)
    suspected.status, suspected.close_reason = EntryStatus.CLOSED, CloseReason.ESCALATED_TO_DROPOUT
    suspected.closed_at = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)
    await session.flush()
    dropout = await make_entry(session, other, ledger=Ledger.DROPOUT, opened_on=date(2026, 11, 12))
    dropout.status = EntryStatus.DEFERRED
    await session.flush()
    assert [k for k, _ in await _changes(session, suspected.id or 0)] == ["SUSPECTED"]
    assert [k for k, _ in await _changes(session, dropout.id or 0)] == ["DROPOUT", "DEFERRED"]
    owed = await session.scalars(select(PlatformChange.county_path).where(PlatformChange.entry_id == dropout.id))
    assert set(owed) == {"53/5323/532329"}  # the entry's responsible county


async def _upload(client: httpx.AsyncClient, token: str, county: str = WUDING) -> Any:
    return payload(await gql(client, UPLOAD, {"input": {"countyCode": county}}, token), "uploadBatch")


async def _owed(client: httpx.AsyncClient, token: str, county: str = WUDING) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(client, OWED, {"f": {"countyCode": county}, "after": after}, token))["data"]
        nodes += [e["node"] for e in page["owedPlatformChanges"]["edges"]]
        if not page["owedPlatformChanges"]["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["owedPlatformChanges"]["pageInfo"]["endCursor"]


async def _download(client: httpx.AsyncClient, token: str, batch: dict[str, Any], fmt: str) -> httpx.Response:
    url = batch["downloadUrl"].replace("format=csv", f"format={fmt}")
    return await client.get(url, headers={"Authorization": f"Bearer {token}"})


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_a_batch_takes_everything_owed_and_the_next_only_what_came_after(client: httpx.AsyncClient):
    token = await token_for(client, COUNTY_EDU)
    owed = await _owed(client, token)
    assert owed, "the demo county owes its cases"
    assert {n["countyCode"] for n in owed} == {WUDING}

    first = await _upload(client, token)
    assert first["errors"] == []
    batch = first["batch"]
    assert batch["lines"] == len(owed)
    assert batch["status"] == "SENT"
    assert batch["code"] == f"{WUDING}-{batch['number']:04d}"
    assert await _owed(client, token) == []
    again = await _upload(client, token)
    assert codes(again) == ["NOTHING_OWED"]

    student = await make_student(client, token, name="平台测试")
    opened = await open_entry(client, token, student["id"], opened_on=date(2026, 11, 2))
    assert opened["errors"] == []
    now_owed = await _owed(client, token)
    assert [(n["kind"], n["happenedOn"], n["entry"]["id"]) for n in now_owed] == [
        ("SUSPECTED", "2026-11-02", opened["entry"]["id"])
    ]
    second = (await _upload(client, token))["batch"]
    assert (second["number"], second["lines"]) == (batch["number"] + 1, 1)

    response = await _download(client, token, second, "csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, *lines = _csv_rows(response.content)
    assert header == [
        "批次号",
        "序号",
        "学籍号",
        "身份证号",
        "姓名",
        "性别",
        "学校标识码",
        "年级",
        "辍学类型",
        "状态",
        "日期",
    ]
    assert len(lines) == 1
    code, seq, registry, national_id, name, gender, school, grade, category, status, day = lines[0]
    assert (code, seq, name, status, day) == (second["code"], "1", "平台测试", "疑似辍学", "2026-11-02")
    assert len(national_id) == 18  # in full: the platform needs it
    assert "*" not in national_id
    assert registry == "G" + national_id
    assert (school, grade, category) == ("2153000036", "3", "")
    assert gender in ("男", "女")


async def test_a_batch_downloads_again_as_the_same_bytes(client: httpx.AsyncClient, session: AsyncSession):
    token = await token_for(client, COUNTY_EDU)
    batch = (await _upload(client, token))["batch"]
    for fmt in ("csv", "xlsx"):
        one = await _download(client, token, batch, fmt)
        await asyncio.sleep(1.1)  # the zip's and the workbook's own times would differ a second later
        two = await _download(client, token, batch, fmt)
        assert one.status_code == two.status_code == 200
        assert one.content == two.content
    book = load_workbook(io.BytesIO(one.content))
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == batch["lines"] + 1
    assert rows[1][0] == batch["code"]
    audited = await session.scalars(
        select(AuditLog.action).where(
            AuditLog.target_id == str(raw_id(batch["id"])), AuditLog.target_type == "UploadBatch"
        )
    )
    assert sorted(audited) == ["platform.download"] * 4 + ["platform.upload"]


async def test_a_failed_batch_is_kept_and_its_changes_are_resent(client: httpx.AsyncClient):
    token = await token_for(client, COUNTY_EDU)
    batch = (await _upload(client, token))["batch"]
    stale = payload(
        await gql(client, FAILED, {"input": {"batchId": batch["id"], "version": 0, "reason": "平台超时"}}, token),
        "markUploadFailed",
    )
    assert codes(stale) == ["CONFLICT"]
    no_reason = payload(
        await gql(
            client, FAILED, {"input": {"batchId": batch["id"], "version": batch["version"], "reason": " "}}, token
        ),
        "markUploadFailed",
    )
    assert codes(no_reason) == ["REQUIRED"]
    failed = payload(
        await gql(
            client,
            FAILED,
            {"input": {"batchId": batch["id"], "version": batch["version"], "reason": "平台超时"}},
            token,
        ),
        "markUploadFailed",
    )
    assert failed["errors"] == []
    assert (failed["batch"]["status"], failed["batch"]["failureReason"]) == ("FAILED", "平台超时")
    assert len(await _owed(client, token)) == batch["lines"]

    twice = payload(
        await gql(
            client,
            FAILED,
            {"input": {"batchId": batch["id"], "version": failed["batch"]["version"], "reason": "再"}},
            token,
        ),
        "markUploadFailed",
    )
    assert codes(twice) == ["BAD_STATUS"]
    resent = (await _upload(client, token))["batch"]
    assert (resent["number"], resent["lines"]) == (batch["number"] + 1, batch["lines"])
    old = _csv_rows((await _download(client, token, batch, "csv")).content)
    new = _csv_rows((await _download(client, token, resent, "csv")).content)
    assert [r[2:] for r in old[1:]] == [r[2:] for r in new[1:]]  # the same changes, under the new batch's code

    accepted = payload(
        await gql(client, ACCEPTED, {"input": {"batchId": resent["id"], "version": resent["version"]}}, token),
        "markUploadAccepted",
    )
    assert accepted["batch"]["status"] == "ACCEPTED"
    listed = (await gql(client, BATCHES, {"f": {"countyCode": WUDING}}, token))["data"]["uploadBatches"]
    assert [(n["node"]["number"], n["node"]["status"]) for n in listed["edges"]] == [
        (1, "ACCEPTED"),  # the demo's
        (batch["number"], "FAILED"),
        (resent["number"], "ACCEPTED"),
    ]


async def test_cities_read_counts_and_batches_of_their_counties_only(client: httpx.AsyncClient):
    county, city = await token_for(client, COUNTY_EDU), await token_for(client, CITY_EDU)
    owed = len(await _owed(client, county))
    counts = (await gql(client, COUNTS, {"code": "5323"}, city))["data"]["platformOwedCounts"]
    assert len(counts) == 10  # every county of 楚雄州
    assert next(c for c in counts if c["countyCode"] == WUDING)["owed"] == owed
    batch = (await _upload(client, county))["batch"]
    counts = (await gql(client, COUNTS, {"code": "5323"}, city))["data"]["platformOwedCounts"]
    assert next(c for c in counts if c["countyCode"] == WUDING)["owed"] == 0
    listed = (await gql(client, BATCHES, {"f": {"countyCode": WUDING}}, city))["data"]["uploadBatches"]
    assert [e["node"]["number"] for e in listed["edges"]] == [1, batch["number"]]  # the demo's first, then this one
    assert listed["edges"][-1]["node"]["id"] == batch["id"]
    # A city reads the batch, never its file (the IDs in full are the county bureau's to send).
    assert (await _download(client, city, batch, "csv")).status_code == 403
    assert error_codes(await gql(client, OWED, {"f": {"countyCode": WUDING}}, city)) == ["FORBIDDEN"]


def _refusal(result: dict, holds: bool) -> str:
    """FORBIDDEN for a role without the right anywhere; for one holding it elsewhere, 武定 answers as a
    county that does not exist would (README "Error codes")."""
    if not holds:
        return ",".join(error_codes(result))
    return ",".join(e["extensions"]["reason"] for e in result["errors"])


@pytest.mark.parametrize(
    ("account", "rights", "why"),
    [
        (NEIGHBOUR_EDU, {"UPLOAD", "READ"}, "a sibling county's bureau"),
        (COUNTY_GOV, set(), "the county government: personal data, but not the education platform"),
        (OTHER_PROVINCE, {"READ"}, "another province"),
        ("edu-nation-CN", set(), "the ministry: no personal data"),
        ("staff-school-2153000036", set(), "a school"),
    ],
)
async def test_others_may_not_make_read_or_download_a_countys_batches(
    client: httpx.AsyncClient, account: str, rights: set[str], why: str
):
    own = await token_for(client, COUNTY_EDU)
    batch = (await _upload(client, own))["batch"]
    token = await token_for(client, account)
    refused = await gql(client, UPLOAD, {"input": {"countyCode": WUDING}}, token)
    if "UPLOAD" in rights:
        assert codes(refused["data"]["uploadBatch"]) == ["UNKNOWN_REGION"], why
        assert refused["data"]["uploadBatch"]["batch"] is None
    else:
        assert error_codes(refused) == ["FORBIDDEN"], why
        assert refused["data"] is None
    owed = await gql(client, OWED, {"f": {"countyCode": WUDING}}, token)
    assert _refusal(owed, "UPLOAD" in rights) == ("UNKNOWN_REGION" if "UPLOAD" in rights else "FORBIDDEN"), why
    expected = "UNKNOWN_REGION" if "READ" in rights else "FORBIDDEN"
    listed = await gql(client, BATCHES, {"f": {"countyCode": WUDING}}, token)
    assert _refusal(listed, "READ" in rights) == expected, why
    assert listed["data"]["uploadBatches"] is None
    counts = await gql(client, COUNTS, {"code": WUDING}, token)
    assert _refusal(counts, "READ" in rights) == expected, why
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": batch["id"]}, token)
    assert node["data"]["node"] is None, why
    assert (await _download(client, token, batch, "csv")).status_code in (403, 404), why
    marked = await gql(
        client, FAILED, {"input": {"batchId": batch["id"], "version": batch["version"], "reason": "x"}}, token
    )
    assert codes(payload(marked, "markUploadFailed")) == ["NOT_FOUND"], why  # as for a batch that does not exist


async def test_a_neighbours_batches_are_not_in_my_list(client: httpx.AsyncClient):
    own, neighbour = await token_for(client, COUNTY_EDU), await token_for(client, NEIGHBOUR_EDU)
    mine = (await _upload(client, own))["batch"]
    theirs = (await _upload(client, neighbour, "532328"))["batch"]
    listed = (await gql(client, BATCHES, {}, own))["data"]["uploadBatches"]
    ids = [e["node"]["id"] for e in listed["edges"]]
    assert mine["id"] in ids
    assert theirs["id"] not in ids
    assert (await _download(client, own, theirs, "csv")).status_code == 404


async def test_no_file_without_a_token(client: httpx.AsyncClient):
    own = await token_for(client, COUNTY_EDU)
    batch = (await _upload(client, own))["batch"]
    assert (await client.get(batch["downloadUrl"])).status_code == 401
    bad = await client.get(batch["downloadUrl"].replace("csv", "pdf"), headers={"Authorization": f"Bearer {own}"})
    assert bad.status_code == 400
    by_global_id = await client.get(
        f"/platform/batches/{batch['id']}/download", headers={"Authorization": f"Bearer {own}"}
    )
    assert by_global_id.status_code == 200
    assert by_global_id.content == (await _download(client, own, batch, "csv")).content
    for wrong in ("UmVwb3J0OjE=", "not-an-id", "99999999"):
        missing = await client.get(f"/platform/batches/{wrong}/download", headers={"Authorization": f"Bearer {own}"})
        assert missing.status_code == 404, wrong


async def test_a_changes_county_is_the_entrys_responsible_county(client: httpx.AsyncClient, session: AsyncSession):
    """An entry owes its changes to the county that answers for it (001 §2.2), and no other county's batch
    takes them."""
    own = await token_for(client, COUNTY_EDU)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    await _upload(client, neighbour, "532328")
    student = await make_student(client, own, name="武定儿童")
    entry = await open_entry(client, own, student["id"])
    assert codes(await _upload(client, neighbour, "532328")) == ["NOTHING_OWED"]
    entry_id = raw_id(entry["entry"]["id"])
    found = await session.scalars(text("SELECT county_path FROM platform_change WHERE entry_id = :e"), {"e": entry_id})
    assert list(found) == ["53/5323/532329"]
    mine = await _owed(client, own)
    assert mine[-1]["entry"]["id"] == gid("LedgerEntry", entry_id)
    node = "query($id: ID!) { node(id: $id) { ... on PlatformChange { kind countyCode } } }"
    change = {"id": mine[-1]["id"]}
    assert (await gql(client, node, change, own))["data"]["node"] == {"kind": "SUSPECTED", "countyCode": WUDING}
    assert (await gql(client, node, change, neighbour))["data"]["node"] is None  # a sibling county's
    assert (await gql(client, node, change, await token_for(client, CITY_EDU)))["data"]["node"] is None


def test_only_roles_that_read_personal_data_may_upload():
    """The file carries national IDs in full: every role granted PLATFORM:UPLOAD also reads personal data
    (CHILD:READ_PII), and the uploading role is the county bureau's alone: it keeps the ledgers (seed 004 §2:
    县级教育行政部门要…建立"三本台账") whose new cases are entered on the platform (004 §9: 要及时录入管理服务平台)."""
    roles = role_permissions()
    uploaders = {role for role, perms in roles.items() if "PLATFORM:UPLOAD" in perms}
    assert uploaders == {"COUNTY_EDU"}
    assert all("CHILD:READ_PII" in roles[role] for role in uploaders)
    assert "PLATFORM:UPLOAD" not in roles["MINISTRY"]
    assert {role for role, perms in roles.items() if "PLATFORM:READ" in perms} == {
        "COUNTY_EDU",
        "CITY_EDU",
        "PROVINCE_EDU",
        "SUPERVISOR",
    }
