"""Shared steps for the key-transition tests (POLICY 003 二(二)): pupils who finish primary or junior school,
the 中考 registration roster, and the county's lists, as the demo accounts of 武定县 (Wuding)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from models.child import Child
from tests.conftest import gql, payload, token_for
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE, make_student, raw_id
from tests.roster_support import csv_bytes

WUDING_JUNIOR = "2153000035"  # 武定县第二中学 (junior only)
CITY_EDU = "edu-city-5323"  # 楚雄州教育局
CITY_GOV = "gov-city-5323"
COUNTY_GOV = "gov-county-532329"

CHANGE = """mutation($input: RecordEnrolmentChangeInput!) { recordEnrolmentChange(input: $input) {
  student { id version } errors { field code message } } }"""
LEAVERS = """query($f: PrimaryLeaverFilter, $first: Int, $after: String) {
  primaryLeaversNotEnrolled(filter: $f, first: $first, after: $after) {
  totalCount schoolYear listedFrom pageInfo { hasNextPage endCursor }
  edges { cursor node { student { id name } finishedPrimaryOn lastSchoolCode proposedCategory
    entry { id category ledger } } } } }"""
LEAVER_COUNTS = """query($r: String, $y: Int, $by: AggregateLevel!) {
  primaryLeaverCounts(regionCode: $r, schoolYear: $y, by: $by) { regionCode listed onLedger } }"""
GAPS = """query($f: ExamRegistrationGapFilter, $first: Int, $after: String) {
  examRegistrationGaps(filter: $f, first: $first, after: $after) {
  totalCount schoolYear pageInfo { hasNextPage endCursor }
  edges { node { student { id name } schoolCode explanation { reason note explainedBy version }
    entry { id } } } } }"""
GAP_COUNTS = """query($r: String, $y: Int, $by: AggregateLevel!) {
  examRegistrationGapCounts(regionCode: $r, schoolYear: $y, by: $by) {
  regionCode pupils gaps explained unexplained } }"""
EXPLAIN = """mutation($input: ExplainExamRegistrationGapInput!) { explainExamRegistrationGap(input: $input) {
  explanation { reason note explainedBy version } errors { field code message } } }"""
EXAM_HEADERS = ["姓名", "公民身份号码", "学籍号", "学校标识码", "报名号"]


async def pupil(
    client: httpx.AsyncClient,
    token: str,
    *,
    school: str,
    grade: int,
    enrolled_on: date,
    birth: date,
    village: str = WUDING_VILLAGE,
) -> dict[str, Any]:
    return await make_student(
        client, token, school=school, grade=grade, birth=birth, village=village, enrolledOn=enrolled_on.isoformat()
    )


async def change(
    client: httpx.AsyncClient, token: str, student: dict[str, Any], kind: str, school: str, grade: int, on: date
) -> dict[str, Any]:
    """Record an enrolment change; the student's new version."""
    variables = {
        "input": {
            "studentId": student["id"],
            "change": kind,
            "schoolCode": school,
            "grade": grade,
            "on": on.isoformat(),
            "version": student["version"],
        }
    }
    result = payload(await gql(client, CHANGE, variables, token), "recordEnrolmentChange")
    assert result["errors"] == [], result
    return {**student, "version": result["student"]["version"]}


async def primary_leaver(
    client: httpx.AsyncClient, token: str, *, finished: date = date(2026, 7, 1), village: str = WUDING_VILLAGE
) -> dict[str, Any]:
    """A pupil who finished grade 6 at the Wuding primary school on `finished` and has no school since."""
    year = finished.year if finished.month >= 9 else finished.year - 1
    student = await pupil(
        client,
        token,
        school=WUDING_PRIMARY,
        grade=6,
        enrolled_on=date(year, 9, 1),
        birth=date(year - 11, 3, 4),
        village=village,
    )
    return await change(client, token, student, "GRADUATE", WUDING_PRIMARY, 6, finished)


async def grade9(
    client: httpx.AsyncClient, token: str, *, graduated: date | None = None, school: str = WUDING_JUNIOR
) -> dict[str, Any]:
    """A grade-9 pupil of the Wuding junior school: now (enrolled this school year), or graduated on a day."""
    year = 2026 if graduated is None else graduated.year - 1
    student = await pupil(
        client, token, school=school, grade=9, enrolled_on=date(year, 9, 1), birth=date(year - 14, 5, 6)
    )
    if graduated is not None:
        student = await change(client, token, student, "GRADUATE", school, 9, graduated)
    return student


async def identity(session: AsyncSession, student: dict[str, Any]) -> Child:
    child = await session.get(Child, raw_id(student["id"]))
    assert child is not None
    await session.refresh(child)
    return child


async def upload_exam_roster(
    client: httpx.AsyncClient,
    username: str,
    rows: list[list[object]],
    *,
    as_of: date,
    county: str = "532329",
    extra: list[str] | None = None,
    headers: list[str] | None = None,
) -> httpx.Response:
    token = await token_for(client, username)
    columns = [*(headers or EXAM_HEADERS), *(extra or [])]
    return await client.post(
        "/rosters",
        data={"kind": "EXAM_REGISTRATION", "jurisdiction": county, "asOf": as_of.isoformat()},
        files={"file": ("zhongkao.csv", csv_bytes([columns, *rows]), "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )


APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status counts { matched new } } errors { field code message } } }"""


async def apply_batch(client: httpx.AsyncClient, username: str, batch_id: str, version: int = 2) -> dict[str, Any]:
    token = await token_for(client, username)
    result = await gql(client, APPLY, {"input": {"id": batch_id, "version": version}}, token)
    return payload(result, "applyRosterImport")  # type: ignore[no-any-return]


def names(connection: dict[str, Any]) -> set[str]:
    return {e["node"]["student"]["id"] for e in connection["edges"]}


async def leavers(client: httpx.AsyncClient, token: str, **f: Any) -> dict[str, Any]:
    return await gql(client, LEAVERS, {"f": f, "first": 100}, token)


async def gaps(client: httpx.AsyncClient, token: str, **f: Any) -> dict[str, Any]:
    return await gql(client, GAPS, {"f": f, "first": 100}, token)


async def explain(
    client: httpx.AsyncClient,
    token: str,
    student: dict[str, Any],
    reason: str,
    *,
    year: int,
    version: int = 0,
    note: str = "",
) -> dict[str, Any]:
    variables = {
        "input": {"pupilId": student["id"], "schoolYear": year, "reason": reason, "note": note, "version": version}
    }
    return payload(await gql(client, EXPLAIN, variables, token), "explainExamRegistrationGap")  # type: ignore[no-any-return]
