"""Builders of the 2.11 API objects, shared by the generator and the mutations.

Each builder returns a fresh dict whose keys come in a fixed order, so the same
inputs always serialise to the same bytes. Records are treated as immutable
values: a change builds a new dict (the old one stays in the search history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from intercom_sync.simulator.world.timeline import TimelineSummary

# Contacts embed at most this many tags, notes and companies (then `has_more`).
EMBED_LIMIT = 10
# Constant sub-objects shared by every record that has them (records are immutable,
# so sharing is safe and saves memory in large worlds).
NO_LINKED_OBJECTS: dict[str, Any] = {
    "type": "list",
    "data": [],
    "total_count": 0,
    "has_more": False,
}
NO_TOPICS: dict[str, Any] = {}


@dataclass(slots=True)
class ContactLinks:
    """A contact's full relations (the record itself embeds only the first ten)."""

    tag_ids: list[str] = field(default_factory=list)
    company_ids: list[str] = field(default_factory=list)
    segment_ids: list[str] = field(default_factory=list)
    note_ids: list[str] = field(default_factory=list)


def author_of_admin(admin: dict[str, Any]) -> dict[str, Any]:
    return {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}


def author_of_contact(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": contact["role"],
        "id": contact["id"],
        "name": contact["name"],
        "email": contact.get("email") or "",
    }


def contact_reference(contact: dict[str, Any]) -> dict[str, Any]:
    return {"type": "contact", "id": contact["id"], "external_id": contact["external_id"]}


def tag_record(tag_id: str, name: str) -> dict[str, Any]:
    """A tag as `GET /tags` lists it (the schema requires the two applied_* keys)."""
    return {"type": "tag", "id": tag_id, "name": name, "applied_at": None, "applied_by": None}


def applied_tag(tag: dict[str, Any], applied_at: int, admin_id: str) -> dict[str, Any]:
    """A tag as it appears on a conversation: when and by whom it was applied."""
    return {
        "type": "tag",
        "id": tag["id"],
        "name": tag["name"],
        "applied_at": applied_at,
        "applied_by": {"type": "admin", "id": admin_id},
    }


def _embedded(
    owner_url: str, kind: str, ids: list[str], item_type: str, item_url: str
) -> dict[str, Any]:
    shown = [
        {"type": item_type, "id": item, "url": f"{item_url}/{item}"} for item in ids[:EMBED_LIMIT]
    ]
    return {
        "type": "list",
        "data": shown,
        "url": f"{owner_url}/{kind}",
        "total_count": len(ids),
        "has_more": len(ids) > EMBED_LIMIT,
    }


def with_links(contact: dict[str, Any], links: ContactLinks) -> dict[str, Any]:
    """The contact (a new dict) with its embedded tags, notes and companies refreshed."""
    owner = f"/contacts/{contact['id']}"
    return {
        **contact,
        "tags": _embedded(owner, "tags", links.tag_ids, "tag", "/tags"),
        "notes": _embedded(owner, "notes", links.note_ids, "note", "/notes"),
        "companies": _embedded(owner, "companies", links.company_ids, "company", "/companies"),
    }


def subscription_list(contact_id: str) -> dict[str, Any]:
    return {
        "type": "list",
        "data": [],
        "url": f"/contacts/{contact_id}/subscriptions",
        "total_count": 0,
        "has_more": False,
    }


# -- conversations -----------------------------------------------------------------------

# Fields of a conversation that its parts do not determine.
CONVERSATION_STATIC_KEYS = (
    "id",
    "created_at",
    "source",
    "contacts",
    "tags",
    "priority",
    "conversation_rating",
    "title",
    "custom_attributes",
    "ai_agent",
)


def conversation_static(record: dict[str, Any]) -> dict[str, Any]:
    """The part-independent fields of an existing conversation record."""
    static = {key: record.get(key) for key in CONVERSATION_STATIC_KEYS}
    static["tags"] = record["tags"]["tags"]
    return static


