"""`intercom_ticket_state_change` events of one ticket, from the record's ticket parts.

A ticket record carries its state-change parts (`ticket_parts`, each with
`previous_ticket_state` and `ticket_state`), so its state history is rebuilt AS A WHOLE
from the record and written under one event scope, replacing the previous set:

* `{ticket id}:created` at `created_at`, with the state it started in (the first change's
  `previous_ticket_state`; the current state when no change is known);
* `{ticket id}:state:{part id}` for every part that moves it to another state, with
  `state`, `previousState` and the part's author.

Every event also carries the ticket at sync time (state, assignees), like the
conversation events do. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.streams.events import id_or_none, json_text, ms

Record = dict[str, Any]
Row = tuple[Any, ...]

EVENT_TYPE = "intercom_ticket_state_change"
TICKET = "intercom_ticket"


def event_scope(ticket_id: str, connector: str) -> tuple[str, str, str, str]:
    return (connector, EVENT_TYPE, TICKET, ticket_id)


def _state(value: Any) -> str | None:
    """A part's state: a string (2.11 and 2.14), or an object with a `category`."""
    if isinstance(value, dict):
        value = value.get("category")
    return value if isinstance(value, str) else None


def _state_parts(record: Record) -> list[Record]:
    block = record.get("ticket_parts")
    parts = block.get("ticket_parts") if isinstance(block, dict) else None
    found = [
        p
        for p in parts or ()
        if isinstance(p, dict)
        and _state(p.get("ticket_state"))
        and isinstance(p.get("created_at"), int)
    ]
    return sorted(found, key=lambda p: (p["created_at"], len(str(p.get("id"))), str(p.get("id"))))


def ticket_events(record: Record, *, connector: str) -> list[Row]:
    """The ticket's state-change events, oldest first (none without a creation time)."""
    created = record.get("created_at")
    if not isinstance(created, int):
        return []
    tid = str(record["id"])
    current = _state(record.get("ticket_state"))
    shared = json_text(
        {
            "ticketId": tid,
            "currentState": current,
            "adminAssigneeId": id_or_none(record.get("admin_assignee_id")),
            "teamAssigneeId": id_or_none(record.get("team_assignee_id")),
        }
    )[:-1]
    parts = _state_parts(record)
    first = _state(parts[0].get("previous_ticket_state")) if parts else None
    state = first or current
    rows = [
        _row(
            connector,
            tid,
            f"{tid}:created",
            created,
            shared,
            {"transition": "created", "state": state},
        )
    ]
    for part in parts:
        new = _state(part.get("ticket_state"))
        if new == state:
            continue
        found = part.get("author")
        author: Record = found if isinstance(found, dict) else {}
        members = {
            "transition": "state_changed",
            "state": new,
            "previousState": state,
            "partId": str(part.get("id")),
            "authorType": author.get("type"),
            "authorId": id_or_none(author.get("id")),
        }
        rows.append(
            _row(
                connector, tid, f"{tid}:state:{part.get('id')}", part["created_at"], shared, members
            )
        )
        state = new
    return rows


def _row(connector: str, tid: str, event_id: str, at: int, shared: str, members: Record) -> Row:
    attributes = f"{shared},{json_text(members)[1:]}"
    return (connector, EVENT_TYPE, event_id, TICKET, tid, ms(at), attributes)
