"""Mutations: every change keeps the world's invariants, is reproducible, and is searchable late."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import WorldSpec
from intercom_sync.simulator.world.mutations import Mutator
from intercom_sync.simulator.world.world import World
from tests.openapi_schemas import validation_errors
from tests.unit.test_sim_world import check_conversation, world_bytes

Record = dict[str, Any]


def fresh(preset: str = "tiny", seed: int = 1) -> tuple[World, ManualClock, Mutator]:
    spec = WorldSpec.preset(preset, seed=seed)
    clock = ManualClock(spec.now)
    world = World.build(spec, clock)
    return world, clock, Mutator(world, seed=5)


def first_with_state(world: World, state: str) -> str:
    """A contact-started conversation in `state` (statistics count from the contact's message)."""
    return next(
        cid
        for cid, c in world.conversations.items()
        if c["state"] == state and c["source"]["delivered_as"] == "customer_initiated"
    )


def check_all_conversations(world: World) -> None:
    for conversation_id, conversation in world.conversations.items():
        check_conversation(conversation, world.parts[conversation_id])


# -- conversations -----------------------------------------------------------------------------


def test_new_conversation_is_stamped_now_and_indexed_late() -> None:
    world, clock, mutator = fresh()
    clock.advance(3_600)
    generation = world.generation["conversations"]
    done = mutator.new_conversation()
    conversation = world.conversations[done.id]
    assert (done.kind, done.op) == ("conversations", "new")
    assert conversation["created_at"] == conversation["updated_at"] == world.now()
    assert conversation["state"] == "open" and conversation["waiting_since"] == world.now()
    assert world.generation["conversations"] == generation + 1
    check_conversation(conversation, world.parts[done.id])
    assert world.search_view("conversations", world.now() - 1).get(done.id) is None
    assert world.search_view("conversations", world.now()).get(done.id) is conversation
    author = conversation["source"]["author"]["id"]
    assert world.contacts[author]["last_replied_at"] == world.now()


def test_reply_adds_parts_and_moves_the_statistics() -> None:
    world, clock, mutator = fresh()
    conversation_id = first_with_state(world, "closed")
    before = world.conversations[conversation_id]
    count = world.parts.count(conversation_id)
    clock.advance(600)
    done = mutator.reply(conversation_id, n_parts=2, author="user")
    after = world.conversations[conversation_id]
    assert done.parts_added == 2 and world.parts.count(conversation_id) == count + 2
    assert after["statistics"]["count_conversation_parts"] == count + 2
    assert after["state"] == "open"  # a contact writing to a closed conversation reopens it
    assert after["statistics"]["count_reopens"] == before["statistics"]["count_reopens"] + 1
    assert after["statistics"]["last_contact_reply_at"] == world.now()
    assert after["updated_at"] == world.now() > before["updated_at"]
    clock.advance(60)
    mutator.reply(conversation_id, author="admin")
    answered = world.conversations[conversation_id]
    assert answered["statistics"]["last_admin_reply_at"] == world.now()
    assert answered["waiting_since"] is None and answered["read"]
    check_conversation(answered, world.parts[conversation_id])


def test_reply_rejects_unknown_authors() -> None:
    world, _, mutator = fresh()
    with pytest.raises(ValueError, match="author"):
        mutator.reply(next(iter(world.conversations)), author="robot")


def test_a_conversation_can_gain_more_than_500_parts_at_once() -> None:
    world, clock, mutator = fresh()
    conversation_id = next(iter(world.conversations))
    old_ids = {part.id for part in world.parts.records(conversation_id)}
    clock.advance(60)
    mutator.reply(conversation_id, n_parts=650, author="user")
    parts = world.parts[conversation_id]
    new_parts = [p for p in parts if int(p["id"]) not in old_ids]
    assert len(new_parts) == 650
    assert min(int(p["id"]) for p in new_parts) > max(old_ids)
    body = world.conversation(conversation_id, 500)
    assert body is not None
    assert body["conversation_parts"]["conversation_parts"] == parts[-500:]
    assert body["statistics"]["count_conversation_parts"] == len(parts)


def test_a_conversation_grows_to_1200_parts_across_several_rounds() -> None:
    world, clock, mutator = fresh()
    conversation_id = min(world.conversations, key=world.parts.count)
    while world.parts.count(conversation_id) < 1_200:
        clock.advance(300)
        missing = 1_200 - world.parts.count(conversation_id)
        mutator.reply(conversation_id, n_parts=min(400, missing), author="admin")
    assert world.parts.count(conversation_id) == 1_200
    assert world.conversations[conversation_id]["statistics"]["count_conversation_parts"] == 1_200
    assert len({part.id for part in world.parts.records(conversation_id)}) == 1_200


def test_assign_close_snooze_reopen_unsnooze() -> None:
    world, clock, mutator = fresh()
    conversation_id = first_with_state(world, "open")
    admin_id = next(iter(world.admins))
    team_id = next(iter(world.teams))
    clock.advance(60)
    mutator.assign(conversation_id, admin_id=admin_id, team_id=team_id)
    conversation = world.conversations[conversation_id]
    assert conversation["admin_assignee_id"] == int(admin_id)
    assert conversation["team_assignee_id"] == int(team_id)
    mutator.assign(conversation_id)
    assert world.conversations[conversation_id]["admin_assignee_id"] is None
    clock.advance(60)
    mutator.snooze(conversation_id, until=world.now() + 3_600)
    snoozed = world.conversations[conversation_id]
    assert (snoozed["state"], snoozed["snoozed_until"]) == ("snoozed", world.now() + 3_600)
    assert snoozed["open"]
    clock.advance(3_600)
    mutator.unsnooze(conversation_id)
    assert world.conversations[conversation_id]["state"] == "open"
    assert world.conversations[conversation_id]["snoozed_until"] is None
    mutator.close(conversation_id)
    closed = world.conversations[conversation_id]
    assert closed["state"] == "closed" and not closed["open"]
    assert closed["statistics"]["last_close_at"] == world.now()
    reopens = closed["statistics"]["count_reopens"]
    mutator.reopen(conversation_id)
    reopened = world.conversations[conversation_id]
    assert reopened["state"] == "open"
    assert reopened["statistics"]["count_reopens"] == reopens + 1
    check_conversation(reopened, world.parts[conversation_id])


def test_a_conversation_closed_by_the_bot_or_the_contact() -> None:
    world, clock, mutator = fresh()
    conversation_id = first_with_state(world, "open")
    clock.advance(60)
    mutator.close(conversation_id, by="bot")
    closed = world.conversations[conversation_id]
    assert closed["state"] == "closed"
    assert world.parts.records(conversation_id)[-1].author == mutator.staff.bot
    mutator.reopen(conversation_id)
    clock.advance(60)
    mutator.close(conversation_id, by="contact")
    last = world.parts.records(conversation_id)[-1]
    assert last.part_type == "close" and last.author["type"] in ("user", "lead")
    check_conversation(world.conversations[conversation_id], world.parts[conversation_id])
    with pytest.raises(ValueError):
        mutator.close(conversation_id, by="somebody")


def test_a_deleted_conversation_leaves_search_and_is_not_found() -> None:
    world, clock, mutator = fresh()
    conversation_id = next(iter(world.conversations))
    clock.advance(60)
    done = mutator.delete_conversation(conversation_id)
    assert (done.kind, done.op, done.id) == ("conversations", "delete", conversation_id)
    assert conversation_id not in world.conversations
    assert world.deleted["conversations"][conversation_id] == world.now()
    assert world.conversation(conversation_id, 500) is None
    assert world.search_view("conversations", world.now()).get(conversation_id) is None
    assert world.search_view("conversations", world.now() - 1).get(conversation_id) is not None
    # a later conversation never reuses the deleted id, even the highest one
    highest = max(world.conversations, key=int)
    mutator.delete_conversation(highest)
    assert int(mutator.new_conversation().id) > int(highest)


def test_tagging_is_idempotent() -> None:
    world, clock, mutator = fresh()
    conversation_id = next(cid for cid, c in world.conversations.items() if not c["tags"]["tags"])
    tag_id = next(iter(world.tags))
    clock.advance(60)
    mutator.tag_conversation(conversation_id, tag_id)
    tagged = world.conversations[conversation_id]
    assert [t["id"] for t in tagged["tags"]["tags"]] == [tag_id]
    assert tagged["tags"]["tags"][0]["applied_at"] == tagged["updated_at"] == world.now()
    generation = world.generation["conversations"]
    mutator.tag_conversation(conversation_id, tag_id)
    assert world.generation["conversations"] == generation
    assert world.conversations[conversation_id] is tagged


# -- contacts, companies, tickets, activity ----------------------------------------------------


def test_contacts_are_created_updated_and_deleted() -> None:
    world, clock, mutator = fresh()
    clock.advance(120)
    created = world.contacts[mutator.new_contact().id]
    assert created["created_at"] == created["updated_at"] == world.now()
    assert created["id"] in world.contact_links
    contact_id = next(iter(world.contacts))
    old = world.contacts[contact_id]
    clock.advance(120)
    mutator.update_contact(contact_id)
    updated = world.contacts[contact_id]
    assert updated["updated_at"] == updated["last_seen_at"] == world.now() > old["updated_at"]
    assert world.search_view("contacts", world.now() - 1).get(contact_id) is old
    links = world.contact_links[contact_id]
    assert updated["tags"]["total_count"] == len(links.tag_ids)
    assert updated["companies"]["total_count"] == len(links.company_ids)
    clock.advance(120)
    mutator.delete_contact(contact_id)
    assert contact_id not in world.contacts and contact_id not in world.contact_links
    assert world.deleted["contacts"][contact_id] == world.now()


def test_deleting_a_company_detaches_its_contacts() -> None:
    world, clock, mutator = fresh()
    company_id = next(
        c
        for c in world.companies
        if any(c in links.company_ids for links in world.contact_links.values())
    )
    members = [cid for cid, links in world.contact_links.items() if company_id in links.company_ids]
    clock.advance(60)
    mutator.delete_company(company_id)
    assert company_id not in world.companies and company_id not in world.company_segment_ids
    assert world.deleted["companies"][company_id] == world.now()
    for contact_id in members:
        contact = world.contacts[contact_id]
        assert company_id not in world.contact_links[contact_id].company_ids
        assert company_id not in [item["id"] for item in contact["companies"]["data"]]
        assert contact["updated_at"] == world.now()


def test_companies_are_created_and_updated() -> None:
    world, clock, mutator = fresh()
    clock.advance(60)
    company = world.companies[mutator.new_company().id]
    assert company["created_at"] == company["updated_at"] == world.now()
    assert [s["id"] for s in company["segments"]["segments"]] == world.company_segment_ids[
        company["id"]
    ]
    company_id = next(iter(world.companies))
    before = world.companies[company_id]
    clock.advance(60)
    mutator.update_company(company_id)
    after = world.companies[company_id]
    assert after["updated_at"] == after["last_request_at"] == world.now()
    assert after["session_count"] > before["session_count"]
    assert [s["id"] for s in after["segments"]["segments"]] == world.company_segment_ids[company_id]


def test_tickets_move_through_states() -> None:
    world, clock, mutator = fresh()
    clock.advance(60)
    ticket_id = mutator.new_ticket().id
    ticket = world.tickets[ticket_id]
    assert ticket["ticket_state"] == "submitted" and ticket["created_at"] == world.now()
    assert int(ticket["ticket_id"]) == max(int(t["ticket_id"]) for t in world.tickets.values())
    clock.advance(60)
    mutator.update_ticket(ticket_id)
    moved = world.tickets[ticket_id]
    assert moved["ticket_state"] == "in_progress" and moved["updated_at"] == world.now()
    parts = moved["ticket_parts"]["ticket_parts"]
    assert (parts[-1]["previous_ticket_state"], parts[-1]["ticket_state"]) == (
        "submitted",
        "in_progress",
    )


def test_activity_logs_are_appended_newest_last() -> None:
    world, clock, mutator = fresh()
    clock.advance(60)
    done = mutator.new_activity_log()
    assert world.activity_logs[-1]["id"] == done.id
    assert world.activity_logs[-1]["created_at"] == world.now()
    assert world.generation["activity_logs"] == 1


# -- realistic mixes ---------------------------------------------------------------------------


def run_mix(world: World, clock: ManualClock, mutator: Mutator, rounds: int) -> list[Any]:
    done = []
    for _ in range(rounds):
        clock.advance(45)
        done += mutator.random(25)
    return done


def test_random_mix_is_reproducible() -> None:
    first_world, first_clock, first = fresh()
    second_world, second_clock, second = fresh()
    assert run_mix(first_world, first_clock, first, 8) == run_mix(
        second_world, second_clock, second, 8
    )
    assert world_bytes(first_world) == world_bytes(second_world)
    assert first_world.deleted == second_world.deleted


def test_random_mix_keeps_every_invariant_and_the_schema() -> None:
    world, clock, mutator = fresh("tiny", seed=4)
    done = run_mix(world, clock, mutator, 12)
    kinds = Counter((m.kind, m.op) for m in done)
    assert kinds[("conversations", "reply")] > kinds[("companies", "delete")]
    assert len({kind for kind, _ in kinds}) >= 4
    check_all_conversations(world)
    errors: list[str] = []
    for kind, component in (
        ("contacts", "contact"),
        ("companies", "company"),
        ("tickets", "ticket"),
    ):
        for record in world.records(kind).values():
            errors += validation_errors("2.11", component, record)
            assert record["created_at"] <= record["updated_at"] <= world.now()
    for conversation_id, conversation in world.conversations.items():
        errors += validation_errors("2.11", "conversation", conversation)
        errors += [
            e
            for p in world.parts[conversation_id][-3:]
            for e in validation_errors("2.11", "conversation_part", p)
        ]
    assert errors == []
    for links in world.contact_links.values():
        assert set(links.company_ids) <= set(world.companies)


def test_two_mutators_never_hand_out_the_same_id() -> None:
    world, clock, first = fresh()
    second = Mutator(world, seed=5)  # same seed on purpose
    clock.advance(60)
    ids = [first.new_conversation().id, second.new_conversation().id]
    ids += [first.new_ticket().id, second.new_ticket().id]
    assert len(set(ids)) == 4
    assert len(world.conversations) == world.spec.conversations + 2


def test_lagged_views_match_snapshots_taken_at_each_moment() -> None:
    """Property: a view as of T equals the live data right after the writes made at T."""
    world, clock, mutator = fresh("tiny", seed=6)
    rng = random.Random(11)
    snapshots: list[tuple[int, dict[str, dict[str, Record]]]] = []
    for _ in range(40):
        clock.advance(rng.choice((0, 1, 5, 30)))
        mutator.random(rng.randint(1, 6))
        copies = {
            kind: dict(world.records(kind)) for kind in ("contacts", "conversations", "tickets")
        }
        if snapshots and snapshots[-1][0] == world.now():
            snapshots[-1] = (world.now(), copies)
        else:
            snapshots.append((world.now(), copies))
    for moment, copies in snapshots:
        for kind, records in copies.items():
            view = world.search_view(kind, moment + 0.5)
            expected = sorted(records.values(), key=lambda r: (r["updated_at"], r["id"]))
            assert [r["id"] for r in view.ascending()] == [r["id"] for r in expected], kind
            assert all(view.get(r["id"]) is r for r in expected)
            assert len(view) == len(records)
            middle = (
                expected[len(expected) // 2]["updated_at"],
                expected[len(expected) // 2]["id"],
            )
            assert [r["id"] for r in view.descending(before=middle)] == [
                r["id"] for r in expected if (r["updated_at"], r["id"]) < middle
            ][::-1]
            assert sorted(r["id"] for r in view.natural()) == sorted(records)
