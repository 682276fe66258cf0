"""Pure record transforms: one raw Intercom record → its store row, entity and edges.

Everything here is a pure function of its arguments (no I/O, no clock), so the engine can
call it on every page and tests can check it on hand-written records.

Speed matters (DESIGN §8: ≥ 60,000 conversation records/s through parse → transform →
store on one core), so each raw table's column extraction is compiled ONCE, from the
table's declaration in `store.schema`, into a `RowPlan`; per record only that plan's
straight-line lookups run. Entities and edges are small hand-written builders per stream.

Row tuples follow `store.schema` column order minus what the store adds itself:
raw row = (key columns…, typed columns…, updated_at, raw JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from intercom_sync.store.base import RecordWrite, Row, Shapes
from intercom_sync.store.schema import (
    RECORD_TABLES,
    Column,
    ColumnType,
    Path,
    RawTable,
    ticket_state_category,
)
from intercom_sync.streams.conversation_metrics import metric_scope, metrics_from_views
from intercom_sync.streams.events import (
    event_scope,
    events_from_views,
    id_or_none,
    json_text,
    ms,
    part_views,
    statistics_events,
)
from intercom_sync.streams.ticket_events import event_scope as ticket_event_scope
from intercom_sync.streams.ticket_events import ticket_events

Record = dict[str, Any]
Converter = Callable[[Any], Any]

CONNECTOR = "intercom"


# -- raw rows -------------------------------------------------------------------------------
def to_int(value: Any) -> int | None:
    """Int columns. Floats and numeric strings are coerced; junk becomes None rather than
    failing a whole page."""
    if value.__class__ is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        pass
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_bool(value: Any) -> bool:
    if value.__class__ is bool:
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _to_text(value: Any) -> str:
    """Text columns: ids may arrive as ints (admin_assignee_id 123 → "123")."""
    if value.__class__ is str:
        return value
    if isinstance(value, dict | list):
        return json_text(value)
    return str(value)


_CONVERTERS: dict[ColumnType, Converter] = {
    "text": _to_text,
    "int": to_int,
    "real": to_float,
    "bool": to_bool,
    "json": json_text,
}


_EXPECTED_CLASS: dict[ColumnType, str] = {
    "text": "str",
    "int": "int",
    "real": "float",
    "bool": "bool",
}


@dataclass(frozen=True, slots=True)
class RowPlan:
    """A raw table's extraction, compiled once from its declaration.

    `build(record, parent_id) -> (key, updated_at, row)` is a function generated from the
    table's columns (see `_RowSource`): straight-line dict lookups, each nested object
    (statistics, source, …) looked up once, and a converter called only for a value whose
    type is not already the column's. Generated because a conversation has ~30 columns and
    the pipeline budget is a few microseconds per record (DESIGN §8); `source` keeps the
    generated text for reading and debugging.
    """

    table: RawTable
    source: str
    build: Callable[[Record, str | None], tuple[tuple[str, ...], int | None, Row]]

    def row(self, record: Record, parent_id: str | None) -> Row:
        return self.build(record, parent_id)[2]

    def key(self, record: Record, parent_id: str | None) -> tuple[str, ...]:
        return self.build(record, parent_id)[0]


class _RowSource:
    """Writes the source of one table's `build` function.

    Only identifiers generated here and `repr()` literals of the declared column paths
    reach the text, never record data, so it is as safe as hand-written code.
    """

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"EMPTY": {}, "dumps": orjson.dumps}
        self.containers: dict[Path, str] = {(): "record"}

    def container(self, path: Path) -> str:
        """The variable holding the dict at `path` ({} when absent), defined once."""
        if path not in self.containers:
            parent = self.container(path[:-1])
            var = self.containers[path] = f"n{len(self.containers)}"
            self.lines.append(f"{var} = {parent}.get({path[-1]!r})")
            self.lines.append(f"if {var}.__class__ is not dict: {var} = EMPTY")
        return self.containers[path]

    def column(self, index: int, column: Column) -> str:
        var = f"c{index}"
        if column.name in self.table.parent_key:
            self.lines.append(f"{var} = parent_id")
        elif column.fn is not None:
            self.names[f"fn{index}"] = column.fn
            self.lines.append(f"{var} = fn{index}(record)")
        else:
            path = column.source()
            self.lines.append(f"{var} = {self.container(path[:-1])}.get({path[-1]!r})")
        self.names[f"to_{column.type}"] = _CONVERTERS[column.type]
        expected = _EXPECTED_CLASS.get(column.type)
        guard = f" and {var}.__class__ is not {expected}" if expected else ""
        self.lines.append(f"if {var} is not None{guard}: {var} = to_{column.type}({var})")
        return var

    def function(self) -> str:
        t = self.table
        self.names["missing_key"] = _missing_key_error(t)
        if t.parent_key:
            self.lines.append("if parent_id is None: raise missing_key()")
        keys = [self.column(i, c) for i, c in enumerate(t.key)]
        typed = [self.column(len(keys) + i, c) for i, c in enumerate(t.columns)]
        if t.has_updated_at:
            updated = self.column(len(keys) + len(typed), Column("updated_at", "int"))
        else:
            updated = "None"
        key = "(" + "".join(f"{k}, " for k in keys) + ")"
        self.lines.append(f"if None in {key}: raise missing_key()")
        row = ", ".join([*keys, *typed, updated, "dumps(record).decode()"])
        self.lines.append(f"return {key}, {updated}, ({row})")
        body = "".join(f"    {line}\n" for line in self.lines)
        return f"def build(record, parent_id):\n{body}"


def _missing_key_error(table: RawTable) -> Callable[[], ValueError]:
    parent = f" (pass parent_id for {', '.join(table.parent_key)})" if table.parent_key else ""
    message = f"{table.name} record without its key {', '.join(table.key_names)}{parent}"
    return lambda: ValueError(message)


def _compile(table: RawTable) -> RowPlan:
    writer = _RowSource(table)
    source = writer.function()
    namespace = dict(writer.names)
    exec(compile(source, f"<row plan {table.name}>", "exec"), namespace)  # noqa: S102
    return RowPlan(table, source, namespace["build"])


ROW_PLANS: dict[str, RowPlan] = {name: _compile(t) for name, t in RECORD_TABLES.items()}


def _plan(table: RawTable) -> RowPlan:
    plan = ROW_PLANS.get(table.name)
    if plan is None or plan.table is not table:
        plan = _compile(table)  # a table declared outside RAW_TABLES (tests, extensions)
    return plan


def raw_row(table: RawTable, record: Record, parent_id: str | None = None) -> Row:
    """The raw-table row of `record`: (key…, typed…, updated_at, raw JSON)."""
    return _plan(table).row(record, parent_id)


def record_key(table: RawTable, record: Record, parent_id: str | None = None) -> tuple[str, ...]:
    """The record's primary key as text; `parent_key` columns come from `parent_id`."""
    return _plan(table).key(record, parent_id)


