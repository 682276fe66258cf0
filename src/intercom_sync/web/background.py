"""Background syncs while the dashboard is served (`serve --sync-every 15m`).

The sync itself is an injected async callable, so this module knows nothing about the
engine; it only runs it on a schedule, never two at once, and remembers how the last
run went for the page's freshness line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from intercom_sync.clock import Clock
from intercom_sync.metrics.durations import iso_ms

SyncFn = Callable[[], Awaitable[Any]]
logger = logging.getLogger("intercom_sync.web.background")
_MAX_ERROR = 300


@dataclass
class SyncStatus:
    every_seconds: float
    running: bool = False
    runs: int = 0
    failures: int = 0
    last_started: float | None = None
    last_finished: float | None = None
    last_error: str | None = None
    next_due: float | None = None

    def as_json(self) -> dict[str, Any]:
        def when(t: float | None) -> str | None:
            return None if t is None else iso_ms(int(t * 1000))

        return {
            "enabled": True,
            "every_seconds": self.every_seconds,
            "running": self.running,
            "runs": self.runs,
            "failures": self.failures,
            "last_started": when(self.last_started),
            "last_finished": when(self.last_finished),
            "last_ok": self.runs > 0 and self.last_error is None,
            "last_error": self.last_error,
            "next_due": when(self.next_due),
        }


class BackgroundSync:
    """Runs `sync_fn` now and then every `every_seconds` (time from the injected clock)."""

    def __init__(self, sync_fn: SyncFn, every_seconds: float, clock: Clock) -> None:
        if every_seconds <= 0:
            raise ValueError("the sync interval must be positive")
        self._sync_fn = sync_fn
        self._clock = clock
        self.status = SyncStatus(every_seconds)

    async def run_once(self) -> bool:
        """One sync; False when one was already running or it failed (the error is kept)."""
        if self.status.running:
            return False
        status = self.status
        status.running, status.last_started = True, self._clock.now()
        try:
            await self._sync_fn()
        except Exception as exc:  # a failed sync must not stop the dashboard
            status.failures += 1
            status.last_error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
            logger.warning("background sync failed: %s", status.last_error)
            return False
        else:
            status.last_error = None
            return True
        finally:
            status.runs += 1
            status.running = False
            status.last_finished = self._clock.now()

    async def run_forever(self) -> None:
        """Sync at once, then every interval, until cancelled."""
        while True:
            await self.run_once()
            self.status.next_due = self._clock.now() + self.status.every_seconds
            await self._clock.sleep(self.status.every_seconds)
