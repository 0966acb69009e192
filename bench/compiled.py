"""CPU per request of the county page in one process, compiled path against normal path (issue 18 §2).

    uv run python -m bench.compiled [--account edu-county-532329 --region 532329 --requests 200]
                                    [--page students|schoolAge]

Against DATABASE_URL (the demo data will do: the page's Python work does not grow with the province).
Both apps run in this process over ASGI, one after the other; process CPU per request includes the
benchmark's own client, so `/healthz` is measured the same way as the floor of that overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from baoxue.app import create_app
from baoxue.database import normalize_url
from baoxue.settings import Settings

from .common import uncounted_budgets

PAGE = """query($r: String!) { students(filter: {regionCode: $r}, first: 50) { totalCount edges { cursor node {
  id name gender birthDate grade stage specialGroups school { code name }
  currentEntry { id ledger status category openedOn lastVisitOn } } } } }"""
SCHOOL_AGE = """query($r: String!) { schoolAgeChildren(filter: {regionCode: $r}, first: 50) { totalCount cutoffDate
  edges { cursor node { age schoolingStatus student { id name gender birthDate grade stage school { code name } }
  entry { id ledger status category openedOn } } } } }"""
PAGES = {"students": PAGE, "schoolAge": SCHOOL_AGE}


async def measure(
    url: str, compiled: bool, account: str, password: str, region: str, requests: int, query: str = PAGE
) -> dict[str, Any]:
    engine = create_async_engine(normalize_url(url))
    settings = Settings(
        database_url=url,
        env="production",
        jwt_secret="bench-" + "x" * 40,
        log_level="WARNING",
        compiled_reads=compiled,
        query_budgets=uncounted_budgets(),
    )
    app = create_app(settings, sessions=async_sessionmaker(engine, expire_on_commit=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        token = (await client.post("/auth/token", data={"username": account, "password": password})).json()
        headers = {"authorization": f"Bearer {token['access_token']}"}
        body = {"query": query, "variables": {"r": region}}

        async def run(call: Any) -> tuple[float, float]:
            for _ in range(20):
                await call()
            walls = []
            cpu0 = time.process_time()
            for _ in range(requests):
                t0 = time.perf_counter()
                await call()
                walls.append(time.perf_counter() - t0)
            return (time.process_time() - cpu0) / requests * 1000, statistics.median(walls) * 1000

        async def page() -> None:
            reply = await client.post("/graphql", json=body, headers=headers)
            if reply.status_code != 200 or "errors" in reply.json():
                raise SystemExit(reply.text)

        async def health() -> None:
            await client.get("/healthz")

        cpu, wall = await run(page)
        floor, _ = await run(health)
    await engine.dispose()
    return {"cpu_ms": cpu, "wall_p50_ms": wall, "healthz_cpu_ms": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--account", default="edu-county-532329")
    parser.add_argument("--password", default="baoxue-demo")
    parser.add_argument("--region", default="532329")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--page", choices=sorted(PAGES), default="students")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    for compiled in (False, True, False, True):
        found = asyncio.run(
            measure(url, compiled, args.account, args.password, args.region, args.requests, PAGES[args.page])
        )
        path = "compiled" if compiled else "normal  "
        print(
            f"{path}  CPU {found['cpu_ms']:.2f} ms/request (of which /healthz's floor {found['healthz_cpu_ms']:.2f}), "
            f"p50 {found['wall_p50_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
