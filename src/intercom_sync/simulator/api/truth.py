"""Ground truth: exactly what a perfect copy of the workspace holds right now.

`ground_truth(world, api_version)` maps every stream of DESIGN §4 to
`{primary key tuple: record as the API returns it for api_version}`:

* `(id,)` for admins, teams, tags, segments, contacts, conversations,
  companies, tickets, activity_logs, and conversation_parts (every part, also
  those beyond the API's 500-part cap);
* `(model, name)` for contact_attributes and company_attributes;
* `(company_id, segment id)` for company_segments, mapping to the segment;
* `(contact_id, segment_id)` for contact_segments, mapping to the segment as
  `GET /segments` returns it — every segment the contact is in now, listed and
  time-based ones (evaluated at the world's clock);
* `(contact_id, tag_id)` for contact_tags, mapping to the tag as `GET /tags`
  returns it — all of the contact's tags, not only the ten it embeds.

Conversations are the search shape (no `conversation_parts` key); deleted
contacts, companies and conversations are absent, and so are their memberships (and a
deleted conversation's parts). Companies are as the scroll serves them under `quirks`
(without `segments` when `company_segments_embedded` is off); company_segments does not
depend on it. `part_conversation_ids` tells which conversation each part belongs to.

`ground_truth_edges(world)` lists relations as
`(src_type, src_id, relation, dst_type, dst_id)` with these relation names:

* `("contact", id, "member_of", "company", id)`
* `("contact", id, "in_segment", "segment", id)`
* `("conversation", id, "tagged", "tag", id)`
* `("conversation", id, "involves", "contact", id)`
* `("team", id, "has_member", "admin", id)`
* `("company", id, "in_segment", "segment", id)`
* with `contact_tags=True`: `("contact", id, "tagged", "tag", id)`
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from intercom_sync.simulator.api.render import company_shape, render
from intercom_sync.simulator.api.spec import Quirks
from intercom_sync.simulator.world.membership_reads import contact_segment_ids, contact_tag_ids
from intercom_sync.simulator.world.timeline import render_part
from intercom_sync.simulator.world.world import World

Record = dict[str, Any]
Key = tuple[str, ...]
StreamTruth = dict[Key, Record]
Edge = tuple[str, str, str, str, str]
Builder = Callable[[World, str, Quirks], StreamTruth]

STREAMS = (
    "admins",
    "teams",
    "tags",
    "segments",
    "contact_attributes",
    "company_attributes",
    "contacts",
    "conversations",
    "conversation_parts",
    "companies",
    "company_segments",
    "contact_segments",
    "contact_tags",
    "tickets",
    "activity_logs",
)


def _by_id(kind: str) -> Builder:
    def build(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
        records = world.records(kind)
        return {
            (record_id,): render(kind, record, api_version) for record_id, record in records.items()
        }

    return build


def _attributes(model: str) -> Builder:
    def build(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
        return {
            (model, record["name"]): render("data_attributes", record, api_version)
            for record in world.data_attributes[model]
        }

    return build


def _conversation_parts(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    truth: StreamTruth = {}
    for conversation_id in world.conversations:
        for part in world.parts.records(conversation_id):
            truth[(str(part.id),)] = render("conversation_parts", render_part(part), api_version)
    return truth


def _companies(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    embedded = quirks.company_segments_embedded
    return {
        (company_id,): company_shape(render("companies", company, api_version), embedded)
        for company_id, company in world.companies.items()
    }


def _company_segments(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    truth: StreamTruth = {}
    for company_id in world.companies:
        for segment_id in world.company_segment_ids.get(company_id, []):
            segment = world.segments[segment_id]
            truth[(company_id, segment_id)] = render("segments", segment, api_version)
    return truth


def _contact_segments(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    truth: StreamTruth = {}
    for contact_id in world.contacts:
        for segment_id in contact_segment_ids(world, contact_id):
            truth[(contact_id, segment_id)] = render(
                "segments", world.segments[segment_id], api_version
            )
    return truth


def _contact_tags(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    truth: StreamTruth = {}
    for contact_id in world.contacts:
        for tag_id in contact_tag_ids(world, contact_id):
            truth[(contact_id, tag_id)] = render("tags", world.tags[tag_id], api_version)
    return truth


def _activity_logs(world: World, api_version: str, quirks: Quirks) -> StreamTruth:
    return {(log["id"],): render("activity_logs", log, api_version) for log in world.activity_logs}


_BUILDERS: dict[str, Builder] = {
    "admins": _by_id("admins"),
    "teams": _by_id("teams"),
    "tags": _by_id("tags"),
    "segments": _by_id("segments"),
    "contact_attributes": _attributes("contact"),
    "company_attributes": _attributes("company"),
    "contacts": _by_id("contacts"),
    "conversations": _by_id("conversations"),
    "conversation_parts": _conversation_parts,
    "companies": _companies,
    "company_segments": _company_segments,
    "contact_segments": _contact_segments,
    "contact_tags": _contact_tags,
    "tickets": _by_id("tickets"),
    "activity_logs": _activity_logs,
}


def stream_truth(
    world: World, stream: str, api_version: str = "2.11", quirks: Quirks | None = None
) -> StreamTruth:
    """The ground truth of one stream, as a simulator with `quirks` serves it."""
    if stream not in _BUILDERS:
        raise ValueError(f"unknown stream {stream!r}; choose one of {', '.join(STREAMS)}")
    return _BUILDERS[stream](world, api_version, quirks or Quirks())


def ground_truth(
    world: World, api_version: str = "2.11", quirks: Quirks | None = None
) -> dict[str, StreamTruth]:
    """Every stream's ground truth (see the module docstring for keys)."""
    return {stream: stream_truth(world, stream, api_version, quirks) for stream in STREAMS}


def part_conversation_ids(world: World) -> dict[str, str]:
    """Part id -> the id of the conversation it belongs to."""
    return {
        str(part.id): conversation_id
        for conversation_id in world.conversations
        for part in world.parts.records(conversation_id)
    }


def ground_truth_edges(world: World, *, contact_tags: bool = False) -> set[Edge]:
    """Every relation a perfect copy knows (see the module docstring for names).

    `contact_tags`: include contact→tag edges (off while the store does not model them)."""
    edges: set[Edge] = set()
    for contact_id, links in world.contact_links.items():
        edges.update(("contact", contact_id, "member_of", "company", c) for c in links.company_ids)
        segments = contact_segment_ids(world, contact_id)
        edges.update(("contact", contact_id, "in_segment", "segment", s) for s in segments)
        if contact_tags:
            tags = contact_tag_ids(world, contact_id)
            edges.update(("contact", contact_id, "tagged", "tag", t) for t in tags)
    for conversation_id, conversation in world.conversations.items():
        for tag in conversation["tags"]["tags"]:
            edges.add(("conversation", conversation_id, "tagged", "tag", tag["id"]))
        for contact in conversation["contacts"]["contacts"]:
            edges.add(("conversation", conversation_id, "involves", "contact", contact["id"]))
    for team_id, team in world.teams.items():
        edges.update(("team", team_id, "has_member", "admin", str(a)) for a in team["admin_ids"])
    for company_id, segment_ids in world.company_segment_ids.items():
        edges.update(("company", company_id, "in_segment", "segment", s) for s in segment_ids)
    return edges
