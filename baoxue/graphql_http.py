"""GraphQL over HTTP (the GraphQL-over-HTTP specification): which media type answers, with which status.

- `Accept: application/graphql-response+json`: a request error (the document does not parse or validate,
  the variables cannot be coerced, the operation is refused before it runs) answers 4xx without a `data`
  key: 400, or 401 for UNAUTHENTICATED, 403 for FORBIDDEN, 429 for a spent budget; an operation that ran
  answers 200, partial data and field errors included.
- `Accept: application/json`, `*/*` or no Accept (clients older than the specification): 200 with
  `{"data": …, "errors": […]}` as before.
- An Accept naming neither type: 406 before anything runs. A mutation sent with GET: 405, `Allow: POST`.
The body itself, when not a GraphQL request at all (not JSON, not an object), answers 400 in either type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.responses import JSONResponse

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SUPPORTED = (GRAPHQL_RESPONSE, JSON)

HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 415: "UNSUPPORTED_MEDIA_TYPE"}

REQUEST_ERROR_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL_SERVER_ERROR": 500}
"""A request error's status in application/graphql-response+json by its first error's code; others 400."""


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights, in order; a malformed weight counts as 0."""
    ranges = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if not media:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        ranges.append((media.lower(), weight))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, or None (406) when the client accepts neither.

    Each supported type takes the weight of the most specific range that matches it. The highest weight
    wins; between equal weights a type the client names beats one a wildcard covers (`*/*` alone is
    application/json, as the specification asks of servers while old clients remain), then the one named
    first.
    """
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    ranges = _ranges(accept)
    for candidate in SUPPORTED:
        main = candidate.split("/")[0]
        match: tuple[float, int, int] | None = None  # (weight, specificity, -position)
        for position, (media, weight) in enumerate(ranges):
            specificity = 2 if media == candidate else 1 if media == f"{main}/*" else 0 if media == "*/*" else -1
            if specificity >= 0 and (match is None or specificity > match[1]):
                match = (weight, specificity, -position)
        if match is None or match[0] <= 0:
            continue
        weight, specificity, position = match
        key = (weight, 1, position) if specificity == 2 else (weight, 0, 0)
        if best is None or key > best or (key == best and candidate == JSON):
            best, chosen = key, candidate
    return chosen


def is_request_error(response: Mapping[str, Any]) -> bool:
    """Errors and no data, none of them a field's (a field error has a `path`): nothing was executed."""
    errors = response.get("errors") or []
    return response.get("data") is None and bool(errors) and not any(e.get("path") for e in errors)


def request_error_status(response: Mapping[str, Any]) -> int:
    code = (response["errors"][0].get("extensions") or {}).get("code")
    return REQUEST_ERROR_STATUS.get(str(code), 400)


def http_refusal(exc: HTTPException) -> JSONResponse:
    """A request /graphql cannot take at all (not JSON, not an object, wrong method): a JSON error with a
    code, as GraphQL clients read errors, instead of the plain-text answer strawberry gives."""
    code = HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
    message = exc.reason if " / " in exc.reason else f"请求无法处理 / {exc.reason}"
    headers = {"Allow": "POST"} if exc.status_code == 405 else None  # the operation may be POSTed
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)
