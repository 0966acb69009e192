"""The document limits hold before the work: refused in linear time, typed QUERY_TOO_COMPLEX, bilingual."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from baoxue.app import create_app
from tests.conftest import error_codes, gql, make_settings, token_for

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def fan_out(k: int) -> str:
    """Each fragment spreads the previous one twice: 2^k fields from ~9k tokens."""
    parts = [f"query FanOut {{ ...F{k} }}", "fragment F0 on Query { viewer { username } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, k + 1)]
    return "\n".join(parts)


def assert_too_complex(result: dict, *words: str) -> None:
    assert result.get("data") is None
    assert error_codes(result)
    assert set(error_codes(result)) == {"QUERY_TOO_COMPLEX"}
    message = result["errors"][0]["message"]
    assert CHINESE.search(message), message
    assert " / " in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("k", [20, 40])
async def test_fragment_fan_out_is_refused_while_the_server_keeps_answering(client, k):
    token = await token_for(client, "edu-province-53")
    refused, health = await asyncio.gather(gql(client, fan_out(k), token=token), client.get("/healthz"))
    assert_too_complex(refused, "query cost")
    assert health.status_code == 200


async def test_a_fragment_spread_a_few_times_is_measured_like_its_expansion(client):
    token = await token_for(client, "edu-province-53")
    assert "errors" not in await gql(client, fan_out(4), token=token)  # 16 copies of viewer: fine
    deep = "fragment D on Region { parent { parent { parent { parent { parent { parent { code } } } } } } }"
    query = "{ regions { edges { node { parent { parent { ...D } } } } } }\n" + deep
    assert_too_complex(await gql(client, query, token=token), "depth")
    aliased = "fragment A on Query { a: viewer { username } b: viewer { username } }\n"
    many = "{ " + " ".join(["...A"] * 8) + " x: viewer { username } }\n" + aliased
    assert_too_complex(await gql(client, many, token=token), "aliases")


async def test_every_limit_refusal_carries_the_code(client):
    token = await token_for(client, "edu-province-53")
    deep = "{ regions { edges { node { " + "parent { " * 12 + "code" + " }" * 12 + " } } } }"
    assert_too_complex(await gql(client, deep, token=token), "depth")
    aliases = "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(20)) + " }"
    assert_too_complex(await gql(client, aliases, token=token), "aliases")
    tokens = "{ " + " ".join(["viewer { username displayName isService }"] * 500) + " }"
    assert_too_complex(await gql(client, tokens, token=token), "tokens")
    page = "regions(first: 100) { edges { node { code name level path parent { code name level path } } } }"
    cost = "{ " + " ".join(f"p{i}: {page}" for i in range(12)) + " }"
    assert_too_complex(await gql(client, cost, token=token), "query cost")
    nested = "{" + "viewer {" * 400 + "username" + "}" * 401
    assert_too_complex(await gql(client, nested, token=token), "nested")


async def test_repeated_fields_cannot_make_validation_quadratic(client):
    """graphql-core compares same-named fields pairwise; past a budget the document is refused."""
    token = await token_for(client, "edu-province-53")
    repeated = "{" + " ".join(["viewer { username }"] * 495) + "}"
    refused, health = await asyncio.gather(gql(client, repeated, token=token), client.get("/healthz"))
    assert_too_complex(refused, "too complex")
    assert health.status_code == 200
    assert "errors" not in await gql(client, "{" + " ".join(["viewer { username }"] * 20) + "}", token=token)


async def test_limits_refuse_before_sign_in_is_checked(client):
    """Nothing of the document is executed, so an anonymous caller learns the same refusal."""
    assert_too_complex(await gql(client, fan_out(20)), "query cost")


@pytest.fixture
async def production(sessions):
    app = create_app(make_settings(env="production"), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


MISSPELT = {
    "type": "query($f: SchoolFiltr) { schools(filter: $f) { totalCount } }",
    "enum value": "{ schools(filter: {stage: PRIMAR}) { totalCount } }",
    "argument": "{ schools(frist: 5) { totalCount } }",
    "field": "{ viewer { usernme } }",
    "input field": '{ schools(filter: {regionCod: "53"}) { totalCount } }',
}


async def test_production_suggests_no_names(production):
    token = await token_for(production, "edu-province-53")
    for what, query in MISSPELT.items():
        result = await gql(production, query, token=token)
        assert result["errors"], what
        for error in result["errors"]:
            assert "Did you mean" not in error["message"], (what, error["message"])
    variable = await gql(
        production,
        "query($s: SchoolStage) { schools(filter: {stage: $s}) { totalCount } }",
        {"s": "PRIMAR"},
        token=token,
    )
    assert variable["errors"]
    assert "Did you mean" not in variable["errors"][0]["message"]
    assert "PRIMARY" not in variable["errors"][0]["message"]


async def test_development_still_suggests_names(client):
    token = await token_for(client, "edu-province-53")
    for what in ("type", "enum value", "argument", "field"):
        result = await gql(client, MISSPELT[what], token=token)
        assert "Did you mean" in result["errors"][0]["message"], what
