"""The one paging loop every paged read goes through (search, scroll, lists, activity logs,
sub-lists): send a request, take the page's records, ask the paginator for the next one.

The loop does no I/O of its own: `send` is injected (the engine passes one that counts
requests per stream, or waits out another app's open scroll), and which request comes next
is the paginator's pure decision (`client.pagination`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from intercom_sync.client.http import ApiResponse
from intercom_sync.client.pagination import Paginator, Request

Send = Callable[[Request], Awaitable[ApiResponse]]
Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paged read, and the request for the page after it (None: the last)."""

    request: Request
    response: ApiResponse
    records: list[Record]
    next_request: Request | None

    @property
    def data(self) -> dict[str, Any]:
        return self.response.data


def records_in(data: Mapping[str, Any], key: str) -> list[Record]:
    """The records of a response body under `key` (objects only; anything else is skipped)."""
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


async def paginate(
    send: Send, first: Request, paginator: Paginator, records_key: str
) -> AsyncIterator[Page]:
    """Every page from `first` on. A caller that stops iterating stops the requests."""
    request: Request | None = first
    while request is not None:
        response = await send(request)
        following = paginator.next_request(request, response.data)
        yield Page(request, response, records_in(response.data, records_key), following)
        request = following
