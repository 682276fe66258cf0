"""The simulator over HTTP (in-process): auth, scopes, versions, limits, quirks, faults."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
import typer
from typer.testing import CliRunner

from intercom_sync.clock import ManualClock, OffsetClock
from intercom_sync.simulator.api.fragments import FragmentCache
from intercom_sync.simulator.serve.cli import build_config, parse_now
from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    SCOPES,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    Simulator,
    SimulatorConfig,
    TokenSpec,
    WorldSpec,
    serve_in_thread,
    simulate,
)
from intercom_sync.simulator.world.mutations import Mutator

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
ASCENDING = {"field": "updated_at", "order": "ascending"}
EVERYTHING_QUERY = {"field": "updated_at", "operator": ">", "value": 0}


def make_sim(**config: Any) -> Simulator:
    return Simulator(SimulatorConfig(world=WorldSpec.preset("tiny"), **config))


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["type"] == "error.list"
    return str(body["errors"][0]["code"])


async def search_all(
    client: httpx.AsyncClient, kind: str, query: dict[str, Any], per_page: int = 150
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor = None
    items_key = {"contacts": "data"}.get(kind, kind)
    while True:
        body = {
            "query": query,
            "sort": ASCENDING,
            "pagination": {"per_page": per_page, "starting_after": cursor},
        }
        response = await client.post(f"/{kind}/search", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        records.extend(page[items_key])
        cursor = (page["pages"].get("next") or {}).get("starting_after")
        if not cursor:
            return records


# --- auth, scopes, versions -------------------------------------------------------------------


async def test_missing_or_unknown_token_is_401_without_rate_limit_headers(
    tiny_sim: Simulator,
) -> None:
    async with httpx.AsyncClient(transport=tiny_sim.transport(), base_url="http://sim") as raw:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic xyz"}):
            response = await raw.get("/admins", headers=headers)
            assert response.status_code == 401
            assert error_code(response) == "unauthorized"
            assert response.json()["errors"][0]["message"] == "Access Token Invalid"
            assert not any(h in response.headers for h in RATE_HEADERS)
    assert tiny_sim.stats.unauthorized == 3


async def test_authenticated_answers_carry_rate_limit_and_simulated_date_headers(
    sim_client: httpx.AsyncClient, tiny_sim: Simulator
) -> None:
    response = await sim_client.get("/admins")
    assert response.status_code == 200
    assert all(h in response.headers for h in RATE_HEADERS)
    assert int(response.headers["x-ratelimit-limit"]) == 10_000 // 6
    served_at = parsedate_to_datetime(response.headers["date"]).timestamp()
    assert served_at == int(tiny_sim.clock.now())
    not_found = await sim_client.get("/admins/0")
    assert not_found.status_code == 404 and all(h in not_found.headers for h in RATE_HEADERS)


@pytest.mark.parametrize(
    ("path", "method", "scope"),
    [
        ("/admins", "GET", "read_admins"),
        ("/tags", "GET", "read_tags"),
        ("/conversations/search", "POST", "read_conversations"),
        ("/tickets/search", "POST", "read_tickets"),
        ("/admins/activity_logs?created_at_after=0", "GET", "read_activity_logs"),
        ("/companies/scroll", "GET", "read_users_companies"),
    ],
)
@pytest.mark.parametrize(
    ("denial", "status", "code"),
    [("401", 401, "token_unauthorized"), ("403", 403, "api_plan_restricted")],
)
async def test_a_token_without_a_scope_is_denied_naming_the_permission(
    tiny_sim: Simulator, path: str, method: str, scope: str, denial: str, status: int, code: str
) -> None:
    tiny_sim.add_token("limited", TokenSpec(scopes=frozenset(SCOPES) - {scope}, denial=denial))  # type: ignore[arg-type]
    async with tiny_sim.client(token="limited") as client:
        body = {"query": {"field": "id", "operator": "=", "value": "1"}}
        response = await client.request(method, path, json=body if method == "POST" else None)
        assert response.status_code == status
        assert error_code(response) == code
        assert scope in response.json()["errors"][0]["message"]
        assert all(h in response.headers for h in RATE_HEADERS)
        other = "/me" if scope != "read_admins" else "/tags"
        assert (await client.get(other)).status_code == 200


async def test_unknown_version_is_400_and_2_14_is_served(tiny_sim: Simulator) -> None:
    async with tiny_sim.client(api_version="2.7") as old:
        response = await old.get("/admins")
        assert response.status_code == 400 and error_code(response) == "intercom_version_invalid"
    async with tiny_sim.client(api_version="banana") as bad:
        assert (await bad.get("/admins")).status_code == 400
    async with tiny_sim.client(api_version="2.14") as new:
        assert (await new.get("/admins")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admins/999",
        "/teams/999",
        "/segments/nope",
        "/contacts/nope",
        "/contacts/nope/companies",
        "/contacts/nope/segments",
        "/contacts/nope/tags",
        "/conversations/999999999",
        "/companies/nope",
        "/companies/nope/segments",
        "/tickets/999999999",
        "/no/such/endpoint",
    ],
)
async def test_unknown_ids_are_404(sim_client: httpx.AsyncClient, path: str) -> None:
    response = await sim_client.get(path)
    assert response.status_code == 404
    assert error_code(response).endswith("not_found")


# --- rate limits --------------------------------------------------------------------------------


async def test_window_exhaustion_gives_429_with_headers_until_the_reset() -> None:
    sim = make_sim(rate_limit=RateLimitSpec(per_minute=30, workspace_per_minute=1000))
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.set(clock.now() - clock.now() % 10 + 10)  # the start of a window
    async with sim.client() as client:
        statuses = [(await client.get("/tags")).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = await client.get("/tags")
        assert limited.status_code == 429 and error_code(limited) == "rate_limit_exceeded"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        reset = int(limited.headers["x-ratelimit-reset"])
        assert reset == int(clock.now()) + 10
        clock.set(reset)
        again = await client.get("/tags")
        assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "4"
    assert sim.stats.rate_limited == 2 and sim.stats.too_many_requests == 2


async def test_workspace_cap_binds_tokens_of_different_apps() -> None:
    sim = make_sim(rate_limit=RateLimitSpec(per_minute=60, workspace_per_minute=90))
    sim.add_token("other-app", TokenSpec(app_id="app-2"))
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.set(clock.now() - clock.now() % 10 + 10)
    async with sim.client() as first, sim.client(token="other-app") as second:
        assert [(await first.get("/tags")).status_code for _ in range(10)] == [200] * 10
        statuses = [(await second.get("/tags")).status_code for _ in range(10)]
    assert statuses == [200] * 5 + [429] * 5


# --- search: lag, day granularity, paging -----------------------------------------------------


async def test_search_lags_writes_but_get_sees_them_at_once(tiny_sim: Simulator) -> None:
    world = tiny_sim.world
    before = set(world.conversations)
    tiny_sim.mutator.new_conversation()
    (new_id,) = set(world.conversations) - before
    query = {"field": "id", "operator": "=", "value": new_id}
    async with tiny_sim.client() as client:
        assert (await client.get(f"/conversations/{new_id}")).status_code == 200
        assert await search_all(client, "conversations", query) == []
        assert isinstance(tiny_sim.clock, ManualClock)
        tiny_sim.clock.advance(tiny_sim.quirks.search_lag_seconds + 1)
        found = await search_all(client, "conversations", query)
    assert [c["id"] for c in found] == [new_id]


async def test_search_shows_the_old_version_during_the_lag(tiny_sim: Simulator) -> None:
    contact_id = next(iter(tiny_sim.world.contacts))
    old_updated_at = tiny_sim.world.contacts[contact_id]["updated_at"]
    assert isinstance(tiny_sim.clock, ManualClock)
    tiny_sim.clock.advance(3_600)
    tiny_sim.mutator.update_contact(contact_id)
    assert tiny_sim.world.contacts[contact_id]["updated_at"] > old_updated_at
    query = {"field": "id", "operator": "=", "value": contact_id}
    async with tiny_sim.client() as client:
        (lagged,) = await search_all(client, "contacts", query)
        assert lagged["updated_at"] == old_updated_at
        tiny_sim.set_quirks(search_lag_seconds=0)
        (fresh,) = await search_all(client, "contacts", query)
    assert fresh["updated_at"] == tiny_sim.world.contacts[contact_id]["updated_at"]


def _next_local_midnight(timestamp: int, zone: str) -> int:
    local = datetime.fromtimestamp(timestamp, ZoneInfo(zone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone)).timestamp())


async def test_contact_search_compares_updated_at_by_local_calendar_day(
    tiny_sim: Simulator,
) -> None:
    contacts = sorted(tiny_sim.world.contacts.values(), key=lambda c: c["updated_at"])
    # One second before a contact's update: exactly it is "after", by day it is not.
    pivot = contacts[len(contacts) // 2]["updated_at"] - 1
    next_day = _next_local_midnight(pivot, tiny_sim.world.spec.timezone)
    query = {"field": "updated_at", "operator": ">", "value": pivot}
    async with tiny_sim.client() as client:
        by_day = {c["id"] for c in await search_all(client, "contacts", query, per_page=7)}
        assert by_day == {c["id"] for c in contacts if c["updated_at"] >= next_day}
        assert by_day != {c["id"] for c in contacts if c["updated_at"] > pivot}
        rejected = await client.post(
            "/contacts/search",
            json={"query": {"field": "updated_at", "operator": ">=", "value": pivot}},
        )
        assert rejected.status_code == 400
        tiny_sim.set_quirks(contact_search_by_day=False)
        exact = {c["id"] for c in await search_all(client, "contacts", query)}
    assert exact == {c["id"] for c in contacts if c["updated_at"] > pivot}


async def test_search_pages_cover_everything_once_and_report_totals(
    sim_client: httpx.AsyncClient, tiny_sim: Simulator
) -> None:
    query = {"field": "updated_at", "operator": ">", "value": 0}
    records = await search_all(sim_client, "conversations", query, per_page=7)
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(tiny_sim.world.conversations)
    keys = [(r["updated_at"], r["id"]) for r in records]
    assert keys == sorted(keys)
    first = (
        await sim_client.post(
            "/conversations/search", json={"query": query, "pagination": {"per_page": 7}}
        )
    ).json()
    assert first["total_count"] == len(ids)
    assert first["pages"]["total_pages"] == -(-len(ids) // 7)
    assert first["pages"]["next"]["per_page"] == 7


async def test_search_grammar_and_cursor_errors_are_400(sim_client: httpx.AsyncClient) -> None:
    deep = {
        "operator": "AND",
        "value": [
            {
                "operator": "OR",
                "value": [
                    {"operator": "AND", "value": [{"field": "id", "operator": "=", "value": "1"}]}
                ],
            }
        ],
    }
    wide = {
        "operator": "OR",
        "value": [{"field": "id", "operator": "=", "value": str(i)} for i in range(16)],
    }
    bad_bodies = [
        {"query": deep},
        {"query": wide},
        {"query": {"field": "nope", "operator": "=", "value": 1}},
        {"query": {"field": "id", "operator": "=", "value": "1"}, "pagination": {"per_page": 151}},
        {
            "query": {"field": "id", "operator": "=", "value": "1"},
            "pagination": {"starting_after": "garbage"},
        },
    ]
    for body in bad_bodies:
        response = await sim_client.post("/conversations/search", json=body)
        assert response.status_code == 400, body
        assert error_code(response).startswith("parameter_")
    not_json = await sim_client.post(
        "/conversations/search", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    # A cursor from one query used with another.
    query = {"field": "updated_at", "operator": ">", "value": 0}
    page = (
        await sim_client.post(
            "/conversations/search",
            json={"query": query, "sort": ASCENDING, "pagination": {"per_page": 2}},
        )
    ).json()
    cursor = page["pages"]["next"]["starting_after"]
    other = {"field": "updated_at", "operator": ">", "value": 5}
    response = await sim_client.post(
        "/conversations/search",
        json={"query": other, "sort": ASCENDING, "pagination": {"starting_after": cursor}},
    )
    assert response.status_code == 400
    wrong_kind = await sim_client.post(
        "/tickets/search",
        json={"query": query, "sort": ASCENDING, "pagination": {"starting_after": cursor}},
    )
    assert wrong_kind.status_code == 400


async def test_a_conversation_changed_while_paging_appears_later_not_twice(
    tiny_sim: Simulator,
) -> None:
    tiny_sim.set_quirks(search_lag_seconds=0)
    query = {"field": "updated_at", "operator": ">", "value": 0}
    async with tiny_sim.client() as client:
        first = (
            await client.post(
                "/conversations/search",
                json={"query": query, "sort": ASCENDING, "pagination": {"per_page": 5}},
            )
        ).json()
        seen = [c["id"] for c in first["conversations"]]
        assert isinstance(tiny_sim.clock, ManualClock)
        tiny_sim.clock.advance(60)
        tiny_sim.mutator.close(seen[0])  # already returned: it moves to the end
        cursor = first["pages"]["next"]["starting_after"]
        while cursor:
            page = (
                await client.post(
                    "/conversations/search",
                    json={
                        "query": query,
                        "sort": ASCENDING,
                        "pagination": {"per_page": 5, "starting_after": cursor},
                    },
                )
            ).json()
            seen.extend(c["id"] for c in page["conversations"])
            cursor = (page["pages"].get("next") or {}).get("starting_after")
    assert sorted(set(seen)) == sorted(tiny_sim.world.conversations)
    assert seen.count(seen[0]) == 2 and seen[-1] == seen[0]
    assert len(seen) == len(tiny_sim.world.conversations) + 1


async def _page_through_while_closing_the_first(sim: Simulator) -> list[str]:
    """Page conversations 5 at a time by the server's cursor; after the first page, close
    its first conversation (it moves to the end of the sort order)."""
    query = {"field": "updated_at", "operator": ">", "value": 0}
    seen: list[str] = []
    cursor: str | None = None
    async with sim.client() as client:
        while True:
            pagination = {"per_page": 5, "starting_after": cursor}
            body = {"query": query, "sort": ASCENDING, "pagination": pagination}
            page = (await client.post("/conversations/search", json=body)).json()
            seen.extend(c["id"] for c in page["conversations"])
            if len(seen) == 5:
                assert isinstance(sim.clock, ManualClock)
                sim.clock.advance(60)
                sim.mutator.close(seen[0])
            cursor = (page["pages"].get("next") or {}).get("starting_after")
            if not cursor:
                return seen


async def test_a_positional_cursor_skips_a_record_when_an_earlier_one_moves(
    tiny_sim: Simulator,
) -> None:
    """The mode the sync must survive: `starting_after` as an offset into the result set
    as it is when the next page is asked for."""
    tiny_sim.set_quirks(search_lag_seconds=0, search_cursor="positional")
    in_order = [c["id"] for c in sorted(tiny_sim.world.conversations.values(), key=_sort_key)]
    seen = await _page_through_while_closing_the_first(tiny_sim)
    assert in_order[5] not in seen  # the record that slid into the consumed offset
    assert set(seen) | {in_order[5]} == set(in_order)


async def test_a_keyset_cursor_skips_nothing_when_an_earlier_record_moves(
    tiny_sim: Simulator,
) -> None:
    tiny_sim.set_quirks(search_lag_seconds=0, search_cursor="keyset")
    seen = await _page_through_while_closing_the_first(tiny_sim)
    assert set(seen) == set(tiny_sim.world.conversations)


def _sort_key(record: dict[str, Any]) -> tuple[int, str]:
    return (record["updated_at"], record["id"])


async def test_a_record_being_reindexed_is_absent_instead_of_old(tiny_sim: Simulator) -> None:
    conversation_id = next(iter(tiny_sim.world.conversations))
    assert isinstance(tiny_sim.clock, ManualClock)
    tiny_sim.clock.advance(3_600)
    tiny_sim.mutator.close(conversation_id)
    query = {"field": "updated_at", "operator": ">", "value": 0}
    async with tiny_sim.client() as client:
        lagged = await search_all(client, "conversations", query)
        tiny_sim.set_quirks(reindex_hides=True)
        hidden = await search_all(client, "conversations", query)
        tiny_sim.clock.advance(tiny_sim.quirks.search_lag_seconds + 1)
        caught_up = await search_all(client, "conversations", query)
    total = len(tiny_sim.world.conversations)
    assert conversation_id in {c["id"] for c in lagged} and len(lagged) == total
    assert conversation_id not in {c["id"] for c in hidden} and len(hidden) == total - 1
    assert [c for c in caught_up if c["id"] == conversation_id] == [
        tiny_sim.world.conversations[conversation_id]
    ]


async def test_a_stalled_index_lags_hours_while_the_date_header_stays_now() -> None:
    stall = 3 * 3_600.0
    sim = make_sim(quirks=Quirks(search_stall_seconds=stall))
    conversation_id = next(iter(sim.world.conversations))
    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(600)
    old = sim.world.conversations[conversation_id]
    sim.mutator.close(conversation_id)
    sim.clock.advance(3_600)  # far past the lag, still inside the stall
    query = {"field": "id", "operator": "=", "value": conversation_id}
    async with sim.client() as client:
        (stalled,) = await search_all(client, "conversations", query)
        date = parsedate_to_datetime((await client.get("/me")).headers["date"])
        sim.set_quirks(search_stall_seconds=0)
        (fresh,) = await search_all(client, "conversations", query)
    assert stalled == old
    assert fresh == sim.world.conversations[conversation_id] != old
    assert abs(date.timestamp() - sim.clock.now()) < 1


# --- parts cap, contact sub-lists ---------------------------------------------------------------


async def test_conversation_returns_only_the_most_recent_parts(tiny_sim: Simulator) -> None:
    world = tiny_sim.world
    longest = max(world.conversations, key=world.parts.count)
    everything = world.parts[longest]
    assert len(everything) > 500
    async with tiny_sim.client() as client:
        capped = (await client.get(f"/conversations/{longest}")).json()["conversation_parts"]
        assert capped["total_count"] == 500
        assert capped["conversation_parts"] == everything[-500:]
        tiny_sim.set_quirks(parts_cap=None)
        full = (await client.get(f"/conversations/{longest}")).json()["conversation_parts"]
    assert full["conversation_parts"] == everything
    assert tiny_sim.stats.conversation_gets == 2


async def test_contact_companies_page_with_next_links(tiny_sim: Simulator) -> None:
    world = tiny_sim.world
    contact_id = max(world.contact_links, key=lambda c: len(world.contact_links[c].company_ids))
    expected = [c for c in world.contact_links[contact_id].company_ids if c in world.companies]
    assert len(expected) >= 2
    collected: list[str] = []
    async with tiny_sim.client() as client:
        url: str | None = f"/contacts/{contact_id}/companies?per_page=1"
        while url:
            body = (await client.get(url)).json()
            assert body["total_count"] == len(expected)
            assert body["data"] == body["companies"]
            collected.extend(c["id"] for c in body["companies"])
            url = body["pages"].get("next")
            if url:
                assert url.startswith("http://intercom.sim/contacts/")
    assert collected == expected


async def test_contact_tags_and_segments_are_the_full_lists(tiny_sim: Simulator) -> None:
    world = tiny_sim.world
    contact_id = max(world.contact_links, key=lambda c: len(world.contact_links[c].tag_ids))
    links = world.contact_links[contact_id]
    async with tiny_sim.client() as client:
        tags = (await client.get(f"/contacts/{contact_id}/tags")).json()
        segments = (await client.get(f"/contacts/{contact_id}/segments")).json()
    assert [t["id"] for t in tags["data"]] == links.tag_ids
    assert [s["id"] for s in segments["data"]] == links.segment_ids


# --- companies scroll ---------------------------------------------------------------------------


async def test_scroll_over_http_follows_the_rules(tiny_sim: Simulator) -> None:
    tiny_sim.set_quirks(scroll_page_size=7)
    async with tiny_sim.client() as client:
        first = (await client.get("/companies/scroll")).json()
        param = first["scroll_param"]
        second_scroll = await client.get("/companies/scroll")
        assert second_scroll.status_code == 400 and error_code(second_scroll) == "scroll_exists"
        ids = [c["id"] for c in first["data"]]
        while True:
            page = (await client.get("/companies/scroll", params={"scroll_param": param})).json()
            assert page["scroll_param"] == param
            if not page["data"]:
                break
            assert len(page["data"]) <= 7
            ids.extend(c["id"] for c in page["data"])
        assert ids == list(tiny_sim.world.companies)
        gone = await client.get("/companies/scroll", params={"scroll_param": param})
        assert gone.status_code == 404
        # Idle expiry.
        fresh = (await client.get("/companies/scroll")).json()["scroll_param"]
        assert isinstance(tiny_sim.clock, ManualClock)
        tiny_sim.clock.advance(tiny_sim.quirks.scroll_idle_expiry_seconds + 1)
        expired = await client.get("/companies/scroll", params={"scroll_param": fresh})
        assert expired.status_code == 404
    assert tiny_sim.stats.scrolls_opened == 2 and tiny_sim.stats.max_concurrent_scrolls == 1


# --- activity logs ------------------------------------------------------------------------------


async def test_activity_logs_need_created_at_after_and_page_newest_first_by_url(
    tiny_sim: Simulator,
) -> None:
    logs = tiny_sim.world.activity_logs
    after = logs[len(logs) // 4]["created_at"]
    expected = [log["id"] for log in reversed(logs) if log["created_at"] >= after]
    async with tiny_sim.client() as client:
        missing = await client.get("/admins/activity_logs")
        assert missing.status_code == 400 and error_code(missing) == "parameter_not_found"
        url: str | None = f"/admins/activity_logs?created_at_after={after}&per_page=4"
        seen: list[str] = []
        while url:
            body = (await client.get(url)).json()
            assert body["type"] == "activity_log.list"
            seen.extend(log["id"] for log in body["activity_logs"])
            url = body["pages"].get("next")
            assert url is None or url.startswith("http://intercom.sim/admins/activity_logs?")
        assert seen == expected
        tiny_sim.set_quirks(activity_logs_strict=False)
        relaxed = (await client.get("/admins/activity_logs?per_page=5")).json()
    assert [log["id"] for log in relaxed["activity_logs"]] == [log["id"] for log in logs[:5]]
    assert isinstance(relaxed["pages"]["next"]["starting_after"], str)


# --- faults -------------------------------------------------------------------------------------


async def test_connection_reset_surfaces_as_an_httpx_transport_error() -> None:
    sim = make_sim(faults=FaultSpec(connection_reset=1.0))
    async with sim.client() as client:
        with pytest.raises(httpx.ReadError):
            await client.get("/admins")
    assert sim.stats.faults["connection_reset"] == 1


async def test_truncated_and_invalid_bodies_are_not_json() -> None:
    for faults in (FaultSpec(truncated_body=1.0), FaultSpec(invalid_json=1.0)):
        sim = make_sim(faults=faults)
        async with sim.client() as client:
            response = await client.get("/admins")
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)


@pytest.mark.parametrize(("field", "status"), [("error_500", 500), ("error_503", 503)])
async def test_server_errors_have_intercom_error_bodies(field: str, status: int) -> None:
    sim = make_sim(faults=FaultSpec(**{field: 1.0}))
    async with sim.client() as client:
        response = await client.get("/admins")
    assert response.status_code == status
    assert error_code(response) in ("server_error", "service_unavailable")


async def test_a_502_comes_from_the_gateway_as_html() -> None:
    sim = make_sim(faults=FaultSpec(error_502=1.0))
    async with sim.client() as client:
        response = await client.get("/admins")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")


async def test_a_500_on_a_scroll_page_ends_the_scroll() -> None:
    sim = make_sim()
    async with sim.client() as client:
        param = (await client.get("/companies/scroll")).json()["scroll_param"]
        sim.set_faults(FaultSpec(error_500=1.0))
        failed = await client.get("/companies/scroll", params={"scroll_param": param})
        assert (
            failed.status_code == 500
            and "restart the scroll" in failed.json()["errors"][0]["message"]
        )
        sim.set_faults(FaultSpec())
        assert (
            await client.get("/companies/scroll", params={"scroll_param": param})
        ).status_code == 404
        assert (await client.get("/companies/scroll")).status_code == 200


async def test_a_429_storm_is_a_run_with_a_future_reset() -> None:
    sim = make_sim(faults=FaultSpec(storm_rate=1.0, storm_length=3))
    async with sim.client() as client:
        response = await client.get("/admins")
    assert response.status_code == 429 and error_code(response) == "rate_limit_exceeded"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) > sim.clock.now()


async def test_latency_and_slow_bodies_wait_on_the_simulated_clock() -> None:
    sim = make_sim(faults=FaultSpec(latency_ms=250, slow_body_ms=40))
    start = sim.clock.now()
    async with sim.client() as client:
        response = await client.get("/admins")
    assert response.status_code == 200 and response.json()["type"] == "admin.list"
    waited = sim.clock.now() - start
    assert waited >= 0.25 + 0.04
    assert isinstance(sim.clock, ManualClock) and sim.clock.slept == pytest.approx(waited)


async def test_faults_are_deterministic_for_a_request_sequence() -> None:
    spec = FaultSpec(
        seed=9,
        error_500=0.2,
        error_503=0.1,
        storm_rate=0.02,
        storm_length=3,
        truncated_body=0.1,
        invalid_json=0.1,
    )

    async def outcomes() -> list[tuple[int, int]]:
        sim = make_sim(faults=spec, rate_limit=RateLimitSpec(enabled=False))
        results = []
        async with sim.client() as client:
            for _ in range(60):
                response = await client.get("/tags")
                results.append((response.status_code, len(response.content)))
        return results

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert len({status for status, _ in first}) >= 3


async def test_control_endpoints_never_get_faults() -> None:
    sim = make_sim(faults=FaultSpec(connection_reset=1.0, latency_ms=1000))
    async with sim.client() as client:
        for _ in range(5):
            assert (await client.get("/_sim/stats")).status_code == 200
    assert sim.clock.now() == sim.config.world.now


# --- stats, determinism, control ---------------------------------------------------------------


async def test_stats_count_requests_per_endpoint(
    sim_client: httpx.AsyncClient, tiny_sim: Simulator
) -> None:
    conversation_id = next(iter(tiny_sim.world.conversations))
    for _ in range(3):
        await sim_client.get(f"/conversations/{conversation_id}")
    await sim_client.get("/conversations/404404")
    await sim_client.post(
        "/conversations/search", json={"query": {"field": "id", "operator": "=", "value": "1"}}
    )
    stats = tiny_sim.stats
    assert stats.requests["GET /conversations/{id}"] == 4
    assert stats.conversation_gets == 3
    assert stats.search_pages == 1
    assert stats.statuses[404] == 1
    assert stats.total_requests == 5
    stats.reset()
    assert stats.total_requests == 0


async def test_same_seed_and_mutations_give_the_same_bytes() -> None:
    async def responses(mutation_seed: int) -> list[tuple[int, bytes, str]]:
        sim = make_sim(faults=FaultSpec(latency_ms=30, latency_mode="longtail"))
        out = []
        async with sim.client() as client:
            for round_number in range(2):
                if round_number:
                    assert isinstance(sim.clock, ManualClock)
                    sim.clock.advance(600)
                    Mutator(sim.world, mutation_seed).random(25)
                changed = max(sim.world.conversations.values(), key=lambda c: c["updated_at"])
                for method, path, body in (
                    ("GET", "/admins", None),
                    ("GET", "/nope", None),
                    ("POST", "/contacts/search", {"query": EVERYTHING_QUERY, "sort": ASCENDING}),
                    ("POST", "/conversations/search", {"query": EVERYTHING_QUERY}),
                    ("GET", f"/conversations/{changed['id']}", None),
                    ("GET", "/companies/scroll", None),
                ):
                    response = await client.request(method, path, json=body)
                    out.append((response.status_code, response.content, response.headers["date"]))
        return out

    first = await responses(mutation_seed=3)
    assert first == await responses(mutation_seed=3)
    assert first != await responses(mutation_seed=4)


async def test_control_endpoints_drive_the_simulator(tiny_sim: Simulator) -> None:
    async with tiny_sim.client(headers={"Authorization": ""}) as control:
        truth = (await control.get("/_sim/truth?stream=admins,teams")).json()
        assert sorted(row["key"][0] for row in truth["admins"]) == sorted(tiny_sim.world.admins)
        now = (await control.get("/_sim/clock")).json()["now"]
        moved = (await control.post("/_sim/clock", json={"advance": 90})).json()["now"]
        assert moved == now + 90
        done = (await control.post("/_sim/mutate", json={"n": 5, "seed": 3})).json()["done"]
        assert len(done) == 5
        faults = (await control.post("/_sim/faults", json={"error_503": 0.5})).json()
        assert faults["error_503"] == 0.5 and tiny_sim.faults.error_503 == 0.5
        quirks = (await control.post("/_sim/quirks", json={"parts_cap": 100})).json()
        assert quirks["parts_cap"] == 100 and quirks["single_scroll"] is True
        bad = await control.post("/_sim/quirks", json={"no_such_quirk": 1})
        assert bad.status_code == 400
        added = await control.post(
            "/_sim/tokens", json={"token": "secret-xyz", "scopes": ["read_admins"]}
        )
        assert added.status_code == 200 and "secret-xyz" not in added.text
        stats = (await control.get("/_sim/stats")).json()
        assert "requests" in stats and "max_concurrent_scrolls" in stats
    async with tiny_sim.client(token="secret-xyz") as limited:
        tiny_sim.set_faults(FaultSpec())
        assert (await limited.get("/admins")).status_code == 200
        assert (await limited.get("/tags")).status_code == 401


async def test_control_refuses_remote_clients(tiny_sim: Simulator) -> None:
    transport = httpx.ASGITransport(app=tiny_sim.app, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as remote:
        assert (await remote.get("/_sim/stats")).status_code == 403


def test_the_token_never_appears_in_stats_or_quirks(tiny_sim: Simulator) -> None:
    dumped = orjson.dumps(tiny_sim.stats.to_dict()) + orjson.dumps(
        dataclasses.asdict(tiny_sim.quirks)
    )
    assert DEFAULT_TOKEN.encode() not in dumped


def test_quirks_can_be_replaced_whole(tiny_sim: Simulator) -> None:
    tiny_sim.set_quirks(Quirks(single_scroll=False))
    assert tiny_sim.quirks.single_scroll is False
    assert tiny_sim.runtime.scrolls.rules.single_scroll is False


# --- over loopback ----------------------------------------------------------------------------


def test_served_over_loopback_with_an_offset_clock() -> None:
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("tiny")), clock=OffsetClock())
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    with (
        serve_in_thread(sim) as server,
        httpx.Client(base_url=server.base_url, headers=headers) as client,
    ):
        assert server.base_url.startswith("http://127.0.0.1:")
        first = client.get("/admins")
        assert first.status_code == 200 and first.json()["type"] == "admin.list"
        before = parsedate_to_datetime(first.headers["date"]).timestamp()
        moved = client.post("/_sim/clock", json={"advance": 86_400}).json()["now"]
        later = parsedate_to_datetime(client.get("/tags").headers["date"]).timestamp()
        assert later - before >= 86_400 and abs(later - moved) < 5
        assert client.get("/_sim/stats").json()["requests"]["GET /admins"] == 1


def test_faults_over_loopback_look_like_network_failures() -> None:
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("tiny")), clock=OffsetClock())
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    with (
        serve_in_thread(sim) as server,
        httpx.Client(base_url=server.base_url, headers=headers) as client,
    ):
        sim.set_faults(FaultSpec(connection_reset=1.0))
        with pytest.raises(httpx.TransportError):
            client.get("/admins")
        sim.set_faults(FaultSpec(truncated_body=1.0))
        cut = client.get("/admins")
        assert cut.status_code == 200
        with pytest.raises(ValueError):
            cut.json()
        sim.set_faults(FaultSpec())
        assert client.get("/admins").json()["type"] == "admin.list"
    assert sim.stats.faults["connection_reset"] == 1


def test_simulate_command_has_help_and_builds_its_config() -> None:
    cli = typer.Typer()
    cli.command()(simulate)
    help_text = CliRunner().invoke(cli, ["--help"]).output
    for option in ("--port", "--seed", "--scale", "--rate-limit", "--latency-ms", "--faults"):
        assert option in help_text
    assert "--company-segments" in help_text
    config = build_config(
        seed=4,
        scale="small",
        counts={"contacts": 99, "tickets": None},
        rate_limit=600,
        workspace_rate_limit=900,
        latency_ms=120,
        faults="error_503=0.2",
        quirks=Quirks(search_lag_seconds=5),
    )
    assert (config.world.seed, config.world.contacts) == (4, 99)
    assert config.world.tickets == WorldSpec.preset("small").tickets
    assert config.rate_limit == RateLimitSpec(per_minute=600, workspace_per_minute=900)
    assert (config.faults.latency_ms, config.faults.error_503) == (120, 0.2)
    assert config.quirks.search_lag_seconds == 5
    assert config.world.now == WorldSpec.preset("small").now  # tests keep the fixed moment
    moved = build_config(
        seed=4,
        scale="tiny",
        counts={},
        rate_limit=1,
        workspace_rate_limit=1,
        latency_ms=0,
        faults="",
        quirks=Quirks(),
        now=1_800_000_000,
    )
    assert moved.world.now == 1_800_000_000
    # `simulate` ends the history now unless told otherwise (--now)
    assert abs(parse_now(None) - time.time()) < 5
    assert parse_now("2026-01-01T00:00:00Z") == parse_now("1767225600") == 1_767_225_600
    with pytest.raises(typer.BadParameter):
        parse_now("soon")
    with pytest.raises(typer.BadParameter):
        build_config(
            seed=1,
            scale="huge",
            counts={},
            rate_limit=1,
            workspace_rate_limit=1,
            latency_ms=0,
            faults="",
            quirks=Quirks(),
        )


# --- the serialized-record cache -------------------------------------------------------------


def test_fragment_cache_keeps_records_seen_twice_within_its_budget() -> None:
    records = [{"id": str(i), "updated_at": i, "body": "x" * 100} for i in range(50)]
    cache = FragmentCache(budget_bytes=40 * 130)
    first = orjson.dumps({"data": cache.encode_all(records, "2.11", dict)})
    assert first == orjson.dumps({"data": records})
    assert cache.size_bytes == 0  # seen once: nothing kept yet
    second = orjson.dumps({"data": cache.encode_all(records, "2.11", dict)})
    assert second == first
    assert 0 < cache.size_bytes <= cache.budget_bytes
    hits = cache.hits
    cache.encode_all(records[-10:], "2.11", dict)
    assert cache.hits == hits + 10  # the most recent entries survived eviction


def test_fragment_cache_never_serves_a_replaced_record() -> None:
    cache = FragmentCache()
    old = {"id": "1", "updated_at": 1, "state": "open"}
    for _ in range(3):
        cache.encode_all([old], "2.11", dict)
    new = {**old, "state": "closed"}  # the world replaces dicts, it never edits them
    (fragment,) = cache.encode_all([new], "2.11", dict)
    assert orjson.loads(orjson.dumps(fragment))["state"] == "closed"


async def test_repeated_search_pages_are_byte_identical(tiny_sim: Simulator) -> None:
    body = {"query": {"field": "updated_at", "operator": ">", "value": 0}, "sort": ASCENDING}
    async with tiny_sim.client(api_version="2.14") as client:
        pages = [(await client.post("/tickets/search", json=body)).content for _ in range(3)]
    assert pages[0] == pages[1] == pages[2]
    assert tiny_sim.runtime.fragments.hits > 0
    tickets = orjson.loads(pages[0])["tickets"]
    assert tickets and all(isinstance(t["ticket_state"], dict) for t in tickets)
