"""The seeded world: determinism, realism, invariants, schema validity, search views."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import DAY, WorldSpec
from intercom_sync.simulator.world.records import EMBED_LIMIT
from intercom_sync.simulator.world.world import World
from tests.openapi_schemas import validation_errors

Record = dict[str, Any]
HEX24 = re.compile(r"^[0-9a-f]{24}$")
NUMERIC = re.compile(r"^[1-9][0-9]*$")
CONTACT_AUTHORS = ("user", "lead")
ASSIGNMENTS = ("assignment", "default_assignment", "away_mode_assignment")


@pytest.fixture(scope="module")
def tiny() -> World:
    return World.build(WorldSpec.preset("tiny"))


@pytest.fixture(scope="module")
def small() -> World:
    return World.build(WorldSpec.preset("small"))


def world_bytes(world: World) -> bytes:
    """Every record of the world, serialised in a fixed order."""
    everything = {
        "admins": world.admins,
        "teams": world.teams,
        "tags": world.tags,
        "segments": world.segments,
        "data_attributes": world.data_attributes,
        "companies": world.companies,
        "company_segment_ids": world.company_segment_ids,
        "contacts": world.contacts,
        "conversations": world.conversations,
        "parts": {cid: world.parts[cid] for cid in world.conversations},
        "tickets": world.tickets,
        "activity_logs": world.activity_logs,
    }
    return orjson.dumps(everything)


# -- determinism -------------------------------------------------------------------------------


def test_same_spec_gives_byte_identical_world(tiny: World) -> None:
    again = World.build(WorldSpec.preset("tiny"))
    assert world_bytes(again) == world_bytes(tiny)


def test_another_seed_gives_another_world(tiny: World) -> None:
    other = World.build(WorldSpec.preset("tiny", seed=2))
    assert set(other.contacts).isdisjoint(tiny.contacts)
    assert world_bytes(other) != world_bytes(tiny)


def test_counts_follow_the_spec(small: World) -> None:
    spec = small.spec
    assert len(small.admins) == spec.admins
    assert len(small.teams) == spec.teams
    assert len(small.tags) == spec.tags
    assert len(small.segments) == spec.segments
    assert len(small.companies) == spec.companies
    assert len(small.contacts) == spec.contacts
    assert len(small.conversations) == spec.conversations
    assert len(small.tickets) == spec.tickets
    assert len(small.activity_logs) == spec.activity_logs
    assert set(small.parts) == set(small.conversations)


def test_explicit_counts_override_a_preset() -> None:
    world = World.build(WorldSpec.preset("tiny", contacts=7, conversations=3, long_conversations=0))
    assert (len(world.contacts), len(world.conversations)) == (7, 3)


def test_conversations_need_someone_to_talk_to() -> None:
    with pytest.raises(ValueError, match="contact"):
        World.build(WorldSpec(contacts=0))


# -- identifiers and time ----------------------------------------------------------------------


def test_ids_look_like_intercoms(small: World) -> None:
    for kind in ("contacts", "companies", "segments"):
        assert all(HEX24.match(record_id) for record_id in small.records(kind)), kind
    for kind in ("admins", "teams", "tags", "conversations", "tickets"):
        assert all(NUMERIC.match(record_id) for record_id in small.records(kind)), kind
    cid = next(iter(small.conversations))
    assert all(NUMERIC.match(part["id"]) for part in small.parts[cid])
    admin_ids = list(small.admins)
    assert admin_ids == sorted(admin_ids, key=int)


def test_ids_are_unique_across_all_parts(small: World) -> None:
    part_ids = [part.id for cid in small.conversations for part in small.parts.records(cid)]
    assert len(part_ids) == len(set(part_ids))


def test_timestamps_span_the_history_window(small: World) -> None:
    spec = small.spec
    start = spec.now - spec.history_days * DAY
    created = [c["created_at"] for c in small.conversations.values()]
    assert start <= min(created) < start + 30 * DAY
    assert spec.now - 5 * DAY < max(created) < spec.now
    for kind in ("contacts", "companies", "conversations", "tickets"):
        for record in small.records(kind).values():
            assert start <= record["created_at"] <= record["updated_at"] < spec.now, kind
    assert all(start <= log["created_at"] < spec.now for log in small.activity_logs)


def test_traffic_peaks_on_weekdays_and_in_business_hours(small: World) -> None:
    zone = ZoneInfo(small.spec.timezone)
    moments = [datetime.fromtimestamp(c["created_at"], zone) for c in small.conversations.values()]
    weekday_share = sum(moment.weekday() < 5 for moment in moments) / len(moments)
    assert weekday_share > 0.8  # 5/7 = 0.71 if traffic were flat
    hours = Counter(moment.hour for moment in moments)
    business = sum(hours[hour] for hour in range(9, 18)) / len(moments)
    assert business > 0.55  # 9/24 = 0.375 if flat
    assert hours[10] > 4 * hours[3]


def test_first_reply_delays_are_long_tailed(small: World) -> None:
    delays = [
        c["statistics"]["time_to_admin_reply"]
        for c in small.conversations.values()
        if "time_to_admin_reply" in c["statistics"]
    ]
    median = statistics.median(delays)
    p95 = statistics.quantiles(delays, n=20)[-1]
    assert 60 < median < 6 * 3600
    assert p95 > 5 * median  # a log-normal tail, held over nights and weekends


# -- organisation ------------------------------------------------------------------------------


def test_admins_and_teams_agree(small: World) -> None:
    for team_id, team in small.teams.items():
        assert team["admin_ids"], "every team has members"
        for admin_id in team["admin_ids"]:
            assert int(team_id) in small.admins[str(admin_id)]["team_ids"]
    for admin_id, admin in small.admins.items():
        for team_id in admin["team_ids"]:
            assert int(admin_id) in small.teams[str(team_id)]["admin_ids"]
    assert any(admin["away_mode_enabled"] for admin in small.admins.values())
    assert any(not admin["has_inbox_seat"] for admin in small.admins.values())


def test_data_attribute_names_are_unique_per_model(small: World) -> None:
    for model, attributes in small.data_attributes.items():
        names = [attribute["name"] for attribute in attributes]
        assert len(names) == len(set(names)), model
        assert {a["model"] for a in attributes} == {model}
        assert any(a["custom"] for a in attributes)


def test_custom_attributes_are_declared(small: World) -> None:
    declared = {
        model: {a["name"] for a in attributes if a["custom"]}
        for model, attributes in small.data_attributes.items()
    }
    for company in small.companies.values():
        assert set(company["custom_attributes"]) <= declared["company"]
    for contact in small.contacts.values():
        assert set(contact["custom_attributes"]) <= declared["contact"]


def test_companies_embed_their_segments_and_count_their_users(small: World) -> None:
    users: Counter[str] = Counter()
    for contact_id, links in small.contact_links.items():
        if small.contacts[contact_id]["role"] == "user":
            users.update(links.company_ids)
    for company_id, company in small.companies.items():
        embedded = [segment["id"] for segment in company["segments"]["segments"]]
        assert embedded == small.company_segment_ids[company_id]
        assert company["user_count"] == users[company_id]
    assert any(small.company_segment_ids.values())


# -- contacts ----------------------------------------------------------------------------------


def test_users_and_leads(small: World) -> None:
    roles = Counter(contact["role"] for contact in small.contacts.values())
    assert roles["user"] > roles["lead"] > 0
    for contact in small.contacts.values():
        if contact["role"] == "user":
            assert contact["external_id"] and contact["email"] and contact["signed_up_at"]
        else:
            assert contact["external_id"] is None and contact["signed_up_at"] is None


def test_embedded_lists_show_ten_and_say_when_there_are_more(small: World) -> None:
    seen_more = Counter()
    for contact_id, contact in small.contacts.items():
        links = small.contact_links[contact_id]
        for name, full in (
            ("tags", links.tag_ids),
            ("notes", links.note_ids),
            ("companies", links.company_ids),
        ):
            embedded = contact[name]
            assert [item["id"] for item in embedded["data"]] == full[:EMBED_LIMIT]
            assert embedded["total_count"] == len(full)
            assert embedded["has_more"] == (len(full) > EMBED_LIMIT)
            assert embedded["url"] == f"/contacts/{contact_id}/{name}"
            seen_more[name] += embedded["has_more"]
    assert seen_more["tags"] and seen_more["notes"] and seen_more["companies"]


def test_contacts_only_link_existing_things(small: World) -> None:
    for links in small.contact_links.values():
        assert set(links.company_ids) <= set(small.companies)
        assert set(links.tag_ids) <= set(small.tags)
        assert set(links.segment_ids) <= set(small.segments)


def test_contacts_reflect_their_conversations(small: World) -> None:
    last_reply: dict[str, int] = {}
    for conversation_id, conversation in small.conversations.items():
        source = conversation["source"]
        if source["delivered_as"] == "customer_initiated":
            author_id = source["author"]["id"]
            last_reply[author_id] = max(last_reply.get(author_id, 0), conversation["created_at"])
        for part in small.parts[conversation_id]:
            if part["part_type"] == "comment" and part["author"]["type"] in CONTACT_AUTHORS:
                author_id = part["author"]["id"]
                last_reply[author_id] = max(last_reply.get(author_id, 0), part["created_at"])
    for contact_id, contact in small.contacts.items():
        assert contact["last_replied_at"] == last_reply.get(contact_id)
        assert contact["updated_at"] >= (contact["last_replied_at"] or 0)


# -- conversations -----------------------------------------------------------------------------


def expected_from_parts(conversation: Record, parts: list[Record]) -> Record:
    """What the parts say about a conversation, computed independently of the simulator."""
    source = conversation["source"]
    contact_started = source["delivered_as"] == "customer_initiated"
    first_contact = conversation["created_at"] if contact_started else None
    for part in parts:
        is_contact = part["author"]["type"] in CONTACT_AUTHORS
        if first_contact is None and part["part_type"] == "comment" and is_contact:
            first_contact = part["created_at"]
    after = [p for p in parts if first_contact is not None and p["created_at"] >= first_contact]
    admin_comments = [
        p for p in after if p["part_type"] == "comment" and p["author"]["type"] == "admin"
    ]
    closes = [p for p in after if p["part_type"] == "close"]
    assignments = [p for p in after if p["part_type"] in ASSIGNMENTS]
    state, admin, team, reopens = "open", None, None, 0
    for part in parts:
        kind, author = part["part_type"], part["author"]["type"]
        reopening = kind in ("open", "timer_unsnooze") or (
            kind == "comment" and author in CONTACT_AUTHORS
        )
        if kind == "close":
            state = "closed"
        elif kind == "snoozed":
            state = "snoozed"
        elif reopening:
            if state == "closed":
                reopens += 1
            state = "open"
        if kind in ASSIGNMENTS:
            target = part["assigned_to"]
            if target["type"] == "team":
                team, admin = int(target["id"]), None
            else:
                admin = int(target["id"]) if target["type"] == "admin" else None
    return {
        "state": state,
        "admin_assignee_id": admin,
        "team_assignee_id": team,
        "count_conversation_parts": len(parts),
        "first_contact_reply_at": first_contact,
        "first_admin_reply_at": admin_comments[0]["created_at"] if admin_comments else None,
        "first_close_at": closes[0]["created_at"] if closes else None,
        "last_close_at": closes[-1]["created_at"] if closes else None,
        "last_closed_by_id": closes[-1]["author"]["id"] if closes else None,
        "count_assignments": len(assignments),
        "first_assignment_at": assignments[0]["created_at"] if assignments else None,
        "last_assignment_at": assignments[-1]["created_at"] if assignments else None,
        "count_reopens": reopens if first_contact is not None else 0,
    }


def check_conversation(conversation: Record, parts: list[Record]) -> None:
    """Assert that a conversation record agrees with its parts (used by mutation tests)."""
    expected = expected_from_parts(conversation, parts)
    stats = conversation["statistics"]
    for key in (
        "count_conversation_parts",
        "first_contact_reply_at",
        "first_admin_reply_at",
        "first_close_at",
        "last_close_at",
        "last_closed_by_id",
        "count_assignments",
        "first_assignment_at",
        "last_assignment_at",
        "count_reopens",
    ):
        assert stats.get(key) == expected[key], (conversation["id"], key)
    for key in ("state", "admin_assignee_id", "team_assignee_id"):
        assert conversation[key] == expected[key], (conversation["id"], key)
    assert conversation["open"] == (conversation["state"] != "closed")
    if stats.get("first_admin_reply_at") is not None:
        assert (
            stats["time_to_admin_reply"]
            == stats["first_admin_reply_at"] - stats["first_contact_reply_at"]
        )
    if conversation["state"] == "snoozed":
        assert conversation["snoozed_until"] is not None
    else:
        assert conversation["snoozed_until"] is None
    if parts:
        assert conversation["updated_at"] >= parts[-1]["created_at"]
        times = [part["created_at"] for part in parts]
        assert times == sorted(times)
    teammates = {t["id"] for t in conversation["teammates"]["teammates"]}
    assert teammates == {p["author"]["id"] for p in parts if p["author"]["type"] == "admin"}


def test_statistics_agree_with_parts(small: World) -> None:
    for conversation_id, conversation in small.conversations.items():
        check_conversation(conversation, small.parts[conversation_id])


def test_conversations_have_the_variety_of_a_real_inbox(small: World) -> None:
    conversations = list(small.conversations.values())
    states = Counter(c["state"] for c in conversations)
    assert states["closed"] > states["open"] > states["snoozed"] > 0
    assert Counter(c["priority"] for c in conversations)["priority"] > 0
    assert any(c["tags"]["tags"] for c in conversations)
    assert any("conversation_rating" in c for c in conversations)
    assert any(c["ai_agent_participated"] for c in conversations)
    assert any(len(c["contacts"]["contacts"]) > 1 for c in conversations)
    assert any(c["team_assignee_id"] for c in conversations)
    assert {c["source"]["type"] for c in conversations} >= {"conversation", "email"}
    assert {c["source"]["author"]["type"] for c in conversations} >= {"user", "lead", "admin"}
    part_types = Counter(p.part_type for cid in small.parts for p in small.parts.records(cid))
    for part_type in (
        "comment",
        "note",
        "assignment",
        "default_assignment",
        "open",
        "close",
        "snoozed",
        "timer_unsnooze",
        "away_mode_assignment",
    ):
        assert part_types[part_type] > 0, part_type
    authors = {p.author["type"] for cid in small.parts for p in small.parts.records(cid)}
    assert authors >= {"admin", "user", "lead", "bot"}
    for conversation in conversations:
        if conversation["state"] == "snoozed":
            assert conversation["snoozed_until"] > small.spec.now - 1


def test_closes_come_from_teammates_the_bot_workflows_and_contacts(small: World) -> None:
    """A close part by an admin, by the bot (its answer resolved it, or a workflow closed a
    quiet conversation), and by the contact; ratings only follow a teammate's close."""
    closers = Counter(
        p.author["type"]
        for cid in small.parts
        for p in small.parts.records(cid)
        if p.part_type == "close"
    )
    assert closers["admin"] > closers["bot"] > 0
    assert closers["user"] + closers["lead"] > 0
    bot_only = [
        cid
        for cid, c in small.conversations.items()
        if c["state"] == "closed"
        and "first_admin_reply_at" not in c["statistics"]
        and small.parts.records(cid)[-1].author["type"] == "bot"
    ]
    assert bot_only, "some conversations are resolved by the bot alone"
    admins = set(small.admins)
    for conversation in small.conversations.values():
        if "conversation_rating" in conversation:
            assert conversation["statistics"]["last_closed_by_id"] in admins


