"""Delegation rules at the resolver level (resolvers/admin/grants.py, authz/delegation.py): a permission
admin grants and revokes only inside its own jurisdiction, only roles it may delegate, never to itself.

The same mutations end to end through HTTP, with what a granted role then opens, are tests/test_role_admin.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from authz.catalogue import Role
from authz.errors import Forbidden
from models import AuditLog, RoleGrant
from resolvers.admin import accounts, grants
from resolvers.errors import BadInput
from tests.resolvers.conftest import ContextFor, refusal

COUNTY_ADMIN, NEIGHBOUR_ADMIN, CITY_ADMIN = "admin-county-532329", "admin-county-532328", "admin-city-5323"


async def new_account(ctx: Any, username: str, jurisdiction: str) -> str:
    await accounts.create_account(
        ctx, username=username, display_name="测试", password="a-long-password-1", jurisdiction_code=jurisdiction
    )
    return username


async def grant(ctx: Any, username: str, role: Role, jurisdiction: str) -> RoleGrant:
    return await grants.grant_role(
        ctx, username=username, role=role, jurisdiction_code=jurisdiction, expires_at=None, reason="新任 / new post"
    )


async def count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("grantor", "role", "jurisdiction", "refused"),
    [
        (COUNTY_ADMIN, Role.SCHOOL_STAFF, "2153000036", None),  # a school of 武定
        (COUNTY_ADMIN, Role.COUNTY_GOV, "532329", None),
        (COUNTY_ADMIN, Role.COUNTY_EDU, "5323", ("role", "OUT_OF_SCOPE")),  # the city above
        (COUNTY_ADMIN, Role.CITY_EDU, "532329", ("role", "LEVEL_MISMATCH")),  # a city role at a county
        (COUNTY_ADMIN, Role.PERMISSION_ADMIN, "532329", ("role", "ESCALATION")),  # its own level
        (CITY_ADMIN, Role.PERMISSION_ADMIN, "532329", None),  # a county admin, one level down
        (CITY_ADMIN, Role.PERMISSION_ADMIN, "5323", ("role", "ESCALATION")),
    ],
)
async def test_what_an_admin_may_grant_is_decided_by_its_own_grant(
    session: Any, context_for: ContextFor, grantor: str, role: Role, jurisdiction: str, refused: Any
) -> None:
    ctx = await context_for(grantor)
    grantee = await new_account(ctx, "wd-new-post", "532329")
    before = await count(session, RoleGrant)
    if refused is None:
        made = await grant(ctx, grantee, role, jurisdiction)
        assert (made.role, made.jurisdiction_code, made.granted_by) == (role.value, jurisdiction, grantor)
        assert await count(session, RoleGrant) == before + 1
    else:
        with pytest.raises(BadInput) as excinfo:
            await grant(ctx, grantee, role, jurisdiction)
        assert refusal(excinfo) == refused
        assert await count(session, RoleGrant) == before


async def test_an_admin_never_grants_itself(context_for: ContextFor) -> None:
    ctx = await context_for(COUNTY_ADMIN)
    with pytest.raises(BadInput) as excinfo:
        await grant(ctx, COUNTY_ADMIN, Role.COUNTY_EDU, "532329")
    assert refusal(excinfo) == ("username", "SELF_GRANT")


async def test_the_neighbouring_countys_admin_does_not_find_a_wuding_account(context_for: ContextFor) -> None:
    grantee = await new_account(await context_for(COUNTY_ADMIN), "wd-new-post", "532329")
    with pytest.raises(BadInput) as excinfo:
        await grant(await context_for(NEIGHBOUR_ADMIN), grantee, Role.COUNTY_EDU, "532328")
    assert refusal(excinfo) == ("username", "NOT_FOUND")  # as if it did not exist


async def test_a_grant_is_revoked_once_with_its_reason_and_both_are_audited(
    session: Any, context_for: ContextFor
) -> None:
    ctx = await context_for(COUNTY_ADMIN)
    made = await grant(ctx, await new_account(ctx, "wd-new-post", "532329"), Role.COUNTY_GOV, "532329")
    audited = await count(session, AuditLog)
    revoked = await grants.revoke_grant(ctx, grant_id=str(made.id), reason="调离 / moved")
    assert (revoked.revoked_by, revoked.revoke_reason) == (COUNTY_ADMIN, "调离 / moved")
    assert await count(session, AuditLog) == audited + 1
    with pytest.raises(BadInput) as excinfo:
        await grants.revoke_grant(ctx, grant_id=str(made.id), reason="again")
    assert refusal(excinfo) == ("grantId", "ALREADY_REVOKED")


async def test_the_neighbouring_countys_admin_cannot_revoke_a_wuding_grant(context_for: ContextFor) -> None:
    ctx = await context_for(COUNTY_ADMIN)
    made = await grant(ctx, await new_account(ctx, "wd-new-post", "532329"), Role.COUNTY_GOV, "532329")
    with pytest.raises(BadInput) as excinfo:
        await grants.revoke_grant(await context_for(NEIGHBOUR_ADMIN), grant_id=str(made.id), reason="no")
    assert refusal(excinfo) == ("grantId", "NOT_FOUND")


async def test_an_account_without_an_admin_grant_is_forbidden_to_grant(context_for: ContextFor) -> None:
    with pytest.raises(Forbidden):
        await grant(await context_for("edu-county-532329"), "edu-county-532328", Role.COUNTY_EDU, "532328")
