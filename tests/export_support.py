"""Shared steps for the export tests: call GET /exports/{dataset}, read its CSV and JSON Lines, and page
through the GraphQL lists the export must agree with."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx

from tests.conftest import gql

INTEGRATOR = "integrator-county-532329"  # 武定县
NEIGHBOUR_INTEGRATOR = "integrator-county-532328"  # 元谋县
PROVINCE_INTEGRATOR = "integrator-province-53"

STUDENTS = """query($after: String) { students(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id name gender birthDate grade nationalId registryNumber
  specialGroups school { code } } } } }"""
ENTRIES = """query($after: String, $f: LedgerEntryFilter) { ledgerEntries(first: 100, after: $after, filter: $f) {
  pageInfo { hasNextPage endCursor } edges { node { id ledger status version student { id }
  visits { visitedOn stage } deferrals { id status } plan { version } } } } }"""


async def export(client: httpx.AsyncClient, token: str | None, dataset: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(f"/exports/{dataset}", params=params, headers=headers)


def csv_rows(response: httpx.Response, *, encoding: str = "utf-8-sig", headers: int = 2) -> list[dict[str, str]]:
    """The data rows keyed by the machine header (the last header line)."""
    assert response.status_code == 200, response.text
    lines = list(csv.reader(io.StringIO(response.content.decode(encoding), newline="")))
    names = lines[headers - 1]
    return [dict(zip(names, line, strict=True)) for line in lines[headers:]]


def jsonl_rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


async def _pages(client: httpx.AsyncClient, token: str, query: str, field: str, **variables: Any) -> list[Any]:
    nodes: list[Any] = []
    after = None
    while True:
        result = await gql(client, query, {"after": after, **variables}, token)
        assert "errors" not in result, result
        page = result["data"][field]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def all_students(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    return await _pages(client, token, STUDENTS, "students")


async def all_entries(client: httpx.AsyncClient, token: str, **filter: Any) -> list[dict[str, Any]]:
    return await _pages(client, token, ENTRIES, "ledgerEntries", f=filter or None)
