"""Refusals. The schema layer turns them into GraphQL errors with `extensions.code`."""

from __future__ import annotations


class AccessError(Exception):
    """A refusal: the message is bilingual and reveals nothing outside the caller's scope."""

    code = "FORBIDDEN"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Unauthenticated(AccessError):
    code = "UNAUTHENTICATED"

    def __init__(self, reason: str = "sign-in required") -> None:
        super().__init__(f"请先登录 / {reason}")


class Forbidden(AccessError):
    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__("无权访问 / not allowed")
