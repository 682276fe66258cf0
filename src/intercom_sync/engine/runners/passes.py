"""The end of a pass over a stream, shared by the search and scroll runners."""

from __future__ import annotations

from typing import Any

from intercom_sync.engine.context import SyncContext
from intercom_sync.streams.catalog import StreamSpec, deletable_children


async def finish_pass(
    ctx: SyncContext,
    spec: StreamSpec,
    state: dict[str, Any],
    *,
    pass_id: str,
    full: bool,
    updated_since: int | None = None,
) -> None:
    """Store the stream's new checkpoint; a full pass first marks what it did not see as
    deleted, in the same transaction (an incremental pass never marks anything)."""
    now = ctx.now()
    state = {**state, "completed_at": now}
    if not full:
        await ctx.store.call(ctx.store.store.save_state, {spec.name: state}, now)
        return
    state["last_full_pass_at"] = now
    ctx.result(spec.name).deleted = await ctx.store.call(
        ctx.store.store.mark_deleted,
        spec.name,
        pass_id,
        now,
        updated_since=updated_since,
        state={spec.name: state},
        entity_type=spec.entity_type,
        connector=ctx.options.connector,
        cascade=deletable_children(spec),
    )


def record_updated_at(record: dict[str, Any]) -> int:
    value = record.get("updated_at")
    return int(value) if isinstance(value, int | float) else 0
