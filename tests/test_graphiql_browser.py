"""GraphiQL with no internet (issue 17 §1), in a real headless Chromium (Debian's; .ci/run installs it): the
development app served by uvicorn on a demo database, every request to anywhere but that server aborted, and
the page renders, the sign-in form signs a demo account in, and a query answers from the database. One page
load, and the explorer plugin opens on the schema."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import pytest
import uvicorn
from playwright.async_api import Route, async_playwright, expect
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from datagen.demo.seed import DEMO_PASSWORD, demo_accounts
from tests.conftest import make_settings

pytestmark = pytest.mark.whole_app

CHROMIUM = "/usr/bin/chromium"
# As the machine's own probe starts it: no sandbox as root, and none of Chromium's own calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACCOUNT = "edu-county-532329"
WAIT = 30_000  # ms for each step: CI runs two test passes side by side on 2 cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_database(databases) -> str:
    """A database of this test's own with the demo data: the server commits (sign-ins)."""
    return str(databases.create_demo("browser"))


@pytest.fixture
async def server(demo_database: str) -> AsyncIterator[str]:
    """The development app under uvicorn on a free port."""
    engine = create_async_engine(demo_database, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    try:
        async with asyncio.timeout(30):
            while not served.started:
                assert not task.done(), "uvicorn stopped before it started"
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        await task
        await engine.dispose()


def test_chromium_is_installed():
    """CI installs Debian's chromium (.ci/run); the browser test below needs no download of its own."""
    assert shutil.which(CHROMIUM), "install Debian's chromium: apt-get install chromium (.ci/run does)"


async def test_graphiql_renders_signs_in_and_queries_with_the_outside_network_blocked(server):
    served = urlsplit(server).netloc
    outside: list[str] = []
    local: list[str] = []
    problems: list[str] = []

    async def only_this_server(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == served:
            local.append(urlsplit(url).path)
            await route.continue_()
        else:
            outside.append(url)
            await route.abort("internetdisconnected")

    display_name = next(a.display_name for a in demo_accounts() if a.username == ACCOUNT)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.route("**/*", only_this_server)
            page = await context.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))

            await page.goto(f"{server}/graphql?q={quote('{ viewer { username displayName } }')}")
            run = page.locator(".graphiql-execute-button")
            await expect(run).to_be_visible(timeout=WAIT)  # React and GraphiQL loaded and rendered
            await expect(page.locator(".graphiql-query-editor")).to_contain_text("viewer", timeout=WAIT)

            form = page.locator("#baoxue-login")
            status = page.locator("#baoxue-login-status")
            await form.locator("input[name=username]").fill(ACCOUNT)
            await form.locator("input[name=password]").fill("not-the-password")
            await form.locator("button").click()
            await expect(status).to_contain_text("invalid username or password", timeout=WAIT)

            await form.locator("input[name=password]").fill(DEMO_PASSWORD)
            await form.locator("button").click()
            await expect(status).to_contain_text(f"signed in as {ACCOUNT}", timeout=WAIT)

            await run.click()
            response = page.locator(".graphiql-response")
            await expect(response).to_contain_text(f'"username": "{ACCOUNT}"', timeout=WAIT)
            await expect(response).to_contain_text(display_name, timeout=WAIT)

            await page.get_by_role("button", name="Show GraphiQL Explorer").click()  # the explorer plugin
            await expect(page.locator(".graphiql-plugin")).to_contain_text("students", timeout=WAIT)
        finally:
            await browser.close()

    assert outside == [], f"the page asked for something outside the app: {outside}"
    assert "/graphql/static/vendor/graphiql.min.js" in local
    assert "/auth/token" in local
    # The 401 of the wrong password is the only error the console may show (Chromium logs failed fetches).
    assert [p for p in problems if "401" not in p] == [], problems
