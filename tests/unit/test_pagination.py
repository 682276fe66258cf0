"""Paginators on response bodies shaped like the OpenAPI examples (2.11 / 2.14).

The published examples are single pages; the multi-page fixtures below are the
same shapes with `pages.next` / `scroll_param` / `total_pages` filled in as the
schemas (`cursor_pages`, `starting_after_paging`, `company_scroll`,
`activity_log_list`) describe them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from intercom_sync.client.pagination import (
    AnchoredSearchPaginator,
    NextUrlPaginator,
    PagePaginator,
    PaginationError,
    Request,
    ScrollPaginator,
    SearchCursorPaginator,
)

# -- fixtures ------------------------------------------------------------------------


def search_page(cursor: str | None, ids: list[str]) -> dict[str, Any]:
    """`POST /conversations/search`, `paginated_conversation_response`."""
    pages: dict[str, Any] = {"type": "pages", "page": 1, "per_page": 5, "total_pages": 3}
    if cursor is not None:
        pages["next"] = {"per_page": 5, "starting_after": cursor}
    return {
        "type": "conversation.list",
        "pages": pages,
        "total_count": 12,
        "conversations": [{"type": "conversation", "id": i, "updated_at": 1719492843} for i in ids],
    }


SEARCH_BODY = {
    "query": {
        "operator": "AND",
        "value": [{"field": "updated_at", "operator": ">", "value": 1306054154}],
    },
    "sort": {"field": "updated_at", "order": "ascending"},
    "pagination": {"per_page": 5},
}

SCROLL_PAGE = {
    "type": "list",
    "data": [
        {
            "type": "company",
            "company_id": "remote_companies_scroll_2",
            "id": "667d608b8a68186f43bafd67",
            "name": "IntercomQATest1",
            "updated_at": 1719492747,
        }
    ],
    "pages": None,
    "total_count": None,
    "scroll_param": "12d403b5-dc79-47b5-8ea1-01a5ac8cb6cc",
}

ACTIVITY_PAGE = {
    "type": "activity_log.list",
    "pages": {
        "type": "pages",
        "next": "https://api.intercom.io/admins/activity_logs?created_at_after=1677253093&page=2",
        "page": 1,
        "per_page": 20,
        "total_pages": 4,
    },
    "activity_logs": [{"id": "ddee3a18-0032-4061-b9b9-26230c3dd5f7", "created_at": 1719492795}],
}


def company_list_page(page: int, total_pages: int, next_url: str | None) -> dict[str, Any]:
    """`GET /contacts/{id}/companies`: `contact_attached_companies`."""
    return {
        "type": "list",
        "data": [{"type": "company", "id": f"c{page}"}],
        "total_count": total_pages,
        "pages": {
            "type": "pages",
            "next": next_url,
            "page": page,
            "per_page": 1,
            "total_pages": total_pages,
        },
    }


# -- anchored search -----------------------------------------------------------------------


def stamped_page(cursor: str | None, stamps: list[int], per_page: int = 5) -> dict[str, Any]:
    page = search_page(cursor, [f"c{i}" for i in range(len(stamps))])
    for record, stamp in zip(page["conversations"], stamps, strict=True):
        record["updated_at"] = stamp
    page["pages"]["per_page"] = per_page
    return page


def lower_of(request: Request) -> int:
    (bound,) = [node for node in (request.json or {})["query"]["value"] if node["operator"] == ">"]
    return int(bound["value"]) + 1


def test_anchored_search_asks_again_from_the_newest_second_read_not_by_the_cursor() -> None:
    """Guards: a record that moves or vanishes between pages cannot push a later one out of
    sight (a positional `starting_after` would)."""
    first = Request.post("/conversations/search", SEARCH_BODY)
    following = AnchoredSearchPaginator("conversations").next_request(
        first, stamped_page("opaque", [10, 11, 11, 12, 14])
    )
    assert following is not None
    assert lower_of(following) == 14  # updated_at >= 14: the last second is read again
    assert "starting_after" not in following.json["pagination"]
    assert following.json["sort"] == SEARCH_BODY["sort"]
    assert following.json["pagination"]["per_page"] == 5


def test_anchored_search_keeps_the_other_filters_of_the_query() -> None:
    body = {
        **SEARCH_BODY,
        "query": {
            "operator": "AND",
            "value": [
                {"field": "updated_at", "operator": ">", "value": 99},
                {"field": "updated_at", "operator": "<", "value": 500},
            ],
        },
    }
    following = AnchoredSearchPaginator("conversations").next_request(
        Request.post("/conversations/search", body), stamped_page("x", [100, 120, 130, 140, 150])
    )
    assert following is not None
    assert following.json["query"]["value"] == [
        {"field": "updated_at", "operator": ">", "value": 149},
        {"field": "updated_at", "operator": "<", "value": 500},
    ]


def test_a_page_all_at_one_second_follows_the_cursor_so_a_long_run_is_read_whole() -> None:
    first = Request.post("/conversations/search", SEARCH_BODY)
    following = AnchoredSearchPaginator("conversations").next_request(
        first, stamped_page("run-cursor", [7, 7, 7, 7, 7])
    )
    assert following is not None
    assert following.json["pagination"]["starting_after"] == "run-cursor"
    assert following.json["query"] == SEARCH_BODY["query"]


def test_a_page_out_of_order_is_not_anchored_on() -> None:
    first = Request.post("/conversations/search", SEARCH_BODY)
    following = AnchoredSearchPaginator("conversations").next_request(
        first, stamped_page("c", [5, 9, 6, 10, 11])
    )
    assert following is not None and following.json["pagination"]["starting_after"] == "c"


def test_anchored_search_ends_on_the_last_page_of_its_query() -> None:
    paginator = AnchoredSearchPaginator("conversations")
    first = Request.post("/conversations/search", SEARCH_BODY)
    assert paginator.next_request(first, stamped_page(None, [1, 2, 3])) is None
    assert paginator.next_request(first, stamped_page("c", [])) is None


# -- search cursor ------------------------------------------------------------------------


def test_search_carries_the_cursor_into_the_next_body_and_keeps_the_query() -> None:
    first = Request.post("/conversations/search", SEARCH_BODY)
    second = SearchCursorPaginator().next_request(
        first, search_page("WzE3MTk0OTI4NDMsIjM3OCJd", ["378"])
    )

    assert second is not None
    assert second.method == "POST" and second.path == "/conversations/search"
    assert second.json is not None
    assert second.json["pagination"] == {
        "per_page": 5,
        "starting_after": "WzE3MTk0OTI4NDMsIjM3OCJd",
    }
    assert second.json["query"] == SEARCH_BODY["query"]
    assert second.json["sort"] == SEARCH_BODY["sort"]
    # The first request is a value: following it changed nothing in it.
    assert first.json == SEARCH_BODY
    assert SEARCH_BODY["pagination"] == {"per_page": 5}


def test_search_stops_when_next_is_absent_or_null() -> None:
    request = Request.post("/contacts/search", SEARCH_BODY)
    paginator = SearchCursorPaginator()
    assert paginator.next_request(request, search_page(None, ["1"])) is None
    null_next = search_page(None, [])
    null_next["pages"]["next"] = None
    assert paginator.next_request(request, null_next) is None
    assert paginator.next_request(request, {"type": "list", "data": []}) is None


def test_search_walks_three_pages() -> None:
    bodies = [search_page("a", ["1", "2"]), search_page("b", ["3"]), search_page(None, ["4"])]
    request: Request | None = Request.post("/conversations/search", SEARCH_BODY)
    cursors = []
    for body in bodies:
        assert request is not None
        cursors.append((request.json or {}).get("pagination", {}).get("starting_after"))
        request = SearchCursorPaginator().next_request(request, body)
    assert cursors == [None, "a", "b"]
    assert request is None


def test_search_refuses_a_repeated_cursor() -> None:
    request = Request.post(
        "/conversations/search",
        {**SEARCH_BODY, "pagination": {"per_page": 5, "starting_after": "x"}},
    )
    with pytest.raises(PaginationError):
        SearchCursorPaginator().next_request(request, search_page("x", ["1"]))


# -- scroll ------------------------------------------------------------------------------------


def test_scroll_follows_scroll_param() -> None:
    second = ScrollPaginator().next_request(Request.get("/companies/scroll"), SCROLL_PAGE)
    assert second == Request.get("/companies/scroll", {"scroll_param": SCROLL_PAGE["scroll_param"]})


def test_scroll_replaces_the_previous_scroll_param() -> None:
    previous = Request.get("/companies/scroll", {"scroll_param": "old"})
    following = ScrollPaginator().next_request(previous, {**SCROLL_PAGE, "scroll_param": "new"})
    assert following is not None and following.params == {"scroll_param": "new"}


def test_scroll_stops_on_an_empty_page() -> None:
    empty = {**SCROLL_PAGE, "data": []}
    assert ScrollPaginator().next_request(Request.get("/companies/scroll"), empty) is None


def test_scroll_without_a_scroll_param_is_an_error_not_a_silent_stop() -> None:
    broken = {**SCROLL_PAGE, "scroll_param": None}
    with pytest.raises(PaginationError):
        ScrollPaginator().next_request(Request.get("/companies/scroll"), broken)


# -- next URL ----------------------------------------------------------------------------------


def test_activity_logs_follow_the_full_next_url() -> None:
    first = Request.get("/admins/activity_logs", {"created_at_after": "1677253093"})
    second = NextUrlPaginator().next_request(first, ACTIVITY_PAGE)
    assert second == Request("GET", ACTIVITY_PAGE["pages"]["next"])  # type: ignore[index]


def test_activity_logs_stop_when_next_is_null() -> None:
    last = json.loads(json.dumps(ACTIVITY_PAGE))
    last["pages"]["next"] = None
    assert NextUrlPaginator().next_request(Request.get("/admins/activity_logs"), last) is None


def test_a_next_url_pointing_at_the_same_page_is_an_error() -> None:
    url = ACTIVITY_PAGE["pages"]["next"]  # type: ignore[index]
    with pytest.raises(PaginationError):
        NextUrlPaginator().next_request(Request("GET", url), ACTIVITY_PAGE)


def test_a_starting_after_object_is_followed_as_a_query_cursor() -> None:
    page = {
        "type": "list",
        "data": [{"id": "1"}],
        "pages": {"type": "pages", "next": {"per_page": 50, "starting_after": "WzE3"}},
    }
    following = NextUrlPaginator().next_request(Request.get("/contacts", {"per_page": 50}), page)
    assert following == Request.get("/contacts", {"per_page": 50, "starting_after": "WzE3"})


# -- numbered pages ---------------------------------------------------------------------------


def test_numbered_pages_advance_while_pages_remain() -> None:
    first = Request.get("/contacts/abc/companies", {"per_page": 1})
    second = PagePaginator().next_request(first, company_list_page(1, 3, None))
    assert second == Request.get("/contacts/abc/companies", {"per_page": 1, "page": 2})
    assert second is not None
    third = PagePaginator().next_request(second, company_list_page(2, 3, None))
    assert third is not None and third.params == {"per_page": 1, "page": 3}
    assert PagePaginator().next_request(third, company_list_page(3, 3, None)) is None


def test_numbered_pages_follow_next_even_without_total_pages() -> None:
    page = company_list_page(1, 0, "https://api.intercom.io/contacts/abc/companies?page=2")
    del page["pages"]["total_pages"]
    following = PagePaginator().next_request(Request.get("/contacts/abc/companies"), page)
    assert following is not None and following.params == {"page": 2}


def test_numbered_pages_stop_on_an_empty_page_whatever_next_says() -> None:
    page = company_list_page(5, 9, "https://api.intercom.io/x?page=6")
    page["data"] = []
    assert PagePaginator().next_request(Request.get("/contacts/abc/companies"), page) is None


def test_a_list_without_pages_is_one_page() -> None:
    admins = {"type": "admin.list", "admins": [{"type": "admin", "id": "991267464"}]}
    assert PagePaginator("admins").next_request(Request.get("/admins"), admins) is None
