"""Search streams (contacts, conversations, tickets): server-side incremental on updated_at.

Each page is written together with the pass's progress in one transaction. The pass's
cursor becomes its signpost (start − search lag) only when the pass completes; a full pass
then marks what it did not see as deleted, in that same transaction.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.client.pagination import Request, SearchCursorPaginator
from intercom_sync.engine.bounds import SearchPass, plan_search_pass, query_bound, search_body
from intercom_sync.engine.context import SyncContext
from intercom_sync.engine.runners.passes import finish_pass, record_updated_at
from intercom_sync.store.base import PageWrite, RecordWrite, Shapes
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import conversation_shapes, page_writes


async def run_search(ctx: SyncContext, spec: StreamSpec) -> None:
    state = await ctx.store.call(ctx.store.store.get_state, spec.name) or {}
    current = plan_search_pass(
        state,
        full=ctx.options.full,
        start=ctx.options.start,
        lookback_days=ctx.options.lookback_days,
        server_now=ctx.server_now(),
        search_lag=ctx.options.search_lag,
    )
    result = ctx.result(spec.name)
    result.detail["mode"] = "full" if current.full else "incremental"
    if current.resume_from is not None:
        ctx.progress.note(f"{spec.name}: resuming an interrupted pass")
    base = {k: v for k, v in state.items() if k != "pass"}
    current = await _read_pass(ctx, spec, current, base)
    await _complete_pass(ctx, spec, current, base)


async def _read_pass(
    ctx: SyncContext, spec: StreamSpec, current: SearchPass, base: dict[str, Any]
) -> SearchPass:
    lower = current.query_lower
    bound = query_bound(lower, day_granular=spec.day_granular, timezone=ctx.workspace_timezone)
    request: Request | None = Request.post(spec.endpoint, search_body(bound, ctx.options.per_page))
    paginator = SearchCursorPaginator()
    sorted_so_far = True
    while request is not None:
        response = await ctx.send(spec.name, request)
        records = [r for r in response.data.get(spec.records_key) or [] if isinstance(r, dict)]
        kept = [r for r in records if record_updated_at(r) >= lower]  # exact, after a by-day query
        sorted_so_far = sorted_so_far and _ascending(kept, current.resume_from)
        # Progress is only trusted while the server really sorts ascending; otherwise a
        # crash restarts the whole pass rather than skip what came out of order.
        page_max = (
            max((record_updated_at(r) for r in kept), default=None) if sorted_so_far else None
        )
        if not sorted_so_far:
            current = SearchPass(current.pass_id, current.full, current.lower, current.signpost)
        current = current.advanced(page_max)
        await ctx.apply(await _page_write(ctx, spec, kept, current, base))
        await ctx.page_done(spec.name, len(kept))
        request = paginator.next_request(request, response.data)
    return current


async def _page_write(
    ctx: SyncContext,
    spec: StreamSpec,
    records: list[dict[str, Any]],
    current: SearchPass,
    base: dict[str, Any],
) -> PageWrite:
    writes = page_writes(spec.name, records, connector=ctx.options.connector)
    children = tuple(c for c in spec.children if c in ctx.selected)
    if spec.name == "conversations" and not children:
        await _attach_conversation_shapes(ctx, records, writes)
    return PageWrite(
        table=spec.name,
        records=writes,
        state={spec.name: {**base, "pass": current.to_state()}},
        seen_pass=current.pass_id if current.full else None,
        enqueue_children=children,
    )


async def _attach_conversation_shapes(
    ctx: SyncContext, records: list[dict[str, Any]], writes: list[RecordWrite]
) -> None:
    """Without the parts stream, events and metrics come from each conversation's
    statistics and whatever parts earlier syncs stored."""
    ids = [str(r["id"]) for r in records]
    stored = await ctx.store.call(ctx.store.store.stored_parts_many, ids)
    for record, write in zip(records, writes, strict=True):
        extra = conversation_shapes(
            record, stored.get(str(record["id"])) or None, connector=ctx.options.connector
        )
        if write.shapes is None:
            write.shapes = Shapes()
        write.shapes.extend(extra)


async def _complete_pass(
    ctx: SyncContext, spec: StreamSpec, current: SearchPass, base: dict[str, Any]
) -> None:
    state = {**base, "cursor": current.signpost, "pass": None}
    await finish_pass(
        ctx, spec, state, pass_id=current.pass_id, full=current.full, updated_since=current.lower
    )


def _ascending(records: list[dict[str, Any]], previous_max: int | None) -> bool:
    last = previous_max if previous_max is not None else -1
    for record in records:
        ts = record_updated_at(record)
        if ts < last:
            return False
        last = ts
    return True
