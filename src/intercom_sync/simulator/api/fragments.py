"""Serialized records, kept for reuse across responses.

Serializing a 150-record search page costs about a millisecond, mostly memory
traffic; paging the same records again (benchmarks, repeated syncs) need not pay
it twice. The World's records are immutable values — a write replaces a dict,
it never edits one in place — so while this cache holds a reference to a
record, the record's identity pins its content, and `id(record)` is a safe
key. Entries are evicted in insertion order beyond a byte budget.

A record is kept only when it is served a SECOND time. Retaining bytes means
touching fresh memory, which costs several times the serialization itself on
small VMs; a single sync of a fresh workspace serves each record once and
should not pay for a cache it never uses, while repeated paging (benchmarks,
overlapping incremental syncs) soon runs from the cache. The "seen" set holds
bare ids: a reused id only makes a record cached one visit early, which is
harmless, because a hit also requires the cached record to BE the record.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

Record = dict[str, Any]
DEFAULT_BUDGET_BYTES = 96 * 1024 * 1024
_SEEN_LIMIT = 2_000_000


class FragmentCache:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        # key: (id(record), api version) → (the record, its bytes, their size)
        self.budget_bytes = budget_bytes
        self.size_bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[int, str], tuple[Record, orjson.Fragment, int]] = (
            OrderedDict()
        )
        self._seen: set[tuple[int, str]] = set()

    def encode_all(
        self, records: list[Record], version: str, render: Callable[[Record], Record]
    ) -> list[Any]:
        """Each record as the API version shows it, serialized once (`orjson.Fragment`s)."""
        entries = self._entries
        encoded: list[Any] = []
        for record in records:
            entry = entries.get((id(record), version))
            if entry is not None and entry[0] is record:
                encoded.append(entry[1])
            else:
                encoded.append(self._encode(record, version, render, entry))
        self.hits += len(records)
        return encoded

    def get(self, record: Record, version: str, render: Callable[[Record], Record]) -> Any:
        return self.encode_all([record], version, render)[0]

    def _encode(
        self,
        record: Record,
        version: str,
        render: Callable[[Record], Record],
        entry: tuple[Record, orjson.Fragment, int] | None,
    ) -> orjson.Fragment:
        key = (id(record), version)
        self.hits -= 1
        self.misses += 1
        if entry is not None:  # a stale entry whose record is gone and whose id was reused
            del self._entries[key]
            self.size_bytes -= entry[2]
        encoded = orjson.dumps(render(record))
        fragment = orjson.Fragment(encoded)
        if key not in self._seen:
            if len(self._seen) >= _SEEN_LIMIT:
                self._seen.clear()
            self._seen.add(key)
            return fragment
        if len(encoded) > self.budget_bytes:
            return fragment
        self._entries[key] = (record, fragment, len(encoded))
        self.size_bytes += len(encoded)
        while self.size_bytes > self.budget_bytes:
            _, (_, _, size) = self._entries.popitem(last=False)
            self.size_bytes -= size
        return fragment

    def clear(self) -> None:
        self._entries.clear()
        self._seen.clear()
        self.size_bytes = 0
