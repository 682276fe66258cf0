"""Companies through the scroll API (DESIGN §5).

Intercom allows ONE open company scroll per workspace; it expires after a minute idle.
So: the stream's lock in the store (`engine.locks`) keeps syncs sharing the store from
scrolling at once; a `scroll_exists` answer (another app or process) waits and retries; an expired
scroll (404) or a scroll that keeps failing is restarted from the top, de-duplicated by
the upsert — never silently stopped early. The scroll has no server-side filter, so the
incremental mode filters on `updated_at` here and writes only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from intercom_sync.client.errors import (
    NotFoundError,
    ScrollExistsError,
    TransientError,
)
from intercom_sync.client.http import ApiResponse
from intercom_sync.client.pagination import Request, ScrollPaginator
from intercom_sync.engine.bounds import lower_bound, signpost
from intercom_sync.engine.context import SyncContext
from intercom_sync.engine.runners.passes import finish_pass, record_updated_at
from intercom_sync.store.base import PageWrite, RecordWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import embedded_segments, page_writes

_SCROLL_POLL = 10.0  # another app's scroll expires within a minute idle


class ScrollAbandoned(Exception):
    """The scroll could not be completed (restarted too often or never obtained)."""


@dataclass
class _Scan:
    pass_id: str
    full: bool
    lower: int | None  # incremental: write only records with updated_at >= lower
    seen: dict[str, int] = field(default_factory=dict)  # id -> updated_at written
    restarts: int = 0


async def run_companies(ctx: SyncContext, spec: StreamSpec) -> None:
    state = await ctx.store.run(lambda b: b.get_state(spec.name)) or {}
    cursor = state.get("cursor")
    full = ctx.options.full or cursor is None
    lower = lower_bound(
        cursor, full=full, start=ctx.options.start, lookback_days=ctx.options.lookback_days
    )
    scan = _Scan(pass_id=ctx.run_id, full=full, lower=None if full else lower)
    ctx.result(spec.name).detail["mode"] = "full" if full else "incremental"
    mark = signpost(ctx.server_now(), ctx.options.search_lag)
    await _scroll_with_restarts(ctx, spec, scan)
    await _complete(ctx, spec, scan, state, mark)


async def _scroll_with_restarts(ctx: SyncContext, spec: StreamSpec, scan: _Scan) -> None:
    while True:
        try:
            await _scroll_once(ctx, spec, scan)
            return
        except (NotFoundError, TransientError) as error:
            scan.restarts += 1
            ctx.result(spec.name).detail["scroll_restarts"] = scan.restarts
            if scan.restarts > ctx.options.scroll_restarts:
                raise ScrollAbandoned(
                    f"the company scroll failed {scan.restarts} times (last: {error})"
                ) from error
            why = "expired" if isinstance(error, NotFoundError) else "kept failing"
            ctx.progress.note(f"companies: the scroll {why}; restarting it from the top")


async def _scroll_once(ctx: SyncContext, spec: StreamSpec, scan: _Scan) -> None:
    async def send(request: Request) -> ApiResponse:
        return await _send_waiting_for_scroll(ctx, spec, request)

    first = Request.get(spec.endpoint)
    paginator = ScrollPaginator(spec.records_key)
    async for page in ctx.pages(spec.name, first, paginator, spec.records_key, send=send):
        await _write_page(ctx, spec, scan, page.records)


async def _send_waiting_for_scroll(
    ctx: SyncContext, spec: StreamSpec, request: Request
) -> ApiResponse:
    """A second scroll in the workspace is refused; the first expires within a minute."""
    waited = 0.0
    while True:
        try:
            return await ctx.send(spec.name, request)
        except ScrollExistsError:
            if (
                "scroll_param" in (request.params or {})
                or waited >= ctx.options.scroll_wait_seconds
            ):
                raise
            ctx.progress.note("companies: another scroll is open in this workspace; waiting")
            await ctx.clock.sleep(_SCROLL_POLL)
            waited += _SCROLL_POLL


async def _write_page(
    ctx: SyncContext, spec: StreamSpec, scan: _Scan, records: list[dict[str, Any]]
) -> None:
    # A restarted scroll repeats what it already wrote: skip exact repeats only, so a
    # company that changed in between is still written.
    fresh = [r for r in records if scan.seen.get(str(r.get("id"))) != record_updated_at(r)]
    scan.seen.update((str(r.get("id")), record_updated_at(r)) for r in records)
    if scan.lower is not None:
        lower = scan.lower
        fresh = [r for r in fresh if record_updated_at(r) >= lower]
    children = ctx.children_of(spec)
    connector = ctx.options.connector
    write = PageWrite(
        table=spec.name,
        records=page_writes(spec.name, fresh, connector=connector, children=children),
        seen_pass=scan.pass_id if scan.full else None,
        enqueue_children=children,
    )
    await ctx.apply(write)
    if "company_segments" in children:
        await _write_embedded_segments(ctx, records)
    await ctx.page_done(spec.name, len(fresh))


async def _write_embedded_segments(ctx: SyncContext, companies: list[dict[str, Any]]) -> None:
    """Each company object of the page that carries its segment list is that company's
    complete `company_segments`, read fresh on every run (segments change without the
    company's `updated_at` moving), so no request per company is needed for them."""
    writes: list[RecordWrite] = []
    scopes: list[dict[str, Any]] = []
    for company in companies:
        segments = embedded_segments(company)
        if segments is None:
            continue  # the child stream fetches it, when the company moved
        company_id = str(company.get("id"))
        scopes.append({"company_id": company_id})
        writes += page_writes(
            "company_segments", segments, parent_id=company_id, connector=ctx.options.connector
        )
    if scopes:
        await ctx.apply(PageWrite(table="company_segments", records=writes, complete_scopes=scopes))
        ctx.result("company_segments").records += len(writes)


async def _complete(
    ctx: SyncContext, spec: StreamSpec, scan: _Scan, state: dict[str, Any], mark: int
) -> None:
    new_state = {**state, "cursor": mark, "companies_seen": len(scan.seen)}
    await finish_pass(ctx, spec, new_state, pass_id=scan.pass_id, full=scan.full)
