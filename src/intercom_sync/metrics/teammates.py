"""The teammate table: dbt_intercom's `intercom__admin_metrics`, for the chosen window.

Over the live conversations created in the window that match the view's filters:

* credited to the admin who closed each one last (dbt's `last_close_by_admin_id`), among
  those currently assigned to an admin (dbt keeps `conversation_assignee_type = 'admin'`):
  closes — how many of them are closed now (`total_conversations_closed`); median and p90
  time to first response and to last close (any author, as dbt's
  `time_to_last_close_minutes`); the ratings (count and mean, dbt's
  `average_conversation_rating`); median reopens and assignments;
* from the teammate's own parts: replies — their comments — and the conversations they
  replied in (handled).

Conversations without stored parts have no dbt values and count nowhere here.
Percentiles interpolate linearly between the closest ranks (PostgreSQL `percentile_cont`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.durations import Span
from intercom_sync.metrics.names import entity_names
from intercom_sync.metrics.scope import CONVERSATION, live_entities, live_owners
from intercom_sync.metrics.view import View
from intercom_sync.store.base import Store
from intercom_sync.store.indexes import ADMIN_COMMENTS
from intercom_sync.store.sql import for_store

COLUMNS = (
    "teammate",
    "handled",
    "replies",
    "closes",
    "response p50",
    "response p90",
    "close p50",
    "close p90",
    "rated",
    "CSAT",
    "reopens p50",
    "assignments p50",
)
UNITS = ("", "", "", "", "min", "min", "min", "min", "", "/ 5", "", "")
_VALUES = {
    "first_response": "time_to_first_response_minutes",
    "last_close": "time_to_last_close_minutes",
    "reopens": "count_reopens",
    "assignments": "count_assignments",
}
_STATE, _RATING, _ADMIN, _AUTHOR = (
    Field("state", "text"),
    Field("rating", "number"),
    Field("adminAssigneeId", "text"),
    Field("authorId", "text"),
)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks; None for no values."""
    return _quantile(sorted(values), q)


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class _Credit:
    """What dbt credits to one admin: the conversations they closed last."""

    closes: int = 0
    ratings: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in _VALUES})


def teammate_table(
    store: Store, connector: str, view: View, span: Span, limit: int
) -> dict[str, Any]:
    credited = _credited(store, connector, view, span)
    replies = _replies(store, connector, view, span)
    admins = set(credited) | set(replies)
    names = entity_names(store, connector, "intercom_admin", sorted(admins))
    rows: list[list[Any]] = []
    for admin in admins:
        c = credited.get(admin, _Credit())
        replied, handled = replies.get(admin, (0, 0))
        response, close = sorted(c.values["first_response"]), sorted(c.values["last_close"])
        rows.append(
            [
                names.get(admin, admin),
                handled,
                replied,
                c.closes,
                _quantile(response, 0.5),
                _quantile(response, 0.9),
                _quantile(close, 0.5),
                _quantile(close, 0.9),
                len(c.ratings),
                sum(c.ratings) / len(c.ratings) if c.ratings else None,
                percentile(c.values["reopens"], 0.5),
                percentile(c.values["assignments"], 0.5),
            ]
        )
    rows.sort(key=lambda r: (-r[3], -r[2], str(r[0])))
    return {"columns": list(COLUMNS), "rows": rows[:limit], "units": list(UNITS)}


def _credited(store: Store, connector: str, view: View, span: Span) -> dict[str, _Credit]:
    """Per last-closing admin: their conversations' dbt values."""
    d = for_store(store.dialect)
    closer = per_conversation(store, connector, view, span, "last_admin_close_at", _AUTHOR)
    found = metric_values(store, connector, view, span, list(_VALUES.values()))
    where, params = live_entities(connector, CONVERSATION, view.filters, d, "c", span)
    where += f" AND {d.field(_ADMIN, 'c')} IS NOT NULL"
    # Ids only where the index can tell (closed or not), values only for the rated ones:
    # a JSON value in the output is read from the row, not from an index.
    assigned = store.query(f"SELECT c.entity_id FROM entities c WHERE {where}", params)  # noqa: S608
    closed = store.query(
        f"SELECT c.entity_id FROM entities c WHERE {where} AND {d.field(_STATE, 'c')} = ?",  # noqa: S608
        [*params, "closed"],
    )
    rated = store.query(
        f"SELECT c.entity_id, {d.field(_RATING, 'c')} FROM entities c "  # noqa: S608
        f"WHERE {where} AND {d.field(_RATING, 'c')} IS NOT NULL",
        params,
    )
    is_closed = {r[0] for r in closed}
    ratings = {cid: float(r) for cid, r in rated}
    columns = [(key, found[metric]) for key, metric in _VALUES.items()]
    out: dict[str, _Credit] = {}
    for (cid,) in assigned:
        admin = closer.get(cid)
        if admin is None:
            continue
        credit = out.get(admin) or out.setdefault(admin, _Credit())
        credit.closes += cid in is_closed
        if cid in ratings:
            credit.ratings.append(ratings[cid])
        for key, values in columns:
            value = values.get(cid)
            if value is not None:
                credit.values[key].append(value)
    return out


def metric_values(
    store: Store, connector: str, view: View, span: Span, metrics: list[str]
) -> dict[str, dict[str, float]]:
    """metric → conversation id → value, for the conversations in the view (one read)."""
    d = for_store(store.dialect)
    scope_sql, scope_params = live_owners(connector, CONVERSATION, view.filters, d, "s", span)
    rows = store.query(
        "SELECT s.metric, s.entity_id, s.value FROM metrics s WHERE s.connector = ? "  # noqa: S608
        f"AND s.metric IN ({', '.join('?' * len(metrics))}) AND s.ts >= ? AND s.ts < ? "
        f"AND {scope_sql}",
        [connector, *metrics, span.start_ms, span.end_ms, *scope_params],
    )
    out: dict[str, dict[str, float]] = {m: {} for m in metrics}
    for metric, cid, value in rows:  # text and REAL columns: no conversion needed
        if value is not None:
            out[metric][cid] = value
    return out


def per_conversation(
    store: Store, connector: str, view: View, span: Span, metric: str, of: Field
) -> dict[str, str]:
    """conversation id → an attribute of its row of `metric`, for those in the view."""
    d = for_store(store.dialect)
    scope_sql, scope_params = live_owners(connector, CONVERSATION, view.filters, d, "s", span)
    rows = store.query(
        f"SELECT s.entity_id, {d.field(of, 's')} FROM metrics s WHERE s.connector = ? "  # noqa: S608
        f"AND s.metric = ? AND s.ts >= ? AND s.ts < ? AND {scope_sql}",
        [connector, metric, span.start_ms, span.end_ms, *scope_params],
    )
    return {cid: str(v) for cid, v in rows if v is not None}


def _replies(store: Store, connector: str, view: View, span: Span) -> dict[str, tuple[int, int]]:
    """Per admin: their comments on the conversations in scope, and how many conversations."""
    d = for_store(store.dialect)
    where, params = live_entities(connector, CONVERSATION, view.filters, d, "c", span)
    rows = store.query(
        "SELECT p.author_id, COUNT(*), COUNT(DISTINCT p.conversation_id) "  # noqa: S608
        f"FROM conversation_parts p WHERE {ADMIN_COMMENTS} "
        f"AND p.conversation_id IN (SELECT c.entity_id FROM entities c WHERE {where}) "
        "GROUP BY p.author_id",
        params,
    )
    return {str(a): (int(n), int(k)) for a, n, k in rows if a is not None}
