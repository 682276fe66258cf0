"""Opaque `starting_after` cursors for search and list paging.

A cursor is base64 of a small JSON array: a fingerprint of the query it belongs
to, the number of the page it opens, and a position — the last `(updated_at,
id)` returned for sorted results (keyset paging, so the next page is computed
against the search index as it is *then*), or an offset in natural order.
Garbage, or a cursor presented with a different query, is a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from intercom_sync.simulator.api.errors import ApiError, bad_request


@dataclass(frozen=True)
class Cursor:
    fingerprint: str
    page: int  # the page number this cursor opens (the first page is 1)
    key: tuple[int, str] | None = None  # sorted paging: strictly after/before this key
    offset: int | None = None  # natural order: skip this many records


def fingerprint(*parts: Any) -> str:
    """A short stable hash of a query (and its sort), to tie cursors to it."""
    canonical = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=8).hexdigest()


def encode(cursor: Cursor) -> str:
    if cursor.key is not None:
        fields: list[Any] = [cursor.fingerprint, cursor.page, "k", cursor.key[0], cursor.key[1]]
    else:
        fields = [cursor.fingerprint, cursor.page, "o", cursor.offset or 0]
    return base64.b64encode(orjson.dumps(fields)).decode("ascii")


def decode(token: str, expected_fingerprint: str) -> Cursor:
    """Parse a client's `starting_after`, or raise the 400 Intercom would."""
    cursor = _parse(token)
    if cursor is None:
        raise _invalid()
    if cursor.fingerprint != expected_fingerprint:
        raise bad_request("starting_after does not belong to this query; restart paging without it")
    return cursor


def _parse(token: str) -> Cursor | None:
    try:
        fields = orjson.loads(base64.b64decode(token.encode("ascii"), validate=True))
    except (ValueError, UnicodeEncodeError, binascii.Error, orjson.JSONDecodeError):
        return None
    if not isinstance(fields, list) or len(fields) < 4:
        return None
    fp, page, kind = fields[0], fields[1], fields[2]
    if not isinstance(fp, str) or not _is_int(page) or page < 2:
        return None
    if kind == "k" and len(fields) == 5 and _is_int(fields[3]) and isinstance(fields[4], str):
        return Cursor(fp, page, key=(fields[3], fields[4]))
    if kind == "o" and len(fields) == 4 and _is_int(fields[3]) and fields[3] >= 0:
        return Cursor(fp, page, offset=fields[3])
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid() -> ApiError:
    return bad_request("starting_after is not a valid cursor")
