"""Who the client is (X-Forwarded-For only from trusted proxies) and who may read /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from baoxue.app import create_app
from tests.conftest import gql, make_settings, token_for


@asynccontextmanager
async def app_client(sessions: Any, peer: str = "127.0.0.1", **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings), sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def wrong_logins(client: httpx.AsyncClient, count: int, forwarded_for: list[str]) -> list[int]:
    """`count` failed sign-ins under different usernames (the per-user throttle stays out of it)."""
    statuses = []
    for i in range(count):
        headers = {"X-Forwarded-For": forwarded_for[i % len(forwarded_for)]}
        response = await client.post(
            "/auth/token", data={"username": f"nobody-{i}", "password": "wrong"}, headers=headers
        )
        statuses.append(response.status_code)
    return statuses


async def test_a_local_client_cannot_rotate_x_forwarded_for_past_the_login_throttle(sessions):
    """By default no proxy is trusted, loopback included: the peer address is the client."""
    async with app_client(sessions, login_max_failures_per_client=3) as client:
        statuses = await wrong_logins(client, 5, [f"203.0.113.{i}" for i in range(5)])
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


async def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(sessions):
    async with app_client(sessions, login_max_failures_per_client=3, trusted_proxies="127.0.0.1") as client:
        rotating = await wrong_logins(client, 5, [f"198.51.100.{i}" for i in range(5)])
        one_client = await wrong_logins(client, 4, ["198.51.100.77"])
    assert rotating == [401] * 5  # five clients behind the proxy, one failure each
    assert one_client == [401, 401, 401, 429]


async def test_an_untrusted_peer_cannot_pose_as_the_proxy(sessions):
    async with app_client(
        sessions, peer="192.0.2.9", login_max_failures_per_client=2, trusted_proxies="10.0.0.0/8"
    ) as client:
        statuses = await wrong_logins(client, 3, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert statuses == [401, 401, 429]


async def test_metrics_are_not_served_without_a_scraper_token(sessions):
    async with app_client(sessions) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_answer_only_the_configured_scraper(sessions):
    async with app_client(sessions, metrics_token="scrape-secret-1") as client:
        token = await token_for(client, "edu-province-53")
        await gql(client, "query MetricsProbe { viewer { username } }", token=token)
        anonymous = await client.get("/metrics")
        assert anonymous.status_code == 401
        assert "baoxue_" not in anonymous.text
        user = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert user.status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-2"})
        assert wrong.status_code == 401
        scraper = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
        assert scraper.status_code == 200
        assert 'baoxue_graphql_operations_total{operation="MetricsProbe",type="query"}' in scraper.text
