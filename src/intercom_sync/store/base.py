"""The store as the engine sees it: five small roles, each a `Protocol` its consumers depend
on, whatever backs them (SQLite, PostgreSQL, or a protocol adapter that emits messages).

* `Checkpoints` — each stream's state (cursor, pass in progress, last check);
* `RunLog` — one row per run, so a killed run still shows;
* `Leases` — one process at a time per stream, per store;
* `PageSink` — the seam where a page's records and its checkpoint go, as ONE unit: a crash
  at any instant loses nothing and duplicates nothing (DESIGN §5). The engine never writes
  row by row; it hands the sink a `PageWrite`. Protocol adapters plug in here;
* `Reader` — what the engine reads back: stored parts and records, counts for the checks
  against Intercom's, the child-work queue.

`Store` is all of them plus the lifecycle of a database (`store.dbapi.DbApiStore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from intercom_sync.store.writes import (
    ApplyResult,
    PageWrite,
    PartsGap,
    RecordWrite,
    Row,
    RunRecord,
    Shapes,
)

__all__ = [
    "ApplyResult",
    "Checkpoints",
    "Leases",
    "PageSink",
    "PageWrite",
    "PartsGap",
    "Reader",
    "RecordWrite",
    "Row",
    "RunLog",
    "RunRecord",
    "Shapes",
    "Store",
    "SyncBackend",
]


class Checkpoints(Protocol):
    def get_state(self, stream: str) -> dict[str, Any] | None: ...

    def all_states(self) -> dict[str, dict[str, Any]]: ...

    def save_state(self, states: dict[str, dict[str, Any]], now: int) -> None:
        """Store checkpoints (stream name -> JSON-able state) in one transaction."""
        ...


class RunLog(Protocol):
    def start_run(self, run: RunRecord) -> list[str]:
        """Record a new run; mark earlier runs whose process is gone as interrupted and
        return their ids."""
        ...

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
        ...


class Leases(Protocol):
    def try_lock(self, name: str, owner: str, ttl: float, now: float) -> bool: ...

    def release_lock(self, name: str, owner: str) -> None: ...

    def lock_holder(self, name: str) -> str | None:
        """Who holds the lock now (expired or not), or None."""
        ...


class PageSink(Protocol):
    def apply(self, write: PageWrite, now: int) -> ApplyResult:
        """Apply one page as one unit (records, shapes, gaps, child queue, checkpoints)."""
        ...

    def apply_many(self, writes: Sequence[PageWrite], now: int) -> list[ApplyResult]:
        """Several page writes in order; a sink may commit them together (each write's
        effect is the same as applying it alone, and none is half applied)."""
        ...

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
        ...

    def stage_members(self, stream: str, group_id: str, scan_id: str, members: list[str]) -> None:
        """Keep what a membership scan read so far, apart from the stream's table."""
        ...

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
        ...

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
        ...


class Reader(Protocol):
    # True for a store that holds every record synced before (a database); False for a
    # sink that only passes this run's records on (a protocol adapter), whose counts the
    # checks against Intercom's may only compare over what the run itself read.
    keeps_history: bool

    def stored_parts(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every stored part of a conversation (raw JSON), oldest first."""
        ...

    def stored_parts_many(self, conversation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Stored parts of several conversations at once (raw JSON), oldest first."""
        ...

    def stored_record(self, table: str, key: tuple[str, ...]) -> dict[str, Any] | None:
        """The raw JSON of one stored row, or None."""
        ...

    def count_rows(self, table: str, lo: int, hi: int, *, seen_pass: str | None = None) -> int:
        """Live rows with `lo <= updated_at <= hi` (with `seen_pass`: rows seen in it)."""
        ...

    def live_versions(self, table: str, lo: int, hi: int) -> dict[str, int]:
        """id -> updated_at of the live rows with `lo <= updated_at <= hi`."""
        ...

    def unseen_keys(
        self, table: str, pass_id: str, *, updated_since: int | None = None
    ) -> list[tuple[str, ...]]:
        """Keys of live rows a full pass `pass_id` did not see (what it would mark)."""
        ...

    def staged_count(self, stream: str, group_id: str, scan_id: str) -> int:
        """How many distinct members a scan has staged."""
        ...

    def pending_children(self, stream: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Parents whose child stream still has to be fetched: (parent id, parent updated_at)."""
        ...

    def pending_after(
        self, stream: str, after_seq: int, limit: int | None = None
    ) -> list[tuple[str, int, int]]:
        """Queue entries enqueued after `after_seq`, oldest first: (parent id, parent
        updated_at, seq). Lets a reader take only what is new since its last read."""
        ...


class SyncBackend(Checkpoints, RunLog, Leases, PageSink, Reader, Protocol):
    """Everything a sync needs of what it writes into."""


class Store(SyncBackend, Protocol):
    """A database store: the sync's roles, plain reads, and the database's lifecycle."""

    url: str
    dialect: str  # "sqlite" | "postgresql"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only statement written with `?` placeholders (translated per dialect)."""
        ...

    def migrate(self) -> None:
        """Create or upgrade every table; idempotent."""
        ...

    def execute_ddl(self, statements: list[str]) -> None:
        """Run schema statements (CREATE INDEX IF NOT EXISTS …) in one transaction."""
        ...

    def optimize(self) -> None:
        """Refresh the planner's statistics where that is cheap (after a sync)."""
        ...

    def analyze(self) -> None:
        """Refresh the planner's statistics (from a sample of each index where possible)."""
        ...

    def close(self) -> None: ...
