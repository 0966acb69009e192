"""Shared steps for the migrant and school-age ledger tests: handovers, reading nodes and students."""

from __future__ import annotations

from typing import Any

from tests.conftest import codes, gql, payload, token_for
from tests.ledger_support import (
    ENTRY,
    NEIGHBOUR_EDU,
    WUDING_VILLAGE,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    make_student,
    open_entry,
)

GUYUAN = "640402"  # 原州区, 固原市, 宁夏: another province
GUYUAN_VILLAGE = "640402100200"  # 东塬村委会, 三营镇
SIBLING_EDU = "edu-county-532322"  # 双柏县: same city, unrelated to every child here
WUDING_JUNIOR = "2153000035"  # 武定县第二中学 (county seat)
HUANZHOU_PRIMARY = "2153000037"  # 武定县环州乡中心小学
HUANZHOU_VILLAGE = "532329207201"  # 环州村, 环州乡
GAOQIAO_VILLAGE = "532329102201"  # 高桥村, 插甸镇

HANDOVER_FIELDS = "id fromRegionCode toRegionCode notice sentBy acknowledgedBy acknowledgedAt"
HAND_OVER = f"""mutation($input: HandOverLedgerEntryInput!) {{ handOverLedgerEntry(input: $input) {{
  handover {{ {HANDOVER_FIELDS} }} entry {{ status version responsibleRegionCode handoverRegionCode }}
  errors {{ field code message }} }} }}"""
ACKNOWLEDGE = f"""mutation($input: AcknowledgeHandoverInput!) {{ acknowledgeHandover(input: $input) {{
  handover {{ {HANDOVER_FIELDS} }} entry {{ status version responsibleRegionCode handoverRegionCode }}
  errors {{ field code message }} }} }}"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { status version } errors { field code message } } }"""
RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { status version } errors { field code message } } }"""
UPDATE = """mutation($input: UpdateStudentInput!) { updateStudent(input: $input) {
  student { version } errors { field code message } } }"""
STUDENTS = """query($f: StudentFilter, $after: String) { students(filter: $f, first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
HANDOVERS = f"""query($id: ID!) {{ node(id: $id) {{ ... on LedgerEntry {{ handovers {{ {HANDOVER_FIELDS} }} }} }} }}"""
NOTICE = "该生辍学后随父母迁往宁夏固原市原州区三营镇，请贵局会同户籍地做好劝返复学工作。"


__all__ = ["codes"]  # the migrant tests' name for it


async def node(client, token: str, entry_id: str) -> dict[str, Any] | None:
    return (await gql(client, ENTRY, {"id": entry_id}, token))["data"]["node"]  # type: ignore[no-any-return]


async def student_ids(client, token: str, **f: Any) -> set[str]:
    """Every student the caller's `students` list shows (all pages)."""
    ids: set[str] = set()
    after = None
    while True:
        page = (await gql(client, STUDENTS, {"f": f, "after": after}, token))["data"]["students"]
        ids |= {e["node"]["id"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def hand_over(client, token: str, entry: dict[str, Any], to: str, notice: str = NOTICE, **over: Any):
    variables = {"entryId": entry["id"], "toRegionCode": to, "notice": notice, "version": entry["version"], **over}
    return payload(await gql(client, HAND_OVER, {"input": variables}, token), "handOverLedgerEntry")


async def acknowledge(client, token: str, handover_id: str):
    return payload(await gql(client, ACKNOWLEDGE, {"input": {"handoverId": handover_id}}, token), "acknowledgeHandover")


async def migrant_on_ledger(client) -> tuple[str, dict[str, Any]]:
    """A child registered in Wuding, living and at school in Yuanmou, put on the ledger by Yuanmou."""
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    child = await make_student(
        client, yuanmou, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY, grade=4
    )
    opened = await open_entry(client, yuanmou, child["id"], source="COMPARISON")
    assert opened["errors"] == []
    return yuanmou, opened["entry"]
