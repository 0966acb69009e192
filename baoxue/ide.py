"""GraphiQL in development, with no internet: the page and every asset it loads come from the app.

`GET /graphql` from a browser answers baoxue's page (ide_assets/graphiql.html), which loads React, GraphiQL
and the explorer plugin from `/graphql/static/vendor/` (pinned and refreshed only by
scripts/refresh_graphiql.py, with their licences and VERSIONS.json) and a sign-in form that fills the
Authorization header (README, First query). Production serves neither.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "ide_assets"
VENDOR = ASSETS / "vendor"
STATIC_PATH = "/graphql/static"

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # GraphiQL and CodeMirror set inline styles
        "img-src 'self' data:",
        "font-src 'self' data:",  # GraphiQL's fonts are inlined in its CSS
        "connect-src 'self'",  # /graphql, /auth/token and the subscription WebSocket
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
"""The page may load nothing from anywhere but this server: what an intranet without internet needs."""


@cache
def _page() -> str:
    return (ASSETS / "graphiql.html").read_text(encoding="utf-8")


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_page(), headers={"Content-Security-Policy": PAGE_POLICY})


def static_mount() -> Mount:
    """`/graphql/static/…`: the page's own script and styles and the vendored assets."""
    return Mount(STATIC_PATH, app=StaticFiles(directory=ASSETS), name="graphiql-static")
