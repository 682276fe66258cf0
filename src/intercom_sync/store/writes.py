"""What a sync hands the store: one page's records, the shapes derived from them and the
stream's new checkpoint (`PageWrite`), applied as one unit — and what came of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Row tuples follow the column order of their table in `store.schema`.
Row = tuple[Any, ...]


@dataclass(slots=True)
class Shapes:
    """Shape rows derived from records (entities, events, edges) and what they replace."""

    entities: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    edges: list[Row] = field(default_factory=list)
    metrics: list[Row] = field(default_factory=list)
    # (connector, src_type, src_id, relation): existing edges in this scope are dropped first,
    # so a tag removed from a conversation disappears from the edges too.
    edge_scopes: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (connector, event_type, entity_type, entity_id): events in this scope are rewritten.
    event_scopes: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (connector, entity_type, entity_id): every metric of this entity is rewritten.
    metric_scopes: list[tuple[str, str, str]] = field(default_factory=list)

    def extend(self, other: Shapes) -> None:
        self.entities += other.entities
        self.events += other.events
        self.edges += other.edges
        self.metrics += other.metrics
        self.edge_scopes += other.edge_scopes
        self.event_scopes += other.event_scopes
        self.metric_scopes += other.metric_scopes

    def __bool__(self) -> bool:
        return bool(
            self.entities
            or self.events
            or self.edges
            or self.metrics
            or self.edge_scopes
            or self.event_scopes
            or self.metric_scopes
        )


@dataclass(slots=True)
class RecordWrite:
    """One raw record and the shapes derived from it.

    If the store already holds a NEWER version of the record (by `updated_at`), the row
    and its shapes are skipped; only `seen_pass` is touched (the record still exists).
    """

    key: tuple[str, ...]
    updated_at: int | None
    row: Row
    shapes: Shapes | None = None
    # The child streams this record needs, of the page's `enqueue_children` (None: all).
    children: tuple[str, ...] | None = None


@dataclass(slots=True)
class PartsGap:
    """A conversation whose stored parts are fewer than its statistics say."""

    conversation_id: str
    expected: int
    stored: int


@dataclass(slots=True)
class PageWrite:
    """Everything one page (or one child fetch) changes, applied atomically."""

    table: str | None = None
    records: list[RecordWrite] = field(default_factory=list)
    # Shapes that do not depend on one record's freshness (e.g. events from stored parts).
    shapes: Shapes = field(default_factory=Shapes)
    # Checkpoints to store with this page: stream name -> state (JSON-able dict).
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Parts completeness: gaps to record, and conversations now complete.
    gaps: list[PartsGap] = field(default_factory=list)
    gaps_closed: list[str] = field(default_factory=list)
    seen_pass: str | None = None
    # Child streams to schedule for every record whose `updated_at` moved (or is new):
    # e.g. conversations enqueue "conversation_parts". The queue lives in the store, so
    # the parent's checkpoint and its children's work commit together.
    enqueue_children: tuple[str, ...] = ()
    # Child work finished in this transaction: (child stream, parent id, the parent's
    # updated_at it was queued for). A newer queue entry (the parent moved again while its
    # child was being fetched) stays queued.
    dequeue_children: list[tuple[str, str, int]] = field(default_factory=list)
    # The records are the COMPLETE set for each of these scopes (e.g. {"company_id": "c1"}):
    # rows of the table in a scope that are not among them are marked deleted.
    complete_scopes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ApplyResult:
    written: int = 0
    stale: int = 0
    # Keys of fresh records whose updated_at moved (new or newer than stored).
    moved: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    started_at: int
    mode: str
    pid: int