def test_snoozed_conversations_wake_in_the_future(small: World) -> None:
    snoozed = [c for c in small.conversations.values() if c["state"] == "snoozed"]
    assert snoozed
    assert all(c["snoozed_until"] >= small.spec.now for c in snoozed)


def test_ratings_are_on_closed_conversations_and_before_their_update(small: World) -> None:
    rated = [c for c in small.conversations.values() if "conversation_rating" in c]
    assert rated
    for conversation in rated:
        rating = conversation["conversation_rating"]
        assert conversation["state"] == "closed"
        assert 1 <= rating["rating"] <= 5
        assert conversation["statistics"]["last_close_at"] < rating["created_at"]
        assert rating["created_at"] <= conversation["updated_at"]


def test_part_counts_mostly_short_with_a_few_past_the_cap(small: World) -> None:
    counts = sorted(small.parts.count(cid) for cid in small.conversations)
    long_ones = [count for count in counts if count > 500]
    assert len(long_ones) == small.spec.long_conversations
    assert all(520 <= count <= 1300 for count in long_ones)
    typical = counts[: len(counts) - len(long_ones)]
    assert sum(2 <= count <= 30 for count in typical) / len(typical) > 0.85


def test_get_conversation_returns_the_most_recent_parts(tiny: World) -> None:
    long_id = max(tiny.conversations, key=tiny.parts.count)
    every = tiny.parts[long_id]
    body = tiny.conversation(long_id, 500)
    assert body is not None
    embedded = body["conversation_parts"]
    assert embedded["type"] == "conversation_part.list"
    assert embedded["conversation_parts"] == every[-500:]
    assert (
        embedded["total_count"]
        == 500
        < len(every)
        == body["statistics"]["count_conversation_parts"]
    )
    uncapped = tiny.conversation(long_id, None)
    assert uncapped is not None
    assert uncapped["conversation_parts"]["conversation_parts"] == every
    assert "conversation_parts" not in tiny.conversations[long_id]
    assert tiny.conversation("404", 500) is None


