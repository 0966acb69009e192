"""Table-driven allow/deny cases against authz/model.conf and policy.csv (pycasbin style)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authz.catalogue import Level, Role, ancestors, delegable_roles, level_of_path
from authz.enforcer import Authorizer, GrantRef
from models.base import utcnow

WUDING = "53/5323/532329"  # 武定县
YUANMOU = "53/5323/532328"  # 元谋县, its sibling in 楚雄州
WUDING_SCHOOL = f"{WUDING}/532329101/2153000100"
YUANMOU_SCHOOL = f"{YUANMOU}/532328101/2153000200"
SHISHAN = f"{WUDING}/532329101"  # 狮山镇
SHISHAN_VILLAGE = f"{SHISHAN}/532329101001"

NOW = utcnow()
GRANTS = [
    GrantRef(1, "county-edu", Role.COUNTY_EDU, WUDING),
    GrantRef(2, "city-edu", Role.CITY_EDU, "53/5323"),
    GrantRef(3, "staff", Role.SCHOOL_STAFF, WUDING_SCHOOL),
    GrantRef(4, "township", Role.TOWNSHIP, SHISHAN),
    GrantRef(5, "ministry", Role.MINISTRY, ""),
    GrantRef(6, "expired", Role.COUNTY_EDU, WUDING, NOW - timedelta(seconds=1)),
    GrantRef(7, "admin", Role.PERMISSION_ADMIN, WUDING),
    GrantRef(8, "supervisor", Role.SUPERVISOR, "53/5323"),
]


@pytest.fixture(scope="module")
def authorizer() -> Authorizer:
    return Authorizer(GRANTS)


@pytest.mark.parametrize(
    ("user", "perm", "path", "allowed"),
    [
        # education line: by the school's path, inside the grant's jurisdiction only
        ("county-edu", "CHILD:READ:EDU", WUDING_SCHOOL, True),
        ("county-edu", "CHILD:READ:EDU", YUANMOU_SCHOOL, False),  # sibling county
        ("county-edu", "CHILD:READ:GOV", SHISHAN_VILLAGE, False),  # not by household: wrong line
        # seed 001 二2: the bureau proposes a deferral, the county leading group (government) approves it
        ("county-edu", "LEDGER:PROPOSE_DEFERRAL:EDU", WUDING_SCHOOL, True),
        ("county-edu", "LEDGER:APPROVE_DEFERRAL:EDU", WUDING_SCHOOL, False),
        ("city-edu", "CHILD:READ:EDU", YUANMOU_SCHOOL, True),
        ("city-edu", "CHILD:READ_PII:EDU", YUANMOU_SCHOOL, False),
        ("city-edu", "LEDGER:APPROVE_DEFERRAL:EDU", WUDING_SCHOOL, False),
        ("staff", "CHILD:READ:EDU", WUDING_SCHOOL, True),
        ("staff", "CHILD:READ:EDU", f"{WUDING}/532329101/2153000101", False),  # another school, same town
        ("staff", "REPORT:SUBMIT:EDU", WUDING_SCHOOL, False),  # only the principal submits
        # government line: by household or residence, enrolled or not
        ("township", "CHILD:READ:GOV", SHISHAN_VILLAGE, True),
        ("township", "CHILD:READ:EDU", WUDING_SCHOOL, False),
        ("township", "VISIT:WRITE:GOV", SHISHAN_VILLAGE, True),
        ("township", "CHILD:READ:GOV", f"{WUDING}/532329102/532329102001", False),  # next township
        # the ministry: aggregates, no personal data
        ("ministry", "AGGREGATE:READ:EDU", WUDING, True),
        ("ministry", "CHILD:READ:EDU", WUDING_SCHOOL, False),
        # expired grants grant nothing
        ("expired", "CHILD:READ:EDU", WUDING_SCHOOL, False),
        # cross-cutting roles
        ("admin", "GRANT:WRITE:PLACE", SHISHAN, True),
        ("admin", "GRANT:WRITE:PLACE", YUANMOU, False),
        ("admin", "CHILD:READ:EDU", WUDING_SCHOOL, False),
        ("supervisor", "AUDIT:READ:PLACE", WUDING, True),
        ("supervisor", "CHILD:WRITE:EDU", WUDING_SCHOOL, False),  # reads everything, writes nothing
        ("nobody", "REGION:READ:PLACE", WUDING, False),
        # settings (issue 14 §6): a city sets its own choice; a county sets and reads none
        ("city-edu", "SETTING:WRITE_CITY:PLACE", "53/5323", True),
        ("city-edu", "SETTING:WRITE_CITY:PLACE", "53/5301", False),  # a sibling city
        ("city-edu", "SETTING:WRITE:PLACE", "53", False),  # the province's are the province's
        ("county-edu", "SETTING:READ:PLACE", WUDING, False),
        ("supervisor", "SETTING:WRITE:PLACE", "53/5323", False),
    ],
)
def test_decisions(authorizer, user, perm, path, allowed):
    assert (authorizer.decide(user, perm, [path], NOW) is not None) is allowed


def test_the_deciding_grant_is_reported(authorizer):
    grant = authorizer.decide("city-edu", "CHILD:READ:EDU", [WUDING_SCHOOL], NOW)
    assert grant is not None
    assert grant.id == 2


def test_supervisors_write_nothing():
    from authz.enforcer import read_policy_lines

    writes = [line for line in read_policy_lines() if line[0] == "g2" and line[1] == "SUPERVISOR"]
    assert writes
    assert all(":READ:" in line[2] for line in writes)


def test_no_grant_gives_no_scope(authorizer):
    assert authorizer.scope_paths("nobody", "CHILD", "READ", NOW) == {}
    assert authorizer.scope_paths("expired", "CHILD", "READ", NOW) == {}


def test_scope_paths_follow_the_line(authorizer):
    assert authorizer.scope_paths("county-edu", "CHILD", "READ", NOW) == {"EDU": [WUDING]}
    assert authorizer.scope_paths("township", "CHILD", "READ", NOW) == {"GOV": [SHISHAN]}
    assert authorizer.scope_paths("supervisor", "CHILD", "READ", NOW) == {"EDU": ["53/5323"], "GOV": ["53/5323"]}


def test_grants_apply_and_revoke_incrementally():
    authorizer = Authorizer(GRANTS)
    assert authorizer.decide("newcomer", "CHILD:READ:EDU", [YUANMOU_SCHOOL], NOW) is None
    authorizer.add(GrantRef(99, "newcomer", Role.COUNTY_EDU, YUANMOU))
    assert authorizer.decide("newcomer", "CHILD:READ:EDU", [YUANMOU_SCHOOL], NOW) is not None
    authorizer.remove(99, "newcomer", YUANMOU)
    assert authorizer.decide("newcomer", "CHILD:READ:EDU", [YUANMOU_SCHOOL], NOW) is None


def test_two_grants_of_one_role_in_one_domain_survive_one_revocation():
    authorizer = Authorizer([GrantRef(1, "u", Role.COUNTY_EDU, WUDING), GrantRef(2, "u", Role.COUNTY_EDU, WUDING)])
    authorizer.remove(1, "u", WUDING)
    assert authorizer.decide("u", "CHILD:READ:EDU", [WUDING_SCHOOL], NOW) is not None


def test_a_grant_that_expires_stops_deciding():
    soon = NOW + timedelta(minutes=5)
    authorizer = Authorizer([GrantRef(1, "u", Role.COUNTY_EDU, WUDING, soon)])
    assert authorizer.decide("u", "CHILD:READ:EDU", [WUDING_SCHOOL], NOW) is not None
    assert authorizer.decide("u", "CHILD:READ:EDU", [WUDING_SCHOOL], soon + timedelta(seconds=1)) is None


@pytest.mark.parametrize(
    ("path", "level"),
    [
        ("", Level.NATION),
        ("53", Level.PROVINCE),
        (WUDING, Level.COUNTY),
        (SHISHAN_VILLAGE, Level.VILLAGE),
        (WUDING_SCHOOL, Level.SCHOOL),
    ],
)
def test_levels_of_paths(path, level):
    assert level_of_path(path) == level


def test_ancestors_walk_up_to_the_nation():
    assert ancestors(SHISHAN) == [SHISHAN, WUDING, "53/5323", "53", ""]


def test_county_admins_delegate_county_roles_and_below_only():
    roles = delegable_roles(Level.COUNTY)
    assert {Role.COUNTY_EDU, Role.SCHOOL_STAFF, Role.VILLAGE, Role.TOWNSHIP} <= roles
    assert not {Role.CITY_EDU, Role.PROVINCE_GOV, Role.MINISTRY} & roles
