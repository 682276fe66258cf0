"""One process at a time per stream, per store.

Two syncs writing the same stream into the same store would trample each other's pass
(one's full-pass delete marking would mark the other's rows) and open two company scrolls.
So every stream runs under a lock in the store: a second process's stream waits for the
first to finish and then runs incrementally from the cursor the first one left. Different
streams still run side by side. A holder killed mid-stream is recognised by its pid (same
host) and its lock taken over at once; elsewhere its lease runs out after `LEASE_SECONDS`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from intercom_sync.processes import process_alive

if TYPE_CHECKING:
    from intercom_sync.engine.context import SyncContext

LEASE_SECONDS = 600.0
RENEW_AFTER = 60.0
POLL_SECONDS = 5.0


class StreamBusy(Exception):
    """Another sync kept the stream for longer than this run would wait."""


def lock_owner(run_id: str) -> str:
    """`pid@host/run`: enough for another process on this host to tell a dead holder."""
    return f"{os.getpid()}@{socket.gethostname()}/{run_id}"


def holder_is_dead(owner: str) -> bool:
    """A holder on this host whose process is gone (killed mid-stream) holds nothing."""
    pid, _, rest = owner.partition("@")
    host = rest.partition("/")[0]
    return pid.isdigit() and host == socket.gethostname() and not process_alive(int(pid))


def lock_name(stream: str) -> str:
    return f"stream:{stream}"


@asynccontextmanager
async def stream_lock(ctx: SyncContext, stream: str) -> AsyncIterator[None]:
    owner = lock_owner(ctx.run_id)
    await _acquire(ctx, stream, owner)
    ctx.leases[stream] = ctx.clock.now()
    try:
        yield
    finally:
        ctx.leases.pop(stream, None)
        await ctx.store.call(ctx.store.store.release_lock, lock_name(stream), owner)


async def renew_if_due(ctx: SyncContext, stream: str) -> None:
    """Called as a stream makes progress; keeps its lease from running out."""
    renewed = ctx.leases.get(stream)
    now = ctx.clock.now()
    if renewed is not None and now - renewed >= RENEW_AFTER:
        await ctx.store.call(
            ctx.store.store.try_lock, lock_name(stream), lock_owner(ctx.run_id), LEASE_SECONDS, now
        )
        ctx.leases[stream] = now


async def _acquire(ctx: SyncContext, stream: str, owner: str) -> None:
    store = ctx.store.store
    name = lock_name(stream)
    waited = 0.0
    while not await ctx.store.call(store.try_lock, name, owner, LEASE_SECONDS, ctx.clock.now()):
        holder = await ctx.store.call(store.lock_holder, name)
        if holder is not None and holder_is_dead(holder):
            await ctx.store.call(store.release_lock, name, holder)
            continue
        if waited >= ctx.options.lock_wait_seconds:
            raise StreamBusy(
                f"another sync into this store kept {stream} busy for {waited:.0f}s; "
                "it was not synced this time"
            )
        if waited == 0:
            ctx.progress.note(f"{stream}: another sync into this store is running it; waiting")
        await ctx.clock.sleep(POLL_SECONDS)
        waited += POLL_SECONDS
