"""One read for a platform: the engine, its client and its checks, into an emitting
backend instead of the local store."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import httpx

from intercom_sync.adapters.backend import EmittingBackend, MessageSink
from intercom_sync.adapters.state import resumable
from intercom_sync.adapters.streams import PLATFORM_STREAMS
from intercom_sync.clock import Clock
from intercom_sync.config import Settings
from intercom_sync.engine.context import ProgressSink
from intercom_sync.engine.sync import SyncOutcome, sync


def read(
    settings: Settings,
    streams: Sequence[str],
    state: Mapping[str, Any],
    sink: MessageSink,
    *,
    full_refresh: Collection[str] = (),
    progress: ProgressSink | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> SyncOutcome:
    """Read `streams` (platform stream names) from where `state` — the last checkpoint a
    platform saved, or empty — left off; the streams in `full_refresh`, and those without an
    incremental mode, read everything (`state.resumable`).
    Records and checkpoints go to `sink`. Raises `FatalSyncError` for a rejected token or
    an unreachable host."""
    unknown = [s for s in streams if s not in PLATFORM_STREAMS]
    if unknown:
        raise ValueError(f"not a stream of this source: {', '.join(unknown)}")
    resumed = resumable(state, streams, full_refresh)
    backend = EmittingBackend(sink, resumed, emit=frozenset(streams))
    return asyncio.run(
        sync(
            settings,
            streams=list(streams),
            store=backend,
            progress=progress,
            transport=transport,
            clock=clock,
        )
    )
