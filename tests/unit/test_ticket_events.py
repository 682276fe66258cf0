"""`intercom_ticket_state_change` events: a ticket's state history from its state parts."""

from __future__ import annotations

from typing import Any

import orjson

from intercom_sync.store.schema import EVENT_TYPES, SHAPE_TABLES
from intercom_sync.streams.ticket_events import EVENT_TYPE, ticket_events
from intercom_sync.streams.transform import record_write

T0 = 1_700_000_000


def _part(pid: str, at: int, previous: str, state: Any) -> dict[str, Any]:
    return {
        "type": "ticket_part",
        "id": pid,
        "part_type": "ticket_state_updated_by_admin",
        "previous_ticket_state": previous,
        "ticket_state": state,
        "created_at": T0 + at,
        "author": {"type": "admin", "id": 42, "name": "A", "email": "a@example.com"},
    }


def _ticket(parts: list[dict[str, Any]], state: Any = "resolved") -> dict[str, Any]:
    return {
        "type": "ticket",
        "id": "77",
        "ticket_state": state,
        "admin_assignee_id": 42,
        "team_assignee_id": "9",
        "created_at": T0,
        "updated_at": T0 + 500,
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": parts},
    }


def summary(rows: list[tuple[Any, ...]]) -> list[tuple[str, int, str, str | None]]:
    out = []
    for row in rows:
        attrs = orjson.loads(row[6])
        out.append((row[2], row[5], attrs["transition"], attrs["state"]))
    return out


def test_a_ticket_history_from_its_state_parts() -> None:
    parts = [
        _part("3", 300, "in_progress", "resolved"),  # out of order on purpose
        _part("1", 100, "submitted", "in_progress"),
        _part("2", 200, "in_progress", "in_progress"),  # no change: no event
    ]
    rows = ticket_events(_ticket(parts), connector="intercom")
    assert summary(rows) == [
        ("77:created", T0 * 1000, "created", "submitted"),
        ("77:state:1", (T0 + 100) * 1000, "state_changed", "in_progress"),
        ("77:state:3", (T0 + 300) * 1000, "state_changed", "resolved"),
    ]
    assert len(rows[0]) == len(SHAPE_TABLES["events"].columns) - 1  # the store adds synced_at
    assert rows[0][1] == EVENT_TYPE and EVENT_TYPE in EVENT_TYPES
    assert rows[0][3:5] == ("intercom_ticket", "77")
    last = orjson.loads(rows[-1][6])
    assert last == {
        "ticketId": "77",
        "currentState": "resolved",
        "adminAssigneeId": "42",
        "teamAssigneeId": "9",
        "transition": "state_changed",
        "state": "resolved",
        "previousState": "in_progress",
        "partId": "3",
        "authorType": "admin",
        "authorId": "42",
    }


def test_a_2_14_state_object_and_a_ticket_without_parts() -> None:
    state = {"type": "ticket_state", "id": "12", "category": "waiting_on_customer"}
    rows = ticket_events(_ticket([], state=state), connector="intercom")
    assert summary(rows) == [("77:created", T0 * 1000, "created", "waiting_on_customer")]
    assert ticket_events({"id": "1", "ticket_state": "submitted"}, connector="i") == []


def test_the_record_write_replaces_the_tickets_events_as_a_whole() -> None:
    write = record_write("tickets", _ticket([_part("1", 100, "submitted", "resolved")]))
    assert write.shapes is not None
    assert write.shapes.event_scopes == [("intercom", EVENT_TYPE, "intercom_ticket", "77")]
    assert [e[2] for e in write.shapes.events] == ["77:created", "77:state:1"]
    assert write.shapes.entities[0][1] == "intercom_ticket"
