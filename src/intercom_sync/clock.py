"""Injectable time.

Every component that waits or reads the time (the rate governor, retry backoff,
the simulator's latency, rate limits and scroll expiry) takes a `Clock`, so
tests run on virtual time and never sleep on the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """A source of Unix time in seconds, and a way to wait on it."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


class ManualClock:
    """Virtual time for tests: it only moves when told to, or when someone sleeps.

    `sleep` advances virtual time to the sleeper's wake-up moment at once (after
    yielding to the event loop), so code that waits for a rate-limit reset or a
    backoff runs instantly and deterministically. Time never goes backwards.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)
        self.slept = 0.0

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = max(self._now, float(when))

    async def sleep(self, seconds: float) -> None:
        wake = self._now + max(0.0, seconds)
        self.slept += max(0.0, seconds)
        await asyncio.sleep(0)
        self._now = max(self._now, wake)


class OffsetClock:
    """Real time shifted by an adjustable offset.

    The out-of-process simulator runs on this: rate-limit windows pass in real
    time, while tests can still jump forward (past the search-index lag, past a
    scroll's expiry) through `advance` without waiting.
    """

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self.offset += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)
