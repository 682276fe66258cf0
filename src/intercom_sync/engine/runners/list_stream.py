"""Small lists read whole every run (admins, teams, tags, segments, data attributes).

Every run sees the complete list, so every run is a full pass: rows not seen are marked
deleted in the same transaction that stores the new checkpoint.
"""

from __future__ import annotations

from intercom_sync.client.pagination import PagePaginator, Request
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import page_writes


async def run_list(ctx: SyncContext, spec: StreamSpec) -> None:
    result = ctx.result(spec.name)
    pass_id = ctx.run_id
    parent_id = spec.params.get("model")  # data attributes: the model is the parent key
    first = Request.get(spec.endpoint, spec.params or None)
    paginator = PagePaginator(spec.records_key)
    async for page in ctx.pages(spec.name, first, paginator, spec.records_key):
        writes = page_writes(
            spec.name, page.records, parent_id=parent_id, connector=ctx.options.connector
        )
        await ctx.apply(PageWrite(table=spec.name, records=writes, seen_pass=pass_id))
        await ctx.page_done(spec.name, len(page.records))
    state = {"completed_at": ctx.now(), "records": result.records}
    result.deleted = await ctx.store.run(
        lambda b: b.mark_deleted(
            spec.name,
            pass_id,
            ctx.now(),
            state={spec.name: state},
            entity_type=spec.entity_type,
            connector=ctx.options.connector,
        )
    )
