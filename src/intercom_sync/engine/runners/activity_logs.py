"""Admin activity logs: created_at slices of `activity_logs_slice_days`, newest first.

The endpoint needs `created_at_after`, returns the newest entries first and pages by a
`pages.next` URL, so progress inside a slice cannot be trusted after a crash: the
checkpoint advances a whole slice at a time (and the slice is re-read, de-duplicated by id).
"""

from __future__ import annotations

from intercom_sync.client.pagination import NextUrlPaginator, Request
from intercom_sync.engine.bounds import activity_slices, lower_bound, signpost
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import page_writes

_PER_PAGE = 150


async def run_activity_logs(ctx: SyncContext, spec: StreamSpec) -> None:
    state = await ctx.store.call(ctx.store.store.get_state, spec.name) or {}
    opts = ctx.options
    lower = lower_bound(
        state.get("cursor"), full=opts.full, start=opts.start, lookback_days=opts.lookback_days
    )
    upper = signpost(ctx.server_now(), opts.search_lag)
    for begin, end in activity_slices(lower, upper, opts.activity_logs_slice_days):
        state = {**state, "cursor": end}
        await _read_slice(ctx, spec, begin, end, state)


async def _read_slice(
    ctx: SyncContext, spec: StreamSpec, begin: int, end: int, done_state: dict[str, object]
) -> None:
    """Read one slice; its last page carries the checkpoint that moves past it."""
    params = {"created_at_after": begin, "created_at_before": end, "per_page": _PER_PAGE}
    request: Request | None = Request.get(spec.endpoint, params)
    paginator = NextUrlPaginator()
    while request is not None:
        response = await ctx.send(spec.name, request)
        records = [r for r in response.data.get(spec.records_key) or [] if isinstance(r, dict)]
        request = paginator.next_request(request, response.data)
        write = PageWrite(
            table=spec.name,
            records=page_writes(spec.name, records, connector=ctx.options.connector),
        )
        if request is None:
            write.state[spec.name] = {**done_state, "completed_at": ctx.now()}
        await ctx.apply(write)
        await ctx.page_done(spec.name, len(records))
