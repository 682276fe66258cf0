"""The state of conversations and tickets AS OF a moment, from their state-change events.

A record whose `updated_at` is before the moment has had its current state since then:
nothing about it changed. So the store is counted as it is now (from an index), and only
the records changed since the moment are corrected: taken out as they are now, and put
back as they were then, replayed from their events before the moment (those created
after it are only taken out). "As of now" costs one indexed count; "as of last month"
also a replay of what changed since last month.

Conversation events: `created` opens, `closed` closes, `reopened` / `unsnoozed` / `opened`
open again, `snoozed` snoozes. Ticket events: `created` and `state_changed` carry the state.
A record with no event before the moment is taken to be in its first state then (open,
submitted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.scope import CONVERSATION, CREATED, TICKET, entity_conditions
from intercom_sync.metrics.view import Filters
from intercom_sync.store.base import Store
from intercom_sync.store.sql import Dialect, for_store

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


@dataclass(frozen=True)
class Changed:
    """A record changed since the moment: what it is now, and what it was then (None: it
    did not exist yet)."""

    id: str
    now: str | None
    then: str | None
    created_ms: int | None


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


def _live(d: Dialect, owner: str, filters: Filters, connector: str) -> tuple[str, list[Any]]:
    conds, params = entity_conditions(owner, filters, d, "s")
    where = " AND ".join(["s.connector = ?", "s.entity_type = ?", "s.deleted_at IS NULL", *conds])
    return where, [connector, owner, *params]


def changed_since(
    store: Store, connector: str, owner: str, at_ms: int, filters: Filters
) -> list[Changed]:
    """Live records (matching the filters) updated at or after `at_ms`."""
    d = for_store(store.dialect)
    conds, params = entity_conditions(owner, filters, d, "s")
    extra = "".join(f" AND {c}" for c in conds)
    # `updated_at` must drive the plan (few rows changed lately); the hint keeps SQLite
    # off the indexes that start with the connector.
    rows = store.query(
        f"SELECT s.entity_id, {d.field(_STATE, 's')}, {d.field(CREATED, 's')} "  # noqa: S608
        f"FROM entities s WHERE s.entity_type = ? AND s.updated_at >= ? "
        f"AND {d.unindexed('s.connector')} = ? AND s.deleted_at IS NULL{extra}",
        [owner, at_ms, connector, *params],
    )
    found = [(str(eid), state, None if c is None else int(c)) for eid, state, c in rows]
    existed = [eid for eid, _, created in found if created is not None and created < at_ms]
    then = replayed_states(store, connector, owner, existed, at_ms)
    return [Changed(eid, state, then.get(eid), created) for eid, state, created in found]


def state_counts(
    store: Store, connector: str, owner: str, at_ms: int, filters: Filters
) -> Counter[str]:
    """How many live records (matching the filters) were in each state at `at_ms`."""
    d = for_store(store.dialect)
    where, params = _live(d, owner, filters, connector)
    rows = store.query(
        f"SELECT {d.field(_STATE, 's')}, COUNT(*) FROM entities s WHERE {where} GROUP BY 1",  # noqa: S608
        params,
    )
    counts: Counter[str] = Counter({str(state): int(n) for state, n in rows if state is not None})
    for record in changed_since(store, connector, owner, at_ms, filters):
        if record.now is not None:
            counts[record.now] -= 1
        if record.then is not None:
            counts[record.then] += 1
    return +counts


def _open_where(d: Dialect, filters: Filters, connector: str) -> tuple[str, list[Any]]:
    where, params = _live(d, CONVERSATION, filters, connector)
    return f"{where} AND {d.field(_STATE, 's')} = ?", [*params, "open"]


def open_created_between(
    store: Store, connector: str, at_ms: int, filters: Filters, bounds: list[tuple[int, int]]
) -> list[int]:
    """For each [low, high) of creation times: conversations open at `at_ms` created then."""
    d = for_store(store.dialect)
    where, params = _open_where(d, filters, connector)
    created = d.field(CREATED, "s")
    counts = []
    for low, high in bounds:
        rows = store.query(
            f"SELECT COUNT(*) FROM entities s WHERE {where} AND {created} >= ? AND {created} < ?",  # noqa: S608
            [*params, low, high],
        )
        counts.append(int(rows[0][0] or 0))
    for record in changed_since(store, connector, CONVERSATION, at_ms, filters):
        if record.created_ms is None:
            continue
        for i, (low, high) in enumerate(bounds):
            if low <= record.created_ms < high:
                counts[i] += (record.then == "open") - (record.now == "open")
    return counts


def oldest_open(
    store: Store, connector: str, at_ms: int, filters: Filters, limit: int
) -> list[tuple[str, int]]:
    """(id, created ms) of the `limit` conversations open longest at `at_ms`."""
    d = for_store(store.dialect)
    where, params = _open_where(d, filters, connector)
    created = d.field(CREATED, "s")
    changed = changed_since(store, connector, CONVERSATION, at_ms, filters)
    moved = {c.id for c in changed}
    # Enough of today's open ones that, with the changed ones taken out, `limit` are left —
    # and every one created at the same moment as the last of those (ties go by id).
    wanted = limit + len(moved)
    rows = store.query(
        f"SELECT s.entity_id, {created} FROM entities s WHERE {where} AND {created} < ? "  # noqa: S608
        f"ORDER BY {created} LIMIT ?",
        [*params, at_ms, wanted],
    )
    if len(rows) == wanted and rows[-1][1] is not None:
        rows += store.query(
            f"SELECT s.entity_id, {created} FROM entities s WHERE {where} AND {created} = ?",  # noqa: S608
            [*params, rows[-1][1]],
        )
    found = list({(str(eid), int(c)) for eid, c in rows if c is not None and str(eid) not in moved})
    found += [
        (c.id, c.created_ms) for c in changed if c.then == "open" and c.created_ms is not None
    ]
    return sorted(found, key=lambda item: (item[1], item[0]))[:limit]