# -- entities -------------------------------------------------------------------------------
def _sub(record: Record, key: str) -> Record:
    value = record.get(key)
    return value if value.__class__ is dict else {}


def _list_of(container: Any, key: str) -> list[Any]:
    """`container[key]` when container is a dict holding a list (Intercom's list wrappers)."""
    if container.__class__ is not dict:
        return []
    items = container.get(key)
    return items if items.__class__ is list else []


def _ids(items: Iterable[Any]) -> list[str]:
    """Ids of a list of references (dicts with `id`) or of bare ids, as text."""
    out = []
    for item in items:
        value = item.get("id") if item.__class__ is dict else item
        if value is not None:
            out.append(_to_text(value))
    return out


def _admin(r: Record) -> dict[str, Any]:
    return {
        "name": r.get("name"),
        "email": r.get("email"),
        "jobTitle": r.get("job_title"),
        "awayMode": r.get("away_mode_enabled"),
        "hasInboxSeat": r.get("has_inbox_seat"),
        "teamIds": _ids(r.get("team_ids") or ()),
    }


def _team(r: Record) -> dict[str, Any]:
    admin_ids = list(dict.fromkeys(_ids(r.get("admin_ids") or ())))
    return {"name": r.get("name"), "adminCount": len(admin_ids), "adminIds": admin_ids}


