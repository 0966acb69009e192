"""Pushed-down lists for the verification tests: a list written as CSV, uploaded by its sender over HTTP and
applied through GraphQL, and the queries the tests read tasks and progress with."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.conftest import gql, token_for
from tests.roster_support import csv_bytes

MINISTRY = "edu-nation-CN"
WUDING_BUREAU, YUANMOU_BUREAU = "edu-county-532329", "edu-county-532328"
WUDING_SCHOOL = "2153000036"  # 武定县狮山镇中心小学
YUANMOU_SCHOOL = "2153000031"  # a primary school of 元谋县
WUDING_VILLAGE, WUDING_VILLAGE_2 = "532329101201", "532329102201"  # 狮山村, 高桥村
YUANMOU_VILLAGE = "532328101206"  # 乐甫村
HEADER = ["姓名", "性别", "公民身份号码", "学校标识码", "户籍地区划代码", "现住址区划代码"]

TASK_FIELDS = """id number batchNumber line status route unroutableReason countyCode dueOn overdue name nationalId
    registryNumber outcome notDropoutReason atSchoolCode reroutedToCode note ledgerEntryId previousTaskId version"""
TASKS = f"""query($f: VerificationTaskFilter, $after: String) {{
  verificationTasks(filter: $f, first: 100, after: $after) {{ totalCount edges {{ node {{ {TASK_FIELDS} }} }} }}
}}"""
PROGRESS = """query($batch: ID, $by: ProgressLevel!) {
  verificationProgress(batchId: $batch, by: $by) {
    regionCode regionName total open done confirmed rerouted overdue unroutable notDropout { reason count }
  }
}"""
VERIFY = f"""mutation($input: VerifyTaskInput!) {{
  verifyTask(input: $input) {{
    task {{ {TASK_FIELDS} }} reroutedTo {{ {TASK_FIELDS} }} errors {{ field code message }}
  }}
}}"""
APPLY = """mutation($input: ApplyRosterImportInput!) {
  applyRosterImport(input: $input) { rosterImport { id status version } errors { code } }
}"""
BATCH = "query($id: ID!) { node(id: $id) { ... on RosterImport { version status counts { read valid refused } } } }"


async def upload(
    client: httpx.AsyncClient, sender: str, rows: list[list[str]], *, jurisdiction: str = "CN"
) -> httpx.Response:
    token = await token_for(client, sender)
    return await client.post(
        "/rosters",
        data={"kind": "PUSHED", "jurisdiction": jurisdiction, "asOf": date(2026, 11, 20).isoformat()},
        files={"file": ("pushed.csv", csv_bytes([HEADER, *rows]), "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )


async def send(client: httpx.AsyncClient, rows: list[list[str]], sender: str = MINISTRY, **kw: Any) -> str:
    """Upload a list as its sender and apply it: the batch's global ID."""
    response = await upload(client, sender, rows, **kw)
    assert response.status_code == 201, response.text
    batch_id: str = response.json()["id"]
    token = await token_for(client, sender)
    version = (await gql(client, BATCH, {"id": batch_id}, token))["data"]["node"]["version"]
    applied = await gql(client, APPLY, {"input": {"id": batch_id, "version": version}}, token)
    assert applied["data"]["applyRosterImport"]["errors"] == [], applied
    return batch_id


async def tasks(client: httpx.AsyncClient, who: str, **f: Any) -> list[dict[str, Any]] | None:
    """The tasks `who` reads (None when refused), by line."""
    result = await gql(client, TASKS, {"f": f}, await token_for(client, who))
    found = result["data"]["verificationTasks"]
    if found is None:
        return None
    return sorted((e["node"] for e in found["edges"]), key=lambda t: (t["line"], t["number"]))


async def verify(client: httpx.AsyncClient, who: str, task: dict[str, Any], **answer: Any) -> dict[str, Any]:
    """`verifyTask` as `who` on a task read before: the payload, or the whole answer when refused."""
    variables = {"input": {"id": task["id"], "version": task["version"], **answer}}
    result = await gql(client, VERIFY, variables, await token_for(client, who))
    return (result.get("data") or {}).get("verifyTask") or result


async def progress(client: httpx.AsyncClient, who: str, batch: str | None, by: str) -> Any:
    result = await gql(client, PROGRESS, {"batch": batch, "by": by}, await token_for(client, who))
    return result["data"]["verificationProgress"], result
