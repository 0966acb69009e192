"""Password hashing: OWASP's argon2id parameters in production; the cheap profile only under tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles
from pydantic import ValidationError

from authz import passwords
from authz.passwords import OWASP_ARGON2ID, current_profile, hash_password, use_profile, verify_password
from baoxue.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def profile() -> Iterator[None]:
    """Put the run's profile back after a test changes it."""
    before = current_profile()
    yield
    use_profile(before)


def test_production_settings_refuse_the_fast_hasher():
    with pytest.raises(ValidationError, match="BAOXUE_PASSWORD_HASHER=fast is for tests"):
        make_settings(env="production", password_hasher="fast")


def test_a_database_url_without_env_is_production_and_refuses_the_fast_hasher(monkeypatch):
    monkeypatch.delenv("BAOXUE_ENV", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/baoxue")
    monkeypatch.setenv("BAOXUE_PASSWORD_HASHER", "fast")
    with pytest.raises(ValidationError, match="production keeps argon2's recommended parameters"):
        Settings()


def test_production_hashes_with_argon2_recommended_parameters(monkeypatch, profile):
    monkeypatch.delenv("BAOXUE_PASSWORD_HASHER", raising=False)
    settings = Settings(env="production", jwt_secret="x" * 40)
    assert settings.password_hasher == "recommended"
    use_profile(settings.password_hasher)
    stored = hash_password("correct horse battery")
    assert extract_parameters(stored) == OWASP_ARGON2ID
    assert extract_parameters(stored).memory_cost == 19 * 1024  # KiB: 19 MiB a password checked
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")


def test_a_hash_made_with_argon2s_own_defaults_still_verifies(profile):
    """Accounts hashed before the parameters changed (RFC 9106's low-memory choice) still sign in."""
    use_profile("recommended")
    earlier = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash("correct horse battery")
    assert verify_password(earlier, "correct horse battery")
    assert not verify_password(earlier, "wrong horse battery")


def test_the_fast_profile_is_argon2_cheapest_and_both_profiles_verify_each_others_hashes(profile):
    use_profile("fast")
    fast = hash_password("correct horse battery")
    assert extract_parameters(fast) == profiles.CHEAPEST
    use_profile("recommended")
    assert verify_password(fast, "correct horse battery")
    recommended = hash_password("correct horse battery")
    use_profile("fast")
    assert verify_password(recommended, "correct horse battery")
    assert not verify_password(recommended, "wrong horse battery")


def test_an_unknown_user_is_checked_against_a_hash_of_the_current_profile(profile):
    for name in ("fast", "recommended"):
        use_profile(name)
        assert not verify_password(None, "baoxue-no-such-account")
        assert extract_parameters(passwords._dummy_hash(name)) == extract_parameters(hash_password("x" * 12))
