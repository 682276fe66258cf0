"""Unassigned queue depth: how many conversations were open with nobody on them, over time.

Replayed from the `intercom_conversation_state_change` events of every live conversation
that changed since the first bucket began (see `in_queue_spans` for the rules), and sampled
at the end of each bucket (the last one at the range's end). A conversation that did not
change since then kept its current state all along.

Unassigned means no team and no teammate, so under a team or teammate filter the queue is
empty by definition; channel and tag filters narrow the conversations replayed.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import orjson

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.definitions import Metric
from intercom_sync.metrics.dialect import for_store
from intercom_sync.metrics.durations import (
    Bucket,
    Span,
    bucket_range,
    chart_bucket,
    iso_ms,
    next_bucket,
)
from intercom_sync.metrics.scope import CONVERSATION, entity_conditions
from intercom_sync.metrics.view import Filters, View

STATE_CHANGE = "intercom_conversation_state_change"
DEFAULT_WINDOW_MS = 30 * 86_400_000
_OPENS = frozenset({"created", "reopened", "unsnoozed", "opened"})
_LEAVES_OPEN = frozenset({"closed", "snoozed"})
_NOBODY = (None, "", "0")
_BATCH = 500
NO_ASSIGNEE_FILTER = (
    "Unassigned conversations have no team and no teammate, so a team or teammate filter "
    "leaves none."
)


def queue_points(bucket: Bucket, start_ms: int, end_ms: int) -> tuple[list[int], list[int]]:
    """Bucket starts in [start, end) and the moment each is sampled: its end, or `end`."""
    starts = bucket_range(start_ms, end_ms - 1, bucket)
    return starts, [min(next_bucket(b, bucket), end_ms) for b in starts]


Event = tuple[int, str, Any, Any, Any]  # (at ms, transition, assignedToId, assignedToType, source)


def in_queue_spans(events: Iterable[Event]) -> list[tuple[int, int | None]]:
    """Spans [enter, leave) in which one conversation was open and unassigned (no admin,
    no team — as `_waiting_now` reads the current state).

    `events` are (occurred_at ms, transition, assignedToId, assignedToType, source) in time
    order. A conversation is created open and unassigned; a part assigning a team or an
    admin sets that assignee, one assigning nobody clears the admin (the team stays);
    an assignment known only from statistics assigns it; `closed`/`snoozed` take it out of
    the open queue and `reopened`/`unsnoozed` put it back (keeping its assignees).
    """
    spans: list[tuple[int, int | None]] = []
    is_open = False
    admin: Any = None
    team: Any = None
    entered: int | None = None
    for at, transition, assigned_to, assigned_type, source in events:
        if transition == "created":
            is_open, admin, team = True, None, None
        elif transition in _OPENS:
            is_open = True
        elif transition in _LEAVES_OPEN:
            is_open = False
        elif transition == "assigned":
            admin, team = _assignees(admin, team, assigned_to, assigned_type, source)
        else:
            continue
        waiting = is_open and admin is None and team is None
        if waiting and entered is None:
            entered = at
        elif not waiting and entered is not None:
            spans.append((entered, at))
            entered = None
    if entered is not None:
        spans.append((entered, None))
    return spans


def _assignees(admin: Any, team: Any, to: Any, to_type: Any, source: Any) -> tuple[Any, Any]:
    if source != "parts":
        return "assigned", team
    if to in _NOBODY:
        return None, team
    if to_type == "team":
        return admin, to
    return to, team


def count_at(spans: Iterable[tuple[int, int | None]], points: list[int]) -> list[int]:
    """How many spans hold each point, where a span [a, b) holds T when a < T ≤ b.

    A point T counts the state after every event that happened strictly before T.
    """
    diff = [0] * (len(points) + 1)
    for enter, leave in spans:
        first = bisect_right(points, enter)
        last = len(points) if leave is None else bisect_right(points, leave)
        if first < last:
            diff[first] += 1
            diff[last] -= 1
    out, running = [], 0
    for step in diff[:-1]:
        running += step
        out.append(running)
    return out


def queue_depth(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    span = view.window(metric.window_ms or DEFAULT_WINDOW_MS) or Span(
        view.now_ms - DEFAULT_WINDOW_MS, view.now_ms
    )
    bucket = chart_bucket(metric.bucket or "day", span)
    starts, points = queue_points(bucket, span.start_ms, span.end_ms)
    body: dict[str, Any] = {
        "bucket": bucket,
        "x": [iso_ms(b) for b in starts],
        # a level sampled at each bucket's end: only a last one sampled early is partial
        "partial": [p < next_bucket(b, bucket) for b, p in zip(starts, points, strict=True)],
        "window": {"start": iso_ms(span.start_ms), "end": iso_ms(span.end_ms)},
    }
    if view.filters.team or view.filters.admin:
        series = [{"name": "open & unassigned", "y": [0] * len(starts)}]
        return body | {"series": series, "empty": NO_ASSIGNEE_FILTER}
    spans, changed = _REPLAYS.spans(store, metric.connector, starts[0], view.filters)
    # A conversation with no state change since the first bucket began kept its current
    # state all along: if it is open and unassigned now, it was waiting at every point.
    steady = len(_waiting_now(store, metric.connector, view.filters) - changed)
    counts = count_at(spans, points)
    return body | {"series": [{"name": "open & unassigned", "y": [c + steady for c in counts]}]}


Spans = list[tuple[int, int | None]]


class _ReplayCache:
    """Replays are the expensive part (every event of every conversation that changed in
    the window); they are reused while a cheap fingerprint of those events is unchanged:
    the count and newest time of state changes since the start, and the sync runs (a full
    pass that soft-deletes conversations finishes a run)."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[Spans, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def spans(
        self, store: Any, connector: str, start_ms: int, filters: Filters
    ) -> tuple[Spans, frozenset[str]]:
        fingerprint = _fingerprint(store, connector, start_ms)
        key = (store.url, connector, start_ms, filters, *fingerprint)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        histories = _active_histories(store, connector, start_ms, filters)
        value = (
            [span for events in histories.values() for span in in_queue_spans(events)],
            frozenset(histories),
        )
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _fingerprint(store: Any, connector: str, start_ms: int) -> tuple[Any, ...]:
    changes = store.query(
        "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE connector = ? AND event_type = ? "
        "AND occurred_at >= ?",
        [connector, STATE_CHANGE, start_ms],
    )[0]
    runs = store.query("SELECT COUNT(*), MAX(started_at), MAX(finished_at) FROM _sync_runs")[0]
    return (*changes, *runs)


