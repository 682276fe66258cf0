"""How many requests to keep in flight (`num_workers`).

A sync is fastest when the rate governor, not the number of open requests,
is what holds it back. By Little's law the number of requests in flight equals
the request rate times the time each one takes, so to sustain the allowed rate
at the observed latency the client needs `rate × latency` slots — plus some
headroom for latency spread and for the time a slot spends queued in the
governor. With `num_workers = "auto"` the `ConcurrencyController` recomputes
that after every response; with a number it stays fixed.

`AdjustableSemaphore` is the slot pool: its limit can move at run time; a
lower limit takes effect as running requests finish, never by cancelling them.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Literal

from intercom_sync.config import MAX_WORKERS


class AdjustableSemaphore:
    """A FIFO semaphore whose limit can be raised or lowered while in use."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def set_limit(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._wake()

    async def acquire(self) -> None:
        if self._in_use < self._limit and not self.waiting:
            self._in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            raise

    def release(self) -> None:
        if self._in_use <= 0:
            raise RuntimeError("release() without acquire()")
        self._in_use -= 1
        self._wake()

    def _wake(self) -> None:
        """Hand free slots to waiters in arrival order (the slot is taken on their behalf)."""
        while self._waiters and self._in_use < self._limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_use += 1
                waiter.set_result(None)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class ConcurrencyController:
    """Sizes the slot pool: fixed, or from Little's law in "auto" mode.

    target = ceil(rate × mean latency × headroom) + spare, clamped to [1, cap],
    where the mean latency is an exponentially weighted moving average.
    """

    def __init__(
        self,
        workers: int | Literal["auto"] = "auto",
        *,
        rate_per_second: float = 10_000 / 60,
        cap: int = MAX_WORKERS,
        initial: int = 8,
        headroom: float = 1.5,
        spare: int = 2,
        smoothing: float = 0.2,
    ) -> None:
        self.auto = workers == "auto"
        self.cap = cap
        self.headroom = headroom
        self.spare = spare
        self.smoothing = smoothing
        self.rate_per_second = rate_per_second
        self.mean_latency: float | None = None
        start = min(cap, initial) if workers == "auto" else _clamp(int(workers), 1, cap)
        self.semaphore = AdjustableSemaphore(start)

    @property
    def limit(self) -> int:
        return self.semaphore.limit

    def slot(self) -> AbstractAsyncContextManager[None]:
        """`async with controller.slot():` holds one in-flight slot."""
        return self.semaphore.slot()

    def target(self) -> int:
        """The slot count Little's law asks for with what has been observed so far."""
        if self.mean_latency is None:
            return self.limit
        wanted = math.ceil(self.rate_per_second * self.mean_latency * self.headroom) + self.spare
        return _clamp(wanted, 1, self.cap)

    def observe_latency(self, seconds: float) -> None:
        """Fold one request's duration into the average and resize (auto mode only)."""
        seconds = max(0.0, seconds)
        if self.mean_latency is None:
            self.mean_latency = seconds
        else:
            self.mean_latency += self.smoothing * (seconds - self.mean_latency)
        self._resize()

    def set_rate(self, rate_per_second: float) -> None:
        """The governor's current allowed rate (it changes when the server's limit is learned)."""
        self.rate_per_second = max(0.0, rate_per_second)
        self._resize()

    def _resize(self) -> None:
        if self.auto and self.mean_latency is not None:
            self.semaphore.set_limit(self.target())


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
