"""The simulated workspace: its record tables, the search history, and how they change.

A `World` holds the tables of `tables.WorldTables` (every record, shaped exactly like
Intercom's 2.11 API). `World.build` has the generator fill them from a `WorldSpec`
(same spec, same bytes); after that they change only through the write methods
(`put`, `remove`, `append_parts`, `append_activity_log`), which the `Mutator` uses.
Each write bumps `generation[kind]` and, for the searchable kinds, records the old and
new version so `search_view(kind, as_of)` can show the index as it was at `as_of`.

Records are immutable values: a write replaces a dict, never edits one in
place. Readers (the HTTP layer, ground truth) must not modify what they get.

Memberships that move no record (a segment join, a time-based segment) live
beside the records: `contact_links` (a `ContactLinkTable`, which records every
join and leave for search) and `time_segments` (see `memberships`).

The generated world counts as fully indexed: search lag applies to writes made
after `build`, not to records whose generated `updated_at` is recent.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.clock import Clock, ManualClock
from intercom_sync.simulator.world.generate.populate import populate
from intercom_sync.simulator.world.records import ContactLinks
from intercom_sync.simulator.world.searchindex import SearchIndex, SearchView
from intercom_sync.simulator.world.spec import WorldSpec
from intercom_sync.simulator.world.tables import RECORD_KINDS, WorldTables
from intercom_sync.simulator.world.timeline import PartRecord

__all__ = ["SEARCHABLE_KINDS", "ContactLinks", "SearchView", "World"]

Record = dict[str, Any]

SEARCHABLE_KINDS = ("contacts", "conversations", "tickets")
DELETABLE_KINDS = ("contacts", "companies", "conversations")
# How long (simulated seconds) the search history keeps old versions.
DEFAULT_HISTORY_RETENTION = 3_600.0


class World(WorldTables):
    """All records of one simulated workspace, and the ways they change."""

    def __init__(
        self,
        spec: WorldSpec,
        clock: Clock | None = None,
        *,
        history_retention: float = DEFAULT_HISTORY_RETENTION,
    ) -> None:
        super().__init__(spec)
        self.clock: Clock = clock if clock is not None else ManualClock(spec.now)
        self.deleted: dict[str, dict[str, int]] = {kind: {} for kind in DELETABLE_KINDS}
        self.generation: dict[str, int] = {kind: 0 for kind in (*RECORD_KINDS, "activity_logs")}
        # Highest numeric ids handed out so far, by sequence name (see mutations).
        self.sequences: dict[str, int] = {}
        self.history_retention = history_retention
        self._indexes: dict[str, SearchIndex] = {}

    @classmethod
    def build(
        cls,
        spec: WorldSpec,
        clock: Clock | None = None,
        *,
        history_retention: float = DEFAULT_HISTORY_RETENTION,
    ) -> World:
        """Generate the workspace `spec` describes (deterministic in `spec.seed`)."""
        world = cls(spec, clock, history_retention=history_retention)
        populate(world)
        world.contact_links.track(world.clock.now, history_retention)
        world._indexes = {
            kind: SearchIndex(kind, world.records(kind), history_retention)
            for kind in SEARCHABLE_KINDS
        }
        return world

    def now(self) -> int:
        return int(self.clock.now())

    # -- reads -------------------------------------------------------------------------------

    def conversation(self, conversation_id: str, parts_cap: int | None) -> Record | None:
        """The `GET /conversations/{id}` body: the most recent `parts_cap` parts embedded."""
        record = self.conversations.get(conversation_id)
        if record is None:
            return None
        parts = self.parts.latest(conversation_id, parts_cap)
        return {
            **record,
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": parts,
                "total_count": len(parts),
            },
        }

    def search_view(self, kind: str, as_of: float, *, hide_rewritten: bool = False) -> SearchView:
        """What the search index of `kind` shows at `as_of` (see module docstring).

        `hide_rewritten`: records written after `as_of` are absent (being re-indexed)
        instead of showing the version they had then."""
        index = self._index(kind)
        return index.view(as_of, self.generation[kind], hide_rewritten=hide_rewritten)

    def keep_history(self, seconds: float) -> None:
        """Keep old versions for at least `seconds`, so a search can look that far back."""
        self.history_retention = max(self.history_retention, seconds)
        self.contact_links.retention = max(self.contact_links.retention, seconds)
        for index in self._indexes.values():
            index.retention = max(index.retention, seconds)

    def _index(self, kind: str) -> SearchIndex:
        if kind not in SEARCHABLE_KINDS:
            raise ValueError(f"{kind!r} is not searchable; choose one of {SEARCHABLE_KINDS}")
        index = self._indexes.get(kind)
        if index is None:
            index = SearchIndex(kind, self.records(kind), self.history_retention)
            self._indexes[kind] = index
        return index

    # -- writes ------------------------------------------------------------------------------

    def put(self, kind: str, record: Record) -> None:
        """Insert or replace a record (by its `id`), stamped at `now()`."""
        records = self.records(kind)
        old = records.get(record["id"])
        records[record["id"]] = record
        self._wrote(kind, record["id"], old, record)

    def remove(self, kind: str, record_id: str) -> Record:
        """Delete a contact, company or conversation; it is listed in `deleted` from now on
        (a deleted conversation leaves search and `GET /conversations/{id}` answers 404)."""
        if kind not in DELETABLE_KINDS:
            raise ValueError(f"{kind!r} records cannot be deleted")
        records = self.records(kind)
        old = records.pop(record_id)
        if kind == "contacts":
            self.contact_links.pop(record_id, None)
        elif kind == "companies":
            self.company_segment_ids.pop(record_id, None)
        self.deleted[kind][record_id] = self.now()
        self._wrote(kind, record_id, old, None)
        return old

    def append_parts(self, conversation_id: str, parts: list[PartRecord]) -> None:
        """Add parts to a conversation's history (the caller then `put`s the conversation)."""
        self.parts.append(conversation_id, parts)

    def append_activity_log(self, record: Record) -> None:
        self.activity_logs.append(record)
        self.generation["activity_logs"] += 1

    def _wrote(self, kind: str, record_id: str, old: Record | None, new: Record | None) -> None:
        self.generation[kind] += 1
        if kind in SEARCHABLE_KINDS:
            # Stamped in whole seconds, like `updated_at`: a write is visible to a
            # search as of T exactly when the new version's updated_at <= T.
            self._index(kind).record_write(self.now(), record_id, old, new, self.generation[kind])
