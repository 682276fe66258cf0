"""Ground truth: exactly what a perfect copy of the workspace holds right now.

`ground_truth(world, api_version)` maps every stream of DESIGN §4 to
`{primary key tuple: record as the API returns it for api_version}`:

* `(id,)` for admins, teams, tags, segments, contacts, conversations,
  companies, tickets, activity_logs, and conversation_parts (every part, also
  those beyond the API's 500-part cap);
* `(model, name)` for contact_attributes and company_attributes;
* `(company_id, segment id)` for company_segments, mapping to the segment.

Conversations are the search shape (no `conversation_parts` key); deleted
contacts, companies and conversations are absent (and so are a deleted
conversation's parts). `part_conversation_ids` tells which
conversation each part belongs to.

`ground_truth_edges(world)` lists relations as
`(src_type, src_id, relation, dst_type, dst_id)` with these relation names:

* `("contact", id, "member_of", "company", id)`
* `("contact", id, "in_segment", "segment", id)`
* `("conversation", id, "tagged", "tag", id)`
* `("conversation", id, "involves", "contact", id)`
* `("team", id, "has_member", "admin", id)`
* `("company", id, "in_segment", "segment", id)`
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from intercom_sync.simulator.render import render
from intercom_sync.simulator.timeline import render_part
from intercom_sync.simulator.world import World

Record = dict[str, Any]
Key = tuple[str, ...]
StreamTruth = dict[Key, Record]
Edge = tuple[str, str, str, str, str]

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
    "tickets",
    "activity_logs",
)


def _by_id(kind: str) -> Callable[[World, str], StreamTruth]:
    def build(world: World, api_version: str) -> StreamTruth:
        records = world.records(kind)
        return {
            (record_id,): render(kind, record, api_version) for record_id, record in records.items()
        }

    return build


def _attributes(model: str) -> Callable[[World, str], StreamTruth]:
    def build(world: World, api_version: str) -> StreamTruth:
        return {
            (model, record["name"]): render("data_attributes", record, api_version)
            for record in world.data_attributes[model]
        }

    return build


def _conversation_parts(world: World, api_version: str) -> StreamTruth:
    truth: StreamTruth = {}
    for conversation_id in world.conversations:
        for part in world.parts.records(conversation_id):
            truth[(str(part.id),)] = render("conversation_parts", render_part(part), api_version)
    return truth


def _company_segments(world: World, api_version: str) -> StreamTruth:
    truth: StreamTruth = {}
    for company_id in world.companies:
        for segment_id in world.company_segment_ids.get(company_id, []):
            segment = world.segments[segment_id]
            truth[(company_id, segment_id)] = render("segments", segment, api_version)
    return truth


def _activity_logs(world: World, api_version: str) -> StreamTruth:
    return {(log["id"],): render("activity_logs", log, api_version) for log in world.activity_logs}


_BUILDERS: dict[str, Callable[[World, str], StreamTruth]] = {
    "admins": _by_id("admins"),
    "teams": _by_id("teams"),
    "tags": _by_id("tags"),
    "segments": _by_id("segments"),
    "contact_attributes": _attributes("contact"),
    "company_attributes": _attributes("company"),
    "contacts": _by_id("contacts"),
    "conversations": _by_id("conversations"),
    "conversation_parts": _conversation_parts,
    "companies": _by_id("companies"),
    "company_segments": _company_segments,
    "tickets": _by_id("tickets"),
    "activity_logs": _activity_logs,
}


def stream_truth(world: World, stream: str, api_version: str = "2.11") -> StreamTruth:
    """The ground truth of one stream."""
    if stream not in _BUILDERS:
        raise ValueError(f"unknown stream {stream!r}; choose one of {', '.join(STREAMS)}")
    return _BUILDERS[stream](world, api_version)


def ground_truth(world: World, api_version: str = "2.11") -> dict[str, StreamTruth]:
    """Every stream's ground truth (see the module docstring for keys)."""
    return {stream: stream_truth(world, stream, api_version) for stream in STREAMS}


def part_conversation_ids(world: World) -> dict[str, str]:
    """Part id -> the id of the conversation it belongs to."""
    return {
        str(part.id): conversation_id
        for conversation_id in world.conversations
        for part in world.parts.records(conversation_id)
    }


def ground_truth_edges(world: World) -> set[Edge]:
    """Every relation a perfect copy knows (see the module docstring for names)."""
    edges: set[Edge] = set()
    for contact_id, links in world.contact_links.items():
        edges.update(("contact", contact_id, "member_of", "company", c) for c in links.company_ids)
        edges.update(("contact", contact_id, "in_segment", "segment", s) for s in links.segment_ids)
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
