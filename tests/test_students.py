"""Students: national IDs masked unless the role may see them, full reads and reveals audited."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import select

from models import AuditLog, Child
from models.child import mask_national_id, national_id_problem
from tests.conftest import error_codes, gql, token_for

WUDING = "532329"
STUDENT = """query($id: ID!) { node(id: $id) { ... on Student {
  name nationalId registryNumber stage grade specialGroups guardians { name relation phone } } } }"""
REVEAL = """mutation($input: RevealNationalIdInput!) { revealNationalId(input: $input) {
  nationalId errors { field code message } } }"""


def gid(child_id: int) -> str:
    return base64.b64encode(f"Student:{child_id}".encode()).decode()


@pytest.fixture
async def wuding_pupil(session) -> Child:
    stmt = select(Child).where(Child.school_path.like(f"53/5323/{WUDING}/%")).order_by(Child.id)
    return (await session.scalars(stmt)).first()


async def test_county_bureau_sees_the_full_id_and_the_read_is_audited(client, session, wuding_pupil):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(client, STUDENT, {"id": gid(wuding_pupil.id)}, token)
    student = result["data"]["node"]
    assert student["nationalId"] == wuding_pupil.national_id
    assert student["registryNumber"] == f"G{wuding_pupil.national_id}"
    assert student["guardians"][0]["phone"].isdigit()
    reads = (
        await session.scalars(
            select(AuditLog).where(
                AuditLog.action == "student.read_personal_data", AuditLog.actor == f"edu-county-{WUDING}"
            )
        )
    ).all()
    assert [r.target_id for r in reads] == [str(wuding_pupil.id)]


async def test_city_bureau_sees_the_id_masked_and_no_read_is_audited(client, session, wuding_pupil):
    token = await token_for(client, "edu-city-5323")
    student = (await gql(client, STUDENT, {"id": gid(wuding_pupil.id)}, token))["data"]["node"]
    full = wuding_pupil.national_id
    assert student["nationalId"] == f"{full[:6]}********{full[-4:]}"
    assert "*" in student["guardians"][0]["phone"]
    audited = await session.scalar(select(AuditLog.id).where(AuditLog.actor == "edu-city-5323"))
    assert audited is None


async def test_reveal_returns_the_full_id_and_audits_the_reason(client, session, wuding_pupil):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(
        client, REVEAL, {"input": {"studentId": gid(wuding_pupil.id), "reason": "核对学籍 / check registry"}}, token
    )
    assert result["data"]["revealNationalId"] == {"nationalId": wuding_pupil.national_id, "errors": []}
    row = (await session.scalars(select(AuditLog).where(AuditLog.action == "student.reveal_national_id"))).one()
    assert (row.actor, row.target_id, row.reason) == (
        f"edu-county-{WUDING}",
        str(wuding_pupil.id),
        "核对学籍 / check registry",
    )


async def test_reveal_is_refused_to_a_role_without_the_right(client, wuding_pupil):
    token = await token_for(client, "edu-city-5323")
    result = await gql(client, REVEAL, {"input": {"studentId": gid(wuding_pupil.id), "reason": "curious"}}, token)
    assert error_codes(result) == ["FORBIDDEN"]


async def test_reveal_of_a_neighbours_student_answers_like_a_missing_one(client, wuding_pupil):
    token = await token_for(client, "edu-county-532328")
    result = await gql(client, REVEAL, {"input": {"studentId": gid(wuding_pupil.id), "reason": "x"}}, token)
    assert result["data"]["revealNationalId"]["nationalId"] is None
    assert [e["code"] for e in result["data"]["revealNationalId"]["errors"]] == ["NOT_FOUND"]


async def test_reveal_needs_a_reason(client, wuding_pupil):
    token = await token_for(client, f"edu-county-{WUDING}")
    result = await gql(client, REVEAL, {"input": {"studentId": gid(wuding_pupil.id), "reason": " "}}, token)
    assert [e["field"] for e in result["data"]["revealNationalId"]["errors"]] == ["reason"]


async def test_stage_follows_the_grade_and_special_groups_are_listed(client, session):
    token = await token_for(client, "edu-city-5323")
    left_behind = (
        await session.scalars(
            select(Child).where(Child.special_groups.contains(["LEFT_BEHIND"]), Child.school_path.like("53/5323/%"))
        )
    ).first()
    student = (await gql(client, STUDENT, {"id": gid(left_behind.id)}, token))["data"]["node"]
    assert "LEFT_BEHIND" in student["specialGroups"]
    assert student["stage"] == ("PRIMARY" if student["grade"] <= 6 else "JUNIOR")


def test_masking_keeps_the_first_six_and_last_four():
    assert mask_national_id("532329201503010012") == "532329********0012"
    assert mask_national_id(None) is None


@pytest.mark.parametrize(
    ("number", "birth", "code"),
    [
        ("532329201503010012", date(2015, 3, 1), None),
        ("532329201503010013", date(2015, 3, 1), "INVALID_CHECK_DIGIT"),
        ("532329201503010012", date(2015, 3, 2), "BIRTH_DATE_MISMATCH"),
        ("53232920150301001", date(2015, 3, 1), "INVALID_NATIONAL_ID"),
        ("999999201503010016", date(2015, 3, 1), "INVALID_NATIONAL_ID"),  # no such region prefix
    ],
)
def test_national_id_rules(number, birth, code):
    from stdnum.cn import ric

    if code is None:
        assert ric.is_valid(number)
    problem = national_id_problem(number, birth)
    assert (problem[0] if problem else None) == code


async def test_demo_ids_are_valid_and_match_birth_dates(session):
    for child in (await session.scalars(select(Child))).all():
        assert national_id_problem(child.national_id, child.birth_date) is None


async def test_a_full_read_stays_audited_even_when_the_operation_fails(client, sessions):
    """The ID was read in full before another field failed: that read stays audited after the rollback."""
    token = await token_for(client, f"edu-county-{WUDING}")
    first = await gql(client, "{ students(first: 1) { edges { node { id } } } }", token=token)
    student_id = first["data"]["students"]["edges"][0]["node"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on Student { nationalId } } regions(first: 101) { totalCount } }"
    result = await gql(client, query, {"id": student_id}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"]  # the second field fails: the operation rolls back
    async with sessions() as fresh:
        reads = (
            await fresh.scalars(select(AuditLog.target_id).where(AuditLog.action == "student.read_personal_data"))
        ).all()
    assert reads == [base64.b64decode(student_id).decode().split(":")[1]]
