"""Per-conversation metrics, as the dbt model `intercom__conversation_metrics` defines them.

From parts (facts of the dbt definitions, re-expressed here):

* first/last_contact_reply_at — comments by a `user` or `lead`
* first/last_assignment_at, count_assignments — parts whose part_type contains "assignment"
* first_admin_response_at — a `comment` or `assignment` by an `admin` with a body
* first/last_close_at — `close` parts by an `admin`
* first/last_reopen_at, count_reopens — `open` parts
* time_to_first_assignment / first_response / last_assignment — from the conversation's
  `created_at`; time_to_first_close / last_close — from first_contact_reply_at; all in
  minutes rounded to 2 decimals. A close before the first contact reply therefore gives a
  NEGATIVE time, exactly as the dbt model does; no contact reply gives no close time.

Without parts the `statistics` block stands in (source "statistics").

Rows: (connector, metric, "intercom_conversation", cid, ts_ms, value, attributes_json);
ts is the conversation's creation (Unix ms). Timestamp metrics (`*_at`) are valued in Unix
ms like every other time in the shape tables; durations in minutes; counts as counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from intercom_sync.streams.events import (
    CONVERSATION,
    PartView,
    id_or_none,
    json_text,
    part_views,
)

Record = dict[str, Any]
Row = tuple[Any, ...]
Values = dict[str, int | float]

# metric → (from, to): minutes between two timestamps (the conversation's created_at is
# "created_at").
DURATIONS: dict[str, tuple[str, str]] = {
    "time_to_first_assignment_minutes": ("created_at", "first_assignment_at"),
    "time_to_first_response_minutes": ("created_at", "first_admin_response_at"),
    "time_to_first_close_minutes": ("first_contact_reply_at", "first_close_at"),
    "time_to_last_close_minutes": ("first_contact_reply_at", "last_close_at"),
    "time_to_last_assignment_minutes": ("created_at", "last_assignment_at"),
}

# statistics field → metric it stands in for
_STATISTICS_TIMES = {
    "first_contact_reply_at": "first_contact_reply_at",
    "last_contact_reply_at": "last_contact_reply_at",
    "first_assignment_at": "first_assignment_at",
    "last_assignment_at": "last_assignment_at",
    "first_admin_reply_at": "first_admin_response_at",
    "first_close_at": "first_close_at",
    "last_close_at": "last_close_at",
}
_STATISTICS_COUNTS = {
    "count_reopens": "count_reopens",
    "count_assignments": "count_assignments",
    "count_conversation_parts": "count_parts",
}
_STATISTICS_FIELDS = (*_STATISTICS_TIMES.items(), *_STATISTICS_COUNTS.items())


# Metrics valued as a point in time (Unix ms in the rows, seconds while computing).
TIMESTAMP_METRICS = frozenset(
    {
        *_STATISTICS_TIMES.values(),
        "first_reopen_at",
        "last_reopen_at",
    }
)


def metric_scope(conversation_id: str, connector: str) -> tuple[str, str, str]:
    return (connector, CONVERSATION, conversation_id)


def _span(name: str, times: list[int], into: Values) -> None:
    """first_/last_<name>_at from a list of timestamps (nothing when empty)."""
    if times:
        into[f"first_{name}_at"] = min(times)
        into[f"last_{name}_at"] = max(times)


def metric_values_from_views(views: list[PartView]) -> Values:
    """The dbt timestamps (Unix seconds) and counts of parts read by `part_views`."""
    contact: list[int] = []
    assignments: list[int] = []
    responses: list[int] = []
    closes: list[int] = []
    reopens: list[int] = []
    count_assignments = count_reopens = 0
    for view in views:
        at = view.created_at
        if view.is_assignment:
            count_assignments += 1
            if at is not None:
                assignments.append(at)
        if view.part_type == "open":
            count_reopens += 1
            if at is not None:
                reopens.append(at)
        if at is None:
            continue
        if view.is_contact_comment:
            contact.append(at)
        if view.is_admin_response:
            responses.append(at)
        if view.part_type == "close" and view.author_type == "admin":
            closes.append(at)
    values: Values = {
        "count_assignments": count_assignments,
        "count_reopens": count_reopens,
        "count_parts": len(views),
    }
    _span("contact_reply", contact, values)
    _span("assignment", assignments, values)
    _span("close", closes, values)
    _span("reopen", reopens, values)
    if responses:
        values["first_admin_response_at"] = min(responses)
    return values


def parts_metric_values(parts: Iterable[Record]) -> Values:
    """The dbt timestamps (Unix seconds) and counts of one conversation's parts."""
    return metric_values_from_views(part_views(parts))


def statistics_metric_values(conversation: Record) -> Values:
    """The same metrics from the conversation's `statistics` block (no parts known)."""
    stats = conversation.get("statistics")
    if stats.__class__ is not dict:
        return {}
    values: Values = {}
    for field, metric in _STATISTICS_FIELDS:
        value = stats.get(field)
        if value.__class__ is int:
            values[metric] = value
    return values


def add_durations(values: Values, created_at: int) -> Values:
    """The dbt `time_to_*_minutes` (rounded to 2 decimals) where both ends are known."""
    times = {**values, "created_at": created_at}
    for metric, (start, end) in DURATIONS.items():
        if start in times and end in times:
            values[metric] = round((times[end] - times[start]) / 60, 2)
    return values


def conversation_metrics(
    conversation: Record, parts: list[Record] | None, *, connector: str
) -> list[Row]:
    """Metric rows of one conversation, sorted by metric name (from parts when there are
    any, else from statistics); none when the conversation has no creation time."""
    return metrics_from_views(conversation, part_views(parts or ()) or None, connector=connector)


def metrics_from_views(
    conversation: Record, views: list[PartView] | None, *, connector: str
) -> list[Row]:
    """`conversation_metrics` for parts already read by `part_views` (None: statistics)."""
    created_at = conversation.get("created_at")
    if created_at.__class__ is not int:
        return []
    if views:
        source, values = "parts", metric_values_from_views(views)
    else:
        source, values = "statistics", statistics_metric_values(conversation)
    add_durations(values, created_at)
    cid = str(conversation["id"])
    attributes = _attributes(conversation, source)
    ts = created_at * 1000
    return [
        (
            connector,
            metric,
            CONVERSATION,
            cid,
            ts,
            float(value * 1000 if metric in TIMESTAMP_METRICS else value),
            attributes,
        )
        for metric, value in sorted(values.items())
    ]


def _attributes(conversation: Record, source: str) -> str:
    source_block = conversation.get("source")
    return json_text(
        {
            "state": conversation.get("state"),
            "channel": source_block.get("type") if source_block.__class__ is dict else None,
            "adminAssigneeId": id_or_none(conversation.get("admin_assignee_id")),
            "teamAssigneeId": id_or_none(conversation.get("team_assignee_id")),
            "source": source,
        }
    )