def test_rendered_parts_are_fresh_copies(tiny: World) -> None:
    cid = next(iter(tiny.conversations))
    first = tiny.parts[cid]
    first[0]["author"]["name"] = "changed"
    first.clear()
    assert tiny.parts[cid] and tiny.parts[cid][0]["author"]["name"] != "changed"


# -- tickets and activity logs -----------------------------------------------------------------


def test_tickets_follow_their_state_history(small: World) -> None:
    states = Counter()
    for ticket in small.tickets.values():
        parts = ticket["ticket_parts"]["ticket_parts"]
        assert parts[-1]["ticket_state"] == ticket["ticket_state"]
        assert ticket["open"] == (ticket["ticket_state"] != "resolved")
        assert ticket["updated_at"] == parts[-1]["created_at"]
        assert ticket["category"] == ticket["ticket_type"]["category"]
        for before, after in itertools.pairwise(parts):
            assert after["previous_ticket_state"] == before["ticket_state"]
        states[ticket["ticket_state"]] += 1
    assert len(states) >= 3


def test_activity_logs_are_oldest_first_by_admins(small: World) -> None:
    times = [log["created_at"] for log in small.activity_logs]
    assert times == sorted(times)
    assert {log["performed_by"]["id"] for log in small.activity_logs} <= set(small.admins)
    kinds = Counter(log["activity_type"] for log in small.activity_logs)
    assert kinds.most_common(1)[0][0] == "admin_login_success"
    assert len(kinds) >= 10


