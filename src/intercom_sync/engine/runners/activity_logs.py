"""Admin activity logs: created_at slices of `activity_logs_slice_days`, newest first.

The endpoint needs `created_at_after`, returns the newest entries first and pages by a
`pages.next` URL, so progress inside a slice cannot be trusted after a crash: the
checkpoint advances a whole slice at a time (and the slice is re-read, de-duplicated by id).

Slices are independent ranges, so several are read at once: read one after another, a
full sync since `start_date` was a chain of ~100 round trips, each queued behind the child
streams in the rate governor, and it alone set the length of a small workspace's sync. The
cursor still only moves past a slice when every slice before it is finished too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from intercom_sync.client.pagination import NextUrlPaginator, Request
from intercom_sync.engine.bounds import SliceWatermark, activity_slices, lower_bound, signpost
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import page_writes

_PER_PAGE = 150
_SLICES_AT_ONCE = 8


async def run_activity_logs(ctx: SyncContext, spec: StreamSpec) -> None:
    state = await ctx.store.run(lambda b: b.get_state(spec.name)) or {}
    opts = ctx.options
    lower = lower_bound(
        state.get("cursor"), full=opts.full, start=opts.start, lookback_days=opts.lookback_days
    )
    upper = signpost(ctx.server_now(), opts.search_lag)
    slices = activity_slices(lower, upper, opts.activity_logs_slice_days)
    watermark = SliceWatermark([end for _, end in slices])
    gate = asyncio.Semaphore(_SLICES_AT_ONCE)

    async def read(index: int, begin: int, end: int) -> None:
        async with gate:
            await _read_slice(
                ctx, spec, begin, end, lambda: _checkpoint(ctx, state, watermark, index)
            )

    try:
        async with asyncio.TaskGroup() as group:
            for index, (begin, end) in enumerate(slices):
                group.create_task(read(index, begin, end))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


def _checkpoint(
    ctx: SyncContext, state: dict[str, object], watermark: SliceWatermark, index: int
) -> dict[str, object] | None:
    """The stream state to commit with slice `index`'s last page (None: cursor stays)."""
    cursor = watermark.finish(index)
    if cursor is None:
        return None
    return {**state, "cursor": cursor, "completed_at": ctx.now()}


async def _read_slice(
    ctx: SyncContext,
    spec: StreamSpec,
    begin: int,
    end: int,
    checkpoint: Callable[[], dict[str, object] | None],
) -> None:
    """Read one slice; its last page carries the checkpoint that may move past it."""
    params = {"created_at_after": begin, "created_at_before": end, "per_page": _PER_PAGE}
    first = Request.get(spec.endpoint, params)
    async for page in ctx.pages(spec.name, first, NextUrlPaginator(), spec.records_key):
        write = PageWrite(
            table=spec.name,
            records=page_writes(spec.name, page.records, connector=ctx.options.connector),
        )
        if page.next_request is None and (state := checkpoint()) is not None:
            write.state[spec.name] = state
        await ctx.apply(write)
        await ctx.page_done(spec.name, len(page.records))
