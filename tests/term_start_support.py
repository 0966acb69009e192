"""Shared steps for the term-start reporting tests (POLICY 002 一(三)): pupils enrolled before the spring
term ended, attendance in the autumn window (1–15 September 2026 by default), the list, the reasons."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.conftest import gql, payload
from tests.ledger_support import ATTENDANCE, WUDING_PRIMARY, make_student, record_absent, school_days

TERM = "2026-AUTUMN"
WINDOW = school_days(date(2026, 9, 1), date(2026, 9, 15))  # the autumn window's school days (default settings)
TOWNSHIP = "gov-township-532329101"  # 狮山镇: the test pupils live in its village 狮山村
OTHER_TOWNSHIP = "gov-township-532328101"  # 元马镇, 元谋县

PUPIL = """student { id name } term schoolCode schoolName grade termStart windowClosesOn windowClosed daysAbsent onLeave
  explanation { id reason receivingSchoolCode note explainedBy version entry { id ledger source status } }
  visits { id visitedOn method participants outcome recordedBy }
  report { reportId status reasonReported }"""
LIST = f"""query($f: UnreportedFilter!, $first: Int, $after: String) {{
  unreportedPupils(filter: $f, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {PUPIL} }} }} }} }}"""
EXPLAIN = f"""mutation($input: ExplainUnreportedInput!) {{ explainUnreported(input: $input) {{
  pupil {{ {PUPIL} }} errors {{ field code message }} }} }}"""
VISIT = """mutation($input: RecordTermStartVisitInput!) { recordTermStartVisit(input: $input) {
  visit { id term visitedOn method participants outcome recordedBy } errors { field code message } } }"""
ENROLMENT = """mutation($input: RecordEnrolmentChangeInput!) { recordEnrolmentChange(input: $input) {
  student { id version } errors { field code message } } }"""


async def enrolled_pupil(
    client: httpx.AsyncClient, token: str, *, enrolled_on: date = date(2025, 9, 1), grade: int = 3
) -> dict[str, Any]:
    """A pupil of 武定县狮山镇中心小学, enrolled on `enrolled_on` (before the spring term ended by default)."""
    return await make_student(client, token, grade=grade, enrolledOn=enrolled_on.isoformat())


async def absent_in_window(client: httpx.AsyncClient, token: str, student_id: str, days: int = 3) -> None:
    for answer in await record_absent(client, token, student_id, WINDOW[:days]):
        assert answer["errors"] == [], answer


async def register_class(client: httpx.AsyncClient, token: str, grade: int, day: date) -> None:
    """The class register of grade `grade` taken on `day` with nobody marked: all present."""
    result = await gql(
        client,
        ATTENDANCE,
        {"input": {"day": day.isoformat(), "absences": [], "classOf": {"schoolCode": WUDING_PRIMARY, "grade": grade}}},
        token,
    )
    assert payload(result, "recordAttendance")["errors"] == [], result


async def unreported(client: httpx.AsyncClient, token: str, **filter: Any) -> Any:
    """The whole answer of `unreportedPupils` (data and errors)."""
    return await gql(client, LIST, {"f": {"term": TERM, **filter}, "first": 100}, token)


def listed_ids(answer: Any) -> list[str]:
    return [e["node"]["student"]["id"] for e in answer["data"]["unreportedPupils"]["edges"]]


async def explain(client: httpx.AsyncClient, token: str, student_id: str, reason: str, **extra: Any) -> Any:
    result = await gql(
        client, EXPLAIN, {"input": {"studentId": student_id, "term": TERM, "reason": reason, **extra}}, token
    )
    return payload(result, "explainUnreported")


async def visit(client: httpx.AsyncClient, token: str, student_id: str, **overrides: Any) -> Any:
    values = {
        "studentId": student_id,
        "term": TERM,
        "visitedOn": "2026-09-18",
        "method": "HOME_VISIT",
        "participants": "乡镇干部李明、村委会主任王芳",
        "outcome": "家长承诺下周一送孩子到校",
    } | overrides
    return payload(await gql(client, VISIT, {"input": values}, token), "recordTermStartVisit")
