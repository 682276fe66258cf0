"""Drive a synchronous store from async code without blocking the event loop.

All store calls run, in order, on ONE dedicated thread: SQLite connections must not be
shared between threads, and a single writer keeps page commits in the order the engine
issued them. The event loop keeps sending requests while a page is being written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from intercom_sync.store.base import ApplyResult, PageWrite, Store

T = TypeVar("T")


class AsyncStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def apply(self, write: PageWrite, now: int) -> ApplyResult:
        return await self.call(self.store.apply, write, now)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
