"""A contact's complete company list, for the changed contacts whose search record cuts it
short.

The contact object embeds at most ten companies; when that list says `has_more`, its
edges are not written from it (they would wipe the complete set) and this child pages
`GET /contacts/{id}/companies` to the end instead. Other contacts need no request at all:
their embedded list is complete (`streams.transform.CHILD_NEEDED`).
"""

from __future__ import annotations

from typing import Any

from intercom_sync.client.pagination import PagePaginator, Request
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import contact_company_edges

_COMPANIES_PER_PAGE = 50


async def fetch_contact_companies(ctx: SyncContext, spec: StreamSpec, contact_id: str) -> PageWrite:
    first = Request.get(spec.endpoint.format(id=contact_id), {"per_page": _COMPANIES_PER_PAGE})
    found: list[str] = []
    async for page in ctx.pages(spec.name, first, PagePaginator("companies"), "companies"):
        found += _ids(page.records or page.data.get("data"))
    ids = list(dict.fromkeys(found))
    return PageWrite(shapes=contact_company_edges(contact_id, ids, ctx.options.connector))


def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id") is not None]
