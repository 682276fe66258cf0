"""Derived metrics: what one aggregate over one shape cannot express.

* `unassigned_queue_depth` — how many conversations were open and unassigned at the
  end of each bucket, replayed from the `intercom_conversation_state_change` events.
* `parts_gaps` — conversations whose stored parts are fewer than the statistics say.
* `stream_freshness` — per stream, the last sync and the last run's outcome.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from intercom_sync.metrics import freshness
from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.definitions import Metric
from intercom_sync.metrics.dialect import for_store
from intercom_sync.metrics.durations import Bucket, bucket_range, iso_ms, next_bucket

CONVERSATION = "intercom_conversation"
STATE_CHANGE = "intercom_conversation_state_change"
DEFAULT_WINDOW_MS = 30 * 86_400_000
_OPENS = frozenset({"created", "reopened", "unsnoozed", "opened"})
_LEAVES_OPEN = frozenset({"closed", "snoozed"})
_NOBODY = (None, "", "0")

Computation = Callable[[Any, Metric, int, int], dict[str, Any]]


def compute(store: Any, metric: Metric, now_ms: int, limit: int) -> dict[str, Any]:
    """The widget body of a derived metric (the same shape as its kind's body)."""
    return _REGISTRY[metric.selected](store, metric, now_ms, limit)


# -- unassigned queue depth ------------------------------------------------------------------


def queue_points(bucket: Bucket, start_ms: int, now_ms: int) -> tuple[list[int], list[int]]:
    """Bucket starts in [start, now) and the moment each is sampled: its end, or now."""
    starts = bucket_range(start_ms, now_ms - 1, bucket)
    return starts, [min(next_bucket(b, bucket), now_ms) for b in starts]


def in_queue_spans(events: Iterable[tuple[int, str, Any, Any]]) -> list[tuple[int, int | None]]:
    """Spans [enter, leave) in which one conversation was open and unassigned.

    `events` are (occurred_at ms, transition, assignedToId, source) in time order. A
    conversation is created open and unassigned; `assigned` assigns it unless the part
    assigned it to nobody; `closed`/`snoozed` take it out of the open queue and
    `reopened` puts it back (keeping its assignee).
    """
    spans: list[tuple[int, int | None]] = []
    is_open = assigned = False
    entered: int | None = None
    for at, transition, assigned_to, source in events:
        if transition == "created":
            is_open, assigned = True, False
        elif transition in _OPENS:
            is_open = True
        elif transition in _LEAVES_OPEN:
            is_open = False
        elif transition == "assigned":
            assigned = not (source == "parts" and assigned_to in _NOBODY)
        else:
            continue
        waiting = is_open and not assigned
        if waiting and entered is None:
            entered = at
        elif not waiting and entered is not None:
            spans.append((entered, at))
            entered = None
    if entered is not None:
        spans.append((entered, None))
    return spans


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


def _queue_depth(store: Any, metric: Metric, now_ms: int, limit: int) -> dict[str, Any]:
    bucket: Bucket = metric.bucket or "day"
    start = now_ms - (metric.window_ms or DEFAULT_WINDOW_MS)
    starts, points = queue_points(bucket, start, now_ms)
    counts = count_at(_replayed_spans(store, metric.connector, start), points)
    steady = _steady_waiting(store, metric.connector, start)
    return {
        "bucket": bucket,
        "x": [iso_ms(b) for b in starts],
        "series": [{"name": "open & unassigned", "y": [c + steady for c in counts]}],
    }


def _active_ids_sql() -> str:
    """Live conversations with any state change since the window start."""
    return (
        "SELECT DISTINCT a.entity_id FROM events a WHERE a.connector = ? AND a.event_type = ? "
        "AND a.occurred_at >= ? AND a.entity_type = ? AND EXISTS (SELECT 1 FROM entities e "
        "WHERE e.connector = a.connector AND e.entity_type = a.entity_type "
        "AND e.entity_id = a.entity_id AND e.deleted_at IS NULL)"
    )


def _replayed_spans(store: Any, connector: str, start_ms: int) -> list[tuple[int, int | None]]:
    """Replay the full history of every conversation that changed since the window start."""
    d = for_store(store.dialect)
    cols = ", ".join(
        d.field(Field(k, "text"), alias="ev") for k in ("transition", "assignedToId", "source")
    )
    rows = store.query(
        f"SELECT ev.entity_id, ev.occurred_at, {cols} FROM events ev "  # noqa: S608
        "WHERE ev.connector = ? AND ev.event_type = ? AND ev.entity_type = ? "
        f"AND ev.entity_id IN ({_active_ids_sql()})",
        [connector, STATE_CHANGE, CONVERSATION, connector, STATE_CHANGE, start_ms, CONVERSATION],
    )
    by_conversation: dict[str, list[tuple[int, str, Any, Any]]] = {}
    for cid, at, transition, assigned_to, source in rows:
        by_conversation.setdefault(cid, []).append((int(at), transition, assigned_to, source))
    spans: list[tuple[int, int | None]] = []
    for events in by_conversation.values():
        events.sort(key=_event_order)
        spans += in_queue_spans(events)
    return spans


def _event_order(event: tuple[int, str, Any, Any]) -> tuple[int, int]:
    """Time order; at the same instant, creation comes first."""
    return event[0], 0 if event[1] == "created" else 1


def _steady_waiting(store: Any, connector: str, start_ms: int) -> int:
    """Conversations open and unassigned now that have not changed since the window start."""
    d = for_store(store.dialect)
    state, admin, team = (
        d.field(Field(k, "text")) for k in ("state", "adminAssigneeId", "teamAssigneeId")
    )
    rows = store.query(
        f"SELECT COUNT(*) FROM entities s WHERE s.connector = ? AND s.entity_type = ? "  # noqa: S608
        f"AND s.deleted_at IS NULL AND {state} = ? AND {admin} IS NULL AND {team} IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM events a WHERE a.connector = s.connector "
        "AND a.event_type = ? AND a.entity_type = s.entity_type AND a.entity_id = s.entity_id "
        "AND a.occurred_at >= ?)",
        [connector, CONVERSATION, "open", STATE_CHANGE, start_ms],
    )
    return int(rows[0][0])


# -- data quality ----------------------------------------------------------------------------


def _parts_gaps(store: Any, metric: Metric, now_ms: int, limit: int) -> dict[str, Any]:
    rows = store.query("SELECT COUNT(*), SUM(missing) FROM _parts_gaps")
    count, missing = rows[0]
    return {
        "values": [
            {"label": "conversations with incomplete parts", "value": int(count or 0)},
            {"label": "parts missing", "value": int(missing or 0)},
        ]
    }


def _stream_freshness(store: Any, metric: Metric, now_ms: int, limit: int) -> dict[str, Any]:
    streams = freshness.stream_freshness(store, now_ms)[:limit]
    columns = ["stream", "last synced", "age (min)", "last run", "records"]
    rows = [
        [
            s["stream"],
            s["last_synced"],
            s["age_minutes"],
            s["last_run_status"],
            s["last_run_records"],
        ]
        for s in streams
    ]
    return {"columns": columns, "rows": rows}


_REGISTRY: dict[str, Computation] = {
    "unassigned_queue_depth": _queue_depth,
    "parts_gaps": _parts_gaps,
    "stream_freshness": _stream_freshness,
}
