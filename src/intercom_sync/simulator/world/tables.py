"""The record tables of one workspace: what the generator fills and a `World` serves.

Plain dicts keyed by id (records shaped exactly like Intercom's 2.11 API), plus the
memberships that move no record and the conversations' parts. The generator writes
these directly, so nothing it makes counts as a change; everything after that goes
through `World`'s write methods, which record what changed for search.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.simulator.world.memberships import ContactLinkTable, TimeSegmentRule
from intercom_sync.simulator.world.parts_store import PartsStore
from intercom_sync.simulator.world.spec import WorldSpec

Record = dict[str, Any]

RECORD_KINDS = (
    "admins",
    "teams",
    "tags",
    "segments",
    "companies",
    "contacts",
    "conversations",
    "tickets",
)


class WorldTables:
    """Every record of one workspace, by kind; `World` adds its reads and writes."""

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.admins: dict[str, Record] = {}
        self.teams: dict[str, Record] = {}
        self.tags: dict[str, Record] = {}
        self.segments: dict[str, Record] = {}
        self.data_attributes: dict[str, list[Record]] = {"contact": [], "company": []}
        self.companies: dict[str, Record] = {}
        self.company_segment_ids: dict[str, list[str]] = {}
        self.contacts: dict[str, Record] = {}
        self.contact_links = ContactLinkTable()
        # Segments whose membership is computed from a rule (see `memberships`).
        self.time_segments: dict[str, TimeSegmentRule] = {}
        self.conversations: dict[str, Record] = {}
        self.parts = PartsStore({}, next_part_id=1)
        self.tickets: dict[str, Record] = {}
        self.ticket_types: dict[str, Record] = {}
        self.activity_logs: list[Record] = []
        # The workspace bot that authors automated parts (not an admin).
        self.bot: Record = {"type": "bot", "id": "0", "name": "Fin", "email": ""}

    def records(self, kind: str) -> dict[str, Record]:
        """The live records of a kind ("contacts", "conversations", ...)."""
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        records: dict[str, Record] = getattr(self, kind)
        return records