# -- schema validity ---------------------------------------------------------------------------

COMPONENTS = (
    ("admins", "admin"),
    ("teams", "team"),
    ("tags", "tag"),
    ("segments", "segment"),
    ("companies", "company"),
    ("contacts", "contact"),
    ("conversations", "conversation"),
    ("tickets", "ticket"),
)


def part_signature(part: Record) -> tuple[str, str, str]:
    assigned = part["assigned_to"]
    return (part["part_type"], part["author"]["type"], assigned["type"] if assigned else "")


def records_to_validate(world: World, stride: int) -> list[tuple[str, Record]]:
    """Every record, except that only every `stride`-th contact, conversation and part
    is taken (plus every contact with overflowing lists and every distinct kind of part)."""
    chosen: list[tuple[str, Record]] = []
    for kind, component in COMPONENTS:
        records = list(world.records(kind).values())
        if kind == "contacts":
            records = [
                c
                for index, c in enumerate(records)
                if index % stride == 0 or c["tags"]["has_more"] or c["companies"]["has_more"]
            ]
        elif kind == "conversations":
            records = records[::stride]
        chosen += [(component, record) for record in records]
    for attributes in world.data_attributes.values():
        chosen += [("data_attribute", attribute) for attribute in attributes]
    chosen += [("activity_log", log) for log in world.activity_logs]
    signatures: set[tuple[str, str, str]] = set()
    for conversation_id in world.conversations:
        for index, part in enumerate(world.parts[conversation_id]):
            signature = part_signature(part)
            if index % stride == 0 or signature not in signatures:
                signatures.add(signature)
                chosen.append(("conversation_part", part))
    for conversation_id in list(world.conversations)[:: stride * 5]:
        chosen.append(("conversation", world.conversation(conversation_id, 500) or {}))
    return chosen