def _contact(r: Record) -> dict[str, Any]:
    return {
        "role": r.get("role"),
        "email": r.get("email"),
        "externalId": r.get("external_id"),
        "createdAt": ms(r.get("created_at")),
        "lastSeenAt": ms(r.get("last_seen_at")),
        "name": r.get("name"),
        "updatedAt": ms(r.get("updated_at")),
    }


def _conversation(r: Record) -> dict[str, Any]:
    stats = _sub(r, "statistics")
    source = _sub(r, "source")
    rating = _sub(r, "conversation_rating")
    return {
        "state": r.get("state"),
        "priority": r.get("priority"),
        "adminAssigneeId": id_or_none(r.get("admin_assignee_id")),
        "teamAssigneeId": id_or_none(r.get("team_assignee_id")),
        "createdAt": ms(r.get("created_at")),
        "firstContactReplyAt": ms(stats.get("first_contact_reply_at")),
        "firstAdminReplyAt": ms(stats.get("first_admin_reply_at")),
        "snoozedUntil": ms(r.get("snoozed_until")),
        "countAssignments": stats.get("count_assignments"),
        "countReopens": stats.get("count_reopens"),
        "countConversationParts": stats.get("count_conversation_parts"),
        "tags": [t.get("name") for t in _list_of(r.get("tags"), "tags") if t.__class__ is dict],
        "updatedAt": ms(r.get("updated_at")),
        "open": r.get("open"),
        "channel": source.get("type"),
        "sourceDeliveredAs": source.get("delivered_as"),
        "rating": rating.get("rating"),
        "ratingRemark": rating.get("remark"),
        "firstAssignmentAt": ms(stats.get("first_assignment_at")),
        "firstCloseAt": ms(stats.get("first_close_at")),
        "lastCloseAt": ms(stats.get("last_close_at")),
        "waitingSince": ms(r.get("waiting_since")),
        "title": r.get("title"),
    }


def _company(r: Record) -> dict[str, Any]:
    return {
        "name": r.get("name"),
        "companyId": r.get("company_id"),
        "plan": _sub(r, "plan").get("name"),
        "monthlySpend": r.get("monthly_spend"),
        "userCount": r.get("user_count"),
        "sessionCount": r.get("session_count"),
        "createdAt": ms(r.get("created_at")),
        "updatedAt": ms(r.get("updated_at")),
    }


def _tag(r: Record) -> dict[str, Any]:
    return {"name": r.get("name")}


def _segment(r: Record) -> dict[str, Any]:
    return {"name": r.get("name"), "personType": r.get("person_type")}


def _ticket(r: Record) -> dict[str, Any]:
    return {
        "state": ticket_state_category(r),
        "category": r.get("category"),
        "ticketType": _sub(r, "ticket_type").get("name"),
        "createdAt": ms(r.get("created_at")),
        "updatedAt": ms(r.get("updated_at")),
        "open": r.get("open"),
        "adminAssigneeId": id_or_none(r.get("admin_assignee_id")),
        "teamAssigneeId": id_or_none(r.get("team_assignee_id")),
    }


EntityBuilder = Callable[[Record], dict[str, Any]]

# stream → (entity type, attribute builder)
ENTITY_BUILDERS: dict[str, tuple[str, EntityBuilder]] = {
    "admins": ("intercom_admin", _admin),
    "teams": ("intercom_team", _team),
    "contacts": ("intercom_contact", _contact),
    "conversations": ("intercom_conversation", _conversation),
    "companies": ("intercom_company", _company),
    "tags": ("intercom_tag", _tag),
    "segments": ("intercom_segment", _segment),
    "tickets": ("intercom_ticket", _ticket),
}


def entity_row(stream: str, record: Record, connector: str = CONNECTOR) -> Row | None:
    """(connector, entity_type, entity_id, attributes_json, updated_at_ms), or None when the
    stream has no entity type."""
    spec = ENTITY_BUILDERS.get(stream)
    if spec is None:
        return None
    entity_type, build = spec
    return (
        connector,
        entity_type,
        _to_text(record["id"]),
        json_text(build(record)),
        ms(record.get("updated_at")),
    )


