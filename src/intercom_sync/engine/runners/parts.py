"""Conversation parts: `GET /conversations/{id}` for each conversation that changed.

The API returns only the 500 most recent parts. Parts are upserted and never deleted, so
history beyond the cap accumulates across syncs; a conversation whose stored parts are
fewer than its statistics count is recorded as incomplete, with how many are missing.
Events and metrics are rebuilt from ALL stored parts, so they only ever grow.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.client.paging import records_in
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite, PartsGap
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import conversation_shapes, page_writes


async def fetch_conversation_parts(
    ctx: SyncContext, spec: StreamSpec, conversation_id: str
) -> PageWrite:
    response = await ctx.get(spec.name, spec.endpoint.format(id=conversation_id))
    conversation = dict(response.data)
    listing = conversation.pop("conversation_parts", None) or {}
    fetched = records_in(listing, "conversation_parts")
    stored = await ctx.store.run(lambda b: b.stored_parts(conversation_id))
    everything = merge_parts(stored, fetched)
    connector = ctx.options.connector
    write = PageWrite(
        table=spec.name,
        records=page_writes(spec.name, fetched, parent_id=conversation_id, connector=connector),
        shapes=conversation_shapes(conversation, everything, connector=connector),
    )
    expected = _expected_parts(conversation)
    if expected is not None and len(everything) < expected:
        write.gaps.append(PartsGap(conversation_id, expected, len(everything)))
    else:
        write.gaps_closed.append(conversation_id)
    return write


def merge_parts(
    stored: list[dict[str, Any]], fetched: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Stored history plus what was just fetched (fetched wins), oldest first."""
    by_id = {str(p.get("id")): p for p in stored}
    by_id.update((str(p.get("id")), p) for p in fetched)
    return sorted(by_id.values(), key=lambda p: (int(p.get("created_at") or 0), str(p.get("id"))))


def _expected_parts(conversation: dict[str, Any]) -> int | None:
    stats = conversation.get("statistics")
    if not isinstance(stats, dict):
        return None
    count = stats.get("count_conversation_parts")
    return int(count) if isinstance(count, int) else None
