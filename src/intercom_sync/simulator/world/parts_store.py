"""Every conversation's parts, kept compact and rendered on demand.

`PartsStore` is what `World.parts` is: a read-only mapping from conversation id
to the list of its `conversation_part` dicts, oldest first. Each lookup renders
fresh dicts from the compact timeline, so callers may keep or change what they
get without affecting the world; writes go through `append`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from intercom_sync.simulator.world.timeline import PartRecord, Timeline, render_part


class PartsStore(Mapping[str, list[dict[str, Any]]]):
    def __init__(self, timelines: dict[str, Timeline], next_part_id: int) -> None:
        self.timelines = timelines
        self._next_part_id = next_part_id

    def __getitem__(self, conversation_id: str) -> list[dict[str, Any]]:
        return [render_part(part) for part in self.timelines[conversation_id].parts]

    def __iter__(self) -> Iterator[str]:
        return iter(self.timelines)

    def __len__(self) -> int:
        return len(self.timelines)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self.timelines

    def count(self, conversation_id: str) -> int:
        return len(self.timelines[conversation_id].parts)

    def records(self, conversation_id: str) -> list[PartRecord]:
        """The compact records (shared; do not modify)."""
        return self.timelines[conversation_id].parts

    def latest(self, conversation_id: str, limit: int | None) -> list[dict[str, Any]]:
        """The most recent `limit` parts (all when None), oldest first."""
        parts = self.timelines[conversation_id].parts
        if limit is not None:
            parts = parts[-limit:] if limit > 0 else []
        return [render_part(part) for part in parts]

    def total(self) -> int:
        return sum(len(timeline.parts) for timeline in self.timelines.values())

    def new_part_id(self) -> int:
        """A fresh part id, larger than every id handed out before."""
        part_id = self._next_part_id
        self._next_part_id += 1
        return part_id

    def add_timeline(self, conversation_id: str, timeline: Timeline) -> None:
        self.timelines[conversation_id] = timeline

    def append(self, conversation_id: str, parts: list[PartRecord]) -> None:
        self.timelines[conversation_id].parts.extend(parts)
