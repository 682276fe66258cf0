"""Search streams (contacts, conversations, tickets): server-side incremental on updated_at.

Each page is written together with the pass's progress in one transaction. Where the date
filter is exact (conversations, tickets) every next page is a new query anchored on the
newest `updated_at` read, so no reordering behind the server's cursor can hide a record;
contact search compares by calendar day and follows the server's cursor.

When the pass has read everything, its copy is checked against Intercom's own counts and
the spans that disagree are re-read (`completeness`). Its cursor then becomes
`min(signpost, newest updated_at read)`: never ahead of the data. A full pass marks what
it did not see as deleted only if it saw as many records as Intercom counts, and only the
rows a `GET` confirms are gone (`passes.finish_pass`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from intercom_sync.client.pagination import Request
from intercom_sync.engine.bounds import SearchPass, plan_search_pass, query_bound, search_body
from intercom_sync.engine.context import SyncContext
from intercom_sync.engine.runners.completeness import (
    Check,
    SpanSearch,
    check_stream,
)
from intercom_sync.engine.runners.passes import finish_pass, record_updated_at
from intercom_sync.store.base import PageWrite, RecordWrite, Shapes
from intercom_sync.store.verification import verification_key
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import conversation_shapes, page_writes


@dataclass
class _Repeats:
    """The records of the last second of the previous page: an anchored query starts at that
    second again, so they come back once more and are not written twice."""

    second: int = -1
    ids: set[str] = field(default_factory=set)

    def fresh(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [
            r
            for r in records
            if not (record_updated_at(r) == self.second and str(r.get("id")) in self.ids)
        ]
        if records:
            last = record_updated_at(records[-1])
            if last != self.second:
                self.second, self.ids = last, set()
            self.ids.update(str(r.get("id")) for r in records if record_updated_at(r) == last)
        return out


async def run_search(ctx: SyncContext, spec: StreamSpec) -> None:
    state = await ctx.store.run(lambda b: b.get_state(spec.name)) or {}
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
    base = {k: v for k, v in state.items() if k not in ("pass", "absent")}
    current = await _read_pass(ctx, spec, current, base)
    cursor = current.completed_cursor(state.get("cursor"))
    check = await _check(ctx, spec, current, cursor, state, base)
    await _complete_pass(ctx, spec, current, base, cursor, check)


async def _read_pass(
    ctx: SyncContext, spec: StreamSpec, current: SearchPass, base: dict[str, Any]
) -> SearchPass:
    lower = current.query_lower
    bound = query_bound(lower, day_granular=spec.day_granular, timezone=ctx.workspace_timezone)
    search = _search(ctx, spec)
    first = Request.post(spec.endpoint, search_body(bound, ctx.options.per_page))
    repeats = _Repeats()
    sorted_so_far = True
    start = ctx.options.start
    async for page in ctx.pages(spec.name, first, search.paginator(), spec.records_key):
        # Not the records an anchored query re-reads, nor any before start_date. A by-day
        # query also returns its first day's records before `lower`: they are kept, for a
        # record an earlier pass missed there is found nowhere else.
        kept = [r for r in repeats.fresh(page.records) if record_updated_at(r) >= start]
        ahead = [r for r in kept if record_updated_at(r) >= lower]
        sorted_so_far = sorted_so_far and _ascending(ahead, current.resume_from)
        page_max = max((record_updated_at(r) for r in ahead), default=None)
        # Progress is only trusted while the server really sorts ascending; otherwise a
        # crash restarts the whole pass rather than skip what came out of order.
        current = current.advanced(page_max) if sorted_so_far else current.restarted().saw(page_max)
        state = {spec.name: {**base, "pass": current.to_state()}}
        await ctx.apply(await _page_write(ctx, spec, kept, current, state))
        await ctx.page_done(spec.name, len(kept))
    return current


def _search(ctx: SyncContext, spec: StreamSpec) -> SpanSearch:
    return SpanSearch(spec, ctx.workspace_timezone, ctx.options.per_page)


async def _page_write(
    ctx: SyncContext,
    spec: StreamSpec,
    records: list[dict[str, Any]],
    current: SearchPass,
    state: dict[str, dict[str, Any]],
) -> PageWrite:
    children = ctx.children_of(spec)
    writes = page_writes(spec.name, records, connector=ctx.options.connector, children=children)
    if spec.name == "conversations" and not children:
        await _attach_conversation_shapes(ctx, records, writes)
    return PageWrite(
        table=spec.name,
        records=writes,
        state=state,
        seen_pass=current.pass_id if current.full else None,
        enqueue_children=children,
    )


async def _attach_conversation_shapes(
    ctx: SyncContext, records: list[dict[str, Any]], writes: list[RecordWrite]
) -> None:
    """Without the parts stream, events and metrics come from each conversation's
    statistics and whatever parts earlier syncs stored."""
    ids = [str(r["id"]) for r in records]
    stored = await ctx.store.run(lambda b: b.stored_parts_many(ids))
    for record, write in zip(records, writes, strict=True):
        extra = conversation_shapes(
            record, stored.get(str(record["id"])) or None, connector=ctx.options.connector
        )
        if write.shapes is None:
            write.shapes = Shapes()
        write.shapes.extend(extra)


async def _check(
    ctx: SyncContext,
    spec: StreamSpec,
    current: SearchPass,
    cursor: int,
    state: dict[str, Any],
    base: dict[str, Any],
) -> Check:
    """Reconcile the pass with Intercom's counts up to its cursor, re-reading what
    disagrees; the result is recorded for `status` and the dashboard."""
    search = _search(ctx, spec)

    async def write(records: list[dict[str, Any]]) -> None:
        await ctx.apply(await _page_write(ctx, spec, records, current, {}))
        ctx.result(spec.name).records += len(records)

    absent = (
        {} if current.full else {str(k): int(v) for k, v in (state.get("absent") or {}).items()}
    )
    # A sink that keeps no history (a protocol adapter) can vouch only for what this pass
    # read: its own span, counted as a full pass counts what it saw.
    history = ctx.store.keeps_history
    start = ctx.options.start if history else current.lower
    check = await check_stream(
        ctx,
        search,
        search.roots(start, current.lower, cursor),
        seen_pass=current.pass_id if current.full or not history else None,
        absent=absent,
        write=write,
    )
    record = check.record(ctx.now(), "sync")
    await ctx.store.run(lambda b: b.save_state({verification_key(spec.name): record}, ctx.now()))
    detail = ctx.result(spec.name).detail
    detail["verified"] = _summary(check)
    detail["check_requests"] = check.requests
    return check


def _summary(check: Check) -> str:
    if check.tally is None:
        return f"not checked: {check.skipped}"
    t = check.tally
    if t.agrees:
        return f"{t.intercom} records, as Intercom counts"
    return f"Intercom counts {t.intercom}, the store {t.store}"


async def _complete_pass(
    ctx: SyncContext,
    spec: StreamSpec,
    current: SearchPass,
    base: dict[str, Any],
    cursor: int,
    check: Check,
) -> None:
    state: dict[str, Any] = {**base, "cursor": cursor, "pass": None}
    if check.absent:
        state["absent"] = check.absent
    await finish_pass(
        ctx,
        spec,
        state,
        pass_id=current.pass_id,
        full=current.full,
        updated_since=current.lower,
        complete=check.complete,
    )


def _ascending(records: list[dict[str, Any]], previous_max: int | None) -> bool:
    last = previous_max if previous_max is not None else -1
    for record in records:
        ts = record_updated_at(record)
        if ts < last:
            return False
        last = ts
    return True
