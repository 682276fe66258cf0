"""The store's tables, declared once and rendered for SQLite and PostgreSQL (DESIGN §3.3).

Raw tables: one per stream, named as the stream, holding the record's JSON exactly as
received plus typed columns for the fields analytics use. Each typed column says where
in the record its value comes from, so the extraction (`streams.transform`) and the DDL
never drift apart.

Shape tables: the reference connector's six-shape model (entities, events, metrics,
edges, distributions, rollups). Internal tables start with an underscore.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

ColumnType = Literal["text", "int", "real", "bool", "json"]
Path = tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """A typed column. `path` walks the raw record; `fn` computes the value instead."""

    name: str
    type: ColumnType
    path: Path | None = None
    fn: Callable[[dict[str, Any]], Any] | None = None

    def source(self) -> Path:
        return self.path if self.path is not None else (self.name,)


@dataclass(frozen=True)
class RawTable:
    """A stream's raw table.

    `key` columns identify a row. Key columns not found in the record itself (such as
    `conversation_id` of a part, or `company_id` of a company's segment) come from the
    parent record and are listed in `parent_key`.
    """

    name: str
    key: tuple[Column, ...]
    columns: tuple[Column, ...] = ()
    has_updated_at: bool = True
    parent_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    # False for tables whose rows are facts about other records (memberships), written by
    # the store from their keys alone: no record of their own, `raw` is null.
    of_records: bool = True

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key)

    @property
    def all_columns(self) -> tuple[tuple[str, ColumnType], ...]:
        """Every column in table order: key, typed, then bookkeeping."""
        cols: list[tuple[str, ColumnType]] = [(c.name, c.type) for c in self.key]
        cols += [(c.name, c.type) for c in self.columns]
        cols += [
            ("updated_at", "int"),
            ("raw", "text"),
            ("synced_at", "int"),
            ("seen_pass", "text"),
            ("deleted_at", "int"),
        ]
        return tuple(cols)


def _text(name: str, *path: str) -> Column:
    return Column(name, "text", path or None)


def _int(name: str, *path: str) -> Column:
    return Column(name, "int", path or None)


def _bool(name: str, *path: str) -> Column:
    return Column(name, "bool", path or None)


def _real(name: str, *path: str) -> Column:
    return Column(name, "real", path or None)


def _json(name: str, *path: str) -> Column:
    return Column(name, "json", path or None)


def _data_attributes(name: str) -> RawTable:
    return RawTable(
        name,
        (_text("model"), _text("name")),
        (
            _text("full_name"),
            _text("label"),
            _text("data_type"),
            _bool("custom"),
            _bool("archived"),
            _int("created_at"),
        ),
        # `model` is optional in the record; the engine knows it from the request.
        parent_key=("model",),
    )


def ticket_state_category(record: dict[str, Any]) -> str | None:
    """2.11 sends `ticket_state` as a string, 2.14 as an object with a `category`."""
    state = record.get("ticket_state")
    if isinstance(state, dict):
        category = state.get("category")
        return str(category) if category is not None else None
    return None if state is None else str(state)


def ticket_state_label(record: dict[str, Any]) -> str | None:
    state = record.get("ticket_state")
    if isinstance(state, dict):
        label = state.get("internal_label")
        return None if label is None else str(label)
    label = record.get("ticket_state_internal_label")
    return None if label is None else str(label)


_ID = (_text("id"),)
_STATS = ("statistics",)

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "admins",
            _ID,
            (
                _text("name"),
                _text("email"),
                _text("job_title"),
                _bool("away_mode_enabled"),
                _bool("away_mode_reassign"),
                _bool("has_inbox_seat"),
                _json("team_ids"),
            ),
            has_updated_at=False,
        ),
        RawTable("teams", _ID, (_text("name"), _json("admin_ids")), has_updated_at=False),
        RawTable("tags", _ID, (_text("name"),), has_updated_at=False),
        RawTable(
            "segments",
            _ID,
            (_text("name"), _text("person_type"), _int("created_at"), _int("count")),
        ),
        _data_attributes("contact_attributes"),
        _data_attributes("company_attributes"),
        RawTable(
            "contacts",
            _ID,
            (
                _text("role"),
                _text("email"),
                _text("external_id"),
                _text("name"),
                _text("owner_id"),
                _int("created_at"),
                _int("signed_up_at"),
                _int("last_seen_at"),
                _int("last_replied_at"),
                _int("last_contacted_at"),
                _text("country", "location", "country"),
            ),
            indexes=(("updated_at",), ("role",)),
        ),
        RawTable(
            "conversations",
            _ID,
            (
                _int("created_at"),
                _text("state"),
                _bool("open"),
                _text("priority"),
                _text("admin_assignee_id"),
                _text("team_assignee_id"),
                _int("waiting_since"),
                _int("snoozed_until"),
                _text("source_type", "source", "type"),
                _text("source_delivered_as", "source", "delivered_as"),
                _text("source_author_type", "source", "author", "type"),
                _int("rating", "conversation_rating", "rating"),
                _int("rating_created_at", "conversation_rating", "created_at"),
                _int("first_contact_reply_at", *_STATS, "first_contact_reply_at"),
                _int("first_assignment_at", *_STATS, "first_assignment_at"),
                _int("first_admin_reply_at", *_STATS, "first_admin_reply_at"),
                _int("first_close_at", *_STATS, "first_close_at"),
                _int("last_close_at", *_STATS, "last_close_at"),
                _int("last_assignment_at", *_STATS, "last_assignment_at"),
                _int("time_to_assignment", *_STATS, "time_to_assignment"),
                _int("time_to_admin_reply", *_STATS, "time_to_admin_reply"),
                _int("time_to_first_close", *_STATS, "time_to_first_close"),
                _int("time_to_last_close", *_STATS, "time_to_last_close"),
                _int("median_time_to_reply", *_STATS, "median_time_to_reply"),
                _int("count_reopens", *_STATS, "count_reopens"),
                _int("count_assignments", *_STATS, "count_assignments"),
                _int("count_conversation_parts", *_STATS, "count_conversation_parts"),
            ),
            indexes=(("updated_at",), ("created_at",), ("state",)),
        ),
        RawTable(
            "conversation_parts",
            _ID,
            (
                _text("conversation_id"),
                _text("part_type"),
                _int("created_at"),
                _int("notified_at"),
                _text("author_type", "author", "type"),
                _text("author_id", "author", "id"),
                _text("assigned_to_type", "assigned_to", "type"),
                _text("assigned_to_id", "assigned_to", "id"),
            ),
            parent_key=("conversation_id",),
            indexes=(("conversation_id", "created_at"),),
        ),
        RawTable(
            "companies",
            _ID,
            (
                _text("company_id"),
                _text("name"),
                _int("created_at"),
                _int("remote_created_at"),
                _int("last_request_at"),
                _text("plan_name", "plan", "name"),
                _real("monthly_spend"),
                _int("session_count"),
                _int("user_count"),
                _int("size"),
                _text("industry"),
                _text("website"),
            ),
        ),
        RawTable(
            "company_segments",
            (_text("company_id"), _text("id")),
            (_text("name"), _text("person_type"), _int("created_at")),
            parent_key=("company_id",),
        ),
        RawTable(
            "contact_segments",
            (_text("contact_id"), _text("segment_id")),
            has_updated_at=False,
            indexes=(("segment_id",),),
            of_records=False,
        ),
        RawTable(
            "contact_tags",
            (_text("contact_id"), _text("tag_id")),
            has_updated_at=False,
            indexes=(("tag_id",),),
            of_records=False,
        ),
        RawTable(
            "tickets",
            _ID,
            (
                _text("ticket_id"),
                _text("category"),
                Column("ticket_state", "text", fn=ticket_state_category),
                Column("ticket_state_label", "text", fn=ticket_state_label),
                _text("ticket_type_id", "ticket_type", "id"),
                _text("ticket_type_name", "ticket_type", "name"),
                _int("created_at"),
                _bool("open"),
                _text("admin_assignee_id"),
                _text("team_assignee_id"),
                _int("snoozed_until"),
            ),
            indexes=(("updated_at",),),
        ),
        RawTable(
            "activity_logs",
            _ID,
            (
                _int("created_at"),
                _text("activity_type"),
                _text("performed_by_id", "performed_by", "id"),
                _text("performed_by_email", "performed_by", "email"),
            ),
            has_updated_at=False,
            indexes=(("created_at",),),
        ),
    )
}

# The raw tables whose rows are built from API records (`streams.transform`).
RECORD_TABLES: dict[str, RawTable] = {n: t for n, t in RAW_TABLES.items() if t.of_records}

# Entity and event type names follow the reference connector.
ENTITY_TYPES: tuple[str, ...] = (
    "intercom_admin",
    "intercom_team",
    "intercom_contact",
    "intercom_conversation",
    "intercom_company",
    "intercom_tag",
    "intercom_segment",
    "intercom_ticket",
)
EVENT_TYPES: tuple[str, ...] = (
    "intercom_conversation_state_change",
    "intercom_ticket_state_change",
)
# The per-conversation metrics (dbt_intercom's `intercom__conversation_metrics` names):
# durations in minutes, counts, and first/last moments of each kind of part (Unix ms).
CONVERSATION_DURATIONS: tuple[str, ...] = (
    "time_to_first_assignment_minutes",
    "time_to_first_response_minutes",
    "time_to_admin_first_close_minutes",
    "time_to_first_close_minutes",
    "time_to_last_assignment_minutes",
    "time_to_admin_last_close_minutes",
    "time_to_last_close_minutes",
)
CONVERSATION_COUNTS: tuple[str, ...] = ("count_reopens", "count_assignments", "count_parts")
PART_MOMENTS: tuple[str, ...] = (
    "contact_reply",
    "assignment",
    "admin_response",
    "close",
    "admin_close",
    "reopen",
    "team_assignment",
)
CONVERSATION_MOMENTS: tuple[str, ...] = tuple(
    f"{edge}_{name}_at" for name in PART_MOMENTS for edge in ("first", "last")
)

# Edge relations: (source entity type, relation, destination entity type).
EDGE_RELATIONS: tuple[tuple[str, str, str], ...] = (
    ("intercom_team", "has_member", "intercom_admin"),
    ("intercom_conversation", "tagged", "intercom_tag"),
    ("intercom_conversation", "involves", "intercom_contact"),
    ("intercom_contact", "belongs_to", "intercom_company"),
    ("intercom_contact", "in_segment", "intercom_segment"),
    ("intercom_contact", "tagged", "intercom_tag"),
    ("intercom_company", "in_segment", "intercom_segment"),
)


@dataclass(frozen=True)
class Table:
    """A non-raw table: shapes and bookkeeping."""

    name: str
    columns: tuple[tuple[str, ColumnType], ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = field(default=())


SHAPE_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "entities",
            (
                ("connector", "text"),
                ("entity_type", "text"),
                ("entity_id", "text"),
                ("attributes", "json"),
                ("updated_at", "int"),  # Unix ms
                ("synced_at", "int"),  # Unix ms
                ("deleted_at", "int"),  # Unix ms
            ),
            ("connector", "entity_type", "entity_id"),
            (("entity_type", "updated_at"),),
        ),
        Table(
            "events",
            (
                ("connector", "text"),
                ("event_type", "text"),
                ("event_id", "text"),
                ("entity_type", "text"),
                ("entity_id", "text"),
                ("occurred_at", "int"),  # Unix ms
                ("attributes", "json"),
                ("synced_at", "int"),
            ),
            ("connector", "event_type", "event_id"),
            # Time windows over events use store.indexes' covering index.
            (("entity_type", "entity_id"),),
        ),
        Table(
            "metrics",
            (
                ("connector", "text"),
                ("metric", "text"),
                ("entity_type", "text"),
                ("entity_id", "text"),
                ("ts", "int"),
                ("value", "real"),
                ("attributes", "json"),
                ("synced_at", "int"),
            ),
            ("connector", "metric", "entity_type", "entity_id", "ts"),
            # Time windows over metrics use store.indexes' covering index.
            (("connector", "entity_type", "entity_id"),),
        ),
        Table(
            "edges",
            (
                ("connector", "text"),
                ("src_type", "text"),
                ("src_id", "text"),
                ("relation", "text"),
                ("dst_type", "text"),
                ("dst_id", "text"),
                ("attributes", "json"),
                ("synced_at", "int"),
            ),
            ("connector", "src_type", "src_id", "relation", "dst_type", "dst_id"),
            (("dst_type", "dst_id"),),
        ),
        Table(
            "distributions",
            (
                ("connector", "text"),
                ("name", "text"),
                ("entity_type", "text"),
                ("entity_id", "text"),
                ("ts", "int"),
                ("bucket", "text"),
                ("count", "int"),
                ("synced_at", "int"),
            ),
            ("connector", "name", "entity_type", "entity_id", "ts", "bucket"),
        ),
        Table(
            "rollups",
            (
                ("connector", "text"),
                ("name", "text"),
                ("granularity", "text"),
                ("bucket_start", "int"),
                ("dimensions", "text"),
                ("value", "real"),
                ("synced_at", "int"),
            ),
            ("connector", "name", "granularity", "bucket_start", "dimensions"),
        ),
    )
}

INTERNAL_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("_schema_version", (("version", "int"), ("applied_at", "int")), ("version",)),
        Table(
            "_sync_state",
            (("stream", "text"), ("state", "json"), ("updated_at", "int")),
            ("stream",),
        ),
        Table(
            "_sync_runs",
            (
                ("run_id", "text"),
                ("started_at", "int"),
                ("finished_at", "int"),
                ("status", "text"),  # running | succeeded | partial | failed | interrupted
                ("mode", "text"),  # full | incremental | mixed (engine/run_mode.py)
                ("pid", "int"),
                ("streams", "json"),  # per stream: records, pages, status, error
                ("requests", "int"),
                ("rate_limited", "int"),
                ("errors", "json"),
            ),
            ("run_id",),
        ),
        Table(
            "_parts_gaps",
            (
                ("conversation_id", "text"),
                ("expected", "int"),
                ("stored", "int"),
                ("missing", "int"),
                ("detected_at", "int"),
            ),
            ("conversation_id",),
        ),
        Table(
            "_pending_children",
            (
                ("stream", "text"),
                ("parent_id", "text"),
                ("parent_updated_at", "int"),
                ("enqueued_at", "int"),
                # Grows with every (re-)enqueue, so a reader can take only what is new.
                ("seq", "int"),
            ),
            ("stream", "parent_id"),
            (("stream", "seq"),),
        ),
        Table(
            # Members a membership scan has read so far; they replace the group's membership
            # only when the scan completes (an interrupted scan changes nothing).
            "_member_scans",
            (("stream", "text"), ("group_id", "text"), ("scan_id", "text"), ("member_id", "text")),
            ("stream", "group_id", "scan_id", "member_id"),
        ),
        Table(
            "_locks",
            (("name", "text"), ("owner", "text"), ("expires_at", "real")),
            ("name",),
        ),
    )
}
