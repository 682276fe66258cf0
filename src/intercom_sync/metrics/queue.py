"""Unassigned queue depth: how many conversations were open with nobody on them, over time.

The sync writes, with every conversation's state-change events, when it entered and left
the queue (`store.queue_spans`: open, with no team and no teammate). The depth at a
moment T is then two counts over an index: entries before T minus exits before T, among
the live conversations that match the view's filters. Sampled at the end of each bucket
(the last at the range's end).

Unassigned means no team and no teammate, so under a team or teammate filter the queue is
empty by definition; channel and tag filters narrow the conversations counted.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.definitions import Metric
from intercom_sync.metrics.durations import (
    Bucket,
    Span,
    bucket_range,
    chart_bucket,
    iso_ms,
    next_bucket,
)
from intercom_sync.metrics.scope import CONVERSATION, live_owners
from intercom_sync.metrics.view import View
from intercom_sync.store.queue_spans import QUEUE_ENTERED, QUEUE_LEFT
from intercom_sync.store.sql import Dialect, for_store

STATE_CHANGE = "intercom_conversation_state_change"
DEFAULT_WINDOW_MS = 30 * 86_400_000
NO_ASSIGNEE_FILTER = (
    "Unassigned conversations have no team and no teammate, so a team or teammate filter "
    "leaves none."
)
_TRANSITION = Field("transition", "text")
_AT = Field("occurred_at", "time", column=True)


def queue_points(bucket: Bucket, start_ms: int, end_ms: int) -> tuple[list[int], list[int]]:
    """Bucket starts in [start, end) and the moment each is sampled: its end, or `end`."""
    starts = bucket_range(start_ms, end_ms - 1, bucket)
    return starts, [min(next_bucket(b, bucket), end_ms) for b in starts]


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
    depth = _depths(store, metric.connector, view, bucket, starts, span.end_ms)
    return body | {"series": [{"name": "open & unassigned", "y": depth}]}


def _depths(
    store: Any, connector: str, view: View, bucket: Bucket, starts: list[int], end_ms: int
) -> list[int]:
    """Entries minus exits strictly before each bucket's sampling moment."""
    d = for_store(store.dialect)
    base = 0
    per_bucket = dict.fromkeys(starts, 0)
    for transition, sign in ((QUEUE_ENTERED, 1), (QUEUE_LEFT, -1)):
        where, params = _where(d, connector, view, transition)
        before = store.query(
            f"SELECT COUNT(*) FROM events s WHERE {where} AND s.occurred_at < ?",  # noqa: S608
            [*params, starts[0]],
        )
        base += sign * int(before[0][0] or 0)
        rows = store.query(
            f"SELECT {d.bucket(d.field(_AT), bucket)}, COUNT(*) FROM events s "  # noqa: S608
            f"WHERE {where} AND s.occurred_at >= ? AND s.occurred_at < ? GROUP BY 1",
            [*params, starts[0], end_ms],
        )
        for start, n in rows:
            per_bucket[int(start)] += sign * int(n)
    out, running = [], base
    for start in starts:
        running += per_bucket[start]
        out.append(running)
    return out


def _where(d: Dialect, connector: str, view: View, transition: str) -> tuple[str, list[Any]]:
    owned, owned_params = live_owners(connector, CONVERSATION, view.filters, d, "s")
    where = f"s.connector = ? AND s.event_type = ? AND {d.field(_TRANSITION)} = ? AND {owned}"
    return where, [connector, STATE_CHANGE, transition, *owned_params]
