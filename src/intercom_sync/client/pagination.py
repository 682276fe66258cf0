"""How each Intercom endpoint pages, as small pure strategy objects.

A paginator looks at the request just sent and the parsed body that came
back, and returns the next request — or None when the stream is exhausted.
Requests are immutable values; a paginator derives the next one from the last one and
its page, so the same inputs always ask for the same page.

Intercom pages in five ways:

* search endpoints: POST body `pagination.starting_after` ← `pages.next.starting_after`
  (`SearchCursorPaginator`), or — where the date filter is exact — a new query anchored
  on the newest `updated_at` read (`AnchoredSearchPaginator`);
* the company scroll: `scroll_param` ← `scroll_param`, ending on an empty page;
* activity logs: `pages.next` is the full URL of the next page;
* contact sub-lists: `page` / `per_page` query parameters and `pages.total_pages`;
* small lists (admins, teams, tags…): one page (`PagePaginator` ends there).

A paginator that would request the same page again raises `PaginationError`
rather than loop forever or silently stop.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Method = Literal["GET", "POST"]


class PaginationError(Exception):
    """The server's pagination data cannot be followed (missing or repeating cursor)."""


@dataclass(frozen=True)
class Request:
    """One API request: `path` is relative to the base URL, or an absolute same-host URL."""

    method: Method
    path: str
    params: Mapping[str, Any] | None = None
    json: Mapping[str, Any] | None = field(default=None)

    @classmethod
    def get(cls, path: str, params: Mapping[str, Any] | None = None) -> Request:
        return cls("GET", path, dict(params) if params is not None else None)

    @classmethod
    def post(cls, path: str, json: Mapping[str, Any]) -> Request:
        return cls("POST", path, None, copy.deepcopy(dict(json)))

    def with_params(self, **updates: Any) -> Request:
        params = dict(self.params or {})
        params.update(updates)
        return Request(self.method, self.path, params, self.json)


class Paginator(Protocol):
    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        """The request for the page after `previous`, whose parsed body is `data`."""
        ...


class SearchCursorPaginator:
    """POST search endpoints: copy `pages.next.starting_after` into the body's `pagination`."""

    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        following = _pages(data).get("next")
        cursor = following.get("starting_after") if isinstance(following, Mapping) else None
        if not cursor:
            return None
        body = copy.deepcopy(dict(previous.json or {}))
        pagination = dict(body.get("pagination") or {})
        if pagination.get("starting_after") == cursor:
            raise PaginationError(f"search returned the same cursor twice ({cursor!r})")
        pagination["starting_after"] = cursor
        body["pagination"] = pagination
        return Request(previous.method, previous.path, previous.params, body)


class AnchoredSearchPaginator:
    """A search sorted by `updated_at` ascending, each next page asked for as a new query
    from the newest `updated_at` read rather than through the server's cursor.

    Intercom documents `starting_after` only as "a pointer". If it is a position in the
    result set, a record that changes (or vanishes while re-indexed) between two pages
    shifts the others, and one is never returned. A new query `updated_at >= newest read`
    cannot skip anything the index holds: the records of that last second are read again
    (the upsert de-duplicates them), everything after it is still ahead.

    Only valid where the date filter is exact (conversations, tickets: contact search
    compares by calendar day). The server's cursor is still followed where anchoring
    cannot make progress — a page whose records all share one second (a run of more than
    a page at that second is read whole) — or cannot be trusted (a page out of order).
    """

    def __init__(self, records_key: str) -> None:
        self.records_key = records_key

    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        body = dict(previous.json or {})
        server = SearchCursorPaginator().next_request(previous, data)
        records = [r for r in data.get(self.records_key) or [] if isinstance(r, Mapping)]
        stamps = [_int_or(r.get("updated_at"), -1) for r in records]
        if server is None or not stamps:
            return None  # the query's last page: everything from its anchor on was read
        if stamps != sorted(stamps) or stamps[0] == stamps[-1]:
            return server  # out of order (anchoring could skip), or a run at one second
        anchored = Request(
            previous.method, previous.path, previous.params, anchored_body(body, stamps[-1])
        )
        return server if anchored == previous else anchored


def anchored_body(body: Mapping[str, Any], newest: int) -> dict[str, Any]:
    """`body` asking again from `updated_at >= newest`, from its first page."""
    out = copy.deepcopy(dict(body))
    out["query"] = with_lower_bound(out.get("query") or {}, newest)
    pagination = {k: v for k, v in dict(out.get("pagination") or {}).items()}
    pagination.pop("starting_after", None)
    out["pagination"] = pagination
    return out


def with_lower_bound(query: Mapping[str, Any], lower: int) -> dict[str, Any]:
    """The query with its `updated_at >` filter (itself, or a child of a top-level AND)
    replaced by one matching `updated_at >= lower` (Intercom times are whole seconds)."""
    bound = {"field": "updated_at", "operator": ">", "value": lower - 1}

    def is_lower(node: Any) -> bool:
        return (
            isinstance(node, Mapping)
            and node.get("field") == "updated_at"
            and node.get("operator") == ">"
        )

    if is_lower(query) or not query:
        return bound
    if query.get("operator") == "AND" and isinstance(query.get("value"), list):
        rest = [dict(node) for node in query["value"] if not is_lower(node)]
        return {"operator": "AND", "value": [bound, *rest]}
    return {"operator": "AND", "value": [bound, dict(query)]}


class ScrollPaginator:
    """The company scroll: follow `scroll_param` until a page comes back empty."""

    def __init__(self, records_key: str = "data") -> None:
        self.records_key = records_key

    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        if not data.get(self.records_key):
            return None
        scroll_param = data.get("scroll_param")
        if not isinstance(scroll_param, str) or not scroll_param:
            raise PaginationError("a scroll page with records came back without a scroll_param")
        return previous.with_params(scroll_param=scroll_param)


class NextUrlPaginator:
    """Activity logs (and other list endpoints): `pages.next` is the next page's full URL.

    Newer API versions may send `pages.next` as `{starting_after: …}` instead;
    that is followed by adding `starting_after` to the query.
    """

    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        following = _pages(data).get("next")
        if isinstance(following, str) and following:
            if following == previous.path and not previous.params:
                raise PaginationError(f"pages.next points at the same page again ({following})")
            return Request("GET", following)
        if isinstance(following, Mapping) and following.get("starting_after"):
            cursor = following["starting_after"]
            if (previous.params or {}).get("starting_after") == cursor:
                raise PaginationError(f"the same cursor came back twice ({cursor!r})")
            return previous.with_params(starting_after=cursor)
        return None


class PagePaginator:
    """Numbered pages (`page`, `per_page`): go on while `pages.next` is set or pages remain."""

    def __init__(self, records_key: str = "data") -> None:
        self.records_key = records_key

    def next_request(self, previous: Request, data: Mapping[str, Any]) -> Request | None:
        pages = _pages(data)
        current = _int_or(pages.get("page"), _int_or((previous.params or {}).get("page"), 1))
        total = _int_or(pages.get("total_pages"), 0)
        if not (pages.get("next") or current < total):
            return None
        if self.records_key in data and not data.get(self.records_key):
            return None  # an empty page never leads anywhere, whatever `next` says
        return previous.with_params(page=current + 1)


def _pages(data: Mapping[str, Any]) -> Mapping[str, Any]:
    pages = data.get("pages")
    return pages if isinstance(pages, Mapping) else {}


def _int_or(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default
