"""Role administration through GraphQL: permission admins act only inside their own scope."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditLog, RoleGrant
from models.base import utcnow
from tests.conftest import error_codes, gql, login, token_for

WUDING, YUANMOU = "532329", "532328"

CREATE = """mutation($input: CreateAccountInput!) { createAccount(input: $input) {
  account { username homePath active } errors { field code message } } }"""
GRANT = """mutation($input: GrantRoleInput!) { grantRole(input: $input) {
  grant { id username role jurisdictionCode jurisdictionPath status grantedBy reason }
  errors { field code message } } }"""
REVOKE = """mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) {
  grant { id status revokedBy revokeReason } errors { field code message } } }"""
DISABLE = """mutation($input: DisableAccountInput!) { disableAccount(input: $input) {
  account { username active } errors { field code message } } }"""
SCHOOLS = "{ schools(first: 100) { totalCount } }"
PASSWORD = "a-long-password-1"


@pytest.fixture
async def admin(client):
    return await token_for(client, f"admin-county-{WUDING}")


async def create(client, token, username, jurisdiction=WUDING, **extra):
    data = {
        "username": username,
        "displayName": "测试用户",
        "jurisdictionCode": jurisdiction,
        "password": "a-long-password-1",
    }
    return (await gql(client, CREATE, {"input": {**data, **extra}}, token))["data"]["createAccount"]


async def grant(client, token, username, role, jurisdiction, **extra):
    data = {"username": username, "role": role, "jurisdictionCode": jurisdiction, "reason": "新任 / new post"}
    return (await gql(client, GRANT, {"input": {**data, **extra}}, token))["data"]["grantRole"]


async def test_admin_creates_an_account_grants_a_role_and_it_takes_effect(client, admin, session):
    created = await create(client, admin, "wd-clerk")
    assert created["errors"] == []
    assert created["account"] == {"username": "wd-clerk", "homePath": "53/5323/532329", "active": True}
    clerk = await token_for(client, "wd-clerk", PASSWORD)
    assert (await gql(client, SCHOOLS, token=clerk))["data"]["schools"]["totalCount"] == 0  # no grant: nothing

    granted = await grant(client, admin, "wd-clerk", "COUNTY_EDU", WUDING)
    assert granted["errors"] == []
    assert granted["grant"]["status"] == "ACTIVE"
    assert granted["grant"]["grantedBy"] == f"admin-county-{WUDING}"
    assert (await gql(client, SCHOOLS, token=clerk))["data"]["schools"]["totalCount"] > 0

    viewer = await gql(
        client, "{ viewer { grants { role jurisdictionPath } permissions { permission } } }", token=clerk
    )
    assert viewer["data"]["viewer"]["grants"] == [{"role": "COUNTY_EDU", "jurisdictionPath": "53/5323/532329"}]
    assert {"permission": "CHILD:READ:EDU"} in viewer["data"]["viewer"]["permissions"]

    revoked = await gql(
        client, REVOKE, {"input": {"grantId": granted["grant"]["id"], "reason": "调离 / transferred"}}, admin
    )
    assert revoked["data"]["revokeGrant"]["errors"] == []
    assert revoked["data"]["revokeGrant"]["grant"]["status"] == "REVOKED"
    assert (await gql(client, SCHOOLS, token=clerk))["data"]["schools"]["totalCount"] == 0

    actions = (await session.scalars(select(AuditLog.action).where(AuditLog.actor == f"admin-county-{WUDING}"))).all()
    assert actions == ["account.create", "grant.create", "grant.revoke"]
    row = (await session.scalars(select(RoleGrant).where(RoleGrant.reason == "新任 / new post"))).one()
    assert row.revoked_at is not None  # revoked, never deleted


@pytest.mark.parametrize(
    ("role", "jurisdiction", "code"),
    [
        ("COUNTY_EDU", YUANMOU, "OUT_OF_SCOPE"),  # the sibling county
        ("CITY_EDU", "5323", "OUT_OF_SCOPE"),  # above the admin
        ("COUNTY_EDU", "532329101", "LEVEL_MISMATCH"),  # a county role at a township
        ("TOWNSHIP", WUDING, "LEVEL_MISMATCH"),
        ("PERMISSION_ADMIN", WUDING, "ESCALATION"),  # an admin at its own level
        ("MINISTRY", "CN", "OUT_OF_SCOPE"),
    ],
)
async def test_escalation_attempts_are_refused_with_typed_errors_and_nothing_written(
    client, admin, session, role, jurisdiction, code
):
    await create(client, admin, "wd-target")
    before = len((await session.scalars(select(RoleGrant.id))).all())
    result = await grant(client, admin, "wd-target", role, jurisdiction)
    assert result["grant"] is None
    assert [e["code"] for e in result["errors"]] == [code]
    assert " / " in result["errors"][0]["message"]  # Chinese and English
    assert len((await session.scalars(select(RoleGrant.id))).all()) == before


async def test_an_admin_cannot_grant_itself(client, admin):
    result = await grant(client, admin, f"admin-county-{WUDING}", "COUNTY_EDU", WUDING)
    assert [e["code"] for e in result["errors"]] == ["SELF_GRANT"]


async def test_an_admin_cannot_reach_accounts_of_a_sibling_county(client, admin):
    result = await grant(client, admin, f"edu-county-{YUANMOU}", "COUNTY_EDU", WUDING)
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("username", "NOT_FOUND")]
    listed = await gql(client, '{ accounts(filter: {usernameContains: "532328"}) { totalCount } }', token=admin)
    assert listed["data"]["accounts"]["totalCount"] == 0


async def test_a_city_admin_may_grant_county_admins_but_a_county_admin_may_not(client):
    city_admin = await token_for(client, "admin-city-5323")
    await create(client, city_admin, "yd-new-admin", jurisdiction=YUANMOU)
    ok = await grant(client, city_admin, "yd-new-admin", "PERMISSION_ADMIN", YUANMOU)
    assert ok["errors"] == []
    refused = await grant(client, city_admin, "yd-new-admin", "PERMISSION_ADMIN", "5323")
    assert [e["code"] for e in refused["errors"]] == ["ESCALATION"]


async def test_a_province_admin_may_grant_a_province_admin(client):
    province_admin = await token_for(client, "admin-province-53")
    await create(client, province_admin, "yn-deputy-admin", jurisdiction="53")
    assert (await grant(client, province_admin, "yn-deputy-admin", "PERMISSION_ADMIN", "53"))["errors"] == []


async def test_revoking_is_limited_to_what_the_admin_could_grant(client, admin, session):
    city_admin = await token_for(client, "admin-city-5323")
    await create(client, city_admin, "wd-admin-two", jurisdiction=WUDING)
    made = await grant(client, city_admin, "wd-admin-two", "PERMISSION_ADMIN", WUDING)
    # the county admin may not revoke a county-level admin grant (it could not have made it)
    result = await gql(client, REVOKE, {"input": {"grantId": made["grant"]["id"], "reason": "x"}}, admin)
    assert [e["code"] for e in result["data"]["revokeGrant"]["errors"]] == ["ESCALATION"]
    # nor a grant in the sibling county, which answers like a missing one
    sibling = (await session.scalars(select(RoleGrant).where(RoleGrant.jurisdiction_code == YUANMOU))).first()
    gid = base64.b64encode(f"Grant:{sibling.id}".encode()).decode()
    result = await gql(client, REVOKE, {"input": {"grantId": gid, "reason": "x"}}, admin)
    assert [e["code"] for e in result["data"]["revokeGrant"]["errors"]] == ["NOT_FOUND"]


async def test_revoking_twice_is_a_typed_error(client, admin):
    await create(client, admin, "wd-twice")
    made = await grant(client, admin, "wd-twice", "TOWNSHIP", "532329101")
    first = await gql(client, REVOKE, {"input": {"grantId": made["grant"]["id"], "reason": "done"}}, admin)
    assert first["data"]["revokeGrant"]["errors"] == []
    again = await gql(client, REVOKE, {"input": {"grantId": made["grant"]["id"], "reason": "done"}}, admin)
    assert [e["code"] for e in again["data"]["revokeGrant"]["errors"]] == ["ALREADY_REVOKED"]


async def test_an_expired_grant_stops_working_and_is_listed_only_on_request(client, admin, session):
    await create(client, admin, "wd-temp")
    soon = utcnow() + timedelta(seconds=10)  # room for the sign-in and first query on a loaded CI machine
    await grant(client, admin, "wd-temp", "COUNTY_EDU", WUDING, expiresAt=soon.isoformat())
    temp = await token_for(client, "wd-temp", PASSWORD)
    assert (await gql(client, SCHOOLS, token=temp))["data"]["schools"]["totalCount"] > 0
    await asyncio.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.2)  # the grant runs out
    assert (await gql(client, SCHOOLS, token=temp))["data"]["schools"]["totalCount"] == 0
    listed = await gql(client, '{ grants(filter: {username: "wd-temp"}) { totalCount } }', token=admin)
    assert listed["data"]["grants"]["totalCount"] == 0
    listed = await gql(
        client,
        '{ grants(filter: {username: "wd-temp", includeExpired: true}) { edges { node { status } } } }',
        token=admin,
    )
    assert [e["node"]["status"] for e in listed["data"]["grants"]["edges"]] == ["EXPIRED"]


async def test_expiry_in_the_past_is_refused(client, admin):
    await create(client, admin, "wd-past")
    result = await grant(
        client, admin, "wd-past", "COUNTY_EDU", WUDING, expiresAt=(utcnow() - timedelta(days=1)).isoformat()
    )
    assert [e["code"] for e in result["errors"]] == ["INVALID_EXPIRY"]


async def test_admin_disables_an_account_in_scope_and_it_can_no_longer_sign_in(client, admin):
    await create(client, admin, "wd-leaver")
    result = await gql(client, DISABLE, {"input": {"username": "wd-leaver", "reason": "离职 / left"}}, admin)
    assert result["data"]["disableAccount"] == {"account": {"username": "wd-leaver", "active": False}, "errors": []}
    assert (await login(client, "wd-leaver", "a-long-password-1")).status_code == 401
    sibling = await gql(client, DISABLE, {"input": {"username": f"edu-county-{YUANMOU}", "reason": "x"}}, admin)
    assert [e["code"] for e in sibling["data"]["disableAccount"]["errors"]] == ["NOT_FOUND"]


async def test_creating_an_account_outside_scope_is_refused(client, admin):
    result = await create(client, admin, "yd-intruder", jurisdiction=YUANMOU)
    assert [e["code"] for e in result["errors"]] == ["OUT_OF_SCOPE"]


@pytest.mark.parametrize("username", [f"edu-county-{WUDING}", f"gov-county-{WUDING}", f"supervisor-county-{WUDING}"])
async def test_accounts_without_admin_grants_are_forbidden_to_administer(client, username):
    token = await token_for(client, username)
    data = {"username": "x-someone", "displayName": "x", "jurisdictionCode": WUDING, "password": "a-long-password-1"}
    assert error_codes(await gql(client, CREATE, {"input": data}, token)) == ["FORBIDDEN"]
    grant_input = {"username": f"edu-county-{WUDING}", "role": "COUNTY_EDU", "jurisdictionCode": WUDING, "reason": "x"}
    assert error_codes(await gql(client, GRANT, {"input": grant_input}, token)) == ["FORBIDDEN"]


async def test_grants_list_is_scoped_and_filterable(client, admin):
    result = await gql(
        client,
        "{ grants(first: 100, filter: {role: TOWNSHIP}) { totalCount edges { node { jurisdictionPath role } } } }",
        token=admin,
    )
    nodes = [e["node"] for e in result["data"]["grants"]["edges"]]
    assert nodes
    assert all(n["role"] == "TOWNSHIP" and n["jurisdictionPath"].startswith("53/5323/532329/") for n in nodes)


async def test_audit_log_is_readable_by_supervisors_in_scope_only(client, admin):
    await create(client, admin, "wd-audited")
    query = (
        '{ auditLog(first: 100, filter: {action: "account.create"}) { edges { node { actor targetId scopePath } } } }'
    )
    own = await gql(client, query, token=await token_for(client, f"supervisor-county-{WUDING}"))
    assert {"actor": f"admin-county-{WUDING}", "targetId": "wd-audited", "scopePath": "53/5323/532329"} in [
        e["node"] for e in own["data"]["auditLog"]["edges"]
    ]
    sibling = await gql(client, query, token=await token_for(client, f"supervisor-county-{YUANMOU}"))
    assert sibling["data"]["auditLog"]["edges"] == []
    teacher = await gql(client, query, token=await token_for(client, f"edu-county-{WUDING}"))
    assert teacher["data"] == {"auditLog": None}  # no AUDIT:READ anywhere: refused, not an empty log
    assert error_codes(teacher) == ["FORBIDDEN"]


EXPLAIN = """query($u: String!, $a: String!, $o: ID!) { explainAccess(username: $u, action: $a, objectId: $o) {
  allowed steps { kind detail } } }"""


async def test_explain_access_shows_the_chain_that_allowed_it(client, admin, session):
    from models import School

    school = (await session.scalars(select(School).where(School.path.like("53/5323/532329/%")))).first()
    oid = base64.b64encode(f"School:{school.code}".encode()).decode()
    result = await gql(client, EXPLAIN, {"u": f"edu-county-{WUDING}", "a": "SCHOOL:READ", "o": oid}, admin)
    explained = result["data"]["explainAccess"]
    assert explained["allowed"] is True
    assert [s["kind"] for s in explained["steps"]] == ["GRANT", "ROLE", "POLICY", "SCOPE"]
    assert "COUNTY_EDU" in explained["steps"][0]["detail"]
    assert explained["steps"][2]["detail"] == "g2, COUNTY_EDU, SCHOOL:READ:PLACE"


async def test_explain_access_names_the_first_rule_that_refused(client, admin, session):
    from models import Child

    child = (await session.scalars(select(Child).where(Child.household_path.like("53/5323/532329/%")))).first()
    oid = base64.b64encode(f"Student:{child.id}".encode()).decode()
    no_policy = await gql(client, EXPLAIN, {"u": f"supervisor-county-{WUDING}", "a": "CHILD:WRITE", "o": oid}, admin)
    assert no_policy["data"]["explainAccess"]["allowed"] is False
    assert "no policy" in no_policy["data"]["explainAccess"]["steps"][0]["detail"]
    township = f"gov-township-{child.household_region_code[:9]}"
    allowed = await gql(client, EXPLAIN, {"u": township, "a": "CHILD:READ", "o": oid}, admin)
    assert allowed["data"]["explainAccess"]["allowed"] is True


async def test_explain_access_is_refused_for_objects_outside_the_admins_scope(client, admin, session):
    from models import School

    school = (await session.scalars(select(School).where(School.path.like("53/5323/532328/%")))).first()
    oid = base64.b64encode(f"School:{school.code}".encode()).decode()
    result = await gql(client, EXPLAIN, {"u": f"edu-county-{WUDING}", "a": "SCHOOL:READ", "o": oid}, admin)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    teacher = await token_for(client, f"edu-county-{WUDING}")
    assert error_codes(
        await gql(client, EXPLAIN, {"u": f"edu-county-{WUDING}", "a": "SCHOOL:READ", "o": oid}, teacher)
    ) == ["FORBIDDEN"]


async def test_a_county_admin_cannot_disable_an_account_holding_a_city_grant(client, admin):
    city_admin = await token_for(client, "admin-city-5323")
    await create(client, city_admin, "wd-city-deputy", jurisdiction=WUDING)
    assert (await grant(client, city_admin, "wd-city-deputy", "CITY_EDU", "5323"))["errors"] == []
    result = await gql(client, DISABLE, {"input": {"username": "wd-city-deputy", "reason": "x"}}, admin)
    assert [e["code"] for e in result["data"]["disableAccount"]["errors"]] == ["ESCALATION"]
    assert (await login(client, "wd-city-deputy", PASSWORD)).status_code == 200


async def test_grants_filtered_by_the_nation_list_everything_in_scope(client):
    token = await token_for(client, "admin-province-53")
    everything = await gql(client, "{ grants { totalCount } }", token=token)
    nation = await gql(client, '{ grants(filter: {jurisdictionCode: "CN"}) { totalCount } }', token=token)
    assert nation["data"]["grants"]["totalCount"] == everything["data"]["grants"]["totalCount"] > 0


async def test_explain_access_does_not_reveal_where_an_out_of_scope_child_studies(client, admin, session):
    from models import Child

    migrants = (await session.scalars(select(Child).where(Child.household_path.like("53/5323/532329/%")))).all()
    child = next(c for c in migrants if c.school_path and not c.school_path.startswith("53/5323/532329/"))
    oid = base64.b64encode(f"Student:{child.id}".encode()).decode()
    result = await gql(client, EXPLAIN, {"u": f"gov-county-{WUDING}", "a": "CHILD:READ", "o": oid}, admin)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert child.school_path not in str(result)


async def test_a_forged_cursor_on_grants_is_a_typed_error(client, admin):
    forged = base64.urlsafe_b64encode(b"k:not-a-number").decode()
    result = await gql(client, "query($a: String) { grants(after: $a) { totalCount } }", {"a": forged}, admin)
    assert error_codes(result) == ["BAD_USER_INPUT"]
