"""Optimistic versioning (ARCHITECTURE §5), shared by every domain that edits a versioned row."""

from __future__ import annotations

from typing import Any

from .errors import BadInput


def check_version(entry: Any, version: int | None, field: str = "version") -> None:
    """Optimistic versioning (ARCHITECTURE §5): a write based on a stale read is refused, never merged."""
    if version is not None and entry.version != version:
        raise BadInput(
            field,
            "CONFLICT",
            f"记录已被他人修改（当前版本 {entry.version}），请刷新后重试",
            f"the record changed since you read it (now version {entry.version}); reload and retry",
        )
