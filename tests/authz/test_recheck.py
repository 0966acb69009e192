"""The re-check primitive: one level up, inside scope, on the right line, never one's own submission."""

from __future__ import annotations

import pytest

from authz.access import Access
from authz.catalogue import Role
from authz.enforcer import Authorizer, GrantRef
from authz.principal import CredentialKind, Principal
from authz.recheck import may_review
from models.base import utcnow

WUDING, YUANMOU = "53/5323/532329", "53/5323/532328"
SCHOOL = f"{WUDING}/532329101/2153000100"
OTHER_SCHOOL = f"{YUANMOU}/532328101/2153000200"

AUTHORIZER = Authorizer(
    [
        GrantRef(1, "county-edu", Role.COUNTY_EDU, WUDING),
        GrantRef(2, "county-gov", Role.COUNTY_GOV, WUDING),
        GrantRef(3, "city-edu", Role.CITY_EDU, "53/5323"),
        GrantRef(4, "province-edu", Role.PROVINCE_EDU, "53"),
        GrantRef(5, "ministry", Role.MINISTRY, ""),
        GrantRef(6, "principal", Role.SCHOOL_PRINCIPAL, SCHOOL),
        GrantRef(7, "supervisor", Role.SUPERVISOR, WUDING),
    ]
)


def access(username: str) -> Access:
    principal = Principal(1, username, username, False, CredentialKind.PASSWORD_JWT)
    return Access(principal, AUTHORIZER, utcnow())


@pytest.mark.parametrize(
    ("reviewer", "submission", "line", "allowed", "reason"),
    [
        ("county-edu", SCHOOL, "EDU", True, "ONE_LEVEL_UP"),  # county re-checks its school (季度复核)
        ("county-edu", OTHER_SCHOOL, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # a sibling county's school
        ("city-edu", SCHOOL, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # two levels down: not the city's
        ("city-edu", WUDING, "EDU", True, "ONE_LEVEL_UP"),  # city researches its counties
        ("city-edu", YUANMOU, "EDU", True, "ONE_LEVEL_UP"),
        ("province-edu", "53/5323", "EDU", True, "ONE_LEVEL_UP"),  # province assesses its cities
        ("ministry", "53", "EDU", True, "ONE_LEVEL_UP"),  # the ministry reads provinces' assessments
        ("county-gov", SCHOOL, "GOV", True, "ONE_LEVEL_UP"),  # county government co-signs
        ("county-gov", SCHOOL, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # but does not re-check
        ("county-edu", SCHOOL, "GOV", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),
        ("supervisor", SCHOOL, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # reads, never approves
        ("principal", SCHOOL, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # a school never approves itself
        ("county-edu", WUDING, "EDU", False, "NOT_ONE_LEVEL_UP_IN_SCOPE"),  # nor a county its own report
    ],
)
def test_review_rights(reviewer, submission, line, allowed, reason):
    decision = may_review(access(reviewer), submission_path=submission, submitted_by="someone-else", line=line)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_nobody_reviews_their_own_submission():
    decision = may_review(access("county-edu"), submission_path=SCHOOL, submitted_by="county-edu")
    assert (decision.allowed, decision.reason) == (False, "OWN_SUBMISSION")


def test_an_expired_reviewing_grant_does_not_approve_even_beside_a_live_grant():
    from datetime import timedelta

    authorizer = Authorizer(
        [
            GrantRef(1, "mixed", Role.COUNTY_EDU, WUDING, utcnow() - timedelta(seconds=1)),
            GrantRef(2, "mixed", Role.SUPERVISOR, WUDING),
        ]
    )
    principal = Principal(1, "mixed", "mixed", False, CredentialKind.PASSWORD_JWT)
    decision = may_review(Access(principal, authorizer, utcnow()), submission_path=SCHOOL, submitted_by="x")
    assert decision.allowed is False


def test_a_province_grant_does_not_review_a_school_two_levels_down():
    decision = may_review(access("province-edu"), submission_path=SCHOOL, submitted_by="x")
    assert decision.allowed is False
