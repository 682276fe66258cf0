"""Records as a given API version shows them.

The world stores the 2.11 shapes. Every later version applies the differences
its OpenAPI description shows for the objects the simulator serves; each
difference is a flag of `VersionShape`, and `SHAPES` says which versions have
it (2.12 and 2.13 were read from Intercom's published descriptions of those
versions; 2.14 from the file the tests validate against):

| difference from 2.11                                         | 2.12 | 2.13 | 2.14 |
| ------------------------------------------------------------ | ---- | ---- | ---- |
| `ticket.ticket_state` an object `{type: "ticket_state", id,  | yes  | yes  | yes  |
|   category, internal_label, external_label}`; the two        |      |      |      |
|   `ticket_state_*_label` strings go; `ticket_type` lists its |      |      |      |
|   `ticket_states`                                            |      |      |      |
| `admin.avatar` the image URL string (or null)                | yes  | yes  | yes  |
| `contact.formatted_phone` gone                               | yes  | yes  | yes  |
| `conversation.topics` gone                                   | yes  | yes  | yes  |
| `conversation_part.app_package_code` (null: no API parts)    | no   | yes  | yes  |
| `admin.away_status_reason_id`                                | no   | no   | yes  |
| `team.distribution_method` (null: no load balancing)         | no   | no   | yes  |
| `conversation_rating.updated_at`                             | no   | no   | yes  |
| `ai_agent.created_at` / `updated_at` (null)                  | no   | no   | yes  |
| part author `from_ai_agent` / `is_ai_answer`                 | no   | no   | yes  |
| activity type `admin_assignment_limit_change` renamed        | no   | no   | yes  |
|   `admin_conversation_assignment_limit_change`               |      |      |      |

The conversation list envelope is `conversation_list` from 2.12 on (2.11 calls
it `paginated_conversation_response`; the same fields). A 2.13/2.14 part's
new `state` field needs the conversation's history, so it is not rendered.
Segments, tags, companies and data attributes are the same in every version.
For 2.11 the stored record itself is returned: do not modify it.

`company_shape` is not about versions: it drops a company's `segments` when the
`company_segments_embedded` quirk is off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from intercom_sync.simulator.world.records import TICKET_STATES

Record = dict[str, Any]

DEFAULT_VERSION = "2.11"
SUPPORTED_VERSIONS = ("2.11", "2.12", "2.13", "2.14")


@dataclass(frozen=True)
class VersionShape:
    """Which of the differences from 2.11 (module docstring) a version has."""

    ticket_state_object: bool = True
    admin_avatar_url: bool = True
    contact_without_formatted_phone: bool = True
    conversation_without_topics: bool = True
    part_app_package_code: bool = False
    admin_away_status_reason: bool = False
    team_distribution_method: bool = False
    rating_updated_at: bool = False
    ai_agent_timestamps: bool = False
    author_ai_flags: bool = False
    renamed_activity_types: bool = False


SHAPES: dict[str, VersionShape] = {
    "2.12": VersionShape(),
    "2.13": VersionShape(part_app_package_code=True),
    "2.14": VersionShape(
        part_app_package_code=True,
        admin_away_status_reason=True,
        team_distribution_method=True,
        rating_updated_at=True,
        ai_agent_timestamps=True,
        author_ai_flags=True,
        renamed_activity_types=True,
    ),
}

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

# Stable ids of the default ticket states, as 2.12 and later expose them.
TICKET_STATE_IDS = {
    "submitted": "7001",
    "in_progress": "7002",
    "waiting_on_customer": "7003",
    "resolved": "7004",
}
RENAMED_ACTIVITY_TYPES_2_14 = {  # 2.14 only
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
    shape = SHAPES.get(api_version)
    if shape is None:
        raise ValueError(f"unsupported API version {api_version!r}; use {SUPPORTED_VERSIONS}")
    renderer = _RENDERERS.get(kind)
    return renderer(record, shape) if renderer is not None else record


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


def _admin(record: Record, shape: VersionShape) -> Record:
    rendered = record
    if shape.admin_avatar_url:
        avatar = record.get("avatar")
        rendered = {**record, "avatar": avatar["image_url"] if avatar else None}
    if shape.admin_away_status_reason:
        rendered = {**rendered, "away_status_reason_id": None}
    return rendered


def _team(record: Record, shape: VersionShape) -> Record:
    return {**record, "distribution_method": None} if shape.team_distribution_method else record


def _contact(record: Record, shape: VersionShape) -> Record:
    if not shape.contact_without_formatted_phone:
        return record
    return {key: value for key, value in record.items() if key != "formatted_phone"}


def _author(author: Record, generated: bool, shape: VersionShape) -> Record:
    if not shape.author_ai_flags:
        return author
    from_bot = author.get("type") == "bot"
    return {**author, "from_ai_agent": from_bot, "is_ai_answer": from_bot and generated}


def _part(record: Record, shape: VersionShape) -> Record:
    rendered = {**record, "app_package_code": None} if shape.part_app_package_code else record
    author = _author(record["author"], record.get("part_type") == "comment", shape)
    return rendered if author is record["author"] else {**rendered, "author": author}


def _conversation(record: Record, shape: VersionShape) -> Record:
    dropped = "topics" if shape.conversation_without_topics else None
    rendered = {key: value for key, value in record.items() if key != dropped}
    source = record["source"]
    author = _author(source["author"], False, shape)
    if author is not source["author"]:
        rendered["source"] = {**source, "author": author}
    rating = record.get("conversation_rating")
    if rating is not None and shape.rating_updated_at:
        rendered["conversation_rating"] = {**rating, "updated_at": rating["created_at"]}
    if record.get("ai_agent") is not None and shape.ai_agent_timestamps:
        rendered["ai_agent"] = {**record["ai_agent"], "created_at": None, "updated_at": None}
    embedded = record.get("conversation_parts")
    if embedded is not None:
        parts = [_part(part, shape) for part in embedded["conversation_parts"]]
        rendered["conversation_parts"] = {**embedded, "conversation_parts": parts}
    return rendered


def _ticket(record: Record, shape: VersionShape) -> Record:
    if not shape.ticket_state_object:
        return record
    dropped = ("ticket_state_internal_label", "ticket_state_external_label")
    rendered = {key: value for key, value in record.items() if key not in dropped}
    rendered["ticket_state"] = ticket_state_object(record["ticket_state"])
    ticket_type = record.get("ticket_type")
    if ticket_type is not None:
        states = [ticket_state_object(category) for category in TICKET_STATES]
        rendered["ticket_type"] = {**ticket_type, "ticket_states": {"type": "list", "data": states}}
    return rendered


def _activity_log(record: Record, shape: VersionShape) -> Record:
    if not shape.renamed_activity_types:
        return record
    renamed = RENAMED_ACTIVITY_TYPES_2_14.get(record.get("activity_type", ""))
    return record if renamed is None else {**record, "activity_type": renamed}


_RENDERERS: dict[str, Callable[[Record, VersionShape], Record]] = {
    "admin": _admin,
    "team": _team,
    "contact": _contact,
    "conversation": _conversation,
    "conversation_part": _part,
    "ticket": _ticket,
    "activity_log": _activity_log,
}
