"""Why a widget has nothing to show, in words a reader can act on.

In order: the stream behind it was never synced; the store holds none of its records;
the range ends before the first of them; or there simply are none in the range (with
these filters).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.durations import Span
from intercom_sync.metrics.scope import live_entities
from intercom_sync.metrics.view import View
from intercom_sync.store.base import Store
from intercom_sync.store.sql import for_store

# entity type → (the stream that syncs it, what to call its records)
_ABOUT = {
    "intercom_conversation": ("conversations", "conversations"),
    "intercom_ticket": ("tickets", "tickets"),
}
_CREATED = Field("createdAt", "time")


def nothing_to_show(kind: str, body: dict[str, Any]) -> bool:
    """True when the body holds no figure at all (a count of 0 is a figure)."""
    if kind == "stat":
        return all(v.get("value") is None for v in body.get("values", []))
    return _blank(kind, body)


def only_zeros(kind: str, body: dict[str, Any]) -> bool:
    """A stat whose every value is 0: a figure, unless the data is not there at all."""
    values = [v.get("value") for v in body.get("values", [])]
    return kind == "stat" and bool(values) and all(v == 0 for v in values)


def _blank(kind: str, body: dict[str, Any]) -> bool:
    if kind == "timeseries":
        return not body.get("x") or all(
            not y for s in body.get("series", []) for y in s.get("y", [])
        )
    if kind == "distribution":
        return not body.get("items")
    return not body.get("rows")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def why(
    store: Store,
    connector: str,
    owners: list[str | None],
    span: Span | None,
    view: View,
    *,
    structural: bool = False,
) -> str | None:
    """One sentence saying why there is nothing to show; with `structural`, only when the
    data is not there at all (not synced, none stored, the range before the first)."""
    owner = next((o for o in owners if o in _ABOUT), None)
    noun = "data"
    if owner is not None:
        stream, noun = _ABOUT[owner]
        if store.get_state(stream) is None:
            hint = " (the token needs the read_tickets permission)" if stream == "tickets" else ""
            return (
                f"No {noun} yet: the {stream} stream has not been synced{hint}. "
                "Run `intercom-sync sync`."
            )
        first = _first_created(store, connector, owner)
        if first is None:
            return f"The store holds no {noun}."
        if span is not None and span.end_ms <= first:
            return f"This range ends before the store's first {noun[:-1]} ({_day(first)})."
    if structural:
        return None
    where = "" if span is None else f" between {_when(span.start_ms)} and {_when(span.end_ms)}"
    with_filters = " with these filters" if view.filters else ""
    held = _count_in(store, connector, owner, span, view) if owner and span else 0
    if held:
        return f"None of the {held} {noun} created{where}{with_filters} has this figure yet."
    return f"No {noun}{where}{with_filters}."


def _count_in(store: Store, connector: str, owner: str, span: Span, view: View) -> int:
    """Live records of `owner` created in the span that match the view's filters."""
    where, params = live_entities(
        connector, owner, view.filters, for_store(store.dialect), "s", span
    )
    rows = store.query(f"SELECT COUNT(*) FROM entities s WHERE {where}", params)  # noqa: S608
    return int(rows[0][0] or 0)


def _first_created(store: Store, connector: str, entity_type: str) -> int | None:
    created = for_store(store.dialect).field(_CREATED)
    rows = store.query(
        f"SELECT MIN({created}) FROM entities s WHERE s.connector = ? "  # noqa: S608
        "AND s.entity_type = ? AND s.deleted_at IS NULL",
        [connector, entity_type],
    )
    value = rows[0][0] if rows else None
    return None if value is None else int(value)
