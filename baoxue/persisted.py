"""Persisted operations at the HTTP layer (README, Persisted operations).

strawberry reads a request's `extensions` but leaves `persistedQuery` to the application (its APQ
support was proposed and not merged: strawberry-graphql/strawberry#1707, #3296), so the view resolves
the hash before strawberry sees the request. A request with a hash and no document runs the registered
document; with both, the hash must be the document's; with `BAOXUE_PERSISTED_ONLY=true`, only
registered documents run. Refusals answer HTTP 200 with a coded error, as Apollo clients expect:
`PERSISTED_QUERY_NOT_FOUND` makes them send the document again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import GraphQLError

from resolvers.context import Context
from resolvers.operations import SHA256_HEX, document_for, sha256_of

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
ONLY = "PERSISTED_QUERY_ONLY"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
INVALID = "PERSISTED_QUERY_INVALID"

CODES = {
    NOT_FOUND: ("没有以此哈希登记的操作", "no operation is registered under this hash: send the document"),
    ONLY: ("本服务只执行已登记的操作", "this server runs registered operations only: send a registered hash"),
    HASH_MISMATCH: ("哈希与所附文档的 SHA-256 不符", "the hash is not the SHA-256 of the document sent with it"),
    INVALID: (
        "extensions.persistedQuery 须为 {version: 1, sha256Hash: 64 位小写十六进制}",
        "extensions.persistedQuery must be {version: 1, sha256Hash: 64 lowercase hex digits}",
    ),
}


def refusal(code: str) -> GraphQLError:
    zh, en = CODES[code]
    return GraphQLError(f"{zh} / {en}", extensions={"code": code, "field": "extensions.persistedQuery"})


class PersistedOperations:
    """Resolves `extensions.persistedQuery`; found documents are kept in memory (a hash names one text)."""

    def __init__(self, *, required: bool, cache_size: int = 1024) -> None:
        self.required = required
        self.cache_size = cache_size
        self._known: OrderedDict[str, str] = OrderedDict()

    async def _document(self, ctx: Context, sha256: str) -> str | None:
        if (known := self._known.get(sha256)) is not None:
            self._known.move_to_end(sha256)
            return known
        document = await document_for(ctx, sha256)
        if document is not None:
            self._known[sha256] = document
            if len(self._known) > self.cache_size:
                self._known.popitem(last=False)
        return document

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, ctx: Context
    ) -> str | GraphQLError | None:
        """The document to run (or None for strawberry's own handling), or the refusal."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return refusal(ONLY) if self.required and query is not None else query
        if not isinstance(persisted, dict):
            return refusal(INVALID)
        sha256 = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(sha256, str) or not SHA256_HEX.match(sha256):
            return refusal(INVALID)
        if query is not None:
            if sha256_of(query) != sha256:
                return refusal(HASH_MISMATCH)
            if not self.required:
                return query
            return query if await self._document(ctx, sha256) is not None else refusal(ONLY)
        document = await self._document(ctx, sha256)
        return document if document is not None else refusal(NOT_FOUND)
