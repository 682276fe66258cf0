"""What a search index shows at a moment in the past, cheaply.

Intercom's search reflects writes only after a delay. For each searchable kind
a `SearchIndex` keeps

* the live records' keys `(updated_at, id)` in a sorted list, maintained on
  every write (so paging starts with a bisect, O(log n));
* the creation order of ids (with tombstones, so positions stay stable), and
  — once a search over a few known ids asks for it — each id's position in
  it, so such a search can page them in that order without scanning everything;
* a history of recent writes `(at, id, old, new)`, pruned after `retention`
  seconds of simulated time.

`view(as_of)` overlays the versions records had at `as_of` on the live list:
ids written after `as_of` are hidden from it and their old versions (if they
existed then) are merged back in. That costs O(writes after as_of), not O(n).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

Key = tuple[int, str]
Record = dict[str, Any]
# Prune the history in batches of at least this many writes.
_PRUNE_BATCH = 256


def record_key(record: Record) -> Key:
    return (record["updated_at"], record["id"])


class _Write(NamedTuple):
    at: float
    record_id: str
    old: Record | None
    new: Record | None


class SearchIndex:
    """The sorted keys, creation order and write history of one searchable kind."""

    def __init__(self, kind: str, records: dict[str, Record], retention: float) -> None:
        self.kind = kind
        self.retention = retention
        self.records = records
        self.synced_generation = -1
        self._keys: list[Key] | None = None
        self._keys_shared = False
        self.order: list[str] = list(records)
        self._position: dict[str, int] | None = None  # built on first use
        self._history: list[_Write] = []
        self._times: list[float] = []
        self._base = 0  # absolute number of the first retained write
        self._last_write: dict[str, int] = {}
        self._floor = -math.inf  # no view may look before this moment

    @property
    def writes(self) -> int:
        """How many writes this index has ever recorded."""
        return self._base + len(self._history)

    @property
    def position(self) -> dict[str, int]:
        """Each id's position in `order`."""
        if self._position is None:
            self._position = {record_id: at for at, record_id in enumerate(self.order)}
        return self._position

    def _append(self, record_id: str) -> None:
        if self._position is not None:
            self._position[record_id] = len(self.order)
        self.order.append(record_id)

    def _rebuild(self, generation: int) -> list[Key]:
        keys = sorted(record_key(record) for record in self.records.values())
        known = set(self.order)
        for record_id in self.records:
            if record_id not in known:
                self._append(record_id)
        self._keys, self._keys_shared = keys, False
        self.synced_generation = generation
        return keys

    def _writable_keys(self) -> list[Key] | None:
        if self._keys is not None and self._keys_shared:
            self._keys, self._keys_shared = self._keys.copy(), False
        return self._keys

    def record_write(
        self, at: float, record_id: str, old: Record | None, new: Record | None, generation: int
    ) -> None:
        """Note a write (insert: old is None; delete: new is None) made at `at`."""
        if self._times:
            at = max(at, self._times[-1])
        keys = self._writable_keys()
        if keys is not None and old is not None:
            key = record_key(old)
            index = bisect.bisect_left(keys, key)
            if index < len(keys) and keys[index] == key:
                del keys[index]
            else:  # someone changed records behind our back: rebuild on next view
                self._keys = keys = None
        if keys is not None and new is not None:
            bisect.insort(keys, record_key(new))
        if old is None and new is not None:
            self._append(record_id)
        self._history.append(_Write(at, record_id, old, new))
        self._times.append(at)
        self._last_write[record_id] = self.writes - 1
        self.synced_generation = generation
        self._prune(at)

    def _prune(self, now: float) -> None:
        count = bisect.bisect_left(self._times, now - self.retention)
        if count < _PRUNE_BATCH:
            return
        for offset, write in enumerate(self._history[:count]):
            if self._last_write.get(write.record_id) == self._base + offset:
                del self._last_write[write.record_id]
        self._floor = self._times[count - 1]
        del self._history[:count]
        del self._times[:count]
        self._base += count

    def version_after(self, record_id: str, mark: int) -> Record | None:
        """The version `record_id` had just before write number `mark` (live if none since)."""
        if self._last_write.get(record_id, -1) < mark:
            return self.records.get(record_id)
        for write in self._history[max(0, mark - self._base) :]:
            if write.record_id == record_id:
                return write.old
        return self.records.get(record_id)

    def view(self, as_of: float, generation: int, *, hide_rewritten: bool = False) -> SearchView:
        """The index as it stood at `as_of` (writes made after it are not yet visible).

        With `hide_rewritten`, a record written after `as_of` is missing altogether (it is
        being re-indexed) rather than shown in the version it had at `as_of`."""
        keys = self._keys
        if keys is None or self.synced_generation != generation:
            keys = self._rebuild(generation)
        if as_of < self._floor:
            raise ValueError(
                f"{self.kind} search as of {as_of} predates the retained write history "
                f"(retention {self.retention} s); raise World history_retention"
            )
        first_old: dict[str, Record | None] = {}
        for write in self._history[bisect.bisect_right(self._times, as_of) :]:
            if write.record_id not in first_old:
                first_old[write.record_id] = write.old
        overlay = sorted(
            (
                (record_key(old), old)
                for old in first_old.values()
                if old is not None and not hide_rewritten
            ),
            key=lambda item: item[0],
        )
        live_hidden = sum(1 for record_id in first_old if record_id in self.records)
        self._keys_shared = True
        return SearchView(
            index=self,
            as_of=as_of,
            keys=keys,
            hidden=frozenset(first_old),
            overlay=overlay,
            size=len(keys) - live_hidden + len(overlay),
        )


