"""Persisted operations (README, Persisted operations): documents a client may send by SHA-256 alone.

The convention is Apollo's and graphql-codegen's (`extensions.persistedQuery`, version 1, the
lowercase hex SHA-256 of the document's exact text). Documents are registered by the operator from
the client's manifest, a JSON object `{hash: document}` as graphql-codegen's client preset writes it
(`persistedDocuments: true` → `persisted-documents.json`); each hash is checked against its text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

from models.persisted_operation import PersistedOperation
from models.repos import persisted_operations as operation_repo

from .context import Context

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_DOCUMENT_CHARS = 100_000


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class ManifestError(ValueError):
    """A manifest the operator must fix: nothing of it is registered."""


@dataclass(frozen=True)
class Registered:
    added: int
    known: int


def _pairs(manifest: object) -> dict[str, object]:
    """{hash: document} from either manifest format."""
    if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
            raise ManifestError("operations 须为对象列表 / `operations` must be a list of objects")
        return {str(o.get("id")): o.get("body") for o in operations}
    if not isinstance(manifest, dict):
        raise ManifestError("清单须为 JSON 对象 {哈希: 文档} / the manifest must be an object {hash: document}")
    return manifest


def read_manifest(text: str) -> list[PersistedOperation]:
    """The operations of a manifest, each hash proved against its document: graphql-codegen's client
    preset `{hash: document}` (keys may carry a `sha256:` prefix), or Apollo's persisted query manifest
    (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body", …}]}`)."""
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"清单不是 JSON / the manifest is not JSON: {exc}") from exc
    manifest = _pairs(parsed)
    if not manifest:
        raise ManifestError(
            "清单须为非空 JSON 对象 {哈希: 文档} / the manifest must be a non-empty object {hash: document}"
        )
    operations: list[PersistedOperation] = []
    for key, document in manifest.items():
        if not isinstance(document, str) or not document.strip() or len(document) > MAX_DOCUMENT_CHARS:
            raise ManifestError(f"{key}: 文档须为非空字符串 / the document must be a non-empty string")
        digest = key.removeprefix("sha256:").lower()
        if not SHA256_HEX.match(digest) or digest != sha256_of(document):
            raise ManifestError(f"{key}: 哈希与文档的 SHA-256 不符 / the key is not the document's SHA-256")
        try:
            ast = parse(document)
        except GraphQLSyntaxError as exc:
            raise ManifestError(f"{key}: 文档无法解析 / the document does not parse: {exc.message}") from exc
        names = [d.name.value for d in ast.definitions if isinstance(d, OperationDefinitionNode) and d.name]
        operations.append(
            PersistedOperation(
                sha256=digest, document=document, operation_name=", ".join(names)[:200] or None, added_by=""
            )
        )
    return operations


async def register(ctx: Context, operations: list[PersistedOperation]) -> Registered:
    """Register the operations (the operator's CLI); hashes already known stay as they are."""
    for operation in operations:
        operation.added_by = ctx.actor
    added = await operation_repo.add_operations(ctx.session, operations)
    return Registered(added=added, known=len(operations) - added)


async def list_operations(ctx: Context) -> list[PersistedOperation]:
    return await operation_repo.list_operations(ctx.session)


async def document_for(ctx: Context, sha256: str) -> str | None:
    """The registered document of this hash, if any."""
    return await operation_repo.document_of(ctx.session, sha256)
