"""The page sink of the protocol adapters: the engine writes into it as into a store, and it
passes records on as messages instead (Airbyte, Singer, dlt), with checkpoints behind them.

It keeps no history — only what one run needs: the streams' checkpoints (handed in from
the platform's saved state, handed back as `checkpoint` snapshots), the queue of child
work (parents whose parts, segments or companies are still to be fetched), the members a
membership scan has staged, and the `updated_at` of each record passed on, for the checks
against Intercom's counts (`keeps_history = False`: those compare only what this run read).

A snapshot is taken only after every record it covers was passed to the sink — the engine
hands over a page's records and its checkpoint as one `PageWrite`, and this backend is
driven by one thread, in order. So a platform that saves the last snapshot it received
together with the records before it, and starts the next read from it, loses nothing:
what was queued but not fetched is in the snapshot's queue.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from intercom_sync.store.base import ApplyResult, PageWrite, RecordWrite, RunRecord
from intercom_sync.store.schema import RAW_TABLES, RawTable

# The snapshot key of the child-work queue: {child stream: [[parent id, version], …]}.
PENDING = "_pending"
# Snapshots are taken after this many records at most (and when a stream finishes).
CHECKPOINT_EVERY = 2_000


class MessageSink(Protocol):
    """Where an adapter sends what the engine writes (its own protocol's messages)."""

    def record(self, stream: str, record: dict[str, Any]) -> None: ...

    def checkpoint(self, state: dict[str, Any]) -> None:
        """Everything needed to resume: every record passed before this is covered."""
        ...


def record_of(table: RawTable, write: RecordWrite) -> dict[str, Any]:
    """The record as received, with the keys it takes from its parent (a part's
    `conversation_id`, a company segment's `company_id`, an attribute's `model`)."""
    names = [name for name, _ in table.all_columns]
    raw = write.row[names.index("raw")]
    record: dict[str, Any] = orjson.loads(raw) if raw is not None else {}
    for key in table.parent_key:
        record.setdefault(key, write.row[names.index(key)])
    return record


class EmittingBackend:
    """A `SyncBackend` (store/base.py) that emits instead of storing."""

    keeps_history = False

    def __init__(self, sink: MessageSink, state: dict[str, Any], emit: frozenset[str]) -> None:
        self._sink = sink
        self._emit = emit
        self._states: dict[str, dict[str, Any]] = {
            k: copy.deepcopy(v) for k, v in state.items() if k != PENDING and isinstance(v, dict)
        }
        self._seq = 0
        self._pending: dict[str, dict[str, tuple[int, int]]] = {}
        for child, entries in dict(state.get(PENDING) or {}).items():
            for parent_id, version in entries:
                self._queue(child, str(parent_id), int(version))
        self._updated: dict[str, list[int]] = {}
        self._unsorted: set[str] = set()
        self._staged: dict[tuple[str, str, str], set[str]] = {}
        self._since_checkpoint = 0
        self.emitted: dict[str, int] = {}

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = copy.deepcopy(self._states)
        out[PENDING] = {
            child: [[p, v] for p, (v, _) in sorted(queue.items(), key=lambda i: i[1][1])]
            for child, queue in self._pending.items()
            if queue
        }
        return out

    def _checkpoint(self) -> None:
        self._since_checkpoint = 0
        self._sink.checkpoint(self.snapshot())

    # -- Checkpoints ----------------------------------------------------------------------
    def get_state(self, stream: str) -> dict[str, Any] | None:
        state = self._states.get(stream)
        return copy.deepcopy(state) if state is not None else None

    def all_states(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._states)

    def save_state(self, states: dict[str, dict[str, Any]], now: int) -> None:
        self._states.update(copy.deepcopy(states))
        self._checkpoint()

    # -- RunLog and Leases: one process, one run; nothing to record or to share -------------
    def start_run(self, run: RunRecord) -> list[str]:
        return []

    def finish_run(self, run_id: str, **_: Any) -> None:
        self._checkpoint()

    def try_lock(self, name: str, owner: str, ttl: float, now: float) -> bool:
        return True

    def release_lock(self, name: str, owner: str) -> None:
        return None

    def lock_holder(self, name: str) -> str | None:
        return None

    # -- PageSink ---------------------------------------------------------------------------
    def apply(self, write: PageWrite, now: int) -> ApplyResult:
        result = ApplyResult()
        if write.table is not None and write.records:
            table = RAW_TABLES[write.table]
            for rec in write.records:
                self._pass_on(write.table, table, rec)
            result.written = len(write.records)
            result.moved = [r.key for r in write.records]  # nothing older is kept to compare
            self._enqueue(write)
        for child, parent_id, version in write.dequeue_children:
            queued = self._pending.get(child, {}).get(parent_id)
            if queued is not None and queued[0] <= version:
                del self._pending[child][parent_id]
        if write.state:
            self._states.update(copy.deepcopy(write.state))
        if write.state or write.dequeue_children:
            self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint()
        return result

    def apply_many(self, writes: Sequence[PageWrite], now: int) -> list[ApplyResult]:
        return [self.apply(write, now) for write in writes]

    def _pass_on(self, stream: str, table: RawTable, rec: RecordWrite) -> None:
        if rec.updated_at is not None:
            self._updated.setdefault(stream, []).append(rec.updated_at)
            self._unsorted.add(stream)
        if stream in self._emit:
            self._sink.record(stream, record_of(table, rec))
            self.emitted[stream] = self.emitted.get(stream, 0) + 1
            self._since_checkpoint += 1

    def _enqueue(self, write: PageWrite) -> None:
        for rec in write.records:
            for child in write.enqueue_children:
                if rec.children is None or child in rec.children:
                    self._queue(child, rec.key[0], rec.updated_at or 0)

    def _queue(self, child: str, parent_id: str, version: int) -> None:
        self._seq += 1
        self._pending.setdefault(child, {})[parent_id] = (version, self._seq)

    def mark_deleted(
        self,
        table: str,
        pass_id: str,
        now: int,
        *,
        state: dict[str, dict[str, Any]] | None = None,
        **_: Any,
    ) -> int:
        """No row is kept, so none is marked: a platform learns of deletions by a full
        refresh. The pass's checkpoint is kept all the same."""
        if state:
            self.save_state(state, now)
        return 0

    def stage_members(self, stream: str, group_id: str, scan_id: str, members: list[str]) -> None:
        self._staged.setdefault((stream, group_id, scan_id), set()).update(members)

    def replace_members(
        self,
        stream: str,
        group_column: str,
        group_id: str,
        scan_id: str,
        now: int,
        **_: Any,
    ) -> tuple[int, int]:
        """A completed scan's members go out as the group's membership records."""
        members = sorted(self._staged.pop((stream, group_id, scan_id), set()))
        for key in [k for k in self._staged if k[:2] == (stream, group_id)]:
            del self._staged[key]
        if stream in self._emit:
            member = RAW_TABLES[stream].key_names[0]
            for contact_id in members:
                self._sink.record(stream, {member: contact_id, group_column: group_id})
            self.emitted[stream] = self.emitted.get(stream, 0) + len(members)
            self._since_checkpoint += len(members)
        return len(members), 0

    def end_groups(
        self, stream: str, group_column: str, keep: list[str], now: int, **_: Any
    ) -> int:
        self._staged = {k: v for k, v in self._staged.items() if k[0] != stream}
        return 0

    # -- Reader -----------------------------------------------------------------------------
    def stored_parts(self, conversation_id: str) -> list[dict[str, Any]]:
        return []

    def stored_parts_many(self, conversation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return {cid: [] for cid in conversation_ids}

    def stored_record(self, table: str, key: tuple[str, ...]) -> dict[str, Any] | None:
        return None

    def count_rows(self, table: str, lo: int, hi: int, *, seen_pass: str | None = None) -> int:
        """Records of `table` this run passed on with `lo <= updated_at <= hi`."""
        stamps = self._updated.get(table, [])
        if table in self._unsorted:
            stamps.sort()
            self._unsorted.discard(table)
        return bisect.bisect_right(stamps, hi) - bisect.bisect_left(stamps, lo)

    def live_versions(self, table: str, lo: int, hi: int) -> dict[str, int]:
        return {}

    def unseen_keys(
        self, table: str, pass_id: str, *, updated_since: int | None = None
    ) -> list[tuple[str, ...]]:
        return []

    def staged_count(self, stream: str, group_id: str, scan_id: str) -> int:
        return len(self._staged.get((stream, group_id, scan_id), ()))

    def pending_children(self, stream: str, limit: int | None = None) -> list[tuple[str, int]]:
        return [(p, v) for p, v, _ in self.pending_after(stream, 0, limit)]

    def pending_after(
        self, stream: str, after_seq: int, limit: int | None = None
    ) -> list[tuple[str, int, int]]:
        queue = self._pending.get(stream, {})
        found = sorted(
            ((p, v, s) for p, (v, s) in queue.items() if s > after_seq), key=lambda e: e[2]
        )
        return found if limit is None else found[:limit]
