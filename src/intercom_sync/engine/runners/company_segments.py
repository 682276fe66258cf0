"""A company's segments: `GET /companies/{id}/segments`, for companies that changed.

The response is the company's complete segment list, so rows of that company it no
longer lists are marked deleted in the same transaction.
"""

from __future__ import annotations

from intercom_sync.client.paging import records_in
from intercom_sync.engine.context import SyncContext
from intercom_sync.store.base import PageWrite
from intercom_sync.streams.catalog import StreamSpec
from intercom_sync.streams.transform import company_segment_edges, page_writes


async def fetch_company_segments(ctx: SyncContext, spec: StreamSpec, company_id: str) -> PageWrite:
    response = await ctx.get(spec.name, spec.endpoint.format(id=company_id))
    records = records_in(response.data, spec.records_key)
    connector = ctx.options.connector
    return PageWrite(
        table=spec.name,
        records=page_writes(spec.name, records, parent_id=company_id, connector=connector),
        shapes=company_segment_edges(company_id, [str(r["id"]) for r in records], connector),
        complete_scopes=[{"company_id": company_id}],
    )
