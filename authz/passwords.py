"""Password hashing with argon2id: OWASP's recommended parameters, or a cheap profile for tests.

The profile is process-wide, chosen by configuration (`BAOXUE_PASSWORD_HASHER`); settings refuse the
cheap one in production. Verification reads the parameters stored in each hash, so a hash made under
either profile verifies under both.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PasswordProfile = Literal["recommended", "fast"]

# OWASP's Password Storage Cheat Sheet, the first of its equally strong argon2id settings: 19 MiB, 2 passes, one
# lane. argon2-cffi's default (RFC 9106's low-memory choice: 64 MiB, 3 passes, 4 lanes) takes 64 MiB of the
# server's memory for every password being checked, a fifth of a 2-core server's 300 MB (bench/RESULTS.md §f).
# A hash keeps its parameters: those made with the default still verify.
OWASP_ARGON2ID = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2, memory_cost=19 * 1024, parallelism=1
)
_HASHERS: dict[PasswordProfile, PasswordHasher] = {
    "recommended": PasswordHasher.from_parameters(OWASP_ARGON2ID),
    # argon2's cheapest parameters: microseconds instead of tens of milliseconds. Tests only.
    "fast": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
TEST_ONLY_PROFILES: frozenset[PasswordProfile] = frozenset({"fast"})
_profile: PasswordProfile = "recommended"

MIN_PASSWORD_LENGTH = 10


def use_profile(profile: PasswordProfile) -> None:
    """Which parameters should new hashes (and the unknown-user check) use in this process?"""
    global _profile
    _profile = profile


def current_profile() -> PasswordProfile:
    """Which parameters does this process hash new passwords with?"""
    return _profile


@cache
def _dummy_hash(profile: PasswordProfile) -> str:
    # Verified against when the username is unknown, so both failures cost the same time.
    return _HASHERS[profile].hash("baoxue-no-such-account")


def hash_password(password: str) -> str:
    return _HASHERS[_profile].hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Was this hash made with other parameters than this process hashes with (an account hashed before
    OWASP's parameters were taken)? It is then hashed again at its next sign-in: until then checking it costs
    64 MiB, and a wrong password for it takes longer than one for an unknown user."""
    return _HASHERS[_profile].check_needs_rehash(password_hash)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Does `password` match? Costs one argon2 verification even when there is no hash."""
    try:
        return _HASHERS[_profile].verify(password_hash or _dummy_hash(_profile), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
