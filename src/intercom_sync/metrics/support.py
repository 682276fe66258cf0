"""The built-in support dashboard, written with the public model like any user dashboard.

Definitions (all times UTC). "The window" is the view's range — by default the 30 days
before as-of, half-open [as_of − 30d, as_of) — and every widget follows the view's
filters (team, teammate, channel, tag: see `scope.py`) unless its JSON says otherwise.
Deleted conversations count nowhere.

* conversations by state — open / snoozed / closed at the window's end, from the events.
* new conversations — conversations by `createdAt`: total (against the comparison
  period) and per day (per week past 62 days).
* unassigned queue depth — per bucket, conversations open with no team and no teammate at
  its end (replayed from the state-change events; see `queue.in_queue_spans`).
* time to first assignment / first response / first close / last close — median (p50) and
  p90 of dbt_intercom's `intercom__conversation_metrics` columns (minutes), for
  conversations created in the window, against the comparison period; first and last
  close count a close by ANY author (teammates, bots, workflows, the contact), as dbt's
  `time_to_first_close_minutes` does. Response and close time also as trends.
  Percentiles interpolate linearly (PostgreSQL `percentile_cont`, numpy's default).
* reopen rate — share of conversations created in the window whose parts hold an `open`
  part (dbt's `count_reopens` > 0).
* assignments — mean dbt `count_assignments` per conversation; `assigned` events per day.
* every part-based figure above (latencies, reopens, assignments) covers the conversations
  whose parts the store holds; those without are counted apart ("conversations without
  stored parts") and never mixed in.
* backlog — conversations open at the window's end by how long since they were created,
  and the oldest of them, each linking to Intercom's inbox.
* teammates — dbt's `intercom__admin_metrics` for the window (see `teammates.py`).
* volume by team / admin / tag / channel — conversations created in the window per
  current team assignee, admin assignee, tag and `channel` (source type); "(none)" for
  unassigned; and per contact segment (a conversation counts in each segment one of its
  contacts is in).
* CSAT — mean `rating` of conversations created in the window that have one; the
  response rate, rated ÷ closed; by team; how many got each rating 1–5.
* tickets — created per day (by `createdAt`) and resolved per day (state changes to
  `resolved`, from the ticket events); tickets not resolved at the window's end by state.
* data quality — conversations with incomplete parts (`_parts_gaps`), conversations
  without stored parts, and each stream's last sync and rows stored.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.definitions import Dashboard
from intercom_sync.metrics.model import Config, define_config, define_dashboard, define_metric

CONNECTOR = {"name": "intercom", "connectorId": "intercom"}
CONVERSATION = "intercom_conversation"
WINDOW = "30d"
_IN_WINDOW = "Conversations created in the window"
_PARTS = " that have stored parts"


def _conversations(**kw: Any) -> Any:
    return define_metric(connector=CONNECTOR, shape="entity", entity_type=CONVERSATION, **kw)


def _per_conversation(name: str, **kw: Any) -> Any:
    return define_metric(connector=CONNECTOR, shape="metric", name=name, **kw)


def _derived(name: str, **kw: Any) -> Any:
    return define_metric(connector=CONNECTOR, shape="derived", name=name, **kw)


def _latency(metric_name: str, title: str, description: str) -> dict[str, Any]:
    return {
        "kind": "stat",
        "title": title,
        "unit": "min",
        "compare": True,
        "better": "lower",
        "description": description,
        "metrics": {
            "median": _per_conversation(metric_name, fn="p50", field="value", window=WINDOW),
            "p90": _per_conversation(metric_name, fn="p90", field="value", window=WINDOW),
        },
    }


def _trend(metric_name: str, title: str, axis: str, description: str) -> dict[str, Any]:
    return {
        "kind": "timeseries",
        "title": title,
        "unit": "min",
        "axis": axis,
        "description": description,
        "metrics": {
            "median": _per_conversation(
                metric_name, fn="p50", field="value", group_by="day", window=WINDOW
            ),
            "p90": _per_conversation(
                metric_name, fn="p90", field="value", group_by="day", window=WINDOW
            ),
        },
    }


def _volume_by(field: str, title: str) -> dict[str, Any]:
    return {
        "kind": "distribution",
        "title": title,
        "description": f"{_IN_WINDOW}.",
        "limit": 15,
        "metric": _conversations(fn="count", group_by=field, window=WINDOW),
    }


_CLOSED = {"field": "state", "op": "eq", "value": "closed"}
_RATED = {"field": "rating", "op": "exists"}


def _headline() -> dict[str, Any]:
    return {
        "conversation_states": {
            "kind": "stat",
            "title": "Conversations by state",
            "description": "Every conversation, as it stood at the end of the window.",
            "metric": _derived("conversation_states"),
        },
        "new_conversations_total": {
            "kind": "stat",
            "title": "New conversations",
            "compare": True,
            "description": f"{_IN_WINDOW}.",
            "metric": _conversations(fn="count", window=WINDOW),
        },
        "reopen_rate": {
            "kind": "stat",
            "title": "Reopen rate",
            "unit": "%",
            "compare": True,
            "better": "lower",
            "description": f"{_IN_WINDOW}{_PARTS}: the share with an `open` part.",
            "metric": _per_conversation(
                "count_reopens",
                fn="count",
                window=WINDOW,
                filter=[{"field": "value", "op": "gt", "value": 0}],
            ),
            "denominator": _per_conversation("count_reopens", fn="count", window=WINDOW),
        },
        "csat_average": {
            "kind": "stat",
            "title": "CSAT average",
            "unit": "/ 5",
            "compare": True,
            "better": "higher",
            "description": f"{_IN_WINDOW} that were rated.",
            "metric": _conversations(fn="avg", field="rating", window=WINDOW),
        },
        "csat_response_rate": {
            "kind": "stat",
            "title": "CSAT response rate",
            "unit": "%",
            "compare": True,
            "better": "higher",
            "description": f"{_IN_WINDOW} and closed now: the share with a rating.",
            "metric": _conversations(fn="count", window=WINDOW, filter=[_CLOSED, _RATED]),
            "denominator": _conversations(fn="count", window=WINDOW, filter=[_CLOSED]),
        },
    }


def _latencies() -> dict[str, Any]:
    return {
        "time_to_first_assignment": _latency(
            "time_to_first_assignment_minutes",
            "Time to first assignment",
            f"{_IN_WINDOW}{_PARTS}: from creation to the first assignment part.",
        ),
        "time_to_first_response": _latency(
            "time_to_first_response_minutes",
            "Time to first response",
            f"{_IN_WINDOW}{_PARTS}: from creation to a teammate's first reply.",
        ),
        "time_to_first_close": _latency(
            "time_to_first_close_minutes",
            "Time to first close",
            f"{_IN_WINDOW}{_PARTS}: from the contact's first reply to the first close by "
            "anyone (teammate, bot, workflow or contact).",
        ),
        "time_to_last_close": _latency(
            "time_to_last_close_minutes",
            "Time to last close",
            f"{_IN_WINDOW}{_PARTS}: from the contact's first reply to the last close by anyone.",
        ),
        "assignments_per_conversation": {
            "kind": "stat",
            "title": "Assignments per conversation",
            "compare": True,
            "better": "lower",
            "description": f"{_IN_WINDOW}{_PARTS}: the mean number of assignment parts.",
            "metric": _per_conversation(
                "count_assignments", fn="avg", field="value", window=WINDOW
            ),
        },
    }


def _charts() -> dict[str, Any]:
    return {
        "new_conversations": {
            "kind": "timeseries",
            "title": "New conversations",
            "axis": "conversations per {bucket}",
            "description": f"{_IN_WINDOW}, by the day (or week) they were created.",
            "metric": _conversations(fn="count", group_by="day", window=WINDOW),
        },
        "unassigned_queue_depth": {
            "kind": "timeseries",
            "title": "Unassigned queue depth",
            "axis": "conversations waiting",
            "description": "Open conversations with no team and no teammate, at the end of "
            "each day (or week); the last point is the window's end.",
            "metric": _derived("unassigned_queue_depth", group_by="day", window=WINDOW),
        },
        "response_time_trend": _trend(
            "time_to_first_response_minutes",
            "First response time",
            "time to first response",
            f"{_IN_WINDOW}{_PARTS}, by the day (or week) they were created.",
        ),
        "close_time_trend": _trend(
            "time_to_last_close_minutes",
            "Close time",
            "time to last close",
            f"{_IN_WINDOW}{_PARTS}, by the day (or week) they were created: from the "
            "contact's first reply to the last close.",
        ),
        "assignments_per_day": {
            "kind": "timeseries",
            "title": "Assignments",
            "axis": "assignments per {bucket}",
            "description": "Assignment parts of live conversations, by when they happened.",
            "metric": define_metric(
                connector=CONNECTOR,
                shape="event",
                event_type="intercom_conversation_state_change",
                fn="count",
                group_by="day",
                window=WINDOW,
                filter=[{"field": "transition", "op": "eq", "value": "assigned"}],
            ),
        },
    }


def _backlog_and_people() -> dict[str, Any]:
    return {
        "backlog_age": {
            "kind": "distribution",
            "title": "Backlog by age",
            "sort": "label",
            "axis": "open conversations",
            "description": "Conversations open at the end of the window, by how long since "
            "they were created.",
            "metric": _derived("backlog_age"),
        },
        "oldest_open": {
            "kind": "table",
            "title": "Oldest open conversations",
            "limit": 10,
            "description": "Open at the end of the window; each opens in Intercom's inbox.",
            "metric": _derived("oldest_open"),
        },
        "teammates": {
            "kind": "table",
            "title": "Teammates",
            "limit": 25,
            "description": "dbt's admin metrics: closes, response and close times, CSAT, "
            "reopens and assignments are credited to the teammate who closed a conversation "
            "last (among conversations assigned to a teammate); handled and replies count "
            "their own comments. Conversations created in the window.",
            "metric": _derived("teammates", window=WINDOW),
        },
        "volume_by_team": _volume_by("teamAssigneeId", "Volume by team"),
        "volume_by_admin": _volume_by("adminAssigneeId", "Volume by teammate"),
        "volume_by_tag": _volume_by("tags", "Volume by tag"),
        "volume_by_channel": _volume_by("channel", "Volume by channel"),
        "volume_by_segment": {
            "kind": "distribution",
            "title": "Volume by contact segment",
            "description": f"{_IN_WINDOW}, per segment of the contacts they involve (one "
            "conversation counts in each of its contacts' segments).",
            "limit": 15,
            "metric": _derived("volume_by_segment", window=WINDOW),
        },
        "response_by_team": {
            "kind": "table",
            "title": "First response by team",
            "unit": "min",
            "limit": 15,
            "description": f"{_IN_WINDOW}{_PARTS} and a first response, by current team.",
            "metrics": {
                "conversations": _per_conversation(
                    "time_to_first_response_minutes",
                    fn="count",
                    group_by="teamAssigneeId",
                    window=WINDOW,
                ),
                "median": _per_conversation(
                    "time_to_first_response_minutes",
                    fn="p50",
                    field="value",
                    group_by="teamAssigneeId",
                    window=WINDOW,
                ),
                "p90": _per_conversation(
                    "time_to_first_response_minutes",
                    fn="p90",
                    field="value",
                    group_by="teamAssigneeId",
                    window=WINDOW,
                ),
            },
        },
    }


def _csat_tags_tickets() -> dict[str, Any]:
    return {
        "csat_by_team": {
            "kind": "table",
            "title": "CSAT by team",
            "unit": "/ 5",
            "limit": 15,
            "description": f"{_IN_WINDOW} that were rated, by current team.",
            "metrics": {
                "rated": _conversations(
                    fn="count", group_by="teamAssigneeId", window=WINDOW, filter=[_RATED]
                ),
                "average": _conversations(
                    fn="avg", field="rating", group_by="teamAssigneeId", window=WINDOW
                ),
            },
        },
        "tags_table": {
            "kind": "table",
            "title": "Tags",
            "limit": 15,
            "description": f"{_IN_WINDOW}; reopens are counted from parts.",
            "metric": _derived("tags_table", window=WINDOW),
        },
        "csat_distribution": {
            "kind": "distribution",
            "title": "CSAT ratings",
            "sort": "label",
            "description": f"{_IN_WINDOW}: how many got each rating.",
            "metric": _conversations(fn="count", group_by="rating", window=WINDOW, filter=[_RATED]),
        },
        "tickets_per_day": {
            "kind": "timeseries",
            "title": "Tickets created and resolved",
            "axis": "tickets per {bucket}",
            "description": "Tickets by the day (or week) they were created, and state changes "
            "to resolved by when they happened.",
            "metrics": {
                "created": define_metric(
                    connector=CONNECTOR,
                    shape="entity",
                    entity_type="intercom_ticket",
                    fn="count",
                    group_by="day",
                    window=WINDOW,
                ),
                "resolved": define_metric(
                    connector=CONNECTOR,
                    shape="event",
                    event_type="intercom_ticket_state_change",
                    fn="count",
                    group_by="day",
                    window=WINDOW,
                    filter=[
                        {"field": "transition", "op": "eq", "value": "state_changed"},
                        {"field": "state", "op": "eq", "value": "resolved"},
                    ],
                ),
            },
        },
        "ticket_states": {
            "kind": "distribution",
            "title": "Open tickets by state",
            "axis": "tickets",
            "description": "Tickets not resolved at the end of the window.",
            "metric": _derived("ticket_states"),
        },
    }


def _quality() -> dict[str, Any]:
    return {
        "conversations_without_parts": {
            "kind": "stat",
            "title": "Data quality: conversations without stored parts",
            "description": "Left out of response and close times, reopens and assignments "
            "(those need parts). Conversations created in the window.",
            "metric": _derived("conversations_without_parts", window=WINDOW),
        },
        "parts_gaps": {
            "kind": "stat",
            "title": "Data quality: incomplete parts",
            "description": "Conversations whose history runs past the 500 parts the API "
            "returns (created in the range, when one is chosen).",
            "metric": _derived("parts_gaps"),
        },
        "stream_freshness": {
            "kind": "table",
            "title": "Data quality: stream freshness",
            "limit": 50,
            "description": "The whole store (not filtered): when each stream last synced, "
            "the last run's outcome, the rows it holds, and its last check against "
            "Intercom's own counts (by a sync or `intercom-sync verify`).",
            "metric": _derived("stream_freshness"),
        },
    }


def _widgets() -> dict[str, Any]:
    return {
        **_headline(),
        **_latencies(),
        **_charts(),
        **_backlog_and_people(),
        **_csat_tags_tickets(),
        **_quality(),
    }


def support_config() -> Config:
    return define_config(
        connectors=[CONNECTOR],
        dashboards={"support": define_dashboard(title="Support", widgets=_widgets())},
    )


def support_dashboard() -> Dashboard:
    return support_config().dashboards["support"]
