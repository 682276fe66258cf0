"""The built-in support dashboard, written with the public model like any user dashboard.

Definitions (all times UTC; "30d" = the 30 days before `now`, half-open [now−30d, now)):

* open / snoozed / closed — live conversation entities in each state now.
* new conversations — conversations by `createdAt`, per day over 30d; and the 7d total
  against the 7 days before.
* unassigned queue depth — per day over 30d, conversations open and unassigned at the end
  of the day (replayed from the state-change events; see `derived.in_queue_spans`).
* time to first assignment / first response / first close / last close — median (p50)
  and p90 of the per-conversation `metrics` rows (the dbt `intercom__conversation_metrics`
  definitions, minutes), for conversations created in the last 30d, against the 30d before.
  Percentiles interpolate linearly (PostgreSQL `percentile_cont`, numpy's default).
* reopen rate — share of conversations created in 30d whose `count_reopens` > 0.
* assignments — mean `count_assignments` per conversation created in 30d; and
  `assigned` state changes per day.
* volume by team / admin / tag / channel — conversations created in 30d per assignee team,
  assignee admin, tag name and `channel` (source type); unassigned shows as "(none)".
* CSAT — mean `rating` of conversations created in 30d that have one, and how many got
  each rating 1–5.
* data quality — conversations with incomplete parts (`_parts_gaps`) and each stream's
  last sync (`_sync_state`, `_sync_runs`).
"""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.definitions import Dashboard
from intercom_sync.metrics.model import Config, define_config, define_dashboard, define_metric
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store.base import Store

CONNECTOR = {"name": "intercom", "connectorId": "intercom"}
CONVERSATION = "intercom_conversation"
WINDOW = "30d"


def _conversations(**kw: Any) -> Any:
    return define_metric(connector=CONNECTOR, shape="entity", entity_type=CONVERSATION, **kw)


def _per_conversation(name: str, **kw: Any) -> Any:
    return define_metric(connector=CONNECTOR, shape="metric", name=name, **kw)


def _state_now(state: str, title: str) -> dict[str, Any]:
    return {
        "kind": "stat",
        "title": title,
        "metric": _conversations(
            fn="count", filter=[{"field": "state", "op": "eq", "value": state}]
        ),
    }


def _latency(metric_name: str, title: str) -> dict[str, Any]:
    return {
        "kind": "stat",
        "title": title,
        "unit": "min",
        "compare": True,
        "description": "Conversations created in the last 30 days, against the 30 days before.",
        "metrics": {
            "median": _per_conversation(metric_name, fn="p50", field="value", window=WINDOW),
            "p90": _per_conversation(metric_name, fn="p90", field="value", window=WINDOW),
        },
    }


def _volume_by(field: str, title: str) -> dict[str, Any]:
    return {
        "kind": "distribution",
        "title": title,
        "description": "Conversations created in the last 30 days.",
        "limit": 15,
        "metric": _conversations(fn="count", group_by=field, window=WINDOW),
    }


