"""A changed contact's relations that its search record does not carry in full.

`GET /contacts/{id}/segments` gives its segments (the contact object has none), and when
the embedded company list says `has_more`, `GET /contacts/{id}/companies` is paged to the
end, so contact→company edges are complete, not the first ten.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.client.pagination import PagePaginator, Request
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite, Shapes
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import (
    contact_companies_incomplete,
    contact_company_edges,
    contact_segment_edges,
)

_COMPANIES_PER_PAGE = 50


async def fetch_contact_links(ctx: SyncContext, spec: StreamSpec, contact_id: str) -> PageWrite:
    connector = ctx.options.connector
    response = await ctx.get(spec.name, spec.endpoint.format(id=contact_id))
    segment_ids = _ids(response.data.get("data"))
    shapes = Shapes()
    shapes.extend(contact_segment_edges(contact_id, segment_ids, connector))
    contact = await ctx.store.call(ctx.store.store.stored_record, "contacts", (contact_id,))
    if contact is not None and contact_companies_incomplete(contact):
        company_ids = await _all_company_ids(ctx, spec, contact_id)
        shapes.extend(contact_company_edges(contact_id, company_ids, connector))
    return PageWrite(shapes=shapes)


async def _all_company_ids(ctx: SyncContext, spec: StreamSpec, contact_id: str) -> list[str]:
    first = Request.get(
        f"/contacts/{contact_id}/companies", {"page": 1, "per_page": _COMPANIES_PER_PAGE}
    )
    found: list[str] = []
    async for page in ctx.pages(spec.name, first, PagePaginator("companies"), "companies"):
        found += _ids(page.records or page.data.get("data"))
    return list(dict.fromkeys(found))


def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id") is not None]
