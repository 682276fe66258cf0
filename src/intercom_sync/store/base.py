"""The store interface the engine writes through, whatever the database.

The engine never writes row by row: it hands the store a `PageWrite` — one page's raw
records, the shapes derived from them, and the stream's new checkpoint — and the store
applies it in ONE transaction. That is what makes a crash at any instant lose nothing
and duplicate nothing (DESIGN §5, exactly-once by construction).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


class Store(ABC):
    """A synchronous store. The engine drives it from one writer thread (`AsyncStore`)."""

    url: str
    dialect: str  # "sqlite" | "postgresql"

    # -- lifecycle ---------------------------------------------------------------------
    @abstractmethod
    def migrate(self) -> None:
        """Create or upgrade every table; idempotent."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def execute_ddl(self, statements: list[str]) -> None:
        """Run schema statements (CREATE INDEX IF NOT EXISTS …) in one transaction."""

    @abstractmethod
    def optimize(self) -> None:
        """Refresh the planner's statistics where that is cheap (after a sync)."""

    # -- writes --------------------------------------------------------------------------
    @abstractmethod
    def apply(self, write: PageWrite, now: int) -> ApplyResult:
        """Apply one page in one transaction (records, shapes, gaps, checkpoints)."""

    def apply_many(self, writes: Sequence[PageWrite], now: int) -> list[ApplyResult]:
        """Apply several page writes in order; a store may commit them together (each
        write's effect is the same as applying it alone, and none is half applied)."""
        return [self.apply(write, now) for write in writes]

    @abstractmethod
    def mark_deleted(
        self,
        table: str,
        pass_id: str,
        now: int,
        *,
        updated_since: int | None = None,
        state: dict[str, dict[str, Any]] | None = None,
        entity_type: str | None = None,
        connector: str = "intercom",
        cascade: tuple[str, ...] = (),
        keys: Sequence[tuple[str, ...]] | None = None,
    ) -> int:
        """End a full pass: rows of `table` not seen in `pass_id` get `deleted_at = now`,
        and so do their entities (`entity_type`) and the rows of the `cascade` child tables
        that belong to them; checkpoints in `state` are stored in the same transaction.
        With `keys`, only those of the unseen rows (the ones confirmed gone) are marked."""

    @abstractmethod
    def save_state(self, states: dict[str, dict[str, Any]], now: int) -> None: ...

    # -- reads ---------------------------------------------------------------------------
    @abstractmethod
    def get_state(self, stream: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def all_states(self) -> dict[str, dict[str, Any]]: ...

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only statement written with `?` placeholders (translated per dialect)."""

    @abstractmethod
    def stage_members(self, stream: str, group_id: str, scan_id: str, members: list[str]) -> None:
        """Keep what a membership scan read so far, apart from the stream's table."""

    @abstractmethod
    def staged_count(self, stream: str, group_id: str, scan_id: str) -> int:
        """How many distinct members a scan has staged."""

    @abstractmethod
    def replace_members(
        self,
        stream: str,
        group_column: str,
        group_id: str,
        scan_id: str,
        now: int,
        *,
        edge: tuple[str, str, str],
        connector: str = "intercom",
    ) -> tuple[int, int]:
        """A completed scan becomes the group's membership, in ONE transaction: staged
        members are live (a rejoin clears `deleted_at`), the others get `deleted_at = now`,
        and the contact→group edges (`edge`: source type, relation, group entity type) are
        rewritten; the stage is cleared. Returns (members, ended)."""

    @abstractmethod
    def end_groups(
        self,
        stream: str,
        group_column: str,
        keep: list[str],
        now: int,
        *,
        edge: tuple[str, str, str],
        connector: str = "intercom",
    ) -> int:
        """Memberships of groups that no longer exist (not in `keep`) end; returns how many.
        Stale stages (interrupted scans) are dropped."""

    @abstractmethod
    def count_rows(self, table: str, lo: int, hi: int, *, seen_pass: str | None = None) -> int:
        """Live rows with `lo <= updated_at <= hi` (with `seen_pass`: rows seen in it)."""

    @abstractmethod
    def live_versions(self, table: str, lo: int, hi: int) -> dict[str, int]:
        """id -> updated_at of the live rows with `lo <= updated_at <= hi`."""

    @abstractmethod
    def unseen_keys(
        self, table: str, pass_id: str, *, updated_since: int | None = None
    ) -> list[tuple[str, ...]]:
        """Keys of live rows a full pass `pass_id` did not see (what it would mark)."""

    @abstractmethod
    def stored_parts(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every stored part of a conversation (raw JSON), oldest first."""

    @abstractmethod
    def stored_record(self, table: str, key: tuple[str, ...]) -> dict[str, Any] | None:
        """The raw JSON of one stored row, or None."""

    @abstractmethod
    def stored_parts_many(self, conversation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Stored parts of several conversations at once (raw JSON), oldest first."""

    @abstractmethod
    def pending_children(self, stream: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Parents whose child stream still has to be fetched: (parent id, parent updated_at)."""

    @abstractmethod
    def pending_after(
        self, stream: str, after_seq: int, limit: int | None = None
    ) -> list[tuple[str, int, int]]:
        """Queue entries enqueued after `after_seq`, oldest first: (parent id, parent
        updated_at, seq). Lets a reader take only what is new since its last read."""

    # -- runs ----------------------------------------------------------------------------
    @abstractmethod
    def start_run(self, run: RunRecord) -> list[str]:
        """Record a new run; mark earlier runs whose process is gone as interrupted and
        return their ids."""

    @abstractmethod
    def finish_run(
        self,
        run_id: str,
        *,
        finished_at: int,
        status: str,
        streams: dict[str, Any],
        requests: int,
        rate_limited: int,
        errors: list[str],
        mode: str | None = None,
    ) -> None:
        """Record how a run ended; `mode`, when given, corrects the one it started with."""

    @abstractmethod
    def update_run(self, run_id: str, streams: dict[str, Any], requests: int) -> None:
        """Progress of a running run, so a killed run still shows what it did."""

    # -- locks (companies scroll across processes) ---------------------------------------
    @abstractmethod
    def try_lock(self, name: str, owner: str, ttl: float, now: float) -> bool: ...

    @abstractmethod
    def release_lock(self, name: str, owner: str) -> None: ...

    @abstractmethod
    def lock_holder(self, name: str) -> str | None:
        """Who holds the lock now (expired or not), or None."""

    @contextmanager
    def reading(self) -> Iterator[Store]:
        yield self
