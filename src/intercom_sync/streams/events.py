"""`intercom_conversation_state_change` events of one conversation (DESIGN §4).

A conversation's events are always rebuilt AS A WHOLE from its latest record and all of
its stored parts, and written under one event scope, so a re-sync replaces them. Ids are
stable across syncs, so re-syncing never duplicates nor wipes an event:

* from parts (when we have any): `{cid}:created`, then `{cid}:{transition}:{part_id}`
  for every assignment, close, reopen and snooze, and for the first contact reply and
  first admin reply — each at the part's real time, with its author;
* from the `statistics` block otherwise (like the reference connector): `{cid}:created`
  and `{cid}:{transition}:{unix seconds}` (snoozes: keyed by `snoozed_until`);
* and, from those, `{cid}:queue_entered:{ms}` / `{cid}:queue_left:{ms}` for every time it
  waited open with no team and no teammate (`queue_spans.py`).

Small value helpers shared by the transforms live here too (`ms`, `id_or_none`,
`json_text`), as does `part_views`, the one reading of parts that events and the dbt
metrics (`conversation_metrics`) share.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from intercom_sync.store.queue_spans import (
    QUEUE_ENTERED,
    QUEUE_INPUTS,
    QUEUE_LEFT,
    QueueInput,
    queue_spans,
)

Record = dict[str, Any]
Row = tuple[Any, ...]

EVENT_TYPE = "intercom_conversation_state_change"
CONVERSATION = "intercom_conversation"
CONTACT_AUTHOR_TYPES = frozenset({"user", "lead"})


# -- value helpers --------------------------------------------------------------------------
def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def ms(seconds: Any) -> int | None:
    """Unix seconds → Unix ms (the shape tables' unit); None stays None."""
    if seconds is None:
        return None
    if seconds.__class__ is int:
        return seconds * 1000
    try:
        return int(float(seconds) * 1000)
    except (TypeError, ValueError, OverflowError):
        return None


def id_or_none(value: Any) -> str | None:
    """Ids as text (2.11 sends assignee ids as ints)."""
    return None if value is None else str(value)


# -- parts ----------------------------------------------------------------------------------
class PartView(NamedTuple):
    """What events and metrics need of one conversation part, read once."""

    id: str
    created_at: int | None
    part_type: str
    author_type: str | None
    author_id: str | None
    assigned_to_type: str | None
    assigned_to_id: str | None
    # dbt: part_type contains "assignment"
    is_assignment: bool
    # dbt: a comment by a user or lead
    is_contact_comment: bool
    # dbt: a comment or assignment by an admin that carries a body
    is_admin_response: bool


def _view(part: Record) -> PartView:
    part_type = part.get("part_type") or ""
    author = part.get("author")
    author = author if author.__class__ is dict else {}
    assigned = part.get("assigned_to")
    assigned = assigned if assigned.__class__ is dict else {}
    created = part.get("created_at")
    kind = author.get("type")
    return PartView(
        id=str(part.get("id")),
        created_at=created if created.__class__ is int else None,
        part_type=part_type,
        author_type=kind,
        author_id=id_or_none(author.get("id")),
        assigned_to_type=assigned.get("type"),
        assigned_to_id=id_or_none(assigned.get("id")),
        is_assignment="assignment" in part_type,
        is_contact_comment=part_type == "comment" and kind in CONTACT_AUTHOR_TYPES,
        is_admin_response=(
            part_type in ("comment", "assignment")
            and kind == "admin"
            and part.get("body") is not None
        ),
    )


def _part_order(view: PartView) -> tuple[int, int, str]:
    """Oldest first; ties by id, numeric ids compared as numbers (shorter = smaller)."""
    created = view.created_at
    return (0 if created is None else created, len(view.id), view.id)


def part_views(parts: Iterable[Record]) -> list[PartView]:
    """Parts de-duplicated by id (the last copy wins), read once, oldest first."""
    unique: dict[Any, Record] = {}
    for part in parts:
        if part.__class__ is dict:
            unique[str(part.get("id"))] = part
    return sorted(map(_view, unique.values()), key=_part_order)


# part_type → (transition, state after), for the parts that change state by themselves
_STATE_PARTS = {
    "close": ("closed", "closed"),
    "open": ("reopened", "open"),
    "snoozed": ("snoozed", "snoozed"),
    "timer_unsnooze": ("unsnoozed", "open"),
}
# A contact's reply wakes a closed or snoozed conversation without a part of its own.
_WOKEN_BY_REPLY = {"closed": "reopened", "snoozed": "unsnoozed"}
TRANSITIONS = (
    "created",
    "assigned",
    "first_contact_reply",
    "first_admin_reply",
    "closed",
    "reopened",
    "snoozed",
    "unsnoozed",
    QUEUE_ENTERED,
    QUEUE_LEFT,
)
# The JSON members of an event that adds nothing but its transition, serialised once.
_TRANSITION_ONLY = {t: json_text({"transition": t})[1:] for t in TRANSITIONS}


# -- events ---------------------------------------------------------------------------------
def event_scope(conversation_id: str, connector: str) -> tuple[str, str, str, str]:
    return (connector, EVENT_TYPE, CONVERSATION, conversation_id)


def _sync_time_attributes(conversation: Record, cid: str, source: str) -> dict[str, Any]:
    """What the reference connector puts on every event: the conversation at sync time."""
    return {
        "conversationId": cid,
        "state": conversation.get("state"),
        "priority": conversation.get("priority"),
        "adminAssigneeId": id_or_none(conversation.get("admin_assignee_id")),
        "teamAssigneeId": id_or_none(conversation.get("team_assignee_id")),
        "source": source,
    }


class _EventList:
    """Collects one conversation's events; `rows()` sorts them by time, then by the order
    they were produced (deterministic), so the output is stable.

    The attributes shared by every event are serialised once; each event appends its own
    members to that JSON object text.
    """

    def __init__(self, conversation: Record, connector: str, source: str) -> None:
        self.cid = str(conversation["id"])
        self.connector = connector
        self.source = source
        shared = _sync_time_attributes(conversation, self.cid, source)
        self._shared_json = json_text(shared)[:-1]  # '{…' without its closing brace
        self._items: list[tuple[int, int, Row]] = []
        # (at, 0 for `created`, sequence) → what the queue replay needs
        self._queue: list[tuple[tuple[int, int, int], QueueInput]] = []

    def add(
        self, event_id: str, transition: str, at_seconds: Any, extra: Record | None = None
    ) -> None:
        at = ms(at_seconds)
        if at is not None:
            self._append(event_id, transition, at, extra)

    def _append(self, event_id: str, transition: str, at: int, extra: Record | None) -> None:
        if extra:
            members = json_text({"transition": transition, **extra})[1:]  # '"transition":…}'
        else:
            members = _TRANSITION_ONLY[transition]
        row = (
            self.connector,
            EVENT_TYPE,
            event_id,
            CONVERSATION,
            self.cid,
            at,
            f"{self._shared_json},{members}",
        )
        if transition in QUEUE_INPUTS:
            to_id, to_type = (
                (extra.get("assignedToId"), extra.get("assignedToType")) if extra else (None, None)
            )
            order = (at, 0 if transition == "created" else 1, len(self._items))
            self._queue.append((order, (at, transition, to_id, to_type)))
        self._items.append((at, len(self._items), row))

    def rows(self) -> list[Row]:
        """The events in time order, with the queue's entries and exits added."""
        replay = [item for _, item in sorted(self._queue)]
        for entered, left in queue_spans(replay, self.source):
            self._append(f"{self.cid}:{QUEUE_ENTERED}:{entered}", QUEUE_ENTERED, entered, None)
            if left is not None:
                self._append(f"{self.cid}:{QUEUE_LEFT}:{left}", QUEUE_LEFT, left, None)
        # (time, sequence) is unique, so the rows themselves are never compared
        return [row for _, _, row in sorted(self._items)]


def statistics_events(conversation: Record, *, connector: str) -> list[Row]:
    """Events from the `statistics` block, for a conversation with no stored parts."""
    events = _EventList(conversation, connector, "statistics")
    cid = events.cid
    stats = conversation.get("statistics")
    stats = stats if stats.__class__ is dict else {}
    events.add(f"{cid}:created", "created", conversation.get("created_at"))
    for transition, first, last in (
        ("assigned", "first_assignment_at", "last_assignment_at"),
        ("closed", "first_close_at", "last_close_at"),
    ):
        times = dict.fromkeys(t for t in (stats.get(first), stats.get(last)) if t is not None)
        for at in times:
            events.add(f"{cid}:{transition}:{at}", transition, at)
    for transition in ("first_contact_reply", "first_admin_reply"):
        at = stats.get(f"{transition}_at")
        events.add(f"{cid}:{transition}:{at}", transition, at)
    if conversation.get("state") == "snoozed":
        until = conversation.get("snoozed_until")
        key = until if until is not None else conversation.get("updated_at")
        extra = {"snoozedUntil": ms(until)}
        events.add(f"{cid}:snoozed:{key}", "snoozed", conversation.get("updated_at"), extra)
    return events.rows()


def _created_event(events: _EventList, conversation: Record) -> None:
    """`created`, authored by whoever wrote the conversation's first message."""
    source = conversation.get("source")
    author = source.get("author") if source.__class__ is dict else None
    author = author if author.__class__ is dict else {}
    extra = {
        "partId": None,
        "authorType": author.get("type"),
        "authorId": id_or_none(author.get("id")),
    }
    events.add(f"{events.cid}:created", "created", conversation.get("created_at"), extra)


def events_from_views(conversation: Record, views: list[PartView], *, connector: str) -> list[Row]:
    """Events from parts already read by `part_views` (oldest first)."""
    events = _EventList(conversation, connector, "parts")
    _created_event(events, conversation)
    seen_contact_reply = seen_admin_reply = False
    state = "open"
    for view in views:
        if view.created_at is None:
            continue
        transitions = []
        if view.is_assignment:
            transitions.append("assigned")
        if view.is_contact_comment and not seen_contact_reply:
            seen_contact_reply = True
            transitions.append("first_contact_reply")
        if view.is_admin_response and not seen_admin_reply:
            seen_admin_reply = True
            transitions.append("first_admin_reply")
        state_change = _STATE_PARTS.get(view.part_type)
        if state_change is not None:
            transition, after = state_change
            if transition != "unsnoozed" or state == "snoozed":
                transitions.append(transition)
                state = after
        elif view.is_contact_comment and state in _WOKEN_BY_REPLY:
            transitions.append(_WOKEN_BY_REPLY[state])
            state = "open"
        for transition in transitions:
            _add_part_event(events, view, transition)
    return events.rows()


def _add_part_event(events: _EventList, view: PartView, transition: str) -> None:
    extra = {
        "partId": view.id,
        "partType": view.part_type,
        "authorType": view.author_type,
        "authorId": view.author_id,
        "assignedToType": view.assigned_to_type,
        "assignedToId": view.assigned_to_id,
    }
    events.add(f"{events.cid}:{transition}:{view.id}", transition, view.created_at, extra)


def parts_events(conversation: Record, parts: Iterable[Record], *, connector: str) -> list[Row]:
    """Events from the conversation's parts, with their real times and authors."""
    return events_from_views(conversation, part_views(parts), connector=connector)


def conversation_events(
    conversation: Record, parts: list[Record] | None, *, connector: str
) -> list[Row]:
    """The complete event set: from parts when there are any, else from statistics."""
    views = part_views(parts or ())
    if views:
        return events_from_views(conversation, views, connector=connector)
    return statistics_events(conversation, connector=connector)