_REPLAYS = _ReplayCache()


def _active_histories(
    store: Any, connector: str, start_ms: int, filters: Filters
) -> dict[str, list[Event]]:
    """The full, time-ordered history of every live conversation (matching the filters)
    that changed since start.

    Histories are read by conversation id in batches, so the plan walks the events'
    (entity_type, entity_id) index whatever statistics the database has.
    """
    changed = store.query(
        "SELECT DISTINCT entity_id FROM events WHERE connector = ? AND event_type = ? "
        "AND occurred_at >= ?",
        [connector, STATE_CHANGE, start_ms],
    )
    ids = [str(r[0]) for r in changed]
    values = for_store(store.dialect).json_values(
        ("transition", "assignedToId", "assignedToType", "source"), "ev"
    )
    histories: dict[str, list[Event]] = {}
    for i in range(0, len(ids), _BATCH):
        chunk = ids[i : i + _BATCH]
        marks = ", ".join("?" * len(chunk))
        live = _live_conversations(store, connector, chunk, marks, filters)
        rows = store.query(
            f"SELECT ev.entity_id, ev.connector, ev.event_type, ev.occurred_at, {values} "  # noqa: S608
            f"FROM events ev WHERE ev.entity_type = ? AND ev.entity_id IN ({marks})",
            [CONVERSATION, *chunk],
        )
        for cid, conn, event_type, at, packed in rows:
            if cid in live and conn == connector and event_type == STATE_CHANGE:
                transition, assigned_to, assigned_type, source = (
                    packed if isinstance(packed, list) else orjson.loads(packed)
                )
                if assigned_to is not None:
                    assigned_to = str(assigned_to)
                histories.setdefault(cid, []).append(
                    (int(at), transition, assigned_to, assigned_type, source)
                )
    for events in histories.values():
        events.sort(key=_event_order)
    return histories


def _live_conversations(
    store: Any, connector: str, ids: list[str], marks: str, filters: Filters
) -> set[str]:
    conds, params = entity_conditions(CONVERSATION, filters, for_store(store.dialect), "s")
    extra = "".join(f" AND {c}" for c in conds)
    rows = store.query(
        "SELECT s.entity_id FROM entities s WHERE s.connector = ? AND s.entity_type = ? "  # noqa: S608
        f"AND s.entity_id IN ({marks}) AND s.deleted_at IS NULL{extra}",
        [connector, CONVERSATION, *ids, *params],
    )
    return {str(r[0]) for r in rows}


def _event_order(event: Event) -> tuple[int, int]:
    """Time order; at the same instant, creation comes first."""
    return event[0], 0 if event[1] == "created" else 1


def _waiting_now(store: Any, connector: str, filters: Filters) -> set[str]:
    """Live conversations (matching the filters) open and unassigned right now."""
    d = for_store(store.dialect)
    state, admin, team = (
        d.field(Field(k, "text")) for k in ("state", "adminAssigneeId", "teamAssigneeId")
    )
    conds, params = entity_conditions(CONVERSATION, filters, d, "s")
    extra = "".join(f" AND {c}" for c in conds)
    rows = store.query(
        "SELECT s.entity_id FROM entities s WHERE s.connector = ? AND s.entity_type = ? "  # noqa: S608
        f"AND s.deleted_at IS NULL AND {state} = ? AND {admin} IS NULL AND {team} IS NULL{extra}",
        [connector, CONVERSATION, "open", *params],
    )
    return {str(r[0]) for r in rows}
