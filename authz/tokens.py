"""Bearer credentials: our own HS256 JWTs, RS256 JWTs from an external identity provider, service tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt

SERVICE_TOKEN_PREFIX = "bx_"  # noqa: S105  (the visible marker of service tokens)


@dataclass(frozen=True)
class TokenConfig:
    """What signing and verifying need; built from the app settings."""

    hs256_secret: str
    issuer: str
    audience: str
    ttl: timedelta
    rs256_public_keys: list[str] = field(default_factory=list)
    external_issuer: str | None = None
    # Tokens already verified with these settings: (subject, external, expiry). A token's text is signed,
    # so it decodes to the same claims every time; only its expiry is checked again (`decode_access_token`).
    verified: OrderedDict[str, tuple[str, bool, int]] = field(default_factory=OrderedDict, compare=False, repr=False)


VERIFIED_KEPT = 10_000


class InvalidToken(Exception):
    """The bearer credential is malformed, tampered with, expired or not ours."""


def issue_access_token(config: TokenConfig, *, username: str, account_id: int, now: datetime) -> str:
    claims = {
        "sub": username,
        "uid": account_id,
        "iss": config.issuer,
        "aud": config.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + config.ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, config.hs256_secret, algorithm="HS256")


def decode_access_token(config: TokenConfig, token: str) -> tuple[str, bool]:
    """The token's subject (a username) and whether an external provider issued it (RS256).

    A token seen before is not verified again (PyJWT's checks cost more than the rest of a page's sign-in,
    issue 18 §2): its signature and claims cannot have changed, and its expiry is checked as PyJWT does."""
    known = config.verified.get(token)
    if known is not None:
        subject, external, expires = known
        if expires <= time.time():
            raise InvalidToken("token expired")
        return subject, external
    subject, external, expires = _verify(config, token)
    config.verified[token] = (subject, external, expires)
    if len(config.verified) > VERIFIED_KEPT:
        config.verified.popitem(last=False)
    return subject, external


def _verify(config: TokenConfig, token: str) -> tuple[str, bool, int]:
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if algorithm == "HS256":
        keys, external = [config.hs256_secret], False
    elif algorithm == "RS256" and config.rs256_public_keys:
        keys, external = config.rs256_public_keys, True
    else:
        raise InvalidToken("unsupported token algorithm")
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=config.audience,
                issuer=config.external_issuer if external else config.issuer,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        return str(claims["sub"]), external, int(claims["exp"])
    raise InvalidToken("invalid token signature")


@dataclass(frozen=True)
class NewServiceToken:
    """A freshly made service token: `secret` is shown once and never stored."""

    prefix: str
    secret: str
    token_hash: str


def new_service_token() -> NewServiceToken:
    prefix = SERVICE_TOKEN_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewServiceToken(prefix=prefix, secret=secret, token_hash=hash_service_token(secret))


def hash_service_token(secret: str) -> str:
    """Service tokens carry 256 random bits, so a plain SHA-256 is a sound stored form."""
    return hashlib.sha256(secret.encode()).hexdigest()


def service_token_prefix(secret: str) -> str | None:
    """`bx_1a2b3c4d_…` → `bx_1a2b3c4d`; None when it is not shaped like a service token."""
    length = len(SERVICE_TOKEN_PREFIX) + 8
    if not secret.startswith(SERVICE_TOKEN_PREFIX) or secret[length : length + 1] != "_":
        return None
    return secret[:length]


def hashes_match(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, hash_service_token(secret))
