"""Ground truth: what a perfect copy holds, stream by stream, and the relations between records."""

from __future__ import annotations

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import (
    STREAMS,
    Quirks,
    WorldSpec,
    ground_truth,
    ground_truth_edges,
    part_conversation_ids,
    stream_truth,
)
from intercom_sync.simulator.world.mutations import Mutator
from intercom_sync.simulator.world.world import World


@pytest.fixture(scope="module")
def tiny() -> World:
    return World.build(WorldSpec.preset("tiny"))


def test_every_stream_is_present_with_its_keys(tiny: World) -> None:
    truth = ground_truth(tiny)
    assert tuple(truth) == STREAMS
    assert set(truth["admins"]) == {(admin_id,) for admin_id in tiny.admins}
    assert set(truth["contacts"]) == {(contact_id,) for contact_id in tiny.contacts}
    assert set(truth["activity_logs"]) == {(log["id"],) for log in tiny.activity_logs}
    assert set(truth["contact_attributes"]) == {
        ("contact", a["name"]) for a in tiny.data_attributes["contact"]
    }
    assert set(truth["company_attributes"]) == {
        ("company", a["name"]) for a in tiny.data_attributes["company"]
    }
    assert set(truth["company_segments"]) == {
        (company_id, segment_id)
        for company_id, segment_ids in tiny.company_segment_ids.items()
        for segment_id in segment_ids
    }


def test_2_11_truth_is_the_stored_records(tiny: World) -> None:
    truth = ground_truth(tiny)
    for contact_id, contact in tiny.contacts.items():
        assert truth["contacts"][(contact_id,)] is contact
    for (company_id, segment_id), segment in truth["company_segments"].items():
        assert company_id in tiny.companies
        assert segment is tiny.segments[segment_id]
    for conversation in truth["conversations"].values():
        assert "conversation_parts" not in conversation


def test_conversation_parts_include_everything_beyond_the_cap(tiny: World) -> None:
    parts = stream_truth(tiny, "conversation_parts")
    assert len(parts) == tiny.parts.total()
    long_id = max(tiny.conversations, key=tiny.parts.count)
    long_parts = tiny.parts[long_id]
    assert len(long_parts) > 500
    for part in long_parts:
        assert parts[(part["id"],)] == part
    owners = part_conversation_ids(tiny)
    assert {owners[part["id"]] for part in long_parts} == {long_id}
    assert len(owners) == len(parts)


def test_truth_follows_changes_and_deletes() -> None:
    spec = WorldSpec.preset("tiny")
    clock = ManualClock(spec.now)
    world = World.build(spec, clock)
    mutator = Mutator(world, seed=2)
    contact_id = next(iter(world.contacts))
    company_id = next(iter(world.companies))
    conversation_id = next(iter(world.conversations))
    clock.advance(60)
    mutator.delete_contact(contact_id)
    mutator.delete_company(company_id)
    mutator.reply(conversation_id, n_parts=3)
    truth = ground_truth(world)
    assert (contact_id,) not in truth["contacts"]
    assert (company_id,) not in truth["companies"]
    assert all(key[0] != company_id for key in truth["company_segments"])
    assert truth["conversations"][(conversation_id,)]["updated_at"] == world.now()
    assert len(truth["conversation_parts"]) == world.parts.total()
    edges = ground_truth_edges(world)
    assert not any(edge[0] == "contact" and edge[1] == contact_id for edge in edges)
    assert not any(company_id in (edge[1], edge[4]) and "company" in edge for edge in edges)


def test_2_14_truth_renders_tickets_with_state_objects(tiny: World) -> None:
    tickets = stream_truth(tiny, "tickets", "2.14")
    assert tickets and all(t["ticket_state"]["type"] == "ticket_state" for t in tickets.values())
    assert stream_truth(tiny, "segments", "2.14") == stream_truth(tiny, "segments", "2.11")


def test_unknown_streams_are_refused(tiny: World) -> None:
    with pytest.raises(ValueError, match="stream"):
        stream_truth(tiny, "widgets")


def test_edges_cover_every_relation(tiny: World) -> None:
    edges = ground_truth_edges(tiny)
    relations = {(src, relation, dst) for src, _, relation, dst, _ in edges}
    assert relations == {
        ("contact", "member_of", "company"),
        ("contact", "in_segment", "segment"),
        ("conversation", "tagged", "tag"),
        ("conversation", "involves", "contact"),
        ("team", "has_member", "admin"),
        ("company", "in_segment", "segment"),
    }
    team_edges = {(e[1], e[4]) for e in edges if e[2] == "has_member"}
    assert team_edges == {
        (team_id, str(admin_id))
        for team_id, team in tiny.teams.items()
        for admin_id in team["admin_ids"]
    }
    memberships = sum(len(links.company_ids) for links in tiny.contact_links.values())
    assert sum(e[2] == "member_of" for e in edges) == memberships
    for _, conversation_id, relation, _, target in edges:
        if relation == "tagged":
            tags = tiny.conversations[conversation_id]["tags"]["tags"]
            assert target in {tag["id"] for tag in tags}
        elif relation == "involves":
            contacts = tiny.conversations[conversation_id]["contacts"]["contacts"]
            assert target in {contact["id"] for contact in contacts}


def test_company_segments_do_not_depend_on_the_company_shape() -> None:
    world = World.build(WorldSpec.preset("tiny"), ManualClock(WorldSpec().now))
    Mutator(world, seed=2).random(40)  # company updates move segments, new companies get some
    embedded = ground_truth(world)
    bare = ground_truth(world, quirks=Quirks(company_segments_embedded=False))
    assert bare["company_segments"] == embedded["company_segments"]
    assert set(embedded["company_segments"]) == {
        (company_id, segment_id)
        for company_id, segment_ids in world.company_segment_ids.items()
        for segment_id in segment_ids
    }
    for (company_id,), company in embedded["companies"].items():
        listed = [s["id"] for s in company["segments"]["segments"]]
        assert listed == world.company_segment_ids[company_id]
        assert bare["companies"][(company_id,)] == {
            k: v for k, v in company.items() if k != "segments"
        }


def test_contact_segments_hold_listed_and_time_based_memberships() -> None:
    spec = WorldSpec.preset("small")
    clock = ManualClock(spec.now)
    world = World.build(spec, clock)
    timed = Mutator(world).new_time_segment(days=30).id
    truth = stream_truth(world, "contact_segments")
    listed = {
        (contact_id, segment_id)
        for contact_id, links in world.contact_links.items()
        for segment_id in links.segment_ids
    }
    assert {key for key in truth if key[1] != timed} == listed
    cutoff = clock.now() - 30 * 86_400
    assert {key[0] for key in truth if key[1] == timed} == {
        contact_id
        for contact_id, contact in world.contacts.items()
        if contact["role"] == "user" and (contact["last_seen_at"] or cutoff) < cutoff
    }
    for (_, segment_id), record in truth.items():
        assert record is world.segments[segment_id]
    edges = {
        (e[1], e[4]) for e in ground_truth_edges(world) if e[:3] == ("contact", e[1], "in_segment")
    }
    assert edges == set(truth)
