"""Search grammar, operators, calendar-day dates and cursor paging, on plain dicts."""

from __future__ import annotations

import base64
import bisect
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from intercom_sync.simulator.api.errors import ApiError
from intercom_sync.simulator.api.search import (
    MAX_PER_PAGE,
    SearchOptions,
    SearchPage,
    compile_query,
    count_matches,
    parse_request,
    search_page,
)
from intercom_sync.simulator.api.search_fields import contact_fields, conversation_fields

NY = ZoneInfo("America/New_York")


class ListView:
    """A search index over a list of records, ordered like the world's: (updated_at, id)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = list(records)
        self.sorted = sorted(records, key=lambda r: (r["updated_at"], r["id"]))
        self.keys = [(r["updated_at"], r["id"]) for r in self.sorted]
        self.yielded = 0

    def __len__(self) -> int:
        return len(self.records)

    def ascending(self, after: tuple[int, str] | None = None) -> Iterator[dict[str, Any]]:
        start = 0 if after is None else bisect.bisect_right(self.keys, after)
        for record in self.sorted[start:]:
            self.yielded += 1
            yield record

    def descending(self, before: tuple[int, str] | None = None) -> Iterator[dict[str, Any]]:
        end = len(self.keys) if before is None else bisect.bisect_left(self.keys, before)
        for record in reversed(self.sorted[:end]):
            self.yielded += 1
            yield record

    def natural(self) -> Iterator[dict[str, Any]]:
        yield from self.records


SUBJECTS = ("Help with", "Refund for")


def conversation(i: int, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "conversation",
        "id": str(1000 + i),
        "created_at": 1_700_000_000 + i * 10,
        "updated_at": 1_700_000_000 + i * 100,
        "state": ("open", "closed", "snoozed")[i % 3],
        "open": i % 3 == 0,
        "priority": "priority" if i % 4 == 0 else "not_priority",
        "admin_assignee_id": (i % 5) or None,
        "team_assignee_id": str(i % 2 + 7),
        "source": {"type": "conversation", "subject": f"{SUBJECTS[i % 2]} order {i}", "author": {}},
        "tags": {"type": "tag.list", "tags": [{"id": str(i % 3)}]},
        "contacts": {"type": "contact.list", "contacts": [{"id": f"u{i}"}]},
        "statistics": {"count_reopens": i % 4},
    }
    record.update(extra)
    return record


CONVERSATIONS = [conversation(i) for i in range(40)]
CONV_OPTIONS = SearchOptions("conversations", conversation_fields(), default_per_page=20)


def ids(query: dict[str, Any], records: list[dict[str, Any]] = CONVERSATIONS) -> set[str]:
    compiled = compile_query(query, CONV_OPTIONS)
    return {r["id"] for r in records if compiled.matches(r)}


def expected(predicate: Any, records: list[dict[str, Any]] = CONVERSATIONS) -> set[str]:
    return {r["id"] for r in records if predicate(r)}


def rejected(query: Any, options: SearchOptions = CONV_OPTIONS) -> ApiError:
    with pytest.raises(ApiError) as error:
        compile_query(query, options)
    assert error.value.status == 400
    return error.value


def f(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


# --- grammar ------------------------------------------------------------------------------


def test_two_levels_of_nesting_are_allowed() -> None:
    query = {
        "operator": "AND",
        "value": [
            {"operator": "OR", "value": [f("state", "=", "open"), f("state", "=", "snoozed")]},
            {"operator": "OR", "value": [f("priority", "=", "priority")]},
        ],
    }
    assert ids(query) == expected(
        lambda r: r["state"] in ("open", "snoozed") and r["priority"] == "priority"
    )


def test_three_levels_of_nesting_are_rejected() -> None:
    deep = {
        "operator": "AND",
        "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [f("id", "=", "1")]}]}],
    }
    assert "nested" in rejected(deep).message


def test_fifteen_filters_per_group_pass_and_sixteen_fail() -> None:
    fifteen = {"operator": "OR", "value": [f("id", "=", str(1000 + i)) for i in range(15)]}
    assert ids(fifteen) == {str(1000 + i) for i in range(15)}
    sixteen = {"operator": "OR", "value": [f("id", "=", str(1000 + i)) for i in range(16)]}
    assert "15" in rejected(sixteen).message
    inner_sixteen = {"operator": "AND", "value": [sixteen]}
    rejected(inner_sixteen)


@pytest.mark.parametrize(
    "query",
    [
        {"operator": "AND", "value": []},
        {"operator": "XOR", "value": [f("id", "=", "1")]},
        {"operator": "AND", "value": "id"},
        {"operator": "AND", "value": ["id"]},
        f("no_such_field", "=", "x"),
        f("state", "LIKE", "open"),
        f("state", ">", "open"),  # ordering on a string
        f("statistics.count_reopens", "~", 1),  # contains on an integer
        f("open", "<", True),  # ordering on a boolean
        f("created_at", "=", "yesterday"),  # not a timestamp
        f("open", "=", "maybe"),
        f("state", "IN", "open"),  # IN needs an array
        f("state", "IN", []),
        f("state", "=", ["open"]),  # = needs a scalar
        f("created_at", ">", None),
    ],
)
def test_malformed_queries_are_400(query: Any) -> None:
    rejected(query)


# --- operators ----------------------------------------------------------------------------

OPERATOR_CASES = [
    (f("state", "=", "open"), lambda r: r["state"] == "open"),
    (f("state", "!=", "open"), lambda r: r["state"] != "open"),
    (f("state", "IN", ["open", "closed"]), lambda r: r["state"] in ("open", "closed")),
    (f("state", "NIN", ["open", "closed"]), lambda r: r["state"] not in ("open", "closed")),
    (f("created_at", "<", 1_700_000_100), lambda r: r["created_at"] < 1_700_000_100),
    (f("created_at", "<=", 1_700_000_100), lambda r: r["created_at"] <= 1_700_000_100),
    (f("created_at", ">", "1700000300"), lambda r: r["created_at"] > 1_700_000_300),
    (f("created_at", ">=", 1_700_000_300), lambda r: r["created_at"] >= 1_700_000_300),
    (f("source.subject", "~", "ORDER 1"), lambda r: "order 1" in r["source"]["subject"].lower()),
    (f("source.subject", "!~", "order 1"), lambda r: "order 1" not in r["source"]["subject"]),
    (f("source.subject", "^", "help"), lambda r: r["source"]["subject"].startswith("Help")),
    (f("source.subject", "$", " 7"), lambda r: r["source"]["subject"].endswith(" 7")),
    (f("admin_assignee_id", "=", "3"), lambda r: r["admin_assignee_id"] == 3),
    (f("admin_assignee_id", "=", None), lambda r: r["admin_assignee_id"] is None),
    (f("admin_assignee_id", "!=", None), lambda r: r["admin_assignee_id"] is not None),
    (f("team_assignee_id", "IN", [7]), lambda r: r["team_assignee_id"] == "7"),
    (f("open", "=", True), lambda r: r["open"]),
    (f("open", "!=", "true"), lambda r: not r["open"]),
    (f("tag_ids", "=", "2"), lambda r: r["tags"]["tags"][0]["id"] == "2"),
    (f("tag_ids", "NIN", ["0", "1"]), lambda r: r["tags"]["tags"][0]["id"] == "2"),
    (f("contact_ids", "=", "u5"), lambda r: r["id"] == "1005"),
    (
        f("statistics.count_reopens", ">=", 2),
        lambda r: r["statistics"]["count_reopens"] >= 2,
    ),
    (
        f("updated_at", "<", 1_700_001_000),
        lambda r: r["updated_at"] < 1_700_001_000,
    ),
]


@pytest.mark.parametrize(("query", "predicate"), OPERATOR_CASES)
def test_each_operator_selects_what_it_says(query: dict[str, Any], predicate: Any) -> None:
    want = expected(predicate)
    assert want and want != {r["id"] for r in CONVERSATIONS}, "a case must discriminate"
    assert ids(query) == want


def test_or_and_and_combine() -> None:
    query = {
        "operator": "OR",
        "value": [
            {"operator": "AND", "value": [f("state", "=", "open"), f("priority", "=", "priority")]},
            f("id", "=", "1001"),
        ],
    }
    assert ids(query) == expected(
        lambda r: (r["state"] == "open" and r["priority"] == "priority") or r["id"] == "1001"
    )


# --- calendar-day contact search ----------------------------------------------------------


def local(day: str, hms: str = "00:00:00") -> int:
    return int(datetime.fromisoformat(f"{day}T{hms}").replace(tzinfo=NY).timestamp())


CONTACT_TIMES = {
    "a": local("2025-03-09", "23:59:59"),
    "b": local("2025-03-10", "00:00:00"),
    "c": local("2025-03-10", "12:00:00"),
    "d": local("2025-03-10", "23:59:59"),
    "e": local("2025-03-11", "00:00:00"),
    "f": local("2025-03-12", "08:30:00"),
}
CONTACTS = [
    {
        "type": "contact",
        "id": cid,
        "role": "user",
        "email": f"{cid}@x.io",
        "updated_at": t,
        "created_at": t - 86_400,
    }
    for cid, t in CONTACT_TIMES.items()
]
DAY_OPTIONS = SearchOptions("contacts", contact_fields(), default_per_page=50, day_zone=NY)
EXACT_OPTIONS = SearchOptions("contacts", contact_fields(), default_per_page=50)


def contact_ids(query: dict[str, Any], options: SearchOptions) -> list[str]:
    compiled = compile_query(query, options)
    return sorted(r["id"] for r in CONTACTS if compiled.matches(r))


def test_greater_than_matches_from_the_start_of_the_next_local_day() -> None:
    noon = local("2025-03-10", "12:00:00")
    assert contact_ids(f("updated_at", ">", noon), DAY_OPTIONS) == ["e", "f"]
    assert contact_ids(f("updated_at", ">", noon), EXACT_OPTIONS) == ["d", "e", "f"]


def test_less_than_matches_before_the_start_of_the_local_day() -> None:
    noon = local("2025-03-10", "12:00:00")
    assert contact_ids(f("updated_at", "<", noon), DAY_OPTIONS) == ["a"]


def test_equals_matches_the_whole_local_day() -> None:
    assert contact_ids(f("updated_at", "=", local("2025-03-10", "18:00:00")), DAY_OPTIONS) == [
        "b",
        "c",
        "d",
    ]


def test_day_boundaries_follow_the_workspace_zone_not_utc() -> None:
    # 2025-03-11 02:00 UTC is still 2025-03-10 in New York.
    late_utc = int(datetime.fromisoformat("2025-03-11T02:00:00+00:00").timestamp())
    assert contact_ids(f("updated_at", ">", late_utc), DAY_OPTIONS) == ["e", "f"]


def test_other_date_fields_are_day_granular_too_within_an_and() -> None:
    query = {
        "operator": "AND",
        "value": [
            f("created_at", ">", local("2025-03-09", "10:00:00")),
            f("role", "=", "user"),
        ],
    }
    assert contact_ids(query, DAY_OPTIONS) == ["e", "f"]


@pytest.mark.parametrize("operator", ["!=", ">=", "<=", "IN", "NIN"])
def test_day_granular_dates_reject_the_operators_intercom_rejects(operator: str) -> None:
    value: Any = [1] if operator in ("IN", "NIN") else 1_741_600_000
    rejected(f("updated_at", operator, value), DAY_OPTIONS)
    compile_query(f("updated_at", operator, value), EXACT_OPTIONS)  # fine when exact


def test_tag_id_allows_only_equality() -> None:
    rejected(f("tag_id", "IN", ["1"]), DAY_OPTIONS)
    rejected(f("tag_id", "~", "1"), DAY_OPTIONS)


def test_contact_tag_and_segment_come_from_the_full_link_lists() -> None:
    class Links:
        def __init__(self, tags: list[str], segments: list[str]) -> None:
            self.tag_ids, self.segment_ids = tags, segments

    links = {"a": Links(["t1"], ["s1"]), "b": Links(["t2"], [])}
    options = SearchOptions("contacts", contact_fields(links), day_zone=NY)
    assert contact_ids(f("tag_id", "=", "t2"), options) == ["b"]
    assert contact_ids(f("segment_id", "=", "s1"), options) == ["a"]


# --- request envelope ---------------------------------------------------------------------


def test_request_defaults_and_limits() -> None:
    request = parse_request({"query": f("id", "=", "1")}, default_per_page=50)
    assert (request.per_page, request.starting_after, request.order) == (50, None, None)
    sorted_request = parse_request(
        {
            "query": f("id", "=", "1"),
            "pagination": {"per_page": MAX_PER_PAGE},
            "sort": {"field": "updated_at", "order": "ascending"},
        },
        default_per_page=20,
    )
    assert (sorted_request.per_page, sorted_request.order) == (150, "ascending")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"query": "state=open"},
        {"query": {}, "pagination": {"per_page": 151}},
        {"query": {}, "pagination": {"per_page": 0}},
        {"query": {}, "pagination": {"per_page": "10"}},
        {"query": {}, "pagination": {"starting_after": 5}},
        {"query": {}, "sort": {"field": "name", "order": "ascending"}},
        {"query": {}, "sort": {"field": "updated_at", "order": "up"}},
    ],
)
def test_bad_envelopes_are_400(body: Any) -> None:
    with pytest.raises(ApiError) as error:
        parse_request(body, default_per_page=20)
    assert error.value.status == 400


# --- paging -------------------------------------------------------------------------------


def run_page(
    view: ListView, body: dict[str, Any], options: SearchOptions = CONV_OPTIONS
) -> SearchPage:
    request = parse_request(body, options.default_per_page)
    compiled = compile_query(request.query, options, request.order)
    return search_page(view, compiled, request, count_matches(view, compiled))


def page_all(view: ListView, body: dict[str, Any]) -> tuple[list[str], list[SearchPage]]:
    seen: list[str] = []
    pages: list[SearchPage] = []
    cursor: str | None = None
    while True:
        pagination = {**body.get("pagination", {}), "starting_after": cursor}
        page = run_page(view, {**body, "pagination": pagination})
        pages.append(page)
        seen.extend(r["id"] for r in page.records)
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages


def test_ascending_pages_cover_every_match_once_in_order() -> None:
    view = ListView(CONVERSATIONS)
    query = {
        "operator": "AND",
        "value": [f("updated_at", ">", 1_700_000_450), f("open", "=", True)],
    }
    body = {
        "query": query,
        "pagination": {"per_page": 3},
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    seen, pages = page_all(view, body)
    want = [
        r["id"]
        for r in sorted(CONVERSATIONS, key=lambda r: r["updated_at"])
        if r["updated_at"] > 1_700_000_450 and r["open"]
    ]
    assert seen == want
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert {p.total_count for p in pages} == {len(want)}
    assert pages[0].total_pages == len(pages)
    assert all(len(p.records) == 3 for p in pages[:-1])


def test_descending_pages_are_newest_first() -> None:
    view = ListView(CONVERSATIONS)
    body = {
        "query": f("updated_at", "<=", 1_700_002_000),
        "pagination": {"per_page": 7},
        "sort": {"field": "updated_at", "order": "descending"},
    }
    seen, _ = page_all(view, body)
    want = [
        r["id"]
        for r in sorted(CONVERSATIONS, key=lambda r: -r["updated_at"])
        if r["updated_at"] <= 1_700_002_000
    ]
    assert seen == want


def test_unsorted_pages_follow_natural_order() -> None:
    shuffled = CONVERSATIONS[::3] + CONVERSATIONS[1::3] + CONVERSATIONS[2::3]
    view = ListView(shuffled)
    seen, pages = page_all(
        view, {"query": f("priority", "=", "not_priority"), "pagination": {"per_page": 4}}
    )
    assert seen == [r["id"] for r in shuffled if r["priority"] == "not_priority"]
    assert len(pages) == -(-len(seen) // 4)


def test_a_lower_updated_at_bound_starts_by_bisection() -> None:
    view = ListView(CONVERSATIONS)
    body = {
        "query": {"operator": "AND", "value": [f("updated_at", ">=", 1_700_003_500)]},
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    page = run_page(view, body)
    assert [r["id"] for r in page.records] == ["1035", "1036", "1037", "1038", "1039"]
    view.yielded = 0
    run_page(view, body)
    assert view.yielded == 5 + 5  # the page, plus the count: nothing below the bound


def test_an_upper_bound_stops_the_scan() -> None:
    view = ListView(CONVERSATIONS)
    body = {
        "query": f("updated_at", "<", 1_700_000_300),
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    view.yielded = 0
    page = run_page(view, body)
    assert [r["id"] for r in page.records] == ["1000", "1001", "1002"]
    assert view.yielded <= 2 * 4


def test_a_record_that_changes_while_paging_moves_to_the_end_and_is_not_repeated() -> None:
    records = [dict(r) for r in CONVERSATIONS]
    body: dict[str, Any] = {
        "query": f("updated_at", ">", 0),
        "pagination": {"per_page": 10},
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    first = run_page(ListView(records), body)
    # Record 1003 (already returned) and 1020 (not yet) change: updated_at jumps ahead.
    for record in records:
        if record["id"] in ("1003", "1020"):
            record["updated_at"] = 1_800_000_000
    view = ListView(records)
    seen = [r["id"] for r in first.records]
    cursor = first.next_cursor
    while cursor:
        page = run_page(view, {**body, "pagination": {"per_page": 10, "starting_after": cursor}})
        seen.extend(r["id"] for r in page.records)
        cursor = page.next_cursor
    assert seen.count("1020") == 1 and seen[-2:] == ["1003", "1020"]
    assert sorted(set(seen)) == sorted(r["id"] for r in records)


def _cursor_for(view: ListView, query: dict[str, Any]) -> str:
    body = {
        "query": query,
        "pagination": {"per_page": 2},
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    cursor = run_page(view, body).next_cursor
    assert cursor is not None
    return cursor


@pytest.mark.parametrize(
    "garbage",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(orjson.dumps({"a": 1})).decode(),
        base64.b64encode(orjson.dumps(["x", 1, "k", 5, "1"])).decode(),  # page 1 is no cursor
        base64.b64encode(orjson.dumps(["x", 2, "q", 5])).decode(),
    ],
)
def test_garbage_cursors_are_400(garbage: str) -> None:
    view = ListView(CONVERSATIONS)
    body = {
        "query": f("updated_at", ">", 0),
        "pagination": {"starting_after": garbage},
        "sort": {"field": "updated_at", "order": "ascending"},
    }
    with pytest.raises(ApiError) as error:
        run_page(view, body)
    assert error.value.status == 400


def test_a_cursor_used_with_another_query_or_sort_is_400() -> None:
    view = ListView(CONVERSATIONS)
    cursor = _cursor_for(view, f("updated_at", ">", 0))
    for other in (
        {"query": f("updated_at", ">", 1), "sort": {"field": "updated_at", "order": "ascending"}},
        {"query": f("updated_at", ">", 0), "sort": {"field": "updated_at", "order": "descending"}},
        {"query": f("updated_at", ">", 0)},
    ):
        with pytest.raises(ApiError) as error:
            run_page(view, {**other, "pagination": {"starting_after": cursor}})
        assert error.value.status == 400
    # ...while the same query with another page size is fine.
    body = {
        "query": f("updated_at", ">", 0),
        "sort": {"field": "updated_at", "order": "ascending"},
        "pagination": {"per_page": 5, "starting_after": cursor},
    }
    assert [r["id"] for r in run_page(view, body).records] == [
        "1002",
        "1003",
        "1004",
        "1005",
        "1006",
    ]


def test_empty_result_has_no_next_page() -> None:
    page = run_page(ListView(CONVERSATIONS), {"query": f("state", "=", "gone")})
    assert (page.records, page.next_cursor, page.total_count, page.total_pages) == ([], None, 0, 0)
