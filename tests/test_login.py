"""POST /auth/token and bearer credentials, end to end through the ASGI app."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import jwt
import pytest
from argon2 import PasswordHasher, extract_parameters, profiles
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from authz.passwords import OWASP_ARGON2ID, hash_password, verify_password
from authz.tokens import TokenConfig, issue_access_token
from baoxue.app import create_app
from baoxue.database import migrate
from datagen.demo.seed import seed_demo
from models.base import utcnow
from models.repos.accounts import get_account_by_username
from resolvers.admin.accounts import create_account, create_token, disable_account, revoke_token
from tests.conftest import DEMO_PASSWORD, TEST_SECRET, error_codes, gql, login, make_settings, token_for

VIEWER = "{ viewer { username displayName isService } }"


async def test_demo_province_account_gets_a_bearer_token(client):
    response = await login(client, "edu-province-53")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    result = await gql(client, VIEWER, token=body["access_token"])
    assert result["data"]["viewer"] == {
        "username": "edu-province-53",
        "displayName": "云南省教育厅",
        "isService": False,
    }


async def test_wrong_password_and_unknown_user_get_identical_401s(client):
    wrong = await login(client, "edu-province-53", "not-the-password")
    unknown = await login(client, "nobody-at-all", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"
    strip = {"x-request-id", "content-length", "date"}
    assert {k: v for k, v in wrong.headers.items() if k not in strip} == {
        k: v for k, v in unknown.headers.items() if k not in strip
    }


async def test_unknown_user_costs_as_much_as_a_wrong_password(client, settings, session, recommended_hashes):
    """No user enumeration by timing: an unknown username still pays for one argon2 verification.

    With production's argon2 parameters on both sides (the run's hashes use the cheap test profile).
    """
    settings.login_max_failures_per_client = 100
    account = await get_account_by_username(session, "edu-city-5323")
    assert account is not None
    account.password_hash = hash_password(DEMO_PASSWORD)
    await session.flush()

    async def timed(username: str) -> float:
        started = time.perf_counter()
        refused = await login(client, username, "wrong-password-x")
        assert refused.status_code == 401
        return time.perf_counter() - started

    # Five failures of one username are verified (the sixth would meet the throttle); the two kinds of attempt
    # alternate so that both meet the same load (CI runs two passes of the suite at once on two cores).
    times: dict[str, list[float]] = {"wrong password": [], "unknown user": []}
    for i in range(5):
        times["wrong password"].append(await timed("edu-city-5323"))
        times["unknown user"].append(await timed(f"ghost-{i}"))
    # The least disturbed attempt of each: other work on the machine only ever adds time.
    wrong_password, unknown_user = min(times["wrong password"]), min(times["unknown user"])
    # Skipping the hash would make the unknown case ~50x faster; allow generous noise either way.
    assert unknown_user > wrong_password * 0.5


async def test_an_account_hashed_with_argon2s_former_default_signs_in_and_is_hashed_again(
    client, session, recommended_hashes
):
    """An account hashed before OWASP's parameters were taken (argon2-cffi's default: 64 MiB a check) still signs
    in through POST /auth/token, and its hash is made again with the current parameters (19 MiB); a wrong
    password is refused and changes nothing."""
    account = await get_account_by_username(session, "edu-city-5323")
    assert account is not None
    former = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash(DEMO_PASSWORD)
    account.password_hash = former
    await session.flush()
    refused = await login(client, "edu-city-5323", "wrong-password-x")
    assert refused.status_code == 401
    await session.refresh(account)
    assert account.password_hash == former
    signed_in = await login(client, "edu-city-5323")
    assert signed_in.status_code == 200
    await session.refresh(account)
    assert account.password_hash is not None
    assert extract_parameters(account.password_hash) == OWASP_ARGON2ID
    assert (await login(client, "edu-city-5323")).status_code == 200


async def test_repeated_failures_for_a_username_are_throttled_with_retry_after(client):
    for _ in range(5):
        assert (await login(client, "edu-city-5323", "wrong-password")).status_code == 401
    throttled = await login(client, "edu-city-5323", "wrong-password")
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    # Even the right password waits until the window ends.
    assert (await login(client, "edu-city-5323")).status_code == 429
    # Another account is not affected by this username's lockout.
    assert (await login(client, "edu-city-2208")).status_code == 200


async def test_repeated_failures_from_one_client_are_throttled_across_usernames(sessions):
    import httpx

    from baoxue.app import create_app

    app = create_app(make_settings(login_max_failures_per_client=3), sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for name in ("a-user", "b-user", "c-user"):
            assert (await login(c, name, "guess")).status_code == 401
        assert (await login(c, "edu-province-53")).status_code == 429


async def test_a_successful_login_clears_the_username_counter(client):
    for _ in range(4):
        await login(client, "edu-city-6404", "wrong-password")
    assert (await login(client, "edu-city-6404")).status_code == 200
    for _ in range(4):
        assert (await login(client, "edu-city-6404", "wrong-password")).status_code == 401


async def test_login_without_username_or_password_is_a_bad_request(client):
    response = await client.post("/auth/token", data={"username": "edu-province-53"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), id="tampered-signature"),
        pytest.param(lambda t: "not.a.jwt", id="garbage"),
        pytest.param(
            lambda t: jwt.encode({"sub": "edu-province-53", "exp": 4102444800}, "k" * 40, "HS256"), id="other-key"
        ),
        pytest.param(lambda t: t + "x", id="suffix"),
    ],
)
async def test_bad_tokens_get_unauthenticated(client, mangle):
    token = mangle(await token_for(client, "edu-province-53"))
    result = await gql(client, VIEWER, token=token)
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_unsigned_alg_none_token_is_refused(client):
    token = jwt.encode({"sub": "edu-province-53", "exp": 4102444800}, None, algorithm="none")
    assert error_codes(await gql(client, VIEWER, token=token)) == ["UNAUTHENTICATED"]


async def test_expired_token_gets_unauthenticated(client):
    config = TokenConfig(hs256_secret=TEST_SECRET, issuer="baoxue", audience="baoxue", ttl=timedelta(seconds=1))
    token = issue_access_token(config, username="edu-province-53", account_id=1, now=utcnow() - timedelta(hours=1))
    result = await gql(client, VIEWER, token=token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert "expired" in result["errors"][0]["message"]


async def test_token_accepted_before_is_refused_once_expired(client):
    """A token is verified once and remembered (authz/tokens.py): its expiry still ends it."""
    config = TokenConfig(hs256_secret=TEST_SECRET, issuer="baoxue", audience="baoxue", ttl=timedelta(seconds=2))
    token = issue_access_token(config, username="edu-province-53", account_id=1, now=utcnow())
    assert (await gql(client, VIEWER, token=token))["data"]["viewer"]["username"] == "edu-province-53"
    await asyncio.sleep(2.1)
    result = await gql(client, VIEWER, token=token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert "expired" in result["errors"][0]["message"]


async def test_no_token_gets_unauthenticated(client):
    assert error_codes(await gql(client, VIEWER)) == ["UNAUTHENTICATED"]


async def test_disabled_account_token_stops_working(client, ctx):
    token = await token_for(client, "edu-county-532329")
    await disable_account(ctx, username="edu-county-532329", reason="left the bureau")
    assert error_codes(await gql(client, VIEWER, token=token)) == ["UNAUTHENTICATED"]
    assert (await login(client, "edu-county-532329")).status_code == 401


def _rsa_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


async def test_rs256_token_from_an_external_identity_provider_is_accepted(sessions):
    import httpx

    from baoxue.app import create_app

    private, public = _rsa_pair()
    other_private, _ = _rsa_pair()
    app = create_app(make_settings(jwt_public_keys=public), sessions=sessions)
    claims = {"sub": "edu-city-5323", "aud": "baoxue", "iss": "https://idp.example", "exp": 4102444800}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        good = await gql(c, VIEWER, token=jwt.encode(claims, private, algorithm="RS256"))
        assert good["data"]["viewer"]["username"] == "edu-city-5323"
        forged = await gql(c, VIEWER, token=jwt.encode(claims, other_private, algorithm="RS256"))
        assert error_codes(forged) == ["UNAUTHENTICATED"]
        wrong_audience = await gql(c, VIEWER, token=jwt.encode({**claims, "aud": "other"}, private, algorithm="RS256"))
        assert error_codes(wrong_audience) == ["UNAUTHENTICATED"]


async def test_service_token_works_until_revoked(client, ctx, session):
    await create_account(ctx, username="svc-export", display_name="数据导出服务", password=None, is_service=True)
    issued = await create_token(ctx, username="svc-export", name="nightly export", valid_days=30)
    assert issued.secret.startswith(issued.token.prefix + "_")
    assert issued.token.token_hash != issued.secret
    assert issued.secret not in issued.token.token_hash

    result = await gql(client, VIEWER, token=issued.secret)
    assert result["data"]["viewer"] == {"username": "svc-export", "displayName": "数据导出服务", "isService": True}
    await session.refresh(issued.token)
    assert issued.token.last_used_at is not None

    wrong_secret = issued.token.prefix + "_" + "x" * 43
    assert error_codes(await gql(client, VIEWER, token=wrong_secret)) == ["UNAUTHENTICATED"]

    await revoke_token(ctx, prefix=issued.token.prefix, reason="rotated")
    assert error_codes(await gql(client, VIEWER, token=issued.secret)) == ["UNAUTHENTICATED"]


async def test_expired_service_token_is_refused(client, ctx, session):
    await create_account(ctx, username="svc-old", display_name="旧服务", password=None, is_service=True)
    issued = await create_token(ctx, username="svc-old", name="old", valid_days=1)
    issued.token.expires_at = utcnow() - timedelta(minutes=1)
    await session.flush()
    result = await gql(client, VIEWER, token=issued.secret)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert "expired" in result["errors"][0]["message"]


async def test_service_accounts_cannot_sign_in_with_a_password(client, ctx):
    await create_account(ctx, username="svc-nopw", display_name="服务", password=None, is_service=True)
    assert (await login(client, "svc-nopw", "")).status_code == 400
    assert (await login(client, "svc-nopw", "anything-at-all")).status_code == 401


async def test_passwords_never_reach_the_logs(client, caplog):
    caplog.set_level("DEBUG")
    await login(client, "edu-province-53", "secret-wrong-Pa55word")
    await login(client, "edu-province-53")
    assert "secret-wrong-Pa55word" not in caplog.text
    assert "baoxue-demo" not in caplog.text


@asynccontextmanager
async def committed_demo(databases, name: str, former_hash_for: str | None = None):
    """A migrated, demo-seeded database of the test's own, committed (real concurrency needs real connections),
    and its sessions; `former_hash_for`: that account's password hashed with argon2-cffi's former default."""
    url = databases.create(name)
    migrate(url)
    engine = create_async_engine(url, pool_size=8)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        await seed_demo(session)
        if former_hash_for is not None:
            account = await get_account_by_username(session, former_hash_for)
            assert account is not None
            account.password_hash = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash(DEMO_PASSWORD)
        await session.commit()
    try:
        yield sessions
    finally:
        await engine.dispose()


async def at_once(sessions, settings, attempts):
    """The attempts' `login` calls, all at once, through an app on these sessions."""
    app = create_app(settings, sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await asyncio.gather(*(login(c, *attempt) for attempt in attempts))


async def test_parallel_guesses_cannot_outrun_the_throttle(databases, recommended_hashes):
    """Each attempt is counted before it is checked, so a burst gets no more than the limit.

    Real concurrency needs real connections: this test uses a committed database of its own, seeded
    with production's argon2 parameters so that the checks take as long as they would there.
    """
    async with committed_demo(databases, "throttle") as sessions:
        guesses = [("edu-city-5323", f"guess-{i}") for i in range(6)]
        answers = await at_once(sessions, make_settings(login_max_failures_per_user=3), guesses)
    codes = sorted(r.status_code for r in answers)
    assert codes.count(401) == 3
    assert codes.count(429) == 3


async def test_parallel_sign_ins_of_a_former_hash_all_succeed_and_leave_one_current_hash(databases, recommended_hashes):
    """Six clients sign one account with a former hash (argon2-cffi's default) in at once, on connections of their
    own: every one gets a token, and the account ends with one hash of the current parameters that verifies."""
    async with committed_demo(databases, "rehash", former_hash_for="edu-city-5323") as sessions:
        answers = await at_once(sessions, make_settings(), [("edu-city-5323",)] * 6)
        async with sessions() as session:
            account = await get_account_by_username(session, "edu-city-5323")
    assert [r.status_code for r in answers] == [200] * 6
    assert account is not None
    assert account.password_hash is not None
    assert extract_parameters(account.password_hash) == OWASP_ARGON2ID
    assert verify_password(account.password_hash, DEMO_PASSWORD)


async def test_rs256_tokens_must_carry_the_configured_issuer_and_never_sign_in_service_accounts(sessions, ctx):
    import httpx

    from baoxue.app import create_app

    private, public = _rsa_pair()
    app = create_app(
        make_settings(jwt_public_keys=public, jwt_external_issuer="https://idp.example"), sessions=sessions
    )
    claims = {"sub": "edu-city-5323", "aud": "baoxue", "iss": "https://idp.example", "exp": 4102444800}
    await create_account(ctx, username="svc-rs", display_name="服务", password=None, is_service=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await gql(c, VIEWER, token=jwt.encode(claims, private, algorithm="RS256")))["data"]["viewer"]
        other_issuer = jwt.encode({**claims, "iss": "https://evil.example"}, private, algorithm="RS256")
        assert error_codes(await gql(c, VIEWER, token=other_issuer)) == ["UNAUTHENTICATED"]
        service = jwt.encode({**claims, "sub": "svc-rs"}, private, algorithm="RS256")
        assert error_codes(await gql(c, VIEWER, token=service)) == ["UNAUTHENTICATED"]
