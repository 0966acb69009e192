"""Persisted operations (README, Persisted operations): `extensions.persistedQuery` as Apollo Client and
graphql-codegen send it, the manifest the operator registers, and BAOXUE_PERSISTED_ONLY."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from baoxue.app import create_app
from baoxue.cli import main
from resolvers.operations import ManifestError, read_manifest, register
from tests.conftest import error_codes, make_settings, token_for
from tests.ledger_support import WUDING_PRIMARY

VIEWER = "query Me { viewer { username } }"
AUDIT = "query Audit { auditLog(first: 1) { edges { node { action } } } }"
SET_BUDGET = """mutation Budget($input: SetExportBudgetInput!) {
  setExportBudget(input: $input) { errors { code } } }"""
STAFF = f"staff-school-{WUDING_PRIMARY}"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha(document)}}


@asynccontextmanager
async def app_client(sessions: Any, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings), sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.3", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
        yield client


async def send(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def registered(ctx):
    """The two documents, registered from a manifest as graphql-codegen's client preset writes it."""
    manifest = json.dumps({sha(VIEWER): VIEWER, f"sha256:{sha(AUDIT)}": AUDIT})
    done = await register(ctx, read_manifest(manifest))
    assert (done.added, done.known) == (2, 0)
    await ctx.session.flush()


async def test_a_registered_hash_runs_its_document_and_an_unknown_one_asks_for_the_document(sessions, registered):
    async with app_client(sessions) as client:
        token = await token_for(client, STAFF)
        by_hash = await send(client, token, extensions=persisted(VIEWER))
        unknown = await send(client, token, extensions=persisted("query Other { viewer { displayName } }"))
        both = await send(client, token, query=VIEWER, extensions=persisted(VIEWER))
        ad_hoc = await send(client, token, query="{ viewer { displayName } }")
    assert by_hash["data"] == {"viewer": {"username": STAFF}}
    assert error_codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "没有以此哈希登记的操作" in unknown["errors"][0]["message"]
    assert both["data"] == {"viewer": {"username": STAFF}}
    assert "errors" not in ad_hoc  # ad-hoc documents run unless BAOXUE_PERSISTED_ONLY


async def test_a_hash_that_is_not_the_documents_or_a_malformed_one_is_refused(sessions, registered):
    async with app_client(sessions) as client:
        token = await token_for(client, STAFF)
        mismatch = await send(client, token, query="{ viewer { displayName } }", extensions=persisted(VIEWER))
        version = await send(client, token, extensions=persisted(VIEWER, version=2))
        short = await send(client, token, extensions={"persistedQuery": {"version": 1, "sha256Hash": "abc"}})
    assert error_codes(mismatch) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert mismatch["errors"][0]["extensions"]["field"] == "extensions.persistedQuery"
    assert error_codes(version) == ["PERSISTED_QUERY_INVALID"]
    assert error_codes(short) == ["PERSISTED_QUERY_INVALID"]


async def test_persisted_only_refuses_ad_hoc_documents_and_runs_registered_ones(sessions, registered):
    async with app_client(sessions, persisted_only=True) as client:
        token = await token_for(client, STAFF)
        ad_hoc = await send(client, token, query="{ viewer { displayName } }")
        unregistered = "query Other { viewer { displayName } }"
        hashed_but_unregistered = await send(client, token, query=unregistered, extensions=persisted(unregistered))
        by_hash = await send(client, token, extensions=persisted(VIEWER))
        with_document = await send(client, token, query=VIEWER, extensions=persisted(VIEWER))
    assert error_codes(ad_hoc) == ["PERSISTED_QUERY_ONLY"]
    assert "只执行已登记的操作" in ad_hoc["errors"][0]["message"]
    assert error_codes(hashed_but_unregistered) == ["PERSISTED_QUERY_ONLY"]
    assert by_hash["data"] == {"viewer": {"username": STAFF}}
    assert with_document["data"] == {"viewer": {"username": STAFF}}


async def test_a_registered_operation_is_still_authorized_for_its_caller(sessions, ctx):
    """Registration allows a document, not a caller: school staff may not set export budgets."""
    await register(ctx, read_manifest(json.dumps({sha(SET_BUDGET): SET_BUDGET})))
    await ctx.session.flush()
    variables = {"input": {"username": STAFF, "rowsPerDay": 10}}
    async with app_client(sessions, persisted_only=True) as client:
        staff = await token_for(client, STAFF)
        admin = await token_for(client, "admin-county-532329")
        refused = await send(client, staff, variables=variables, extensions=persisted(SET_BUDGET))
        allowed = await send(client, admin, variables=variables, extensions=persisted(SET_BUDGET))
    assert error_codes(refused) == ["FORBIDDEN"]
    assert allowed["data"] == {"setExportBudget": {"errors": []}}


def test_a_manifest_with_a_wrong_hash_registers_nothing():
    good = {sha(VIEWER): VIEWER}
    with pytest.raises(ManifestError, match="SHA-256"):
        read_manifest(json.dumps({**good, sha("x"): AUDIT}))
    with pytest.raises(ManifestError, match="parse"):
        read_manifest(json.dumps({sha("query {"): "query {"}))
    with pytest.raises(ManifestError, match="JSON"):
        read_manifest("not json")
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha(AUDIT), "name": "Audit", "type": "query", "body": AUDIT}],
    }
    assert [(o.sha256, o.operation_name) for o in read_manifest(json.dumps(apollo))] == [(sha(AUDIT), "Audit")]


def test_the_operator_adds_a_manifest_and_lists_it(databases, monkeypatch, tmp_path, capsys):
    url = databases.create("operations")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BAOXUE_JWT_SECRET", "cli-test-secret-0123456789abcdefghij")
    main(["migrate"])
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({sha(VIEWER): VIEWER, sha(AUDIT): AUDIT}), encoding="utf-8")
    main(["operations", "add", str(manifest)])
    main(["operations", "add", str(manifest)])
    main(["operations", "list"])
    out = capsys.readouterr().out
    assert "registered 2 operations, 0 already known" in out
    assert "registered 0 operations, 2 already known" in out
    assert f"{sha(VIEWER)}  Me" in out
    assert f"{sha(AUDIT)}  Audit" in out
    manifest.write_text(json.dumps({sha(VIEWER): AUDIT}), encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        main(["operations", "add", str(manifest)])
    assert refused.value.code == 2
    assert "SHA-256" in capsys.readouterr().err