# -- edges ----------------------------------------------------------------------------------
def add_edge_set(
    shapes: Shapes,
    connector: str,
    src: tuple[str, str],
    relation: str,
    dst_type: str,
    dst_ids: list[str],
) -> None:
    """Add the COMPLETE set of one source's edges of one relation, with its replace scope.

    The scope makes the store drop the source's previous edges of this relation first, so a
    tag removed from a conversation disappears from the edges too.
    """
    src_type, src_id = src
    if len(dst_ids) > 1:
        dst_ids = list(dict.fromkeys(dst_ids))  # drop repeats, keep first-seen order
    shapes.edge_scopes.append((connector, src_type, src_id, relation))
    shapes.edges += [(connector, src_type, src_id, relation, dst_type, d, None) for d in dst_ids]


def _edge_set(
    connector: str, src: tuple[str, str], relation: str, dst_type: str, dst_ids: Iterable[Any]
) -> Shapes:
    shapes = Shapes()
    add_edge_set(shapes, connector, src, relation, dst_type, _ids(dst_ids))
    return shapes


def contact_company_edges(
    contact_id: str, company_ids: Iterable[str], connector: str = CONNECTOR
) -> Shapes:
    """contact→company (`belongs_to`) for a contact's FULL company list (all pages)."""
    src = ("intercom_contact", contact_id)
    return _edge_set(connector, src, "belongs_to", "intercom_company", company_ids)


def company_segment_edges(
    company_id: str, segment_ids: Iterable[str], connector: str = CONNECTOR
) -> Shapes:
    """company→segment (`in_segment`) from `GET /companies/{id}/segments`."""
    src = ("intercom_company", company_id)
    return _edge_set(connector, src, "in_segment", "intercom_segment", segment_ids)


def contact_companies_incomplete(contact: Record) -> bool:
    """True when the contact's embedded company list is cut short (`has_more`): the full
    list must be fetched and written with `contact_company_edges`."""
    return bool(_sub(contact, "companies").get("has_more"))


# Each adds the edges a record embeds to `shapes`. A record that lacks the embedded list
# altogether adds nothing (and no scope), so it never wipes edges it knows nothing about.
def _team_edges(shapes: Shapes, r: Record, rid: str, connector: str) -> None:
    if "admin_ids" in r:
        ids = _ids(r.get("admin_ids") or ())
        add_edge_set(shapes, connector, ("intercom_team", rid), "has_member", "intercom_admin", ids)


def _conversation_edges(shapes: Shapes, r: Record, rid: str, connector: str) -> None:
    src = ("intercom_conversation", rid)
    if "tags" in r:
        tag_ids = _ids(_list_of(r.get("tags"), "tags"))
        add_edge_set(shapes, connector, src, "tagged", "intercom_tag", tag_ids)
    if "contacts" in r:
        contact_ids = _ids(_list_of(r.get("contacts"), "contacts"))
        add_edge_set(shapes, connector, src, "involves", "intercom_contact", contact_ids)


def _contact_edges(shapes: Shapes, r: Record, rid: str, connector: str) -> None:
    """The embedded list holds at most 10 companies. When it says `has_more` it is only a
    prefix: writing it as the contact's edge set would wipe the complete set fetched by the
    `contact_companies` child, so such a contact's company edges are left to that child."""
    if "companies" in r and not contact_companies_incomplete(r):
        ids = _ids(_list_of(r.get("companies"), "data"))
        src = ("intercom_contact", rid)
        add_edge_set(shapes, connector, src, "belongs_to", "intercom_company", ids)


def embedded_segments(company: Record) -> list[Record] | None:
    """The complete segment list a company object carries (`segments`, a `segment.list`),
    or None when the object lacks it (then only `GET /companies/{id}/segments` tells)."""
    listing = company.get("segments")
    if not isinstance(listing, dict):
        return None
    return [s for s in _list_of(listing, "segments") if isinstance(s, dict)]


def _company_edges(shapes: Shapes, r: Record, rid: str, connector: str) -> None:
    """Only when the record embeds its segment list; otherwise `company_segments` (a child
    stream) supplies the edges and this record must not wipe them."""
    if r.get("segments").__class__ is dict:
        ids = _ids(_list_of(r.get("segments"), "segments"))
        src = ("intercom_company", rid)
        add_edge_set(shapes, connector, src, "in_segment", "intercom_segment", ids)


