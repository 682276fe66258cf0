"""The adapters' saved state: the engine's checkpoint snapshot, split by platform stream
and joined back.

A snapshot (`backend.EmittingBackend.snapshot`) holds the engine's checkpoint of each
stream (`contacts`), its last count check (`verify:contacts`) and the queue of child work
(`_pending`: {child stream: [[parent id, version], …]}). A platform that keeps state per
stream (Airbyte) gets each stream's share: its own checkpoints, and the queued work of the
children it owns — its own, and those of an internal child with no records of its own
(`contact_companies` belongs to `contacts`). Joining the shares gives the snapshot back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from intercom_sync.adapters.backend import PENDING
from intercom_sync.adapters.streams import PLATFORM_STREAMS
from intercom_sync.streams.catalog import CATALOG

_VERIFY = "verify:"
_PARENT = {spec.name: spec.parent for spec in CATALOG if spec.parent}


def owner(key: str) -> str:
    """The platform stream a snapshot key (or a child stream's queue) belongs to."""
    name = key.removeprefix(_VERIFY)
    while name not in PLATFORM_STREAMS and name in _PARENT:
        name = str(_PARENT[name])
    return name


def split(snapshot: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each platform stream's share of a snapshot."""
    shares: dict[str, dict[str, Any]] = {}
    for key, value in snapshot.items():
        if key == PENDING:
            for child, entries in dict(value or {}).items():
                share = shares.setdefault(owner(child), {})
                share.setdefault(PENDING, {})[child] = entries
        else:
            shares.setdefault(owner(key), {})[key] = value
    return shares


def join(shares: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The snapshot the shares were split from."""
    snapshot: dict[str, Any] = {}
    pending: dict[str, Any] = {}
    for share in shares:
        for key, value in share.items():
            if key == PENDING:
                pending.update(dict(value or {}))
            else:
                snapshot[key] = value
    if pending:
        snapshot[PENDING] = pending
    return snapshot


def family(stream: str) -> set[str]:
    """The stream with the parents its records come through: reading a child in full
    (every part of every conversation) needs its parent read in full."""
    found = {stream}
    while stream in _PARENT:
        stream = str(_PARENT[stream])
        found.add(stream)
    return found


def resumable(
    snapshot: Mapping[str, Any], streams: Iterable[str], full_refresh: Iterable[str]
) -> dict[str, Any]:
    """What of `snapshot` a read of `streams` may resume from: nothing of a stream read in
    full, nor of its parents, nor of a selected stream that has no incremental mode (every
    read of such a stream passes on all of it, so a platform may replace what it held)."""
    whole = {s for s in streams if PLATFORM_STREAMS[s].cursor_field is None}
    dropped: set[str] = set()
    for stream in {*full_refresh, *whole}:
        dropped |= family(stream)
    return join(share for stream, share in split(snapshot).items() if stream not in dropped)
