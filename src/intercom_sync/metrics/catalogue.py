"""What a metric may refer to: shapes, their selectors, and the fields each one has.

Every identifier that ends up in metric SQL (a table, a column, a JSON key) comes from
this catalogue, never from a definition: a definition only *names* an entry, and an
unknown name is rejected before any SQL is built. Attribute lists follow what the sync
writes (camelCase keys, times in Unix milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from intercom_sync.store.schema import (
    CONVERSATION_COUNTS,
    CONVERSATION_DURATIONS,
    CONVERSATION_MOMENTS,
    EDGE_RELATIONS,
    ENTITY_TYPES,
    EVENT_TYPES,
)

FieldType = Literal["text", "number", "time", "bool", "list"]
ShapeName = Literal["entity", "event", "metric", "edge", "distribution", "rollup", "derived"]

# A JSON key or column must look like this before it is ever written into SQL.


@dataclass(frozen=True)
class Field:
    """A field a filter, fn or group_by can use.

    `column` fields are real columns of the shape table; the others are keys of its
    `attributes` JSON. `ref` names the entity type whose `name` attribute labels the
    field's values (an admin id is shown as the admin's name).
    """

    name: str
    type: FieldType
    column: bool = False
    ref: str | None = None


@dataclass(frozen=True)
class Shape:
    """One storage shape: its table, how a metric selects rows, its native columns."""

    name: ShapeName
    table: str
    selector: str  # the definition key naming what to read (entity_type, name, …)
    selector_column: str
    time_column: str | None
    columns: tuple[Field, ...]
    has_attributes: bool
    live_filter: str | None = None  # e.g. soft-deleted entities are excluded


def _fields(spec: str) -> tuple[Field, ...]:
    """Parse `name:type[>ref] …` into fields (keeps the catalogue below readable)."""
    out: list[Field] = []
    for item in spec.split():
        name, _, rest = item.partition(":")
        ftype, _, ref = rest.partition(">")
        out.append(Field(name, ftype, ref=ref or None))  # type: ignore[arg-type]
    return tuple(out)


def _columns(spec: str) -> tuple[Field, ...]:
    return tuple(Field(f.name, f.type, column=True, ref=f.ref) for f in _fields(spec))


ENTITY_FIELDS: dict[str, tuple[Field, ...]] = {
    "intercom_admin": _fields(
        "name:text email:text jobTitle:text awayMode:bool hasInboxSeat:bool "
        "teamIds:list>intercom_team"
    ),
    "intercom_team": _fields("name:text adminCount:number adminIds:list>intercom_admin"),
    "intercom_contact": _fields(
        "role:text email:text externalId:text name:text createdAt:time lastSeenAt:time "
        "updatedAt:time"
    ),
    "intercom_conversation": _fields(
        "state:text priority:text adminAssigneeId:text>intercom_admin "
        "teamAssigneeId:text>intercom_team createdAt:time updatedAt:time "
        "firstContactReplyAt:time firstAdminReplyAt:time firstAssignmentAt:time "
        "firstCloseAt:time lastCloseAt:time snoozedUntil:time waitingSince:time "
        "countAssignments:number countReopens:number countConversationParts:number "
        "tags:list open:bool channel:text sourceDeliveredAs:text rating:number "
        "ratingRemark:text title:text"
    ),
    "intercom_company": _fields(
        "name:text companyId:text plan:text monthlySpend:number userCount:number "
        "sessionCount:number createdAt:time updatedAt:time"
    ),
    "intercom_tag": _fields("name:text"),
    "intercom_segment": _fields("name:text personType:text"),
    "intercom_ticket": _fields(
        "state:text category:text ticketType:text createdAt:time updatedAt:time open:bool "
        "adminAssigneeId:text>intercom_admin teamAssigneeId:text>intercom_team"
    ),
}

EVENT_FIELDS: dict[str, tuple[Field, ...]] = {
    "intercom_conversation_state_change": _fields(
        "conversationId:text transition:text state:text priority:text "
        "adminAssigneeId:text>intercom_admin teamAssigneeId:text>intercom_team partId:text "
        "partType:text authorType:text authorId:text assignedToType:text assignedToId:text "
        "source:text"
    ),
    "intercom_ticket_state_change": _fields(
        "ticketId:text transition:text state:text previousState:text currentState:text "
        "adminAssigneeId:text>intercom_admin teamAssigneeId:text>intercom_team partId:text "
        "authorType:text authorId:text"
    ),
}
# The entity type each event type is about.
EVENT_ENTITY: dict[str, str] = {
    "intercom_conversation_state_change": "intercom_conversation",
    "intercom_ticket_state_change": "intercom_ticket",
}

# The per-conversation dbt metrics the sync writes (see `streams.conversation_metrics`):
# durations in minutes, counts, moments in Unix ms.
CONVERSATION_METRICS: tuple[str, ...] = (
    *CONVERSATION_DURATIONS,
    *CONVERSATION_COUNTS,
    *CONVERSATION_MOMENTS,
)
METRIC_FIELDS: dict[str, tuple[Field, ...]] = {
    name: _fields(
        "state:text channel:text adminAssigneeId:text>intercom_admin "
        "teamAssigneeId:text>intercom_team source:text authorType:text "
        "authorId:text>intercom_admin teamId:text>intercom_team"
    )
    for name in CONVERSATION_METRICS
}

EDGE_NAMES: tuple[str, ...] = tuple(sorted({rel for _, rel, _ in EDGE_RELATIONS}))

SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape(
            "entity",
            "entities",
            "entity_type",
            "entity_type",
            "updated_at",
            _columns("entity_id:text updated_at:time"),
            True,
            live_filter="deleted_at IS NULL",
        ),
        Shape(
            "event",
            "events",
            "event_type",
            "event_type",
            "occurred_at",
            _columns("event_id:text entity_type:text entity_id:text occurred_at:time"),
            True,
        ),
        Shape(
            "metric",
            "metrics",
            "name",
            "metric",
            "ts",
            _columns("entity_type:text entity_id:text ts:time value:number"),
            True,
        ),
        Shape(
            "edge",
            "edges",
            "relation",
            "relation",
            None,
            _columns("src_type:text src_id:text dst_type:text dst_id:text"),
            True,
        ),
        Shape(
            "distribution",
            "distributions",
            "name",
            "name",
            "ts",
            _columns("entity_type:text entity_id:text ts:time bucket:text count:number"),
            False,
        ),
        Shape(
            "rollup",
            "rollups",
            "name",
            "name",
            "bucket_start",
            _columns("granularity:text bucket_start:time dimensions:text value:number"),
            False,
        ),
    )
}
# "derived" is not a storage shape: it names a computation declared in `derived.DERIVED`.
SHAPE_NAMES: tuple[str, ...] = (*SHAPES, "derived")


def selector_values(shape: str) -> tuple[str, ...] | None:
    """The values a shape's selector may take; None when any identifier is accepted."""
    return {
        "entity": ENTITY_TYPES,
        "event": EVENT_TYPES,
        "metric": CONVERSATION_METRICS,
        "edge": EDGE_NAMES,
    }.get(shape)


def attribute_fields(shape: str, selected: str) -> tuple[Field, ...]:
    table = {"entity": ENTITY_FIELDS, "event": EVENT_FIELDS, "metric": METRIC_FIELDS}.get(shape)
    return table.get(selected, ()) if table else ()


def fields_of(shape: str, selected: str) -> dict[str, Field]:
    """Every field a metric on (shape, selected) may use: native columns win over attributes."""
    spec = SHAPES[shape]
    out = {f.name: f for f in attribute_fields(shape, selected)}
    out.update({f.name: f for f in spec.columns})
    return out


def default_time_field(shape: str, selected: str) -> str | None:
    """Entities are placed in time by when they were created, if they have such a field."""
    if shape == "entity" and any(f.name == "createdAt" for f in attribute_fields(shape, selected)):
        return "createdAt"
    return SHAPES[shape].time_column
