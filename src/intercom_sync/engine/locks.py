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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from intercom_sync.clock import Clock
from intercom_sync.processes import process_alive
from intercom_sync.store.base import Leases
from intercom_sync.store.writer import AsyncStore

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


def _release(name: str, owner: str, b: Leases) -> None:
    b.release_lock(name, owner)


@dataclass
class StreamLeases:
    """The stream locks one run takes in its store, and when each was last renewed."""

    store: AsyncStore
    clock: Clock
    run_id: str
    wait_seconds: float  # how long a stream waits for another sync to finish it
    note: Callable[[str], None]
    renewed: dict[str, float] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return lock_owner(self.run_id)

    @asynccontextmanager
    async def hold(self, stream: str) -> AsyncIterator[None]:
        owner = self.owner
        await self._acquire(stream, owner)
        self.renewed[stream] = self.clock.now()
        try:
            yield
        finally:
            self.renewed.pop(stream, None)
            await self.store.run(lambda b: b.release_lock(lock_name(stream), owner))

    async def renew_if_due(self, stream: str) -> None:
        """Called as a stream makes progress; keeps its lease from running out."""
        renewed = self.renewed.get(stream)
        now = self.clock.now()
        if renewed is not None and now - renewed >= RENEW_AFTER:
            owner = self.owner
            await self.store.run(lambda b: b.try_lock(lock_name(stream), owner, LEASE_SECONDS, now))
            self.renewed[stream] = now

    async def _acquire(self, stream: str, owner: str) -> None:
        name = lock_name(stream)
        waited = 0.0
        while not await self._try(name, owner):
            holder = await self.store.run(lambda b: b.lock_holder(name))
            if holder is not None and holder_is_dead(holder):
                await self.store.run(partial(_release, name, holder))
                continue
            if waited >= self.wait_seconds:
                raise StreamBusy(
                    f"another sync into this store kept {stream} busy for {waited:.0f}s; "
                    "it was not synced this time"
                )
            if waited == 0:
                self.note(f"{stream}: another sync into this store is running it; waiting")
            await self.clock.sleep(POLL_SECONDS)
            waited += POLL_SECONDS

    async def _try(self, name: str, owner: str) -> bool:
        now = self.clock.now()
        return await self.store.run(lambda b: b.try_lock(name, owner, LEASE_SECONDS, now))
