"""Which fields each search endpoint accepts, their types, and how to read them.

The sets follow the "Accepted Fields" tables of the 2.11 search endpoints,
limited to what the simulated records carry. A getter returns a scalar, None,
or a list (for fields like `tag_ids`, where a filter matches if any element
does). Records are the stored 2.11 shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from intercom_sync.simulator.world.memberships import GroupKind

FieldType = Literal["string", "integer", "date", "boolean"]
Getter = Callable[[dict[str, Any]], Any]
Record = dict[str, Any]


class MembershipLookup(Protocol):
    """Who is in a tag or segment, as one search sees it (`memberships.MembershipSnapshot`)."""

    def predicate(self, kind: GroupKind, group_id: str) -> Callable[[Record], bool]: ...

    def candidates(self, kind: GroupKind, group_id: str) -> Collection[str] | None:
        """Ids of every contact the predicate can accept (None: it must look at each)."""


@dataclass(frozen=True)
class SearchField:
    name: str
    type: FieldType
    get: Getter
    # A membership the record does not carry in full (`tag_id`, `segment_id`): compiled
    # against the search's `MembershipLookup` when it has one, else read with `get`.
    membership: GroupKind | None = None


def path_getter(path: str) -> Getter:
    """Read a dotted path (`source.author.id`) from a nested dict; None when absent."""
    keys = tuple(path.split("."))

    def get(record: Record) -> Any:
        value: Any = record
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def _ids_getter(container: str, items: str) -> Getter:
    """Ids of a nested list, e.g. `tags.tags[].id` for `tag_ids`."""

    def get(record: Record) -> list[str]:
        box = record.get(container) or {}
        return [str(item.get("id")) for item in box.get(items) or []]

    return get


def _int_getter(path: str) -> Getter:
    """An id Intercom searches as an integer, although some objects carry it as a string."""
    raw = path_getter(path)

    def get(record: Record) -> int | None:
        value = raw(record)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return get


def _catalog(fields: list[SearchField]) -> dict[str, SearchField]:
    return {field.name: field for field in fields}


def _simple(names: str, field_type: FieldType) -> list[SearchField]:
    return [SearchField(name, field_type, path_getter(name)) for name in names.split()]


_CONTACT_STRINGS = (
    "id role name email email_domain phone external_id language_override browser "
    "browser_language os location.country location.region location.city ios_app_version "
    "ios_device ios_os_version ios_app_name ios_sdk_version android_app_version "
    "android_device android_app_name android_sdk_version"
)
_CONTACT_DATES = (
    "created_at signed_up_at updated_at last_seen_at last_contacted_at last_replied_at "
    "last_email_opened_at last_email_clicked_at ios_last_seen_at android_last_seen_at"
)
_CONTACT_BOOLEANS = "unsubscribed_from_emails marked_email_as_spam has_hard_bounced"


def contact_fields(links: Mapping[str, Any] | None = None) -> dict[str, SearchField]:
    """Contact search fields. `links` maps contact id → an object with `tag_ids` and
    `segment_ids` (the full lists; the embedded `tags` shows at most 10): what `tag_id` and
    `segment_id` read when a search has no `MembershipLookup` (which also knows the past
    and time-based segments)."""

    def linked(attribute: str, fallback: Getter) -> Getter:
        def get(record: Record) -> list[str]:
            link = links.get(record["id"]) if links is not None else None
            if link is None:
                return list(fallback(record) or [])
            return [str(value) for value in getattr(link, attribute)]

        return get

    return _catalog(
        _simple(_CONTACT_STRINGS, "string")
        + _simple(_CONTACT_DATES, "date")
        + _simple(_CONTACT_BOOLEANS, "boolean")
        + [
            SearchField("owner_id", "integer", _int_getter("owner_id")),
            SearchField("tag_id", "string", linked("tag_ids", _ids_getter("tags", "data")), "tags"),
            SearchField("segment_id", "string", linked("segment_ids", lambda r: []), "segments"),
        ]
    )


_CONVERSATION_STRINGS = (
    "id source.type source.id source.delivered_as source.subject source.body source.author.id "
    "source.author.type source.author.name source.author.email source.url channel_initiated "
    "state priority statistics.last_closed_by_id conversation_rating.remark "
    "conversation_rating.contact_id"
)
_CONVERSATION_DATES = (
    "created_at updated_at waiting_since snoozed_until statistics.first_contact_reply_at "
    "statistics.first_assignment_at statistics.first_admin_reply_at statistics.first_close_at "
    "statistics.last_assignment_at statistics.last_assignment_admin_reply_at "
    "statistics.last_contact_reply_at statistics.last_admin_reply_at statistics.last_close_at "
    "conversation_rating.requested_at conversation_rating.replied_at"
)
_CONVERSATION_INTEGERS = (
    "statistics.time_to_assignment statistics.time_to_admin_reply statistics.time_to_first_close "
    "statistics.time_to_last_close statistics.median_time_to_reply statistics.count_reopens "
    "statistics.count_assignments statistics.count_conversation_parts conversation_rating.score"
)


def conversation_fields() -> dict[str, SearchField]:
    return _catalog(
        _simple(_CONVERSATION_STRINGS, "string")
        + _simple(_CONVERSATION_DATES, "date")
        + _simple(_CONVERSATION_INTEGERS, "integer")
        + _simple("open read ai_agent_participated", "boolean")
        + [
            SearchField("admin_assignee_id", "integer", _int_getter("admin_assignee_id")),
            SearchField("team_assignee_id", "integer", _int_getter("team_assignee_id")),
            SearchField("contact_ids", "string", _ids_getter("contacts", "contacts")),
            SearchField("teammate_ids", "string", _ids_getter("teammates", "teammates")),
            SearchField("tag_ids", "string", _ids_getter("tags", "tags")),
        ]
    )


def _ticket_state(record: Record) -> str | None:
    """2.11 stores `ticket_state` as a string; the 2.14 object's `category` is the same value."""
    state = record.get("ticket_state")
    if isinstance(state, dict):
        return state.get("category")
    return state


def ticket_fields() -> dict[str, SearchField]:
    return _catalog(
        _simple("id category", "string")
        + _simple("created_at updated_at snoozed_until", "date")
        + [
            SearchField("open", "boolean", path_getter("open")),
            SearchField("state", "string", _ticket_state),
            SearchField("title", "string", path_getter("ticket_attributes._default_title_")),
            SearchField(
                "description",
                "string",
                path_getter("ticket_attributes._default_description_"),
            ),
            SearchField("ticket_type_id", "string", path_getter("ticket_type.id")),
            SearchField("contact_ids", "string", _ids_getter("contacts", "contacts")),
            SearchField("admin_assignee_id", "string", path_getter("admin_assignee_id")),
            SearchField("team_assignee_id", "string", path_getter("team_assignee_id")),
        ]
    )


def custom_attribute_field(name: str) -> SearchField | None:
    """`custom_attributes.<name>`: searchable on contacts and conversations, compared
    by the value's own type."""
    prefix = "custom_attributes."
    if not name.startswith(prefix) or len(name) == len(prefix):
        return None
    return SearchField(name, "string", path_getter(name))
