"""Memberships (`contact_segments`, `contact_tags`): which contacts each segment and tag holds.

A contact's `updated_at` does not move when it is tagged or enters or leaves a segment,
and segments are computed — a time-based one ("last seen more than 14 days ago") changes
with no record changing at all. So memberships are not read per changed contact: each
group's members are listed by one contact search, `segment_id = X` (or `tag_id = X`), 150
a page.

A scan stages what it reads in the store. Once it has read as many distinct members as
Intercom counts for the group (`total_count`), the staged members replace the group's
membership in one transaction: ended memberships get `deleted_at`, a rejoin clears it.
A scan that ends short (members moved while it paged) is tried again, and after that left
for the next run, the old membership standing; an interrupted scan changes nothing.

Cost of a refresh: one request for the list of groups plus, per group, its members ÷ 150
rounded up (at least one) — about Σ members ÷ 150 + the number of groups.
`membership_refresh` sets how often a refresh runs; a full sync always runs one.
"""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

from intercom_sync.client.pagination import PagePaginator, Request, SearchCursorPaginator
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import SyncBackend
from intercom_sync.streams.catalog import Membership, StreamSpec

_GROUPS_AT_ONCE = 8
_ATTEMPTS = 3
_PER_PAGE = 150


async def run_memberships(ctx: SyncContext, spec: StreamSpec) -> None:
    membership = spec.membership
    assert membership is not None
    state = await ctx.store.run(lambda b: b.get_state(spec.name)) or {}
    result = ctx.result(spec.name)
    if not _due(ctx, state):
        result.detail["refresh"] = "not due (membership_refresh)"
        return
    groups = await _group_ids(ctx, spec, membership)
    gate = asyncio.Semaphore(_GROUPS_AT_ONCE)

    async def scan(group_id: str) -> tuple[str, int | None]:
        async with gate:
            return group_id, await _scan(ctx, spec, membership, group_id)

    scanned = await asyncio.gather(*(scan(g) for g in groups))
    short = [g for g, members in scanned if members is None]
    ended = await ctx.store.run(
        lambda b: b.end_groups(
            spec.name,
            membership.group_column,
            groups,
            ctx.now(),
            edge=_edge(membership),
            connector=ctx.options.connector,
        )
    )
    new_state: dict[str, Any] = {
        "completed_at": ctx.now(),
        "groups": len(groups),
        "members": sum(m for _, m in scanned if m is not None),
    }
    if short:
        new_state["short"] = short
        result.warning = (
            f"{spec.name}: {len(short)} of {len(groups)} groups kept changing while they were "
            "read; their previous membership stands until the next refresh"
        )
    result.deleted = ended
    await ctx.store.run(lambda b: b.save_state({spec.name: new_state}, ctx.now()))


def _stage(stream: str, group: str, scan: str, ids: list[str], b: SyncBackend) -> None:
    b.stage_members(stream, group, scan, ids)


def _staged(stream: str, group: str, scan: str, b: SyncBackend) -> int:
    return b.staged_count(stream, group, scan)


def _replace(
    stream: str,
    membership: Membership,
    group: str,
    scan: str,
    now: int,
    connector: str,
    b: SyncBackend,
) -> int:
    members, _ = b.replace_members(
        stream,
        membership.group_column,
        group,
        scan,
        now,
        edge=_edge(membership),
        connector=connector,
    )
    return members


def _due(ctx: SyncContext, state: dict[str, Any]) -> bool:
    last = state.get("completed_at")
    if ctx.options.full or last is None:
        return True
    return ctx.now() - int(last) >= ctx.options.membership_refresh


def _edge(membership: Membership) -> tuple[str, str, str]:
    return ("intercom_contact", membership.relation, membership.group_entity)


async def _group_ids(ctx: SyncContext, spec: StreamSpec, membership: Membership) -> list[str]:
    first = Request.get(membership.groups_path)
    paginator = PagePaginator(membership.groups_key)
    ids: list[str] = []
    async for page in ctx.pages(spec.name, first, paginator, membership.groups_key):
        ids += [str(g["id"]) for g in page.records if g.get("id") is not None]
    return list(dict.fromkeys(ids))


async def _scan(
    ctx: SyncContext, spec: StreamSpec, membership: Membership, group_id: str
) -> int | None:
    """Read one group's members; their number once they replaced its membership, or None
    when every attempt read fewer than Intercom counted."""
    query = {"field": membership.field, "operator": "=", "value": group_id}
    first = Request.post(spec.endpoint, {"query": query, "pagination": {"per_page": _PER_PAGE}})
    stream = spec.name
    for _ in range(_ATTEMPTS):
        scan_id = uuid.uuid4().hex
        counted: int | None = None
        pages = ctx.pages(stream, first, SearchCursorPaginator(), spec.records_key)
        async for page in pages:
            ids = [str(r["id"]) for r in page.records if r.get("id") is not None]
            await ctx.store.run(partial(_stage, stream, group_id, scan_id, ids))
            total = page.data.get("total_count")
            counted = total if isinstance(total, int) and not isinstance(total, bool) else None
            await ctx.page_done(stream, len(ids))
        read = await ctx.store.run(partial(_staged, stream, group_id, scan_id))
        if counted is None or read >= counted:
            replace = partial(_replace, stream, membership, group_id, scan_id, ctx.now())
            return await ctx.store.run(partial(replace, ctx.options.connector))
    return None
