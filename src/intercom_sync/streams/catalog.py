"""Every Intercom resource we sync, declared rather than scripted (DESIGN §4).

A declaration says where a stream's records come from and how they page; the engine picks
the runner for its `kind`. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["list", "search", "scroll", "child", "activity_logs", "membership"]


@dataclass(frozen=True)
class Membership:
    """A membership stream: which contacts belong to each segment (or tag), read by
    scanning contact search for `field = <group id>` — one scan per group — because a
    contact's `updated_at` does not move when it is tagged or enters a segment."""

    field: str  # the contact search field: "segment_id" | "tag_id"
    groups_path: str  # where the groups are listed: "/segments" | "/tags"
    groups_key: str  # the list's records key
    group_column: str  # the raw table's group key column
    relation: str  # the contact→group edge relation
    group_entity: str  # the group's entity type


@dataclass(frozen=True)
class StreamSpec:
    name: str
    kind: Kind
    endpoint: str
    records_key: str
    scope: str  # the Developer Hub permission a token needs
    entity_type: str | None = None
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    # "list": every run reads everything, so every run is a full pass (deletes marked).
    # "search": server-side incremental on updated_at.
    # "scroll": reads everything, writes what changed (client-side incremental).
    # "child": fetched per parent record whose updated_at moved.
    parent: str | None = None
    # Contact search compares dates by calendar day (DESIGN §5).
    day_granular: bool = False
    # Missing permission skips the stream with a warning instead of failing the run.
    optional: bool = False
    # Children scheduled for every record of this stream whose updated_at moved.
    children: tuple[str, ...] = ()
    # Never mark rows of this stream deleted (history accumulates: parts, activity logs).
    append_only: bool = False
    # False for streams that only write shapes (edges), with no raw table of their own.
    has_table: bool = True
    # `GET` of one record by id: a full pass confirms with it that a row it did not see
    # is really gone (404) before marking it deleted.
    record_path: str | None = None
    membership: Membership | None = None
    description: str = ""


_USERS = "Read and list users and companies"

CATALOG: tuple[StreamSpec, ...] = (
    StreamSpec(
        "admins",
        "list",
        "/admins",
        "admins",
        "Read admins",
        "intercom_admin",
        description="Teammates, with away mode and inbox seat",
    ),
    StreamSpec(
        "teams",
        "list",
        "/teams",
        "teams",
        _USERS,
        "intercom_team",
        description="Inbox teams and their admins",
    ),
    StreamSpec("tags", "list", "/tags", "data", "Read tags", "intercom_tag", description="Tags"),
    StreamSpec(
        "segments",
        "list",
        "/segments",
        "segments",
        _USERS,
        "intercom_segment",
        description="Contact segments",
    ),
    StreamSpec(
        "contact_attributes",
        "list",
        "/data_attributes",
        "data",
        _USERS,
        params={"model": "contact"},
        description="Contact data attributes",
    ),
    StreamSpec(
        "company_attributes",
        "list",
        "/data_attributes",
        "data",
        _USERS,
        params={"model": "company"},
        description="Company data attributes",
    ),
    StreamSpec(
        "contacts",
        "search",
        "/contacts/search",
        "data",
        _USERS,
        "intercom_contact",
        method="POST",
        day_granular=True,
        children=("contact_companies",),
        record_path="/contacts/{id}",
        description="Users and leads",
    ),
    StreamSpec(
        "contact_companies",
        "child",
        "/contacts/{id}/companies",
        "companies",
        _USERS,
        parent="contacts",
        has_table=False,
        description="Edges: the complete company list of each changed contact whose "
        "embedded list is cut short (has_more)",
    ),
    StreamSpec(
        "contact_segments",
        "membership",
        "/contacts/search",
        "data",
        _USERS,
        method="POST",
        membership=Membership(
            "segment_id", "/segments", "segments", "segment_id", "in_segment", "intercom_segment"
        ),
        description="Which contacts each segment holds (a contact search per segment)",
    ),
    StreamSpec(
        "contact_tags",
        "membership",
        "/contacts/search",
        "data",
        "Read tags",
        method="POST",
        membership=Membership("tag_id", "/tags", "data", "tag_id", "tagged", "intercom_tag"),
        description="Which contacts carry each tag (a contact search per tag)",
    ),
    StreamSpec(
        "conversations",
        "search",
        "/conversations/search",
        "conversations",
        "Read conversations",
        "intercom_conversation",
        method="POST",
        children=("conversation_parts",),
        record_path="/conversations/{id}",
        description="Conversations with statistics",
    ),
    StreamSpec(
        "conversation_parts",
        "child",
        "/conversations/{id}",
        "conversation_parts",
        "Read conversations",
        parent="conversations",
        append_only=True,
        description="Every part of every changed conversation",
    ),
    StreamSpec(
        "companies",
        "scroll",
        "/companies/scroll",
        "data",
        _USERS,
        "intercom_company",
        children=("company_segments",),
        record_path="/companies/{id}",
        description="Companies (scroll API)",
    ),
    StreamSpec(
        "company_segments",
        "child",
        "/companies/{id}/segments",
        "data",
        _USERS,
        parent="companies",
        description="Each company's segments: from the scroll's own pages, or fetched for "
        "a company whose object lacks the list",
    ),
    StreamSpec(
        "tickets",
        "search",
        "/tickets/search",
        "tickets",
        "Read tickets",
        "intercom_ticket",
        method="POST",
        optional=True,
        record_path="/tickets/{id}",
        description="Tickets (skipped when the token may not read them)",
    ),
    StreamSpec(
        "activity_logs",
        "activity_logs",
        "/admins/activity_logs",
        "activity_logs",
        "Read admin activity logs",
        append_only=True,
        description="Admin activity logs",
    ),
)

STREAMS: dict[str, StreamSpec] = {s.name: s for s in CATALOG}
STREAM_NAMES: tuple[str, ...] = tuple(STREAMS)
# Streams with a raw table of their own (all but those that only write edges).
TABLE_STREAMS: tuple[str, ...] = tuple(s.name for s in CATALOG if s.has_table)


def deletable_children(spec: StreamSpec) -> tuple[str, ...]:
    """Child tables whose rows go when their parent is marked deleted (not parts: their
    history is kept)."""
    return tuple(c for c in spec.children if STREAMS[c].has_table and not STREAMS[c].append_only)


def select_streams(names: tuple[str, ...] | list[str]) -> list[StreamSpec]:
    """The chosen streams in catalog order; a child brings its parent along.

    Parts are only fetched for conversations the conversations stream finds changed, so
    choosing `conversation_parts` alone still reads the conversations it needs.
    """
    wanted = set(names) if names else set(STREAM_NAMES)
    for name in list(wanted):
        parent = STREAMS[name].parent
        if parent is not None:
            wanted.add(parent)
    return [s for s in CATALOG if s.name in wanted]
