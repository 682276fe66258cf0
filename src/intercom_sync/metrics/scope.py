"""Which rows a view keeps: live conversations (and tickets) that match its filters.

The one place the filters become SQL, for the metric evaluator and the derived
computations alike:

* on a conversation entity row, `team`, `admin` and `channel` compare its current
  assignees and source type, and `tag` looks for its `tagged` edge to that tag id;
* on a ticket entity row, `team` and `admin` (tickets have no channel and no tags);
* on rows that belong to a conversation or a ticket (per-conversation metrics, state-change
  events), the owner must be a live entity that matches; without filters, just not a
  deleted one — so a deleted conversation leaves every widget.

Every fragment uses `?` placeholders and catalogue identifiers only; values are bound.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.catalogue import EVENT_ENTITY, Field
from intercom_sync.metrics.durations import Span
from intercom_sync.metrics.view import Filters
from intercom_sync.store.sql import Dialect

CONVERSATION = "intercom_conversation"
TICKET = "intercom_ticket"
# Which filters mean something for which entity type.
FILTERABLE: dict[str, tuple[str, ...]] = {
    CONVERSATION: ("team", "admin", "channel", "tag"),
    TICKET: ("team", "admin"),
}
_FIELDS = {
    "team": Field("teamAssigneeId", "text"),
    "admin": Field("adminAssigneeId", "text"),
    "channel": Field("channel", "text"),
}
CREATED = Field("createdAt", "time")
Fragment = tuple[str, list[Any]]


def owner_type(shape: str, selected: str) -> str | None:
    """The entity type a metric's rows are, or belong to, when filters can apply to it."""
    if shape == "entity":
        return selected if selected in FILTERABLE else None
    if shape == "metric":
        return CONVERSATION
    if shape == "event":
        return EVENT_ENTITY.get(selected)
    return None


def not_filtered_by(owners: list[str | None], filters: Filters) -> list[str]:
    """The active filters that mean nothing for every one of these owners."""
    active = filters.active()
    return [name for name in active if not any(name in FILTERABLE.get(o or "", ()) for o in owners)]


def entity_conditions(
    entity_type: str, filters: Filters, d: Dialect, alias: str
) -> tuple[list[str], list[Any]]:
    """Conditions on an entity row (aliased `alias`) of `entity_type`, ANDed by the caller."""
    conds: list[str] = []
    params: list[Any] = []
    for name in FILTERABLE.get(entity_type, ()):
        value = getattr(filters, name)
        if value is None:
            continue
        if name == "tag":  # the tag's conversations, from its edges (few, and indexed)
            conds.append(
                f"{alias}.entity_id IN (SELECT g.src_id FROM edges g WHERE g.dst_type = ? "  # noqa: S608
                "AND g.dst_id = ? AND g.relation = ? AND g.src_type = ? AND g.connector = "
                f"{alias}.connector)"
            )
            params += ["intercom_tag", value, "tagged", CONVERSATION]
        else:
            conds.append(f"{d.field(_FIELDS[name], alias)} = ?")
            params.append(value)
    return conds, params


def live_entities(
    connector: str,
    entity_type: str,
    filters: Filters,
    d: Dialect,
    alias: str,
    created: Span | None = None,
) -> Fragment:
    """WHERE conditions: live entities of a type that match the filters (and were created
    in `created`, when given)."""
    conds, params = entity_conditions(entity_type, filters, d, alias)
    if created is not None:
        t = d.field(CREATED, alias)
        conds.append(f"{t} >= ? AND {t} < ?")
        params += [created.start_ms, created.end_ms]
    base = [f"{alias}.connector = ?", f"{alias}.entity_type = ?", f"{alias}.deleted_at IS NULL"]
    return " AND ".join([*base, *conds]), [connector, entity_type, *params]


def not_deleted(connector: str, owner: str, column: str) -> Fragment:
    """`column` (an owner id) is not the id of a deleted `owner`."""
    return (
        f"{column} NOT IN (SELECT g.entity_id FROM entities g "  # noqa: S608
        "WHERE g.connector = ? AND g.entity_type = ? AND g.deleted_at IS NOT NULL)",
        [connector, owner],
    )


def owned_by_live(
    connector: str,
    owner: str,
    filters: Filters,
    d: Dialect,
    column: str,
    created: Span | None = None,
) -> Fragment:
    """`column` is the id of a live `owner` matching the filters and created in `created`."""
    where, params = live_entities(connector, owner, filters, d, "c", created)
    return f"{column} IN (SELECT c.entity_id FROM entities c WHERE {where})", params  # noqa: S608


def live_owners(
    connector: str,
    owner: str,
    filters: Filters,
    d: Dialect,
    alias: str,
    created: Span | None = None,
) -> Fragment:
    """`alias.entity_id` is a live `owner` matching the filters. The caller's rows are
    placed at their owner's creation (as metric rows are) when `created` is given, so with
    filters the owners are looked for among those created in that span only."""
    if not entity_conditions(owner, filters, d, "c")[0]:
        return not_deleted(connector, owner, f"{alias}.entity_id")
    # The caller's own index (a time range) should drive the plan, the owners' ids only
    # be looked up: without the hint SQLite may walk the owners and probe each one's rows.
    column = d.unindexed(f"{alias}.entity_id")
    return owned_by_live(connector, owner, filters, d, column, created)


def row_condition(
    shape: str,
    selected: str,
    connector: str,
    filters: Filters,
    d: Dialect,
    alias: str,
    created: Span | None = None,
) -> Fragment:
    """What the view adds to a metric's WHERE clause ("" when nothing)."""
    owner = owner_type(shape, selected)
    if owner is None:
        return "", []
    if shape == "entity":
        conds, params = entity_conditions(owner, filters, d, alias)
        return " AND ".join(conds), params
    return live_owners(connector, owner, filters, d, alias, created)
