"""Delegation rules: what a permission admin may grant or revoke, and to whom."""

from __future__ import annotations

from typing import Literal

from .access import Access
from .catalogue import Level, Role, delegable_roles, level_of_path, role_fits_level

GRANT_WRITE = ("GRANT", "WRITE")

# Why a grant or revocation is refused: each is a code of AdminErrorCode.
DelegationRefusal = Literal["OUT_OF_SCOPE", "LEVEL_MISMATCH", "ESCALATION", "SELF_GRANT"]


def check_delegation(access: Access, *, grantee: str, role: Role, jurisdiction_path: str) -> DelegationRefusal | None:
    """Why may this admin not grant (or revoke) `role` at `jurisdiction_path` for `grantee`? None if it may."""
    if grantee == access.username:
        return "SELF_GRANT"
    admin_grant = access.allows(*GRANT_WRITE, {"PLACE": [jurisdiction_path]})
    if admin_grant is None:
        return "OUT_OF_SCOPE"
    level = level_of_path(jurisdiction_path)
    if not role_fits_level(role, level):
        return "LEVEL_MISMATCH"
    admin_level = level_of_path(admin_grant.scope_path)
    if role not in delegable_roles(admin_level):
        return "ESCALATION"
    if role is Role.PERMISSION_ADMIN and level == admin_level and admin_level > Level.PROVINCE:
        return "ESCALATION"
    return None
