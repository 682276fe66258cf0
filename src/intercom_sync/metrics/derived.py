"""Derived metrics: what one aggregate over one shape cannot express.

`DERIVED`, at the end, declares each one once: its name, the widget kinds it draws as,
what it shows, which entity type its figures are about (so which view filters apply),
and its computation. Validation and the widgets read it from there.

Each computation takes the widget's metric and the `View`; windowed ones cover the view's
range (or their own window), the others are "as of" the view's end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.definitions import Kind, Metric
from intercom_sync.metrics.durations import Span, iso_ms
from intercom_sync.metrics.freshness import stream_freshness
from intercom_sync.metrics.names import entity_names
from intercom_sync.metrics.queue import queue_depth
from intercom_sync.metrics.scope import (
    CONVERSATION,
    TICKET,
    live_entities,
    not_deleted,
    owned_by_live,
)
from intercom_sync.metrics.states import oldest_open, open_created_between, state_counts
from intercom_sync.metrics.teammates import metric_values, teammate_table
from intercom_sync.metrics.view import View
from intercom_sync.store.sql import for_store

Computation = Callable[[Any, Metric, View, int], dict[str, Any]]
DEFAULT_WINDOW_MS = 30 * 86_400_000
MINUTE_MS = 60_000
# (label, open for less than … minutes)
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 60),
    ("1–4 h", 4 * 60),
    ("4–24 h", 24 * 60),
    ("1–3 d", 3 * 1440),
    ("3–7 d", 7 * 1440),
    ("1–4 wk", 28 * 1440),
    ("> 4 wk", float("inf")),
)
TICKET_OPEN_STATES = ("submitted", "in_progress", "waiting_on_customer")


@dataclass(frozen=True)
class DerivedMetric:
    name: str
    kinds: tuple[Kind, ...]  # the widget kinds it draws as
    description: str
    compute: Computation  # the widget body, shaped like its kind's body
    # The entity type its figures are about (which filters apply), or None for the store.
    owner: str | None = CONVERSATION


def _window(metric: Metric, view: View) -> Span:
    """The metric's span: the chosen range, or its own window (30 days) ending at as-of."""
    span = view.window(metric.window_ms or DEFAULT_WINDOW_MS)
    assert span is not None
    return span


def _span_json(span: Span | None) -> dict[str, str] | None:
    return None if span is None else {"start": iso_ms(span.start_ms), "end": iso_ms(span.end_ms)}


# -- states as of the view's end -------------------------------------------------------------


