"""The end of a pass over a stream, shared by the search and scroll runners."""

from __future__ import annotations

import asyncio
from typing import Any

from intercom_sync.client.errors import NotFoundError
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec, deletable_children
from intercom_sync.streams.transform import page_writes

# Rows confirmed gone at once (the client's concurrency controller bounds the requests).
_CONFIRM_BATCH = 32


async def finish_pass(
    ctx: SyncContext,
    spec: StreamSpec,
    state: dict[str, Any],
    *,
    pass_id: str,
    full: bool,
    updated_since: int | None = None,
    complete: bool = True,
) -> None:
    """Store the stream's new checkpoint. A full pass first marks what it did not see as
    deleted, in the same transaction — unless it is not `complete` (it saw fewer records
    than Intercom counts: an incomplete pass, not a list of deletions). An incremental pass
    never marks anything.

    A row the pass did not see is marked only once a `GET` of it says 404 (where the
    stream has a `record_path`): a record that was out of the search index for a moment
    (re-indexed while the pass went by) is found, and written, instead."""
    now = ctx.now()
    state = {**state, "completed_at": now}
    result = ctx.result(spec.name)
    if not full or not complete:
        if full:
            result.warning = (
                f"{spec.name}: the pass saw fewer records than Intercom counts, so no row "
                "was marked deleted; the next full sync tries again"
            )
        await ctx.store.run(lambda b: b.save_state({spec.name: state}, now))
        return
    state["last_full_pass_at"] = now
    state.pop("absent", None)
    gone = await _confirmed_gone(ctx, spec, pass_id, updated_since)
    result.deleted = await ctx.store.run(
        lambda b: b.mark_deleted(
            spec.name,
            pass_id,
            now,
            updated_since=updated_since,
            state={spec.name: state},
            entity_type=spec.entity_type,
            connector=ctx.options.connector,
            cascade=deletable_children(spec),
            keys=gone,
        )
    )


async def _confirmed_gone(
    ctx: SyncContext, spec: StreamSpec, pass_id: str, updated_since: int | None
) -> list[tuple[str, ...]] | None:
    """The unseen rows a `GET` confirms are gone (None: the stream cannot be asked, so
    every unseen row counts as gone). Those still there are written, seen by this pass."""
    if spec.record_path is None:
        return None
    unseen = await ctx.store.run(
        lambda b: b.unseen_keys(spec.name, pass_id, updated_since=updated_since)
    )
    gone: list[tuple[str, ...]] = []
    for i in range(0, len(unseen), _CONFIRM_BATCH):
        batch = unseen[i : i + _CONFIRM_BATCH]
        found = await asyncio.gather(*(_fetch(ctx, spec, key[0]) for key in batch))
        gone += [key for key, record in zip(batch, found, strict=True) if record is None]
        alive = [record for record in found if record is not None]
        if alive:
            await _write_alive(ctx, spec, pass_id, alive)
    return gone


async def _fetch(ctx: SyncContext, spec: StreamSpec, record_id: str) -> dict[str, Any] | None:
    assert spec.record_path is not None
    try:
        response = await ctx.get(spec.name, spec.record_path.format(id=record_id))
    except NotFoundError:
        return None
    record = dict(response.data)
    record.pop("conversation_parts", None)  # a conversation's GET embeds its parts
    return record


async def _write_alive(
    ctx: SyncContext, spec: StreamSpec, pass_id: str, records: list[dict[str, Any]]
) -> None:
    children = ctx.children_of(spec)
    write = PageWrite(
        table=spec.name,
        records=page_writes(spec.name, records, connector=ctx.options.connector, children=children),
        seen_pass=pass_id,
        enqueue_children=children,
    )
    await ctx.apply(write)
    ctx.result(spec.name).records += len(records)


def record_updated_at(record: dict[str, Any]) -> int:
    value = record.get("updated_at")
    return int(value) if isinstance(value, int | float) else 0