class SearchView:
    """Records as the search index shows them at `as_of`, ordered by `(updated_at, id)`.

    A view is a snapshot: writes made after it was created do not change what
    it yields. Build a fresh one per request.
    """

    def __init__(
        self,
        *,
        index: SearchIndex,
        as_of: float,
        keys: list[Key],
        hidden: frozenset[str],
        overlay: list[tuple[Key, Record]],
        size: int,
    ) -> None:
        self.as_of = as_of
        self._index = index
        self._keys = keys
        self._hidden = hidden
        self._overlay_keys = [key for key, _ in overlay]
        self._overlay = [record for _, record in overlay]
        self._overlay_by_id = {record["id"]: record for record in self._overlay}
        self._size = size
        self._mark = index.writes
        self._order_len = len(index.order)

    def __len__(self) -> int:
        return self._size

    def _live(self, record_id: str) -> Record | None:
        if self._index.writes != self._mark:
            return self._index.version_after(record_id, self._mark)
        return self._index.records.get(record_id)

    def get(self, record_id: str) -> Record | None:
        """The version of one record the index shows (None when absent)."""
        if record_id in self._hidden:
            return self._overlay_by_id.get(record_id)
        return self._live(record_id)

    def ascending(self, after: Key | None = None) -> Iterator[Record]:
        """Records with keys greater than `after` (all when None), smallest first."""
        keys, overlay_keys, hidden = self._keys, self._overlay_keys, self._hidden
        i = 0 if after is None else bisect.bisect_right(keys, after)
        j = 0 if after is None else bisect.bisect_right(overlay_keys, after)
        while i < len(keys) or j < len(overlay_keys):
            if j < len(overlay_keys) and (i >= len(keys) or overlay_keys[j] < keys[i]):
                yield self._overlay[j]
                j += 1
                continue
            record_id = keys[i][1]
            i += 1
            if record_id not in hidden:
                record = self._live(record_id)
                if record is not None:
                    yield record

    def descending(self, before: Key | None = None) -> Iterator[Record]:
        """Records with keys smaller than `before` (all when None), largest first."""
        keys, overlay_keys, hidden = self._keys, self._overlay_keys, self._hidden
        i = len(keys) - 1 if before is None else bisect.bisect_left(keys, before) - 1
        j = (
            len(overlay_keys) - 1
            if before is None
            else bisect.bisect_left(overlay_keys, before) - 1
        )
        while i >= 0 or j >= 0:
            if j >= 0 and (i < 0 or overlay_keys[j] > keys[i]):
                yield self._overlay[j]
                j -= 1
                continue
            record_id = keys[i][1]
            i -= 1
            if record_id not in hidden:
                record = self._live(record_id)
                if record is not None:
                    yield record

    def natural_items(self, start: int = 0) -> Iterator[tuple[int, Record]]:
        """(position, record) in creation order from `start`; resume at position + 1.

        Positions are stable: deleting a record never shifts the others.
        """
        order = self._index.order
        for position in range(max(0, start), self._order_len):
            record = self.get(order[position])
            if record is not None:
                yield position, record

    def positions(self, record_ids: Iterable[str]) -> list[int]:
        """The creation-order positions of those of `record_ids` this view can know, sorted."""
        known, limit = self._index.position, self._order_len
        found = (known.get(record_id) for record_id in record_ids)
        return sorted(at for at in found if at is not None and at < limit)

    def items_at(self, positions: Iterable[int]) -> Iterator[tuple[int, Record]]:
        """(position, record) for the given positions (ascending) that hold a record."""
        order = self._index.order
        for position in positions:
            record = self.get(order[position])
            if record is not None:
                yield position, record

    def natural(self, start: int = 0) -> Iterator[Record]:
        """Records in insertion (creation) order, for unsorted searches."""
        for _, record in self.natural_items(start):
            yield record