@pytest.mark.parametrize(("preset", "stride"), [("tiny", 1), ("small", 5)])
def test_every_record_validates_against_the_2_11_schemas(
    preset: str, stride: int, tiny: World, small: World
) -> None:
    world = tiny if preset == "tiny" else small
    errors: list[str] = []
    for component, record in records_to_validate(world, stride):
        errors += validation_errors("2.11", component, record)
    assert errors == []


# -- search views ------------------------------------------------------------------------------


def keys_of(records: list[Record]) -> list[tuple[int, str]]:
    return [(record["updated_at"], record["id"]) for record in records]


@pytest.mark.parametrize("kind", ["contacts", "conversations", "tickets"])
def test_a_fresh_view_orders_every_record(small: World, kind: str) -> None:
    view = small.search_view(kind, small.now())
    everything = sorted(keys_of(list(small.records(kind).values())))
    assert len(view) == len(everything)
    assert keys_of(list(view.ascending())) == everything
    assert keys_of(list(view.descending())) == everything[::-1]
    middle = everything[len(everything) // 2]
    assert keys_of(list(view.ascending(after=middle))) == [k for k in everything if k > middle]
    assert (
        keys_of(list(view.descending(before=middle))) == [k for k in everything if k < middle][::-1]
    )
    assert [r["id"] for r in view.natural()] == list(small.records(kind))


def test_natural_positions_resume_where_they_stopped(small: World) -> None:
    view = small.search_view("contacts", small.now())
    first = list(zip(range(150), view.natural_items(), strict=False))
    last_position = first[-1][1][0]
    resumed = next(view.natural_items(last_position + 1))
    assert resumed[1]["id"] == list(small.contacts)[150]


def test_search_view_rejects_unknown_kinds(tiny: World) -> None:
    with pytest.raises(ValueError):
        tiny.search_view("companies", tiny.now())


def test_the_view_hides_writes_newer_than_as_of() -> None:
    clock = ManualClock(WorldSpec().now)
    world = World.build(WorldSpec(), clock)
    contact_id = next(iter(world.contacts))
    old = world.contacts[contact_id]
    clock.advance(10)
    world.put("contacts", {**old, "name": "Renamed", "updated_at": world.now()})
    written_at = world.now()
    before = world.search_view("contacts", written_at - 1)
    assert before.get(contact_id) is old
    assert [r for r in before.ascending() if r["id"] == contact_id] == [old]
    assert len(before) == len(world.contacts)
    after = world.search_view("contacts", written_at)
    assert after.get(contact_id) is world.contacts[contact_id]
    assert keys_of(list(after.ascending()))[-1] == (written_at, contact_id)


def test_the_view_shows_deleted_records_until_the_delete_is_indexed() -> None:
    clock = ManualClock(WorldSpec().now)
    world = World.build(WorldSpec(), clock)
    contact_id = next(iter(world.contacts))
    old = world.contacts[contact_id]
    clock.advance(5)
    world.remove("contacts", contact_id)
    assert world.deleted["contacts"] == {contact_id: world.now()}
    lagging = world.search_view("contacts", world.now() - 1)
    assert lagging.get(contact_id) is old
    assert contact_id in [r["id"] for r in lagging.natural()]
    current = world.search_view("contacts", world.now())
    assert current.get(contact_id) is None
    assert len(current) == len(world.contacts) == len(lagging) - 1
    assert contact_id not in [r["id"] for r in current.ascending()]


def test_a_view_is_a_snapshot_even_while_writes_continue() -> None:
    clock = ManualClock(WorldSpec().now)
    world = World.build(WorldSpec(), clock)
    view = world.search_view("contacts", world.now())
    expected = keys_of(list(view.ascending()))
    iterator = view.ascending()
    head = [next(iterator) for _ in range(5)]
    clock.advance(1)
    for contact_id in list(world.contacts)[:20]:
        contact = world.contacts[contact_id]
        world.put("contacts", {**contact, "updated_at": world.now()})
    world.remove("contacts", list(world.contacts)[30])
    assert keys_of(head + list(iterator)) == expected


def test_history_older_than_the_retention_is_refused() -> None:
    clock = ManualClock(WorldSpec().now)
    world = World.build(WorldSpec(), clock, history_retention=60)
    contacts = list(world.contacts.values())
    for step in range(600):
        clock.advance(1)
        contact = contacts[step % len(contacts)]
        world.put("contacts", {**world.contacts[contact["id"]], "updated_at": world.now()})
    assert len(world.search_view("contacts", world.now() - 30)) == len(world.contacts)
    with pytest.raises(ValueError, match="retention"):
        world.search_view("contacts", world.now() - 590)