def _widgets() -> dict[str, Any]:
    return {
        "open_conversations": _state_now("open", "Open conversations"),
        "snoozed_conversations": _state_now("snoozed", "Snoozed conversations"),
        "closed_conversations": _state_now("closed", "Closed conversations"),
        "new_conversations_7d": {
            "kind": "stat",
            "title": "New conversations (7 days)",
            "compare": True,
            "metric": _conversations(fn="count", window="7d"),
        },
        "new_conversations": {
            "kind": "timeseries",
            "title": "New conversations per day",
            "metric": _conversations(fn="count", group_by="day", window=WINDOW),
        },
        "unassigned_queue_depth": {
            "kind": "timeseries",
            "title": "Unassigned queue depth (end of day)",
            "metric": define_metric(
                connector=CONNECTOR,
                shape="derived",
                name="unassigned_queue_depth",
                group_by="day",
                window=WINDOW,
            ),
        },
        "time_to_first_assignment": _latency(
            "time_to_first_assignment_minutes", "Time to first assignment"
        ),
        "time_to_first_response": _latency(
            "time_to_first_response_minutes", "Time to first response"
        ),
        "time_to_first_close": _latency("time_to_first_close_minutes", "Time to first close"),
        "time_to_last_close": _latency("time_to_last_close_minutes", "Time to last close"),
        "reopen_rate": {
            "kind": "stat",
            "title": "Reopen rate",
            "unit": "%",
            "compare": True,
            "metric": _per_conversation(
                "count_reopens",
                fn="count",
                window=WINDOW,
                filter=[{"field": "value", "op": "gt", "value": 0}],
            ),
            "denominator": _per_conversation("count_reopens", fn="count", window=WINDOW),
        },
        "assignments_per_conversation": {
            "kind": "stat",
            "title": "Assignments per conversation",
            "compare": True,
            "metric": _per_conversation(
                "count_assignments", fn="avg", field="value", window=WINDOW
            ),
        },
        "assignments_per_day": {
            "kind": "timeseries",
            "title": "Assignments per day",
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
        "volume_by_team": _volume_by("teamAssigneeId", "Volume by team"),
        "volume_by_admin": _volume_by("adminAssigneeId", "Volume by admin"),
        "volume_by_tag": _volume_by("tags", "Volume by tag"),
        "volume_by_channel": _volume_by("channel", "Volume by channel"),
        "response_by_team": {
            "kind": "table",
            "title": "First response by team (minutes)",
            "limit": 15,
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
        "tags_table": {
            "kind": "table",
            "title": "Tags (last 30 days)",
            "limit": 15,
            "metrics": {
                "conversations": _conversations(fn="count", group_by="tags", window=WINDOW),
                "reopens": _conversations(
                    fn="sum", field="countReopens", group_by="tags", window=WINDOW
                ),
                "avg rating": _conversations(
                    fn="avg", field="rating", group_by="tags", window=WINDOW
                ),
            },
        },
        "csat_average": {
            "kind": "stat",
            "title": "CSAT average",
            "unit": "/ 5",
            "compare": True,
            "metric": _conversations(fn="avg", field="rating", window=WINDOW),
        },
        "csat_distribution": {
            "kind": "distribution",
            "title": "CSAT ratings",
            "sort": "label",
            "metric": _conversations(
                fn="count",
                group_by="rating",
                window=WINDOW,
                filter=[{"field": "rating", "op": "exists"}],
            ),
        },
        "parts_gaps": {
            "kind": "stat",
            "title": "Data quality: incomplete parts",
            "metric": define_metric(connector=CONNECTOR, shape="derived", name="parts_gaps"),
        },
        "stream_freshness": {
            "kind": "table",
            "title": "Data quality: stream freshness",
            "limit": 50,
            "metric": define_metric(connector=CONNECTOR, shape="derived", name="stream_freshness"),
        },
    }


def support_config() -> Config:
    return define_config(
        connectors=[CONNECTOR],
        dashboards={"support": define_dashboard(title="Support", widgets=_widgets())},
    )


def support_dashboard() -> Dashboard:
    return support_config().dashboards["support"]


def support_metrics(store: Store, now: float) -> dict[str, Any]:
    """Every support widget's value as plain Python data, as of `now` (Unix seconds).

    Meant for comparing with an independent computation: stats are numbers (or
    {label: number} when a widget shows several), time series {iso bucket: value} (or
    {series: {…}}), distributions {label: value} and tables {row label: {column: value}}.
    """
    now_ms = int(now * 1000)
    return {
        wid: plain_value(evaluate_widget(store, widget, now_ms))
        for wid, widget in support_dashboard().widgets.items()
    }


def plain_value(body: dict[str, Any]) -> Any:
    """A widget body reduced to its values (no titles, units or windows)."""
    kind = body["kind"]
    if kind == "stat":
        values = {v["label"]: v["value"] for v in body["values"]}
        return next(iter(values.values())) if len(values) == 1 else values
    if kind == "timeseries":
        series = {s["name"]: dict(zip(body["x"], s["y"], strict=True)) for s in body["series"]}
        return next(iter(series.values())) if len(series) == 1 else series
    if kind == "distribution":
        return {item["label"]: item["value"] for item in body["items"]}
    columns = body["columns"][1:]
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in body["rows"]}
