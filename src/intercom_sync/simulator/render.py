"""Records as a given API version shows them.

The world stores the 2.11 shapes. For 2.14 the differences between the two
OpenAPI files that touch objects the simulator serves are applied:

* `ticket.ticket_state` is an object `{type: "ticket_state", id, category,
  internal_label, external_label}`; the two `ticket_state_*_label` strings go,
  and `ticket_type` lists its `ticket_states`;
* `admin.avatar` is the image URL string (or null), and `away_status_reason_id`
  appears;
* `team` gains `distribution_method` (null: no load balancing simulated);
* `contact.formatted_phone` is gone;
* `conversation.topics` is gone; `conversation_rating` gains `updated_at`;
  `ai_agent` gains `created_at` / `updated_at` (null);
* `conversation_part` (embedded or alone) gains `app_package_code` (null) and
  its author gains `from_ai_agent` / `is_ai_answer`. The part's new `state`
  field needs the conversation's history, so it is not rendered;
* `activity_log.activity_type` `admin_assignment_limit_change` was renamed
  `admin_conversation_assignment_limit_change`.

Everything else (segments, tags, companies, data attributes) is unchanged.
For 2.11 the stored record itself is returned: do not modify it.

`company_shape` is not about versions: it drops a company's `segments` when the
`company_segments_embedded` quirk is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from intercom_sync.simulator.records import TICKET_STATES

Record = dict[str, Any]

DEFAULT_VERSION = "2.11"
SUPPORTED_VERSIONS = ("2.11", "2.14")

# Accepted `kind` names (stream/world names and object types) -> object type.
_KINDS = {
    "admins": "admin",
    "teams": "team",
    "tags": "tag",
    "segments": "segment",
    "company_segments": "segment",
    "contact_segments": "segment",
    "contact_tags": "tag",
    "data_attributes": "data_attribute",
    "contact_attributes": "data_attribute",
    "company_attributes": "data_attribute",
    "companies": "company",
    "contacts": "contact",
    "conversations": "conversation",
    "conversation_parts": "conversation_part",
    "tickets": "ticket",
    "activity_logs": "activity_log",
}
OBJECT_TYPES = frozenset(_KINDS.values())

# Stable ids of the default ticket states, as 2.14 exposes them.
TICKET_STATE_IDS = {
    "submitted": "7001",
    "in_progress": "7002",
    "waiting_on_customer": "7003",
    "resolved": "7004",
}
RENAMED_ACTIVITY_TYPES_2_14 = {
    "admin_assignment_limit_change": "admin_conversation_assignment_limit_change",
}


def object_type(kind: str) -> str:
    """The object type for a stream/world kind ("contacts" -> "contact")."""
    if kind in OBJECT_TYPES:
        return kind
    if kind not in _KINDS:
        raise ValueError(f"cannot render unknown kind {kind!r}")
    return _KINDS[kind]


def render(kind: str, record: Record, api_version: str) -> Record:
    """`record` (stored 2.11 shape) as API version `api_version` returns it."""
    kind = object_type(kind)
    if api_version == "2.11":
        return record
    if api_version != "2.14":
        raise ValueError(f"unsupported API version {api_version!r}; use {SUPPORTED_VERSIONS}")
    renderer = _RENDERERS_2_14.get(kind)
    return renderer(record) if renderer is not None else record


def company_shape(company: Record, segments_embedded: bool) -> Record:
    """The company as served: without `segments` when the scroll does not embed them."""
    if segments_embedded:
        return company
    return {key: value for key, value in company.items() if key != "segments"}


def ticket_state_object(category: str) -> Record:
    internal, external = TICKET_STATES[category]
    return {
        "type": "ticket_state",
        "id": TICKET_STATE_IDS[category],
        "category": category,
        "internal_label": internal,
        "external_label": external,
    }


def _admin(record: Record) -> Record:
    avatar = record.get("avatar")
    rendered = {**record, "avatar": avatar["image_url"] if avatar else None}
    rendered["away_status_reason_id"] = None
    return rendered


def _team(record: Record) -> Record:
    return {**record, "distribution_method": None}


def _contact(record: Record) -> Record:
    return {key: value for key, value in record.items() if key != "formatted_phone"}


def _author(author: Record, generated: bool) -> Record:
    from_bot = author.get("type") == "bot"
    return {**author, "from_ai_agent": from_bot, "is_ai_answer": from_bot and generated}


def _part(record: Record) -> Record:
    rendered = {**record, "app_package_code": None}
    rendered["author"] = _author(record["author"], record.get("part_type") == "comment")
    return rendered


def _conversation(record: Record) -> Record:
    rendered = {key: value for key, value in record.items() if key != "topics"}
    rendered["source"] = {**record["source"], "author": _author(record["source"]["author"], False)}
    rating = record.get("conversation_rating")
    if rating is not None:
        rendered["conversation_rating"] = {**rating, "updated_at": rating["created_at"]}
    if record.get("ai_agent") is not None:
        rendered["ai_agent"] = {**record["ai_agent"], "created_at": None, "updated_at": None}
    embedded = record.get("conversation_parts")
    if embedded is not None:
        parts = [_part(part) for part in embedded["conversation_parts"]]
        rendered["conversation_parts"] = {**embedded, "conversation_parts": parts}
    return rendered


def _ticket(record: Record) -> Record:
    dropped = ("ticket_state_internal_label", "ticket_state_external_label")
    rendered = {key: value for key, value in record.items() if key not in dropped}
    rendered["ticket_state"] = ticket_state_object(record["ticket_state"])
    ticket_type = record.get("ticket_type")
    if ticket_type is not None:
        states = [ticket_state_object(category) for category in TICKET_STATES]
        rendered["ticket_type"] = {**ticket_type, "ticket_states": {"type": "list", "data": states}}
    return rendered


def _activity_log(record: Record) -> Record:
    renamed = RENAMED_ACTIVITY_TYPES_2_14.get(record.get("activity_type", ""))
    return record if renamed is None else {**record, "activity_type": renamed}


_RENDERERS_2_14: dict[str, Callable[[Record], Record]] = {
    "admin": _admin,
    "team": _team,
    "contact": _contact,
    "conversation": _conversation,
    "conversation_part": _part,
    "ticket": _ticket,
    "activity_log": _activity_log,
}
