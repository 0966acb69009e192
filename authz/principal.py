"""The authenticated caller of one request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import Unauthenticated


class CredentialKind(StrEnum):
    PASSWORD_JWT = "PASSWORD_JWT"  # noqa: S105  (a kind of credential, not a secret)
    EXTERNAL_JWT = "EXTERNAL_JWT"
    SERVICE_TOKEN = "SERVICE_TOKEN"  # noqa: S105


@dataclass(frozen=True)
class Principal:
    """An active account, as established from the request's bearer credential."""

    account_id: int
    username: str
    display_name: str
    is_service: bool
    credential: CredentialKind


def require_principal(principal: Principal | None, auth_error: str | None = None) -> Principal:
    """May anyone at all act here? Only a signed-in, active account."""
    if principal is None:
        raise Unauthenticated(auth_error or "sign-in required")
    return principal