def build_conversation(
    static: dict[str, Any], summary: TimelineSummary, updated_at: int
) -> dict[str, Any]:
    """The `conversation` object (as search returns it: without parts)."""
    first_reply_at = summary.statistics.get("first_contact_reply_at")
    record: dict[str, Any] = {
        "type": "conversation",
        "id": static["id"],
        "created_at": static["created_at"],
        "updated_at": updated_at,
        "waiting_since": summary.waiting_since,
        "snoozed_until": summary.snoozed_until,
        "source": static["source"],
        "contacts": static["contacts"],
    }
    if first_reply_at is not None:
        source = static["source"]
        record["first_contact_reply"] = {
            "created_at": first_reply_at,
            "type": source["type"],
            "url": source.get("url"),
        }
    record.update(
        {
            "admin_assignee_id": summary.admin_assignee_id,
            "team_assignee_id": summary.team_assignee_id,
            "open": summary.state != "closed",
            "state": summary.state,
            "read": summary.read,
            "tags": {"type": "tag.list", "tags": static["tags"]},
            "priority": static["priority"],
            "sla_applied": None,
            "statistics": summary.statistics,
        }
    )
    if static.get("conversation_rating") is not None:
        record["conversation_rating"] = static["conversation_rating"]
    teammates = [{"type": "admin", "id": admin_id} for admin_id in summary.teammate_ids]
    record.update(
        {
            "teammates": {"type": "admin.list", "teammates": teammates},
            "title": static["title"],
            "custom_attributes": static["custom_attributes"],
            "topics": NO_TOPICS,
            "ticket": None,
            "linked_objects": NO_LINKED_OBJECTS,
            "ai_agent": static["ai_agent"],
            "ai_agent_participated": static["ai_agent"] is not None,
        }
    )
    return record


def conversation_updated_at(static: dict[str, Any], summary: TimelineSummary) -> int:
    """The latest moment anything on the conversation changed."""
    moments: list[int] = [static["created_at"], summary.last_part_at or 0]
    moments.extend(tag["applied_at"] for tag in static["tags"])
    rating = static.get("conversation_rating")
    if rating is not None:
        moments.append(rating["created_at"])
    return max(moments)


# -- tickets -----------------------------------------------------------------------------

# The default ticket states: category -> (internal label, external label).
TICKET_STATES: dict[str, tuple[str, str]] = {
    "submitted": ("Submitted", "Submitted"),
    "in_progress": ("In progress", "In progress"),
    "waiting_on_customer": ("Waiting on customer", "Waiting on you"),
    "resolved": ("Resolved", "Resolved"),
}


def ticket_part(
    part_id: str, at: int, previous: str | None, state: str, author: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "ticket_part",
        "id": part_id,
        "part_type": "ticket_state_updated_by_admin",
        "body": None,
        "previous_ticket_state": previous or state,
        "ticket_state": state,
        "created_at": at,
        "updated_at": at,
        "author": dict(author),
        "attachments": [],
        "redacted": False,
    }


def build_ticket(static: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A `ticket` (2.11 shape). Its state and `updated_at` follow from its state parts."""
    state = parts[-1]["ticket_state"] if parts else "submitted"
    internal, external = TICKET_STATES[state]
    updated_at = max([static["created_at"], *(part["created_at"] for part in parts)])
    return {
        "type": "ticket",
        "id": static["id"],
        "ticket_id": static["ticket_id"],
        "ticket_attributes": static["ticket_attributes"],
        "ticket_state": state,
        "ticket_type": static["ticket_type"],
        "contacts": static["contacts"],
        "admin_assignee_id": static["admin_assignee_id"],
        "team_assignee_id": static["team_assignee_id"],
        "created_at": static["created_at"],
        "updated_at": max(updated_at, static.get("touched_at", 0)),
        "ticket_parts": {
            "type": "ticket_part.list",
            "ticket_parts": parts,
            "total_count": len(parts),
        },
        "open": state != "resolved",
        "linked_objects": NO_LINKED_OBJECTS,
        "category": static["ticket_type"]["category"],
        "is_shared": static["ticket_type"]["category"] == "Customer",
        "ticket_state_internal_label": internal,
        "ticket_state_external_label": external,
    }


TICKET_STATIC_KEYS = (
    "id",
    "ticket_id",
    "ticket_attributes",
    "ticket_type",
    "contacts",
    "admin_assignee_id",
    "team_assignee_id",
    "created_at",
)


def ticket_static(record: dict[str, Any]) -> dict[str, Any]:
    static = {key: record[key] for key in TICKET_STATIC_KEYS}
    static["touched_at"] = record["updated_at"]
    return static
