"""Memberships that change without `updated_at`: tags, segment joins and leaves, time-based
segments — in the world, over HTTP, in search (with its lag), and in the ground truth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import (
    DAY,
    RateLimitSpec,
    Simulator,
    SimulatorConfig,
    WorldSpec,
    ground_truth_edges,
    stream_truth,
)
from intercom_sync.simulator.world.membership_ops import NothingToChoose
from intercom_sync.simulator.world.memberships import ContactLinkTable, TimeSegmentRule
from intercom_sync.simulator.world.mutations import Mutator
from intercom_sync.simulator.world.records import ContactLinks
from tests.openapi_schemas import validation_errors

Record = dict[str, Any]


def make_sim(preset: str = "tiny", **overrides: Any) -> Simulator:
    spec = WorldSpec.preset(preset, **overrides)
    config = SimulatorConfig(world=spec, rate_limit=RateLimitSpec(enabled=False))
    return Simulator(config, clock=ManualClock(spec.now))


def advance(sim: Simulator, seconds: float) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds)


async def members_by_search(
    client: httpx.AsyncClient, field: str, group_id: str, operator: str = "="
) -> tuple[list[str], int]:
    """Every contact id a `field operator group_id` search returns, and its total_count."""
    found: list[str] = []
    totals: set[int] = set()
    cursor: str | None = None
    while True:
        body = {
            "query": {"field": field, "operator": operator, "value": group_id},
            "pagination": {"per_page": 7, "starting_after": cursor},
        }
        response = await client.post("/contacts/search", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(contact["id"] for contact in page["data"])
        totals.add(page["total_count"])
        following = page["pages"].get("next")
        cursor = following["starting_after"] if following else None
        if cursor is None:
            break
    assert len(totals) == 1
    return found, totals.pop()


def user_without_tag(sim: Simulator) -> tuple[str, str]:
    world = sim.world
    for contact_id, links in world.contact_links.items():
        missing = [tag_id for tag_id in world.tags if tag_id not in links.tag_ids]
        if missing:
            return contact_id, missing[0]
    raise AssertionError("every contact has every tag")


# -- tags -----------------------------------------------------------------------------------------


async def test_tagging_rewrites_the_embedded_tags_but_not_updated_at() -> None:
    sim = make_sim()
    contact_id, tag_id = user_without_tag(sim)
    before = sim.world.contacts[contact_id]
    done = sim.mutator.tag_contact(contact_id, tag_id)
    after = sim.world.contacts[contact_id]
    assert (done.kind, done.op, done.id, done.target) == ("contact_tags", "tag", contact_id, tag_id)
    assert after["updated_at"] == before["updated_at"]
    assert tag_id in [tag["id"] for tag in after["tags"]["data"]]
    assert after["tags"]["total_count"] == before["tags"]["total_count"] + 1
    assert validation_errors("2.11", "contact", after) == []
    async with sim.client() as client:
        listed = (await client.get(f"/contacts/{contact_id}/tags")).json()["data"]
        assert tag_id in [tag["id"] for tag in listed]
        sim.mutator.untag_contact(contact_id, tag_id)
        listed = (await client.get(f"/contacts/{contact_id}/tags")).json()["data"]
        assert tag_id not in [tag["id"] for tag in listed]
    assert sim.world.contacts[contact_id]["updated_at"] == before["updated_at"]
    assert sim.world.contacts[contact_id]["tags"] == before["tags"]


def test_tagging_twice_or_untagging_what_is_absent_changes_nothing() -> None:
    sim = make_sim()
    contact_id, tag_id = user_without_tag(sim)
    sim.mutator.tag_contact(contact_id, tag_id)
    written = sim.world.generation["contacts"]
    sim.mutator.tag_contact(contact_id, tag_id)
    other = next(t for t in sim.world.tags if t not in sim.world.contact_links[contact_id].tag_ids)
    sim.mutator.untag_contact(contact_id, other)
    assert sim.world.generation["contacts"] == written
    with pytest.raises(KeyError):
        sim.mutator.tag_contact(contact_id, "no-such-tag")


def test_contact_tags_truth_holds_every_tag_not_only_the_embedded_ten() -> None:
    sim = make_sim("small")
    world = sim.world
    heavy = next(c for c, links in world.contact_links.items() if len(links.tag_ids) > 10)
    truth = stream_truth(world, "contact_tags")
    assert {tag for contact, tag in truth if contact == heavy} == set(
        world.contact_links[heavy].tag_ids
    )
    assert len(world.contacts[heavy]["tags"]["data"]) == 10
    assert set(truth) == {
        (contact_id, tag_id)
        for contact_id, links in world.contact_links.items()
        for tag_id in links.tag_ids
    }
    for (_, tag_id), record in truth.items():
        assert record is world.tags[tag_id]
    edges = ground_truth_edges(world, contact_tags=True)
    assert {(e[1], e[4]) for e in edges if e[0] == "contact" and e[2] == "tagged"} == set(truth)
    assert not any(e[0] == "contact" and e[2] == "tagged" for e in ground_truth_edges(world))


# -- listed segments ------------------------------------------------------------------------------


async def test_joining_and_leaving_a_segment_writes_no_record() -> None:
    sim = make_sim()
    world = sim.world
    contact_id = next(c for c, contact in world.contacts.items() if contact["role"] == "user")
    generations = dict(world.generation)
    joined = sim.mutator.join_segment(contact_id)
    segment_id = joined.target
    assert segment_id is not None and segment_id in world.contact_links[contact_id].segment_ids
    async with sim.client() as client:
        listed = (await client.get(f"/contacts/{contact_id}/segments")).json()["data"]
        assert segment_id in [segment["id"] for segment in listed]
        assert (contact_id, segment_id) in stream_truth(world, "contact_segments")
        edge = ("contact", contact_id, "in_segment", "segment", segment_id)
        assert edge in ground_truth_edges(world)
        sim.mutator.leave_segment(contact_id, segment_id)
        listed = (await client.get(f"/contacts/{contact_id}/segments")).json()["data"]
    assert segment_id not in [segment["id"] for segment in listed]
    assert (contact_id, segment_id) not in stream_truth(world, "contact_segments")
    assert world.generation == generations  # no record of any kind was written


def test_a_default_join_picks_a_segment_for_the_contacts_role() -> None:
    sim = make_sim("small")
    world = sim.world
    joined = 0
    for contact_id in list(world.contacts)[:60]:
        try:
            done = sim.mutator.join_segment(contact_id)
        except NothingToChoose:  # already in every segment for its role
            continue
        joined += 1
        person_type = world.segments[str(done.target)]["person_type"]
        assert person_type == (
            "user" if world.contacts[contact_id]["role"] == "user" else "contact"
        )
    assert joined > 30


def test_deleting_a_contact_ends_its_memberships() -> None:
    sim = make_sim()
    world = sim.world
    contact_id = next(c for c, links in world.contact_links.items() if links.segment_ids)
    sim.mutator.delete_contact(contact_id)
    assert all(key[0] != contact_id for key in stream_truth(world, "contact_segments"))
    assert all(key[0] != contact_id for key in stream_truth(world, "contact_tags"))


# -- time-based segments --------------------------------------------------------------------------


async def test_a_time_based_segment_changes_when_only_the_clock_moves() -> None:
    sim = make_sim("small")
    world = sim.world
    segment_id = str(sim.mutator.new_time_segment(days=14).id)
    assert world.segments[segment_id]["person_type"] == "user"

    def expected() -> set[str]:
        cutoff = sim.clock.now() - 14 * DAY
        return {
            contact_id
            for contact_id, contact in world.contacts.items()
            if contact["role"] == "user"
            and contact["last_seen_at"] is not None
            and contact["last_seen_at"] < cutoff
        }

    async with sim.client() as client:
        found, total = await members_by_search(client, "segment_id", segment_id)
        assert set(found) == expected() and total == len(found) > 0
        generations = dict(world.generation)
        advance(sim, 30 * DAY)
        grown, total = await members_by_search(client, "segment_id", segment_id)
        assert world.generation == generations  # nothing was written
        assert set(grown) == expected() and total == len(grown)
        assert set(grown) > set(found)
        newcomer = next(iter(set(grown) - set(found)))
        listed = (await client.get(f"/contacts/{newcomer}/segments")).json()["data"]
        assert segment_id in [segment["id"] for segment in listed]
        counts = (await client.get("/segments?include_count=true")).json()["segments"]
    truth = stream_truth(world, "contact_segments")
    assert {contact for contact, segment in truth if segment == segment_id} == set(grown)
    assert {s["id"]: s["count"] for s in counts} == {
        s: sum(1 for _, member_of in truth if member_of == s) for s in world.segments
    }


async def test_being_seen_again_leaves_a_time_based_segment() -> None:
    sim = make_sim("small")
    segment_id = str(sim.mutator.new_time_segment(days=14).id)
    member = next(
        c
        for c in sim.world.contacts
        if (c, segment_id) in stream_truth(sim.world, "contact_segments")
    )
    sim.mutator.update_contact(member)  # sets last_seen_at to now
    assert (member, segment_id) not in stream_truth(sim.world, "contact_segments")
    advance(sim, sim.quirks.search_lag_seconds + 1)
    async with sim.client() as client:
        found, _ = await members_by_search(client, "segment_id", segment_id)
    assert member not in found


def test_a_time_based_segment_has_no_listed_members() -> None:
    sim = make_sim()
    segment_id = str(sim.mutator.new_time_segment(days=7, role="lead").id)
    contact_id = next(iter(sim.world.contacts))
    with pytest.raises(ValueError, match="time-based"):
        sim.mutator.join_segment(contact_id, segment_id)
    for _ in range(30):
        sim.mutator.new_contact()
    assert all(segment_id not in links.segment_ids for links in sim.world.contact_links.values())
    with pytest.raises(ValueError):
        sim.mutator.new_time_segment(days=0)


def test_the_rule_needs_a_last_seen_time_and_the_role() -> None:
    rule = TimeSegmentRule(older_than=DAY, role="user")
    assert rule.matches({"role": "user", "last_seen_at": 0}, at=2 * DAY)
    assert not rule.matches({"role": "user", "last_seen_at": DAY + 1}, at=2 * DAY)
    assert not rule.matches({"role": "user", "last_seen_at": None}, at=2 * DAY)
    assert not rule.matches({"role": "lead", "last_seen_at": 0}, at=2 * DAY)


# -- search: the lag, the operators, the counts -------------------------------------------------


async def test_search_sees_a_membership_change_only_after_the_index_lag() -> None:
    sim = make_sim()
    contact_id, tag_id = user_without_tag(sim)
    segment_id = next(
        s
        for s, segment in sim.world.segments.items()
        if segment["person_type"] == "user"
        and s not in sim.world.contact_links[contact_id].segment_ids
    )
    lag = sim.quirks.search_lag_seconds
    async with sim.client() as client:
        tagged_before, _ = await members_by_search(client, "tag_id", tag_id)
        sim.mutator.tag_contact(contact_id, tag_id)
        sim.mutator.join_segment(contact_id, segment_id)
        advance(sim, lag / 2)
        assert contact_id not in (await members_by_search(client, "tag_id", tag_id))[0]
        assert contact_id not in (await members_by_search(client, "segment_id", segment_id))[0]
        advance(sim, lag)
        tagged, total = await members_by_search(client, "tag_id", tag_id)
        assert sorted(tagged) == sorted([*tagged_before, contact_id]) and total == len(tagged)
        assert contact_id in (await members_by_search(client, "segment_id", segment_id))[0]
        sim.mutator.untag_contact(contact_id, tag_id)
        sim.mutator.leave_segment(contact_id, segment_id)
        advance(sim, lag / 2)
        assert contact_id in (await members_by_search(client, "tag_id", tag_id))[0]
        assert contact_id in (await members_by_search(client, "segment_id", segment_id))[0]
        advance(sim, lag)
        assert sorted((await members_by_search(client, "tag_id", tag_id))[0]) == sorted(
            tagged_before
        )
        assert contact_id not in (await members_by_search(client, "segment_id", segment_id))[0]


async def test_search_by_membership_equals_the_truth_both_ways() -> None:
    sim = make_sim("small", contacts=600)
    sim.mutator.random_memberships(80)
    advance(sim, sim.quirks.search_lag_seconds + 1)
    truth_tags = stream_truth(sim.world, "contact_tags")
    truth_segments = stream_truth(sim.world, "contact_segments")
    everyone = set(sim.world.contacts)
    async with sim.client() as client:
        for tag_id in list(sim.world.tags)[:8]:
            members = {c for c, t in truth_tags if t == tag_id}
            found, total = await members_by_search(client, "tag_id", tag_id)
            assert sorted(found) == sorted(members) and total == len(members)
            others, total = await members_by_search(client, "tag_id", tag_id, "!=")
            assert set(others) == everyone - members and total == len(others)
        for segment_id in sim.world.segments:
            members = {c for c, s in truth_segments if s == segment_id}
            found, total = await members_by_search(client, "segment_id", segment_id)
            assert sorted(found) == sorted(members) and total == len(members)


async def test_membership_search_pages_the_same_sorted_or_not() -> None:
    """Small groups are paged from their member list, large ones by scanning: the pages and
    counts agree with a plain predicate either way, in every order."""
    sim = make_sim("small", contacts=500)
    world = sim.world
    sizes = {t: len(world.contact_links.members("tags", t)) for t in world.tags}
    sparse, dense = min(sizes, key=lambda t: sizes[t]), max(sizes, key=lambda t: sizes[t])
    for contact_id in list(world.contacts)[::3] + list(world.contacts)[1::3]:
        sim.mutator.tag_contact(contact_id, dense)
    for contact_id in list(world.contacts)[2::25]:
        sim.mutator.tag_contact(contact_id, sparse)
    advance(sim, sim.quirks.search_lag_seconds + 1)
    assert 20 <= len(world.contact_links.members("tags", sparse)) < len(world.contacts) / 10
    assert len(world.contact_links.members("tags", dense)) > len(world.contacts) / 2
    async with sim.client() as client:
        for group in (sparse, dense):
            members = set(world.contact_links.members("tags", group))
            field = "tag_id"
            for sort in (None, "ascending", "descending"):
                found: list[Record] = []
                cursor = None
                while True:
                    body: Record = {
                        "query": {"field": field, "operator": "=", "value": group},
                        "pagination": {"per_page": 9, "starting_after": cursor},
                    }
                    if sort:
                        body["sort"] = {"field": "updated_at", "order": sort}
                    page = (await client.post("/contacts/search", json=body)).json()
                    assert page["total_count"] == len(members)
                    found.extend(page["data"])
                    nxt = page["pages"].get("next")
                    cursor = nxt["starting_after"] if nxt else None
                    if not cursor:
                        break
                ids = [c["id"] for c in found]
                assert sorted(ids) == sorted(members), (group, sort)
                if sort:
                    keys = [(c["updated_at"], c["id"]) for c in found]
                    assert keys == sorted(keys, reverse=sort == "descending")
                else:
                    assert ids == [c for c in world.contacts if c in members]


async def test_a_combined_query_narrows_within_the_group() -> None:
    sim = make_sim("small", contacts=400)
    world = sim.world
    tag_id = max(world.tags, key=lambda t: len(world.contact_links.members("tags", t)))
    query = {
        "operator": "AND",
        "value": [
            {"field": "tag_id", "operator": "=", "value": tag_id},
            {"field": "role", "operator": "=", "value": "user"},
        ],
    }
    async with sim.client() as client:
        page = (await client.post("/contacts/search", json={"query": query})).json()
    expected = {
        c
        for c in world.contact_links.members("tags", tag_id)
        if world.contacts[c]["role"] == "user"
    }
    assert page["total_count"] == len(expected) > 0
    assert {c["id"] for c in page["data"]} <= expected


# -- the random mix, the table ----------------------------------------------------------------


def test_random_memberships_are_reproducible_and_leave_updated_at_alone() -> None:
    def run(seed: int) -> tuple[list[Any], dict[str, int]]:
        sim = make_sim("small", contacts=300)
        before = {c: contact["updated_at"] for c, contact in sim.world.contacts.items()}
        changes = Mutator(sim.world, seed).random_memberships(60)
        after = {c: contact["updated_at"] for c, contact in sim.world.contacts.items()}
        assert after == before
        return changes, {op: sum(c.op == op for c in changes) for op in ("tag", "untag", "join")}

    first, ops = run(3)
    assert run(3)[0] == first
    assert run(4)[0] != first
    assert len(first) > 40 and all(count > 0 for count in ops.values())


def test_the_link_table_records_every_change_and_refuses_bulk_writes() -> None:
    table = ContactLinkTable()
    table["a"] = ContactLinks(tag_ids=["t1"], segment_ids=["s1"])
    now = [100.0]
    table.track(lambda: now[0], retention=3_600)
    assert table.members("tags", "t1") == {"a"}
    now[0] = 200.0
    table["a"] = ContactLinks(tag_ids=["t2"], segment_ids=["s1"])
    table["b"] = ContactLinks(tag_ids=["t1"])
    assert table.members("tags", "t1") == {"b"} and table.members("tags", "t2") == {"a"}
    assert table.members_as_of("tags", "t1", 150.0) == {"a"}
    assert table.members_as_of("tags", "t1", 200.0) == {"b"}
    now[0] = 300.0
    table.pop("b")
    assert table.members("tags", "t1") == set()
    assert table.members_as_of("tags", "t1", 250.0) == {"b"}
    generation = table.generation
    with pytest.raises(TypeError):
        table.update({"c": ContactLinks()})
    with pytest.raises(TypeError):
        table.setdefault("c", ContactLinks())
    assert table.generation == generation and "c" not in table


async def test_membership_operations_are_reachable_through_the_control_surface() -> None:
    sim = make_sim()
    contact_id, tag_id = user_without_tag(sim)
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as control:
        body = {"op": "tag_contact", "args": [contact_id, tag_id]}
        done = (await control.post("/_sim/mutate", json=body)).json()["done"]
        assert done == {"kind": "contact_tags", "op": "tag", "id": contact_id, "target": tag_id}
        body = {"op": "new_time_segment", "kwargs": {"days": 3}}
        segment_id = (await control.post("/_sim/mutate", json=body)).json()["done"]["id"]
        body = {"op": "join_segment", "args": [contact_id, segment_id]}
        refused = await control.post("/_sim/mutate", json=body)
        assert refused.status_code == 400 and "time-based" in refused.json()["error"]
        body = {"op": "random_memberships", "args": [5]}
        assert len((await control.post("/_sim/mutate", json=body)).json()["done"]) == 5
        rows = (await control.get("/_sim/truth?stream=contact_tags")).json()["contact_tags"]
        assert {"key": [contact_id, tag_id], "record": sim.world.tags[tag_id]} in rows
