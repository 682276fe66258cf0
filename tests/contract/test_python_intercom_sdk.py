"""Intercom's own Python SDK (`python-intercom`, nobody here wrote it) against the simulator.

The SDK is pointed at the simulator with `base_url` and an `httpx.AsyncClient`
on the in-process transport; it parses the responses into its own pydantic
models and follows its own pagination. The tests compare what it PARSED with
the world's records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from intercom import AsyncIntercom
from intercom.types import SingleFilterSearchRequest, StartingAfterPaging

from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    IN_PROCESS_BASE_URL,
    Simulator,
    SimulatorConfig,
    WorldSpec,
)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    # Enough contacts for several pages, a long conversation beyond the 500-part cap.
    spec = WorldSpec.preset("tiny", contacts=180, companies=45)
    return Simulator(SimulatorConfig(world=spec))


@pytest.fixture
async def sdk(sim: Simulator) -> AsyncIterator[AsyncIntercom]:
    async with httpx.AsyncClient(transport=sim.transport()) as http:
        yield AsyncIntercom(base_url=IN_PROCESS_BASE_URL, token=DEFAULT_TOKEN, httpx_client=http)


async def test_sdk_lists_admins(sdk: AsyncIntercom, sim: Simulator) -> None:
    parsed = await sdk.admins.list()
    assert parsed.admins is not None
    assert [(a.id, a.name, a.email) for a in parsed.admins] == [
        (a["id"], a["name"], a["email"]) for a in sim.world.admins.values()
    ]
    assert [a.team_ids for a in parsed.admins] == [a["team_ids"] for a in sim.world.admins.values()]


async def test_sdk_lists_teams(sdk: AsyncIntercom, sim: Simulator) -> None:
    parsed = await sdk.teams.list()
    assert parsed.teams is not None
    assert {t.id: (t.name, t.admin_ids) for t in parsed.teams} == {
        t["id"]: (t["name"], t["admin_ids"]) for t in sim.world.teams.values()
    }


async def test_sdk_lists_tags(sdk: AsyncIntercom, sim: Simulator) -> None:
    parsed = await sdk.tags.list()
    assert {t.id: t.name for t in parsed.data} == {
        t["id"]: t["name"] for t in sim.world.tags.values()
    }


async def test_sdk_lists_segments(sdk: AsyncIntercom, sim: Simulator) -> None:
    parsed = await sdk.segments.list()
    assert parsed.segments is not None
    assert {s.id: (s.name, s.person_type) for s in parsed.segments} == {
        s["id"]: (s["name"], s["person_type"]) for s in sim.world.segments.values()
    }


@pytest.mark.parametrize("model", ["contact", "company"])
async def test_sdk_lists_data_attributes(sdk: AsyncIntercom, sim: Simulator, model: str) -> None:
    parsed = await sdk.data_attributes.list(model=model)  # type: ignore[arg-type]
    expected = [a for a in sim.world.data_attributes[model] if not a.get("archived")]
    assert [(a.name, a.data_type) for a in parsed.data] == [
        (a["name"], a["data_type"]) for a in expected
    ]


async def test_sdk_lists_every_contact_across_pages(sdk: AsyncIntercom, sim: Simulator) -> None:
    pager = await sdk.contacts.list(per_page=50)
    pages = 0
    seen: list[tuple[str, Any, Any]] = []
    async for page in pager.iter_pages():
        pages += 1
        seen.extend((c.id, c.email, c.role) for c in page.items or [])
    assert pages == -(-len(sim.world.contacts) // 50)
    assert sorted(seen) == sorted(
        (c["id"], c["email"], c["role"]) for c in sim.world.contacts.values()
    )


async def test_sdk_searches_contacts_and_follows_cursors(
    sdk: AsyncIntercom, sim: Simulator
) -> None:
    """The SDK parses our cursors; it is driven page by page because its own search pager
    (python-intercom 5.0.1) re-sends the first page's pagination and never advances."""
    contacts = sorted(sim.world.contacts.values(), key=lambda c: c["updated_at"])
    pivot = contacts[len(contacts) // 3]["updated_at"]
    query = SingleFilterSearchRequest(field="updated_at", operator="<", value=pivot)
    found: list[str] = []
    cursor: str | None = None
    totals: set[int | None] = set()
    for _ in range(50):
        paging = StartingAfterPaging(per_page=20, starting_after=cursor)
        pager = await sdk.contacts.search(query=query, pagination=paging)
        found.extend(c.id for c in pager.items or [])
        totals.add(pager.response.total_count)
        pages = pager.response.pages
        cursor = pages.next.starting_after if pages is not None and pages.next else None
        if cursor is None:
            break
    # Day-granular: `<` X matches what was updated before the start of X's local day.
    start_of_day = _local_midnight(pivot, sim.world.spec.timezone)
    assert sorted(found) == sorted(c["id"] for c in contacts if c["updated_at"] < start_of_day)
    assert totals == {len(found)} and len(found) > 20


def _local_midnight(timestamp: int, zone: str) -> int:
    local = datetime.fromtimestamp(timestamp, ZoneInfo(zone))
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


async def test_sdk_finds_a_conversation_with_its_most_recent_parts(
    sdk: AsyncIntercom, sim: Simulator
) -> None:
    world = sim.world
    longest = max(world.conversations, key=world.parts.count)
    parsed = await sdk.conversations.find(conversation_id=longest)
    assert parsed.id == longest
    assert parsed.state == world.conversations[longest]["state"]
    assert parsed.conversation_parts is not None
    parts = parsed.conversation_parts.conversation_parts
    assert world.parts.count(longest) > 500
    assert [p.id for p in parts] == [p["id"] for p in world.parts[longest][-500:]]
    assert [p.part_type for p in parts] == [p["part_type"] for p in world.parts[longest][-500:]]
    assert parsed.statistics is not None
    assert parsed.statistics.count_conversation_parts == world.parts.count(longest)


async def test_sdk_lists_every_conversation_across_pages(
    sdk: AsyncIntercom, sim: Simulator
) -> None:
    """`conversations.list()` (GET /conversations) follows its own cursor to the end."""
    world = sim.world
    pager = await sdk.conversations.list(per_page=15)
    pages = 0
    seen: list[tuple[str, Any, Any]] = []
    async for page in pager.iter_pages():
        pages += 1
        seen.extend((c.id, c.state, c.updated_at) for c in page.items or [])
    assert pages == -(-len(world.conversations) // 15) > 1
    assert seen == [(c["id"], c["state"], c["updated_at"]) for c in world.conversations.values()]
    everything = [c.id async for c in await sdk.conversations.list()]  # default page size
    assert everything == list(world.conversations)


async def test_sdk_scrolls_every_company_once(sdk: AsyncIntercom, sim: Simulator) -> None:
    sim.set_quirks(scroll_page_size=10)
    opened = sim.stats.scrolls_opened
    pager = await sdk.companies.scroll()
    ids = [company.id async for company in pager]
    assert ids == list(sim.world.companies)
    assert {c.name for c in (await _companies(sdk))} == {
        c["name"] for c in sim.world.companies.values()
    }
    assert sim.stats.scrolls_opened == opened + 2
    assert sim.runtime.scrolls.open_count == 0  # the empty last page closed each scroll


async def _companies(sdk: AsyncIntercom) -> list[Any]:
    pager = await sdk.companies.scroll()
    return [company async for company in pager]


async def test_sdk_sees_a_bad_token_as_unauthorized(sim: Simulator) -> None:
    from intercom.errors import UnauthorizedError

    async with httpx.AsyncClient(transport=sim.transport()) as http:
        sdk = AsyncIntercom(base_url=IN_PROCESS_BASE_URL, token="not-a-token", httpx_client=http)
        with pytest.raises(UnauthorizedError) as raised:
            await sdk.admins.list()
    assert raised.value.status_code == 401
