"""Scoped lists read in index order (issue 18 §1): paging through a list as any account gives each row in
scope once, in a stable order, with `totalCount` rows in all, whatever the page size."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import or_, select

from models import Child
from models.repos.paths import within_path
from tests.conftest import error_codes, gql, token_for

WUDING = "532329"
LISTS = {
    "students": "students(first: $first, after: $after, filter: $filter) { ...page edges { node { id } } }",
    "ledgerEntries": "ledgerEntries(first: $first, after: $after) { ...page edges { node { id } } }",
    "schoolAgeChildren": (
        "schoolAgeChildren(first: $first, after: $after) { ...page edges { node { student { id } } } }"
    ),
}
ARGS = {"students": "$filter: StudentFilter", "ledgerEntries": "", "schoolAgeChildren": ""}
ACCOUNTS = [
    "staff-school-2153000001",
    "gov-township-532329101",
    f"gov-county-{WUDING}",
    "edu-city-5323",
    "edu-province-53",
]  # every level, both lines


CONNECTIONS = {
    "students": "StudentConnection",
    "ledgerEntries": "LedgerEntryConnection",
    "schoolAgeChildren": "SchoolAgeChildConnection",
}


def query(name: str) -> str:
    """The list's pages, `totalCount` asked through a fragment (it is counted only when asked)."""
    extra = f", {ARGS[name]}" if ARGS[name] else ""
    return (
        f"query($first: Int, $after: String{extra}) {{ {LISTS[name]} }}\n"
        f"fragment page on {CONNECTIONS[name]} {{ totalCount pageInfo {{ hasNextPage endCursor }} }}"
    )


def node_id(edge: dict[str, Any]) -> str:
    node = edge["node"]
    return node["id"] if "id" in node else node["student"]["id"]


async def every_page(client: Any, token: str, name: str, first: int, **variables: Any) -> tuple[list[str], int]:
    ids: list[str] = []
    after = None
    totals = set()
    while True:
        result = await gql(client, query(name), {"first": first, "after": after, **variables}, token)
        assert "errors" not in result, result
        page = result["data"][name]
        totals.add(page["totalCount"])
        ids += [node_id(e) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, totals.pop() if len(totals) == 1 else -1
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("name", list(LISTS))
async def test_paging_gives_each_row_in_scope_once_whatever_the_page_size(client, account, name):
    token = await token_for(client, account)
    whole, same_total = await every_page(client, token, name, 100)
    small, total = await every_page(client, token, name, min(37, max(3, same_total // 6)))  # several pages
    assert len(small) == len(set(small)) == total, "a row came twice, or the pages do not add up to totalCount"
    assert total == same_total
    assert small[: len(whole)] == whole[: len(small)], "the order depends on the page size"
    assert set(small) == set(whole)
    if name == "students":
        assert total > 0, f"{account} sees no children in the demo: the test would prove nothing"


async def test_the_students_pages_are_exactly_the_children_in_scope(client, session):
    """The government line: a child registered OR living in the county, each once, across both ranges."""
    county = f"53/5323/{WUDING}"
    inside = or_(within_path(Child.household_path, county), within_path(Child.residence_path, county))  # type: ignore[arg-type]
    expected = set((await session.scalars(select(Child.id).where(inside))).all())
    moved = set(
        (await session.scalars(select(Child.id).where(inside, Child.household_path != Child.residence_path))).all()
    )
    assert moved, "the demo has children living outside their household's region: the second range"
    token = await token_for(client, f"gov-county-{WUDING}")
    ids, total = await every_page(client, token, "students", 2)
    got = {int(base64.b64decode(i).decode().split(":")[1]) for i in ids}
    assert got == expected
    assert total == len(expected)


async def test_a_region_filter_pages_in_the_filters_order_and_stays_in_scope(client, session):
    token = await token_for(client, "edu-city-5323")
    township = "532329101"
    ids, total = await every_page(client, token, "students", 2, filter={"regionCode": township})
    assert len(ids) == len(set(ids)) == total
    neighbour = await token_for(client, "edu-county-532328")
    result = await gql(client, query("students"), {"first": 5, "filter": {"regionCode": township}}, neighbour)
    assert [e["extensions"].get("reason") for e in result["errors"]] == ["UNKNOWN_REGION"]


@pytest.mark.parametrize("cursor", ["k:1:53:", "k:x", "k:1:53/a:5", "k:99999:53:1", "nonsense"])
async def test_a_forged_cursor_is_refused(client, cursor):
    token = await token_for(client, f"gov-county-{WUDING}")
    after = base64.urlsafe_b64encode(cursor.encode()).decode()
    result = await gql(client, query("students"), {"first": 5, "after": after}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert result["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"
