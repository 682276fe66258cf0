"""Drive a synchronous store from async code without blocking the event loop.

All store calls run, in the order they were issued, on ONE dedicated thread: SQLite
connections must not be shared between threads, and a single writer keeps page commits in
the order the engine issued them. The event loop keeps sending requests while a page is
being written.

Page writes that queue up while the thread is busy are applied together, in order, in one
transaction (`Store.apply_many`). Child streams write one small page per request — tens
of thousands per sync — and a commit costs more than such a write, so combining them keeps
the store off the critical path. Each write still commits together with its own checkpoint
(a combined transaction only groups more of them), and a call made after a write sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from intercom_sync.store.base import ApplyResult, PageWrite, SyncBackend

T = TypeVar("T")

# Writes combined into one transaction at most (bounds a transaction's size and the time
# the first write of a batch waits for its answer).
MAX_BATCH = 64


@dataclass(slots=True)
class _Call:
    fn: Callable[[], Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Apply:
    write: PageWrite
    now: int
    future: asyncio.Future[ApplyResult]


class _Stop:
    """Queued by `close()`: the thread finishes what is ahead of it, then ends."""


_Item = _Call | _Apply | _Stop


class AsyncStore:
    """A `SyncBackend` driven from async code, every call on its one writer thread."""

    def __init__(self, backend: SyncBackend, *, max_batch: int = MAX_BATCH) -> None:
        self._backend = backend
        self.max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        # A daemon: a writer left open must not keep the interpreter alive (a transaction
        # cut short by exit is rolled back by the database; `close()` drains the queue).
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def keeps_history(self) -> bool:
        return self._backend.keeps_history

    async def run(self, fn: Callable[[SyncBackend], T]) -> T:
        """`fn(backend)` on the writer thread, after everything queued before it."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        backend = self._backend
        self._put(_Call(lambda: fn(backend), future))
        return await future

    async def apply(self, write: PageWrite, now: int) -> ApplyResult:
        future: asyncio.Future[ApplyResult] = asyncio.get_running_loop().create_future()
        self._put(_Apply(write, now, future))
        return await future

    def close(self) -> None:
        """Finish everything queued, then stop the thread (idempotent)."""
        if not self._closed:
            self._closed = True
            self._queue.put(_Stop())
        self._thread.join()

    def _put(self, item: _Call | _Apply) -> None:
        if self._closed:
            raise RuntimeError("the store writer is closed")
        self._queue.put(item)

    # -- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        held: _Item | None = None  # the item that ended the last batch, to run next
        while True:
            item = held if held is not None else self._queue.get()
            held = None
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Call):
                _settle(item.future, item.fn)
                continue
            batch, held = self._gather(item)
            self._apply_batch(batch)

    def _gather(self, first: _Apply) -> tuple[list[_Apply], _Item | None]:
        """`first` and the writes queued right behind it (same `now`); also returns the
        item that ended the batch, to run next."""
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, None
            if not isinstance(item, _Apply) or item.now != first.now:
                return batch, item
            batch.append(item)
        return batch, None

    def _apply_batch(self, batch: list[_Apply]) -> None:
        if len(batch) == 1:
            only = batch[0]
            _settle(only.future, lambda: self._backend.apply(only.write, only.now))
            return
        try:
            results = self._backend.apply_many([a.write for a in batch], batch[0].now)
        except Exception:
            # Nothing of the batch was committed: apply one by one, so only the write
            # that fails sees its error.
            for item in batch:
                self._apply_batch([item])
            return
        for item, result in zip(batch, results, strict=True):
            _deliver(item.future, result, None)


def _settle(future: asyncio.Future[Any], fn: Callable[[], Any]) -> None:
    try:
        result = fn()
    except BaseException as error:  # handed to the awaiting coroutine
        _deliver(future, None, error)
    else:
        _deliver(future, result, None)


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if future.done():  # the awaiting task was cancelled
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    # RuntimeError: the event loop is closed, so nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(settle)
