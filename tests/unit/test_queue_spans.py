"""The unassigned queue, replayed from a conversation's events: the rules, and the
`queue_entered` / `queue_left` events a conversation's event set carries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson

from intercom_sync.store.queue_spans import queue_spans
from intercom_sync.streams.events import conversation_events, statistics_events

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATION: dict[str, Any] = json.loads((FIXTURES / "transform_records_211.json").read_text())[
    "conversations"
]
PARTS: list[dict[str, Any]] = json.loads(
    (FIXTURES / "transform_conversation_parts_211.json").read_text()
)
T0 = 1663597223


def test_a_new_conversation_waits_until_assigned() -> None:
    events = [(100, "created", None, None), (250, "assigned", "a1", "admin")]
    assert queue_spans(events, "parts") == [(100, 250)]


def test_closing_leaves_the_queue_and_reopening_an_unassigned_one_returns_it() -> None:
    events = [
        (100, "created", None, None),
        (150, "first_contact_reply", None, None),  # no effect on the queue
        (200, "closed", None, None),
        (300, "reopened", None, None),
        (400, "snoozed", None, None),
        (450, "unsnoozed", None, None),
    ]
    assert queue_spans(events, "parts") == [(100, 200), (300, 400), (450, None)]


def test_reopening_an_assigned_conversation_keeps_it_out_of_the_unassigned_queue() -> None:
    events = [
        (100, "created", None, None),
        (110, "assigned", "t1", "team"),
        (200, "closed", None, None),
        (300, "reopened", None, None),
    ]
    assert queue_spans(events, "parts") == [(100, 110)]


def test_assigning_to_nobody_puts_it_back() -> None:
    events = [
        (100, "created", None, None),
        (110, "assigned", "a1", "admin"),
        (200, "assigned", None, "nobody_admin"),  # assigned to nobody
        (260, "assigned", "a2", "admin"),
    ]
    assert queue_spans(events, "parts") == [(100, 110), (200, 260)]
    assert queue_spans([(5, "created", None, None)], "parts") == [(5, None)]


def test_from_statistics_an_assignment_assigns_it_to_someone() -> None:
    events = [(100, "created", None, None), (160, "assigned", None, None)]
    assert queue_spans(events, "statistics") == [(100, 160)]


def test_unassigning_the_admin_leaves_the_team_so_it_stays_out_of_the_queue() -> None:
    events = [
        (100, "created", None, None),
        (110, "assigned", "t1", "team"),
        (120, "assigned", "a1", "admin"),
        (200, "assigned", None, "nobody_admin"),
    ]
    assert queue_spans(events, "parts") == [(100, 110)]


def queue(rows: list[tuple[Any, ...]]) -> list[tuple[str, int, str]]:
    found = [(r[2], r[5], orjson.loads(r[6])["transition"]) for r in rows]
    return [f for f in found if f[2].startswith("queue_")]


def test_the_event_set_says_when_it_entered_and_left_the_queue() -> None:
    """The fixture: created unassigned, a bot assigns it to a team 60 s later."""
    rows = conversation_events(CONVERSATION, copy.deepcopy(PARTS), connector="intercom")
    assert queue(rows) == [
        ("1295:queue_entered:1663597223000", T0 * 1000, "queue_entered"),
        ("1295:queue_left:1663597283000", (T0 + 60) * 1000, "queue_left"),
    ]
    assert [r[5] for r in rows] == sorted(r[5] for r in rows)  # in time order with the rest
    still = statistics_events({**CONVERSATION, "statistics": None}, connector="i")
    assert queue(still) == [("1295:queue_entered:1663597223000", T0 * 1000, "queue_entered")]
