"""Child streams: one request per parent record whose updated_at moved (DESIGN §5).

The parent's page write puts the changed parents into a queue in the store, in the same
transaction as the parent's checkpoint. Workers here drain that queue concurrently (the
rate governor and concurrency controller bound them), and each child write removes its
parent from the queue in its own transaction. So the parent's cursor and the children's
progress are separate, and a crash at any point leaves exactly the unfinished work queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from intercom_sync.client.errors import NotFoundError
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite, SyncBackend
from intercom_sync.streams.catalog import StreamSpec

FetchOne = Callable[[SyncContext, StreamSpec, str], Awaitable[PageWrite]]

_BATCH = 500
# (parent id, the parent's updated_at it was queued for); None tells a worker to stop.
WorkQueue = asyncio.Queue[tuple[str, int] | None]


async def run_children(ctx: SyncContext, spec: StreamSpec, fetch_one: FetchOne) -> None:
    assert spec.parent is not None
    queue: WorkQueue = asyncio.Queue(maxsize=_BATCH * 2)
    workers = max(1, ctx.options.child_workers)
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(_worker(ctx, spec, fetch_one, queue))
            group.create_task(_feed_then_stop(ctx, spec, queue, workers))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    remaining = await ctx.store.run(lambda b: b.pending_children(spec.name))
    state = {"completed_at": ctx.now(), "pending": len(remaining)}
    await ctx.store.run(lambda b: b.save_state({spec.name: state}, ctx.now()))


async def _feed_then_stop(
    ctx: SyncContext, spec: StreamSpec, queue: WorkQueue, workers: int
) -> None:
    await _feed(ctx, spec, queue)
    for _ in range(workers):
        await queue.put(None)


async def _feed(
    ctx: SyncContext,
    spec: StreamSpec,
    queue: WorkQueue,
) -> None:
    """Queue every pending (parent, version) once, until the parent stream has finished and
    no pending work is left that this run has not tried. A parent that moves again while
    its child is fetched is queued anew at its new version.

    Entries are read in sequence order, each once: a queue row only gets a new sequence
    number when its parent moves to a newer version, so no set of what was seen is kept
    (at 100,000s of parents such a set was most of the sync's memory growth)."""
    assert spec.parent is not None
    parent_done = ctx.finished_event(spec.parent)
    work = ctx.work_event(spec.name)
    last_seq = 0
    while True:
        work.clear()
        finished_before_read = parent_done.is_set()
        batch = await ctx.store.run(partial(_pending_after, spec.name, last_seq))
        for parent_id, version, seq in batch:
            last_seq = max(last_seq, seq)
            await queue.put((parent_id, version))
        if batch:
            continue
        if finished_before_read:
            return
        await _wait_any(work, parent_done)


def _pending_after(stream: str, after: int, b: SyncBackend) -> list[tuple[str, int, int]]:
    return b.pending_after(stream, after, _BATCH)


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _worker(
    ctx: SyncContext,
    spec: StreamSpec,
    fetch_one: FetchOne,
    queue: WorkQueue,
) -> None:
    while True:
        item = await queue.get()
        if item is None:
            return
        parent_id, version = item
        try:
            write = await fetch_one(ctx, spec, parent_id)
        except NotFoundError:
            # The parent is gone (deleted since it was queued): nothing left to fetch.
            write = PageWrite()
        write.dequeue_children.append((spec.name, parent_id, version))
        await ctx.apply(write)
        await ctx.page_done(spec.name, len(write.records))
