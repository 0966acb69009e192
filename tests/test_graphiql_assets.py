"""GraphiQL's vendored assets (issue 17 §1): exactly what scripts/refresh_graphiql.py wrote, pinned, MIT with
their licence texts, and served by the app in development only."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

import httpx

from baoxue.app import create_app
from baoxue.ide import ASSETS, VENDOR
from tests.conftest import make_settings

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "refresh_graphiql.py"
MANIFEST = json.loads((VENDOR / "VERSIONS.json").read_text())


def _refresh_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("refresh_graphiql", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_vendored_file_is_the_one_the_refresh_script_recorded():
    """Nobody edits them by hand: each file's sha256 is VERSIONS.json's, and nothing unrecorded lies there."""
    recorded = {name: sha for entry in MANIFEST["packages"].values() for name, sha in entry["files"].items()}
    present = {
        str(path.relative_to(VENDOR)) for path in VENDOR.rglob("*") if path.is_file() and path.name != "VERSIONS.json"
    }
    assert present == set(recorded)
    for name, sha in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha, name


def test_the_pins_of_the_script_are_the_versions_vendored():
    pins = {pin.package: (pin.version, pin.integrity) for pin in _refresh_script().PINS}
    vendored = {name: (entry["version"], entry["integrity"]) for name, entry in MANIFEST["packages"].items()}
    assert pins == vendored


def test_each_package_is_mit_with_its_licence_text():
    for name, entry in MANIFEST["packages"].items():
        assert entry["license"] == "MIT", name
        licences = [f for f in entry["files"] if f.startswith("licenses/")]
        assert len(licences) == 1, name
        text = (VENDOR / licences[0]).read_text()
        assert "MIT License" in text, name
        assert "Permission is hereby granted, free of charge" in text, name


def test_the_page_loads_only_files_the_app_serves():
    page = (ASSETS / "graphiql.html").read_text()
    assert "://" not in re.sub(r"<!--.*?-->", "", page, flags=re.S), "an absolute URL would leave the intranet"
    assets = re.findall(r'(?:src|href)="graphql/static/([^"]+)"', page)
    assert len(assets) == 8
    for asset in assets:
        assert (ASSETS / asset).is_file(), asset
    script = (ASSETS / "baoxue-graphiql.js").read_text()
    assert "://" not in script


async def test_development_serves_the_page_and_its_assets_with_a_policy_that_keeps_it_local(sessions):
    app = create_app(make_settings(), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self';" in policy
        for asset in re.findall(r'(?:src|href)="(graphql/static/[^"]+)"', page.text):
            response = await client.get(f"/{asset}")
            assert response.status_code == 200, asset
            assert response.content == (ASSETS / asset.removeprefix("graphql/static/")).read_bytes()


async def test_production_serves_neither_the_page_nor_the_assets(sessions):
    app = create_app(make_settings(env="production"), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        asset = await client.get("/graphql/static/vendor/graphiql.min.js")
        assert asset.status_code == 404