def _conversation_states(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    counts = state_counts(store, metric.connector, CONVERSATION, view.end_ms, view.filters)
    values = [{"label": s, "value": counts.get(s, 0)} for s in ("open", "snoozed", "closed")]
    return {"values": values, "at": iso_ms(view.end_ms)}


def _none_open(noun: str, view: View) -> str:
    when = iso_ms(view.end_ms).replace("T", " ").replace("Z", " UTC")
    return f"No {noun} was open at {when}{' with these filters' if view.filters else ''}."


def _ticket_states(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    counts = state_counts(store, metric.connector, TICKET, view.end_ms, view.filters)
    items = [
        {"key": s, "label": s.replace("_", " "), "value": counts[s]}
        for s in TICKET_OPEN_STATES
        if counts.get(s)
    ]
    body = {"dimension": "state", "items": items, "at": iso_ms(view.end_ms)}
    return body if items else body | {"empty": _none_open("ticket", view)}


def _backlog_age(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    at = view.end_ms
    bounds = []
    younger = 0.0
    for _, older in AGE_BUCKETS:  # open for [younger, older) minutes: created in between
        low = 0 if older == float("inf") else at - int(older * MINUTE_MS)
        bounds.append((low, at - int(younger * MINUTE_MS)))
        younger = older
    counts = open_created_between(store, metric.connector, at, view.filters, bounds)
    items = [
        {"key": label, "label": label, "value": n}
        for (label, _), n in zip(AGE_BUCKETS, counts, strict=True)
    ]
    body = {"dimension": "open for", "items": items, "at": iso_ms(at)}
    return body if any(counts) else body | {"items": [], "empty": _none_open("conversation", view)}


_TITLE, _TEAM, _ADMIN = (
    Field("title", "text"),
    Field("teamAssigneeId", "text"),
    Field("adminAssigneeId", "text"),
)


def _oldest_open(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    oldest = oldest_open(store, metric.connector, view.end_ms, view.filters, limit)
    details = _details(store, metric.connector, [cid for cid, _ in oldest])
    teams = entity_names(
        store, metric.connector, "intercom_team", [d[1] for d in details.values() if d[1]]
    )
    admins = entity_names(
        store, metric.connector, "intercom_admin", [d[2] for d in details.values() if d[2]]
    )
    workspace = workspace_id(store)
    rows, links = [], []
    for cid, created in oldest:
        title, team, admin = details.get(cid, (None, None, None))
        rows.append(
            [
                title or f"Conversation {cid}",
                (view.end_ms - created) / MINUTE_MS,
                teams.get(team or "", team or "(none)"),
                admins.get(admin or "", admin or "(none)"),
            ]
        )
        links.append(inbox_url(view, workspace, cid))
    body = {
        "columns": ["conversation", "open for", "team", "teammate"],
        "units": ["", "min", "", ""],
        "rows": rows,
        "keys": [cid for cid, _ in oldest],
        "links": links,
        "at": iso_ms(view.end_ms),
    }
    return body if rows else body | {"empty": _none_open("conversation", view)}


def _details(store: Any, connector: str, ids: list[str]) -> dict[str, tuple[Any, Any, Any]]:
    if not ids:
        return {}
    d = for_store(store.dialect)
    picked = ", ".join(d.field(f, "s") for f in (_TITLE, _TEAM, _ADMIN))
    rows = store.query(
        f"SELECT s.entity_id, {picked} FROM entities s WHERE s.connector = ? "  # noqa: S608
        f"AND s.entity_type = ? AND s.entity_id IN ({', '.join('?' * len(ids))})",
        [connector, CONVERSATION, *ids],
    )
    return {str(r[0]): (r[1], r[2], r[3]) for r in rows}


def workspace_id(store: Any) -> str | None:
    """The workspace's id, as its contacts carry it (`workspace_id`)."""
    rows = store.query("SELECT raw FROM contacts WHERE deleted_at IS NULL LIMIT 1")
    if not rows:
        return None
    found = orjson.loads(rows[0][0]).get("workspace_id")
    return None if found is None else str(found)


def inbox_url(view: View, workspace: str | None, conversation_id: str) -> str | None:
    """Where the conversation opens in Intercom's inbox (None without a workspace id)."""
    if not workspace:
        return None
    return f"{view.inbox}/a/inbox/{workspace}/inbox/conversation/{conversation_id}"


# -- windowed tables and counts --------------------------------------------------------------


def _teammates(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    span = _window(metric, view)
    body = teammate_table(store, metric.connector, view, span, limit)
    return body | {"window": _span_json(span)}


_RATING = Field("rating", "number")


def _tags_table(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    """Per tag (by its id, labelled by name): conversations created in the window, the
    reopens their parts show (dbt's `count_reopens`, so only conversations with parts add
    to it), and their average rating.

    Four index-friendly reads joined here (each conversation's tags, reopens and rating)
    rather than one join that would read every conversation's row for its rating."""
    span = _window(metric, view)
    d = for_store(store.dialect)
    where, params = live_entities(metric.connector, CONVERSATION, view.filters, d, "c", span)
    tagged = store.query(
        "SELECT g.dst_id, c.entity_id FROM entities c JOIN edges g ON g.connector = "  # noqa: S608
        "c.connector AND g.src_type = ? AND g.src_id = c.entity_id AND g.relation = ? "
        f"AND g.dst_type = ? WHERE {where}",
        [CONVERSATION, "tagged", "intercom_tag", *params],
    )
    reopens = metric_values(store, metric.connector, view, span, ["count_reopens"])["count_reopens"]
    rated = store.query(
        f"SELECT c.entity_id, {d.field(_RATING, 'c')} FROM entities c "  # noqa: S608
        f"WHERE {where} AND {d.field(_RATING, 'c')} IS NOT NULL",
        params,
    )
    ratings = {str(cid): float(r) for cid, r in rated}
    per_tag: dict[str, list[str]] = {}
    for tag, cid in tagged:
        per_tag.setdefault(str(tag), []).append(str(cid))
    names = entity_names(store, metric.connector, "intercom_tag", list(per_tag))
    table: list[list[Any]] = []
    for tag, ids in per_tag.items():
        scores = [ratings[c] for c in ids if c in ratings]
        table.append(
            [
                names.get(tag, tag),
                len(ids),
                int(sum(reopens.get(c, 0) for c in ids)),
                sum(scores) / len(scores) if scores else None,
            ]
        )
    table.sort(key=lambda r: (-r[1], r[0]))
    return {
        "columns": ["tag", "conversations", "reopens", "avg rating"],
        "units": ["", "", "", "/ 5"],
        "rows": table[:limit],
        "window": _span_json(span),
    }


def _without_parts(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    span = _window(metric, view)
    d = for_store(store.dialect)
    where, params = live_entities(metric.connector, CONVERSATION, view.filters, d, "c", span)
    total, missing = store.query(
        "SELECT COUNT(*), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM metrics m WHERE "  # noqa: S608
        "m.connector = c.connector AND m.metric = ? AND m.entity_type = c.entity_type "
        f"AND m.entity_id = c.entity_id) THEN 1 ELSE 0 END) FROM entities c WHERE {where}",
        ["count_parts", *params],
    )[0]
    return {
        "values": [
            {"label": "without stored parts", "value": int(missing or 0), "unit": ""},
            {"label": "conversations", "value": int(total or 0), "unit": ""},
        ],
        "window": _span_json(span),
    }


def _parts_gaps(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    """Conversations (created in the chosen range, when there is one) whose history runs
    past what the API returns."""
    column = "p.conversation_id"
    if view.span is None and not view.filters:
        condition, params = not_deleted(metric.connector, CONVERSATION, column)
    else:
        d = for_store(store.dialect)
        condition, params = owned_by_live(
            metric.connector, CONVERSATION, view.filters, d, column, view.span
        )
    count, missing = store.query(
        f"SELECT COUNT(*), SUM(p.missing) FROM _parts_gaps p WHERE {condition}",  # noqa: S608
        params,
    )[0]
    return {
        "values": [
            {"label": "conversations with incomplete parts", "value": int(count or 0), "unit": ""},
            {"label": "parts missing", "value": int(missing or 0), "unit": ""},
        ]
    }


def _volume_by_segment(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    """Conversations created in the window per segment of the contacts they involve (a
    conversation counts once in each segment one of its contacts is in), from the
    conversation→contact and contact→segment edges."""
    span = _window(metric, view)
    d = for_store(store.dialect)
    where, params = live_entities(metric.connector, CONVERSATION, view.filters, d, "c", span)
    counted = store.query(
        "SELECT s.dst_id, count(DISTINCT c.entity_id) FROM entities c "  # noqa: S608
        "JOIN edges v ON v.connector = c.connector AND v.src_type = ? "
        "AND v.src_id = c.entity_id AND v.relation = 'involves' AND v.dst_type = ? "
        "JOIN edges s ON s.connector = c.connector AND s.src_type = ? AND s.src_id = v.dst_id "
        f"AND s.relation = 'in_segment' AND s.dst_type = ? WHERE {where} GROUP BY s.dst_id",
        [CONVERSATION, _CONTACT, _CONTACT, _SEGMENT, *params],
    )
    names = entity_names(store, metric.connector, _SEGMENT, [str(g) for g, _ in counted])
    ranked = sorted(
        ((int(n), names.get(str(g), str(g)), str(g)) for g, n in counted),
        key=lambda r: (-r[0], r[1]),
    )
    items = [{"key": g, "label": label, "value": n} for n, label, g in ranked[:limit]]
    return {"dimension": "contact segment", "items": items}


_CONTACT, _SEGMENT = "intercom_contact", "intercom_segment"


def _stream_freshness(store: Any, metric: Metric, view: View, limit: int) -> dict[str, Any]:
    streams = stream_freshness(store, view.now_ms)[:limit]
    columns = ["stream", "last synced", "age", "last run", "rows", "checked against Intercom"]
    rows = [
        [
            s["stream"],
            s["last_synced"],
            s["age_minutes"],
            s["last_run_status"],
            s["rows"],
            s["verified"],
        ]
        for s in streams
    ]
    return {"columns": columns, "units": ["", "", "min", "", "", ""], "rows": rows}


DERIVED: dict[str, DerivedMetric] = {
    d.name: d
    for d in (
        DerivedMetric(
            "unassigned_queue_depth",
            ("timeseries",),
            "Conversations open and unassigned at the end of each bucket, replayed from the "
            "state-change events.",
            queue_depth,
        ),
        DerivedMetric(
            "conversation_states",
            ("stat",),
            "Conversations open, snoozed and closed at the end of the range, from their events.",
            _conversation_states,
        ),
        DerivedMetric(
            "backlog_age",
            ("distribution",),
            "Conversations open at the end of the range, by how long since they were created.",
            _backlog_age,
        ),
        DerivedMetric(
            "oldest_open",
            ("table",),
            "The conversations open longest at the end of the range, linked to Intercom's inbox.",
            _oldest_open,
        ),
        DerivedMetric(
            "ticket_states",
            ("distribution",),
            "Tickets not resolved at the end of the range, by state, from their events.",
            _ticket_states,
            owner=TICKET,
        ),
        DerivedMetric(
            "teammates",
            ("table",),
            "Per teammate: dbt's admin metrics (credited to the last admin who closed) and "
            "their replies, for conversations created in the window.",
            _teammates,
        ),
        DerivedMetric(
            "tags_table",
            ("table",),
            "Per tag: conversations created in the window, their reopens (from parts) and rating.",
            _tags_table,
        ),
        DerivedMetric(
            "conversations_without_parts",
            ("stat",),
            "Conversations created in the window whose parts the store lacks: left out of "
            "every part-based figure.",
            _without_parts,
        ),
        DerivedMetric(
            "parts_gaps",
            ("stat",),
            "Conversations whose stored parts are fewer than Intercom's statistics say.",
            _parts_gaps,
        ),
        DerivedMetric(
            "volume_by_segment",
            ("distribution",),
            "Conversations created in the window, per segment of the contacts they involve.",
            _volume_by_segment,
        ),
        DerivedMetric(
            "stream_freshness",
            ("table",),
            "Per stream: when it last synced, how long ago, the last run's outcome, rows "
            "stored, the last check against Intercom's counts.",
            _stream_freshness,
            owner=None,
        ),
    )
}
