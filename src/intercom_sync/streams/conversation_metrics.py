"""Per-conversation metrics, as dbt_intercom's `intercom__conversation_metrics` defines them.

From parts (facts of the dbt definitions, re-expressed here):

* first/last_contact_reply_at — comments by a `user` or `lead`
* first/last_assignment_at, count_assignments — parts whose part_type contains "assignment"
* first/last_admin_response_at — a `comment` or `assignment` by an `admin` with a body
* first/last_close_at — `close` parts by ANY author (admins, bots, workflows, contacts);
  first/last_admin_close_at — `close` parts by an `admin`
* first/last_reopen_at, count_reopens — `open` parts
* time_to_first_assignment / first_response / last_assignment — from the conversation's
  `created_at`; time_to_first_close / last_close (any author) and time_to_admin_first_close
  / admin_last_close (admins only) — from first_contact_reply_at; all in minutes rounded to
  2 decimals. A close before the first contact reply therefore gives a NEGATIVE time, as
  the dbt model does; no contact reply gives no close time.

Who closed and which teams handled it ride on the rows of the moment they describe:
`first_close_at` / `last_close_at` carry `authorType` and `authorId` (dbt's
first/last_close_by_author_id), `first_admin_close_at` / `last_admin_close_at` carry
`authorId` (first/last_close_by_admin_id), and `first_team_assignment_at` /
`last_team_assignment_at` — the first and last part assigning a team — carry `teamId`
(dbt's first/last_team_id).

A conversation without stored parts gets NO rows: dbt's definitions need parts, and
Intercom's `statistics` (kept in the raw `conversations` table) mean something else, so
they are never written under these names.

Rows: (connector, metric, "intercom_conversation", cid, ts_ms, value, attributes_json);
ts is the conversation's creation (Unix ms). Timestamp metrics (`*_at`) are valued in Unix
ms like every other time in the shape tables; durations in minutes; counts as counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.store.schema import CONVERSATION_MOMENTS, PART_MOMENTS
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
    "time_to_admin_first_close_minutes": ("first_contact_reply_at", "first_admin_close_at"),
    "time_to_first_close_minutes": ("first_contact_reply_at", "first_close_at"),
    "time_to_last_assignment_minutes": ("created_at", "last_assignment_at"),
    "time_to_admin_last_close_minutes": ("first_contact_reply_at", "last_admin_close_at"),
    "time_to_last_close_minutes": ("first_contact_reply_at", "last_close_at"),
}

# Metrics valued as a point in time (Unix ms in the rows, seconds while computing).
TIMESTAMP_METRICS = frozenset(CONVERSATION_MOMENTS)


@dataclass
class PartFacts:
    """The dbt values of one conversation, and what single rows carry besides their value."""

    values: Values = field(default_factory=dict)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


def metric_scope(conversation_id: str, connector: str) -> tuple[str, str, str]:
    return (connector, CONVERSATION, conversation_id)


class _Span:
    """The first and last of a kind of part, and who or what each one names."""

    __slots__ = ("first", "first_extra", "last", "last_extra")

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None
        self.first_extra: dict[str, Any] = {}
        self.last_extra: dict[str, Any] = {}

    def see(self, at: int, extra: dict[str, Any] | None = None) -> None:
        # Views come oldest first, so the first one seen is the first and every later
        # one (at the same time too) becomes the last.
        if self.first is None:
            self.first, self.first_extra = at, extra or {}
        self.last, self.last_extra = at, extra or {}

    def into(self, name: str, facts: PartFacts) -> None:
        if self.first is None or self.last is None:
            return
        facts.values[f"first_{name}_at"] = self.first
        facts.values[f"last_{name}_at"] = self.last
        if self.first_extra:
            facts.extra[f"first_{name}_at"] = self.first_extra
        if self.last_extra:
            facts.extra[f"last_{name}_at"] = self.last_extra


def facts_from_views(views: list[PartView]) -> PartFacts:
    """The dbt timestamps (Unix seconds), counts and closers of parts read by `part_views`."""
    spans = {name: _Span() for name in PART_MOMENTS}
    count_assignments = count_reopens = 0
    for view in views:
        at = view.created_at
        if view.is_assignment:
            count_assignments += 1
        if view.part_type == "open":
            count_reopens += 1
        if at is None:
            continue
        if view.is_assignment:
            spans["assignment"].see(at)
        if view.part_type == "open":
            spans["reopen"].see(at)
        if view.is_contact_comment:
            spans["contact_reply"].see(at)
        if view.is_admin_response:
            spans["admin_response"].see(at)
        if view.part_type == "close":
            spans["close"].see(at, {"authorType": view.author_type, "authorId": view.author_id})
            if view.author_type == "admin":
                spans["admin_close"].see(at, {"authorId": view.author_id})
        if view.assigned_to_type == "team":
            spans["team_assignment"].see(at, {"teamId": view.assigned_to_id})
    facts = PartFacts(
        {
            "count_assignments": count_assignments,
            "count_reopens": count_reopens,
            "count_parts": len(views),
        }
    )
    for name, span in spans.items():
        span.into(name, facts)
    return facts


def parts_metric_values(parts: Iterable[Record]) -> Values:
    """The dbt timestamps (Unix seconds) and counts of one conversation's parts."""
    return facts_from_views(part_views(parts)).values


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
    """Metric rows of one conversation, sorted by metric name; none without stored parts or
    without a creation time."""
    return metrics_from_views(conversation, part_views(parts or ()) or None, connector=connector)


def metrics_from_views(
    conversation: Record, views: list[PartView] | None, *, connector: str
) -> list[Row]:
    """`conversation_metrics` for parts already read by `part_views` (None: no parts)."""
    created_at = conversation.get("created_at")
    if created_at.__class__ is not int or not views:
        return []
    facts = facts_from_views(views)
    add_durations(facts.values, created_at)
    cid = str(conversation["id"])
    shared = _attributes(conversation)
    ts = created_at * 1000
    return [
        (
            connector,
            metric,
            CONVERSATION,
            cid,
            ts,
            float(value * 1000 if metric in TIMESTAMP_METRICS else value),
            _with(shared, facts.extra.get(metric)),
        )
        for metric, value in sorted(facts.values.items())
    ]


def _attributes(conversation: Record) -> str:
    source_block = conversation.get("source")
    return json_text(
        {
            "state": conversation.get("state"),
            "channel": source_block.get("type") if source_block.__class__ is dict else None,
            "adminAssigneeId": id_or_none(conversation.get("admin_assignee_id")),
            "teamAssigneeId": id_or_none(conversation.get("team_assignee_id")),
            "source": "parts",
        }
    )


def _with(shared: str, extra: dict[str, Any] | None) -> str:
    """The shared attributes' JSON text with a row's own members appended."""
    if not extra:
        return shared
    return f"{shared[:-1]},{json_text(extra)[1:]}"