def _ticket_events(shapes: Shapes, r: Record, rid: str, connector: str) -> None:
    """A ticket's whole state history, from the state parts its record carries."""
    shapes.event_scopes.append(ticket_event_scope(rid, connector))
    shapes.events += ticket_events(r, connector=connector)


ShapeBuilder = Callable[[Shapes, Record, str, str], None]
# Shapes (edges, and a ticket's events) that a record embeds, per stream.
SHAPE_BUILDERS: dict[str, ShapeBuilder] = {
    "teams": _team_edges,
    "conversations": _conversation_edges,
    "contacts": _contact_edges,
    "companies": _company_edges,
    "tickets": _ticket_events,
}


def record_shapes(stream: str, record: Record, connector: str = CONNECTOR) -> Shapes | None:
    """The entity, edges and (for a ticket) state events one record carries by itself (a
    conversation's events need its parts: see `conversation_shapes`); None for streams
    without shapes."""
    entity = entity_row(stream, record, connector)
    add_shapes = SHAPE_BUILDERS.get(stream)
    if entity is None and add_shapes is None:
        return None
    shapes = Shapes(entities=[entity] if entity is not None else [])
    if add_shapes is not None:
        add_shapes(shapes, record, _to_text(record["id"]), connector)
    return shapes


# A child stream its parent's record needs only sometimes (else: whenever it moved).
CHILD_NEEDED: dict[str, Callable[[Record], bool]] = {
    "contact_companies": contact_companies_incomplete,
    "company_segments": lambda company: embedded_segments(company) is None,
}


def children_needed(record: Record, children: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in children if c not in CHILD_NEEDED or CHILD_NEEDED[c](record))


# -- record writes --------------------------------------------------------------------------
def _stream_plan(stream: str) -> RowPlan:
    plan = ROW_PLANS.get(stream)
    if plan is None:
        raise KeyError(f"unknown stream {stream!r}; known: {', '.join(sorted(ROW_PLANS))}")
    return plan


def record_write(
    stream: str, record: Record, *, parent_id: str | None = None, connector: str = CONNECTOR
) -> RecordWrite:
    """Row, entity and edges of one record, ready for `PageWrite.records`.

    State-change events and metrics of a conversation are NOT included: they depend on
    all of its stored parts, so the engine builds them with `conversation_shapes`.
    """
    key, updated_at, row = _stream_plan(stream).build(record, parent_id)
    return RecordWrite(key, updated_at, row, record_shapes(stream, record, connector))


def page_writes(
    stream: str,
    records: list[Record],
    *,
    parent_id: str | None = None,
    connector: str = CONNECTOR,
    children: tuple[str, ...] | None = None,
) -> list[RecordWrite]:
    """`record_write` for every record of a page (the stream is resolved once). With
    `children`, each record says which of them it needs (`CHILD_NEEDED`)."""
    build = _stream_plan(stream).build
    has_shapes = stream in ENTITY_BUILDERS or stream in SHAPE_BUILDERS
    out = []
    for record in records:
        key, updated_at, row = build(record, parent_id)
        shapes = record_shapes(stream, record, connector) if has_shapes else None
        needed = None if children is None else children_needed(record, children)
        out.append(RecordWrite(key, updated_at, row, shapes, needed))
    return out


# -- conversation events and metrics --------------------------------------------------------
def conversation_shapes(
    conversation: Record, parts: list[Record] | None, *, connector: str = CONNECTOR
) -> Shapes:
    """The complete state-change events and metrics of one conversation.

    Built from the latest conversation record and ALL stored parts (no parts → from the
    `statistics` block). Scopes are set, so the store replaces the conversation's previous
    events and metrics as a whole.
    """
    cid = _to_text(conversation["id"])
    views = part_views(parts or ())  # read once, shared by events and metrics
    if views:
        events = events_from_views(conversation, views, connector=connector)
    else:
        events = statistics_events(conversation, connector=connector)
    metrics = metrics_from_views(conversation, views or None, connector=connector)
    return Shapes(
        events=events,
        metrics=metrics,
        event_scopes=[event_scope(cid, connector)],
        metric_scopes=[metric_scope(cid, connector)],
    )
