"""The state of conversations and tickets AS OF a moment, from their state-change events.

A record whose `updated_at` is not after the moment has had its current state since then:
nothing about it changed. Only the records changed since are replayed, from their events
before the moment — so "as of now" costs one indexed count, and "as of last month" costs a
replay of what changed since last month.

Conversation events: `created` opens, `closed` closes, `reopened` / `unsnoozed` / `opened`
open again, `snoozed` snoozes. Ticket events: `created` and `state_changed` carry the state.
A record with no event before the moment is taken to be in its first state then (open,
submitted).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.dialect import for_store
from intercom_sync.metrics.scope import CONVERSATION, CREATED, TICKET, live_entities
from intercom_sync.metrics.view import Filters
from intercom_sync.store.base import Store

_EVENT_TYPE = {
    CONVERSATION: "intercom_conversation_state_change",
    TICKET: "intercom_ticket_state_change",
}
_FIRST_STATE = {CONVERSATION: "open", TICKET: "submitted"}
_CONVERSATION_STATES = {
    "created": "open",
    "closed": "closed",
    "reopened": "open",
    "unsnoozed": "open",
    "opened": "open",
    "snoozed": "snoozed",
}
_STATE = Field("state", "text")
_BATCH = 500


def replayed_states(
    store: Store, connector: str, owner: str, ids: list[str], at_ms: int
) -> dict[str, str]:
    """Each record's state after its events strictly before `at_ms`."""
    d = for_store(store.dialect)
    values = d.json_values(("transition", "state", "partId"), "ev")
    out = dict.fromkeys(ids, _FIRST_STATE[owner])
    for i in range(0, len(ids), _BATCH):
        chunk = ids[i : i + _BATCH]
        rows = store.query(
            f"SELECT ev.entity_id, ev.occurred_at, {values} FROM events ev "  # noqa: S608
            f"WHERE ev.entity_type = ? AND ev.entity_id IN ({', '.join('?' * len(chunk))}) "
            "AND ev.connector = ? AND ev.event_type = ? AND ev.occurred_at < ?",
            [owner, *chunk, connector, _EVENT_TYPE[owner], at_ms],
        )
        for _, eid, transition, state in sorted(_event(*row) for row in rows):
            new = state if owner == TICKET else _CONVERSATION_STATES.get(transition)
            if new:
                out[eid] = new
    return out


def _event(eid: Any, at: Any, packed: Any) -> tuple[tuple[int, int, int, str], str, str, Any]:
    """An event in replay order: by time; at one instant `created` first, then by part
    (numeric ids compared as numbers, like the parts themselves)."""
    transition, state, part = packed if isinstance(packed, list) else orjson.loads(packed)
    part = "" if part is None else str(part)
    key = (int(at), 0 if transition == "created" else 1, len(part), part)
    return key, str(eid), str(transition), state


def _where(
    store: Store, connector: str, owner: str, filters: Filters, at_ms: int
) -> tuple[str, list[Any]]:
    """Live records of `owner` matching the filters and created before `at_ms`."""
    d = for_store(store.dialect)
    where, params = live_entities(connector, owner, filters, d, "s")
    return f"{where} AND {d.field(CREATED, 's')} < ?", [*params, at_ms]


def _changed_since(
    store: Store, where: str, params: list[Any], at_ms: int
) -> list[tuple[str, str | None, int | None]]:
    d = for_store(store.dialect)
    rows = store.query(
        f"SELECT s.entity_id, {d.field(_STATE, 's')}, {d.field(CREATED, 's')} "  # noqa: S608
        f"FROM entities s WHERE {where} AND s.updated_at > ?",
        [*params, at_ms],
    )
    return [(str(eid), state, None if c is None else int(c)) for eid, state, c in rows]


def state_counts(
    store: Store, connector: str, owner: str, at_ms: int, filters: Filters
) -> Counter[str]:
    """How many live records (matching the filters) were in each state at `at_ms`."""
    d = for_store(store.dialect)
    where, params = _where(store, connector, owner, filters, at_ms)
    rows = store.query(
        f"SELECT {d.field(_STATE, 's')}, COUNT(*) FROM entities s WHERE {where} GROUP BY 1",  # noqa: S608
        params,
    )
    counts: Counter[str] = Counter({str(state): int(n) for state, n in rows if state is not None})
    changed = _changed_since(store, where, params, at_ms)
    for _, state, _ in changed:
        if state is not None:
            counts[state] -= 1
    replayed = replayed_states(store, connector, owner, [c[0] for c in changed], at_ms)
    counts.update(replayed.values())
    return +counts


def open_at(store: Store, connector: str, at_ms: int, filters: Filters) -> list[tuple[str, int]]:
    """(id, created ms) of every live conversation (matching the filters) open at `at_ms`."""
    d = for_store(store.dialect)
    where, params = _where(store, connector, CONVERSATION, filters, at_ms)
    rows = store.query(
        f"SELECT s.entity_id, {d.field(CREATED, 's')} FROM entities s "  # noqa: S608
        f"WHERE {where} AND {d.field(_STATE, 's')} = ? AND s.updated_at <= ?",
        [*params, "open", at_ms],
    )
    found = [(str(eid), int(created)) for eid, created in rows if created is not None]
    changed = _changed_since(store, where, params, at_ms)
    replayed = replayed_states(store, connector, CONVERSATION, [c[0] for c in changed], at_ms)
    found += [(eid, c) for eid, _, c in changed if c is not None and replayed[eid] == "open"]
    return found
