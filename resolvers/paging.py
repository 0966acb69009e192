"""Cursor arguments for connections: `first` ≤ 100, opaque cursors over the sort key."""

from __future__ import annotations

import base64
import binascii

from models.repos.paging import Keyset

from .errors import BadInput

MAX_PAGE = 100
DEFAULT_PAGE = 20


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(
            "first",
            "PAGE_SIZE",
            f"first 必须在 0 到 {MAX_PAGE} 之间",
            f"first must be between 0 and {MAX_PAGE}",
        )
    return first


def decode_id_cursor(cursor: str | None) -> str | None:
    """A cursor over numeric ids: refused like any forged cursor when it is not one."""
    key = decode_cursor(cursor)
    if key is not None and parse_id(key) is None:
        raise BadInput("after", "INVALID_CURSOR", "游标无效", "the cursor is not valid")
    return key


def decode_keyset_cursor(cursor: str | None) -> Keyset | None:
    """A scoped list's cursor (branch, path, id): refused like any forged cursor when it is not one."""
    text = decode_cursor(cursor)
    if text is None:
        return None
    keyset = Keyset.parse(text)
    if keyset is None or keyset.id > INT8_MAX:
        raise BadInput("after", "INVALID_CURSOR", "游标无效", "the cursor is not valid")
    return keyset


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("k:"):
        raise BadInput("after", "INVALID_CURSOR", "游标无效", "the cursor is not valid")
    return text[2:]


INT8_MAX = 2**63 - 1
INT4_MAX = 2**31 - 1  # the ids of the tables keyed by `integer` (accounts' grants), not `bigint`


def parse_id(text: str, *, limit: int = INT8_MAX) -> int | None:
    """A numeric object id from a global ID's text, or None (ASCII digits only, within the key's type:
    bigint unless `limit` says less), so an id past the column's range answers like a missing one."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    number = int(text)
    return number if number <= limit else None
