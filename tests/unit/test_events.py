"""`intercom_conversation_state_change` events: from statistics, from parts, stable ids."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import orjson

from intercom_sync.store.schema import EVENT_TYPES, SHAPE_TABLES
from intercom_sync.streams.events import (
    conversation_events,
    part_views,
    parts_events,
    statistics_events,
)
from intercom_sync.streams.transform import conversation_shapes

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATION: dict[str, Any] = json.loads((FIXTURES / "transform_records_211.json").read_text())[
    "conversations"
]
PARTS: list[dict[str, Any]] = json.loads(
    (FIXTURES / "transform_conversation_parts_211.json").read_text()
)
T0 = 1663597223  # the conversation's created_at


def conversation(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CONVERSATION), **changes}


def parts() -> list[dict[str, Any]]:
    return copy.deepcopy(PARTS)


QUEUE = ("queue_entered", "queue_left")


def summary(rows: list[tuple[Any, ...]]) -> list[tuple[str, int, str]]:
    """(event_id, occurred_at ms, transition) of each state-change event row (the queue's
    entries and exits have tests of their own below)."""
    found = [(r[2], r[5], orjson.loads(r[6])["transition"]) for r in rows]
    return [f for f in found if f[2] not in QUEUE]


def queue(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    return [(r[5], t) for r in rows if (t := orjson.loads(r[6])["transition"]) in QUEUE]


def attrs(row: tuple[Any, ...]) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(row[6])
    return loaded


# -- from statistics ------------------------------------------------------------------------
def test_statistics_events_like_the_reference_connector() -> None:
    rows = statistics_events(conversation(), connector="intercom")
    assert summary(rows) == [
        ("1295:created", 1663597223000, "created"),
        ("1295:first_contact_reply:1663597223", 1663597223000, "first_contact_reply"),
        ("1295:assigned:1663597283", 1663597283000, "assigned"),
        ("1295:assigned:1663597403", 1663597403000, "assigned"),
        ("1295:first_admin_reply:1663597523", 1663597523000, "first_admin_reply"),
        ("1295:closed:1663598123", 1663598123000, "closed"),
        ("1295:closed:1663599023", 1663599023000, "closed"),
    ]


def test_event_row_layout_and_sync_time_attributes() -> None:
    rows = statistics_events(conversation(), connector="acme")
    event_columns = SHAPE_TABLES["events"].columns
    for row in rows:
        assert len(row) == len(event_columns) - 1  # the store adds synced_at
        assert row[0] == "acme"
        assert row[1] == EVENT_TYPES[0]
        assert row[3:5] == ("intercom_conversation", "1295")
    assert attrs(rows[0]) == {
        "conversationId": "1295",
        "state": "open",
        "priority": "priority",
        "adminAssigneeId": "991267715",
        "teamAssigneeId": "814865",
        "source": "statistics",
        "transition": "created",
    }


def test_one_assignment_and_one_close_give_one_event_each() -> None:
    stats = {
        **CONVERSATION["statistics"],
        "last_assignment_at": CONVERSATION["statistics"]["first_assignment_at"],
        "last_close_at": CONVERSATION["statistics"]["first_close_at"],
    }
    transitions = [
        t for _, _, t in summary(statistics_events(conversation(statistics=stats), connector="i"))
    ]
    assert transitions.count("assigned") == 1
    assert transitions.count("closed") == 1


def test_snoozed_conversation_is_keyed_by_snoozed_until() -> None:
    snoozed = conversation(state="snoozed", snoozed_until=1663700000, updated_at=1663600000)
    rows = statistics_events(snoozed, connector="intercom")
    snooze = [r for r in rows if attrs(r)["transition"] == "snoozed"]
    assert [(r[2], r[5]) for r in snooze] == [("1295:snoozed:1663700000", 1663600000000)]
    assert attrs(snooze[0])["snoozedUntil"] == 1663700000000
    # touched again while still snoozed until the same time: the same event
    later = statistics_events({**snoozed, "updated_at": 1663650000}, connector="intercom")
    assert [r[2] for r in later] == [r[2] for r in rows]
    assert not any(
        attrs(r)["transition"] == "snoozed"
        for r in statistics_events(conversation(), connector="i")
    )


def test_no_statistics_gives_only_created() -> None:
    rows = statistics_events(conversation(statistics=None), connector="intercom")
    assert summary(rows) == [("1295:created", 1663597223000, "created")]


# -- from parts -----------------------------------------------------------------------------
EXPECTED_FROM_PARTS = [
    ("1295:created", T0, "created"),
    ("1295:assigned:7001", T0 + 60, "assigned"),
    ("1295:assigned:7002", T0 + 180, "assigned"),
    ("1295:first_contact_reply:7003", T0 + 200, "first_contact_reply"),
    ("1295:first_admin_reply:7005", T0 + 300, "first_admin_reply"),
    ("1295:closed:7006", T0 + 900, "closed"),
    ("1295:reopened:7007", T0 + 1200, "reopened"),
    ("1295:snoozed:7009", T0 + 1300, "snoozed"),
    ("1295:closed:7010", T0 + 1800, "closed"),
]


def test_events_from_parts_with_real_times() -> None:
    rows = parts_events(conversation(), parts(), connector="intercom")
    assert summary(rows) == [(i, at * 1000, t) for i, at, t in EXPECTED_FROM_PARTS]


def test_part_events_carry_their_author_and_assignee() -> None:
    by_id = {r[2]: attrs(r) for r in parts_events(conversation(), parts(), connector="i")}
    assert by_id["1295:assigned:7002"] == {
        "conversationId": "1295",
        "state": "open",
        "priority": "priority",
        "adminAssigneeId": "991267715",
        "teamAssigneeId": "814865",
        "source": "parts",
        "transition": "assigned",
        "partId": "7002",
        "partType": "assignment",
        "authorType": "admin",
        "authorId": "991267715",
        "assignedToType": "admin",
        "assignedToId": "991267715",  # an int in the part, text in the event
    }
    assert by_id["1295:assigned:7001"]["assignedToType"] == "team"
    assert by_id["1295:closed:7010"]["authorType"] == "bot"  # every close is an event
    created = by_id["1295:created"]
    assert (created["authorType"], created["authorId"]) == ("user", "5ba682d23d7cf92bef87bfd4")
    assert created["partId"] is None


def test_bot_comment_is_no_contact_reply_and_bodiless_admin_part_no_admin_reply() -> None:
    """7000 is a bot comment, 7002 an admin assignment without a body, 7004 an admin note."""
    ids = {r[2] for r in parts_events(conversation(), parts(), connector="i")}
    assert "1295:first_contact_reply:7000" not in ids
    assert "1295:first_admin_reply:7002" not in ids
    assert "1295:first_admin_reply:7004" not in ids


def test_an_assignment_with_a_body_is_the_first_admin_reply() -> None:
    changed = parts()
    changed[2]["body"] = "<p>Taking this</p>"  # 7002, an admin assignment
    ids = [r[2] for r in parts_events(conversation(), changed, connector="i")]
    assert "1295:first_admin_reply:7002" in ids
    assert "1295:first_admin_reply:7005" not in ids
    assert ids.count("1295:assigned:7002") == 1


def test_ids_are_stable_and_order_independent() -> None:
    first = parts_events(conversation(), parts(), connector="i")
    again = parts_events(conversation(), parts(), connector="i")
    shuffled = parts()
    random.Random(7).shuffle(shuffled)
    with_repeats = parts() + parts()[3:6]
    assert again == first
    assert parts_events(conversation(), shuffled, connector="i") == first
    assert parts_events(conversation(), with_repeats, connector="i") == first


def test_more_parts_give_a_superset_of_ids() -> None:
    earlier = {r[2] for r in parts_events(conversation(), parts()[:6], connector="i")}
    later = {r[2] for r in parts_events(conversation(), parts(), connector="i")}
    assert earlier < later
    assert "1295:first_contact_reply:7003" in earlier  # the first reply stays the first


def test_events_are_sorted_by_time_then_deterministically() -> None:
    rows = parts_events(conversation(), parts(), connector="i")
    times = [r[5] for r in rows]
    assert times == sorted(times)
    same_time = [r[2] for r in rows if r[5] == (T0 + 1200) * 1000]
    assert same_time == ["1295:reopened:7007"]  # 7008 (lead comment) is not the first reply
    tied = parts()
    tied[6]["created_at"] = tied[5]["created_at"]  # close 7006 at the admin reply's second
    order = [r[2] for r in parts_events(conversation(), tied, connector="i")]
    assert order.index("1295:first_admin_reply:7005") < order.index("1295:closed:7006")


def test_parts_without_a_time_make_no_events() -> None:
    changed = parts()
    del changed[6]["created_at"]  # close 7006
    ids = {r[2] for r in parts_events(conversation(), changed, connector="i")}
    assert "1295:closed:7006" not in ids
    assert "1295:closed:7010" in ids


def test_part_views_dedupe_and_order_numeric_ids() -> None:
    same_time = [
        {"id": "10", "part_type": "note", "created_at": 5},
        {"id": "9", "part_type": "note", "created_at": 5},
        {"id": 9, "part_type": "comment", "created_at": 5},  # same id as "9": the later wins
        "not a part",
    ]
    views = part_views(same_time)  # type: ignore[arg-type]
    assert [(v.id, v.part_type) for v in views] == [("9", "comment"), ("10", "note")]


# -- choosing the source and scopes ---------------------------------------------------------
def test_parts_win_over_statistics_and_none_or_empty_fall_back() -> None:
    from_parts = conversation_events(conversation(), parts(), connector="i")
    assert {attrs(r)["source"] for r in from_parts} == {"parts"}
    for nothing in (None, [], ["not a part"]):
        rows = conversation_events(conversation(), nothing, connector="i")  # type: ignore[arg-type]
        assert rows == statistics_events(conversation(), connector="i")


def test_conversation_shapes_scope_events_and_metrics_to_the_conversation() -> None:
    shapes = conversation_shapes(conversation(), parts(), connector="acme")
    assert shapes.event_scopes == [
        ("acme", "intercom_conversation_state_change", "intercom_conversation", "1295")
    ]
    assert shapes.metric_scopes == [("acme", "intercom_conversation", "1295")]
    assert shapes.events == parts_events(conversation(), parts(), connector="acme")
    assert shapes.metrics and all(m[0] == "acme" for m in shapes.metrics)
    assert shapes.entities == [] and shapes.edges == []


def test_unreadable_parts_fall_back_to_statistics_for_events_but_give_no_metrics() -> None:
    """Events fall back to the statistics (like the reference connector); dbt's metrics
    need parts, so a conversation without readable parts has none (its metric scope is
    still set, so older rows are replaced by nothing)."""
    shapes = conversation_shapes(conversation(), ["not a part"], connector="i")  # type: ignore[list-item]
    assert shapes.events == statistics_events(conversation(), connector="i")
    assert shapes.metrics == []
    assert shapes.metric_scopes == [("i", "intercom_conversation", "1295")]


# -- state replayed from parts --------------------------------------------------------------
def _part(pid: str, part_type: str, at: int, author: str = "admin") -> dict[str, Any]:
    return {
        "type": "conversation_part",
        "id": pid,
        "part_type": part_type,
        "body": "<p>hi</p>" if part_type == "comment" else None,
        "created_at": at,
        "updated_at": at,
        "notified_at": at,
        "author": {"type": author, "id": "7", "name": "x", "email": "x@example.com"},
        "redacted": False,
    }


def test_waking_a_conversation_is_a_state_change_too() -> None:
    """A timer unsnooze, and a contact's reply to a closed or snoozed conversation, put
    it back in the open queue; an unsnooze of a conversation that is not snoozed does not."""
    history = [
        _part("1", "comment", T0 + 10, "user"),
        _part("2", "timer_unsnooze", T0 + 15),  # not snoozed: no state change
        _part("3", "snoozed", T0 + 20),
        _part("4", "timer_unsnooze", T0 + 30),
        _part("5", "close", T0 + 40),
        _part("6", "comment", T0 + 50, "lead"),  # reopens without an `open` part
        _part("7", "snoozed", T0 + 60),
        _part("8", "comment", T0 + 70, "user"),  # wakes the snoozed conversation
        _part("9", "comment", T0 + 80, "user"),  # already open: nothing
    ]
    rows = parts_events(conversation(), history, connector="intercom")
    states = [(e, t) for e, _, t in summary(rows) if t not in ("created", "first_contact_reply")]
    assert states == [
        ("1295:snoozed:3", "snoozed"),
        ("1295:unsnoozed:4", "unsnoozed"),
        ("1295:closed:5", "closed"),
        ("1295:reopened:6", "reopened"),
        ("1295:snoozed:7", "snoozed"),
        ("1295:unsnoozed:8", "unsnoozed"),
    ]
