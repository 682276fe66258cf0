"""Completeness checked against Intercom's own counts (DESIGN §5). Pure: counts are injected.

Search answers `total_count` for any query, so one small request (`per_page: 1`) tells how
many records Intercom holds with `updated_at` in a span. Comparing that with the store
over the same span proves a copy complete — or finds where it is not: a span whose counts
disagree is halved, and each half counted, until the disagreement sits in spans small
enough to re-read in a page (`leaf_size` records). When everything agrees, checking costs
one request.

Contact search compares dates by calendar day, so its spans are whole local days and a
single day is never split (`DaySplitter`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

Count = Callable[["Span"], Awaitable[int]]


@dataclass(frozen=True, order=True)
class Span:
    """Records with `lo <= updated_at <= hi` (Unix seconds, both ends included)."""

    lo: int
    hi: int

    def as_list(self) -> list[int]:
        return [self.lo, self.hi]


@dataclass(frozen=True)
class Mismatch:
    span: Span
    intercom: int
    store: int

    @property
    def missing(self) -> int:
        """Records Intercom counts that the store lacks (negative: the store has more)."""
        return self.intercom - self.store


@dataclass
class Tally:
    """The outcome of counting one root span down to its disagreeing leaves."""

    root: Span
    intercom: int
    store: int
    mismatches: list[Mismatch] = field(default_factory=list)
    requests: int = 0

    @property
    def agrees(self) -> bool:
        return self.intercom == self.store

    @classmethod
    def combined(cls, parts: list[Tally]) -> Tally:
        """Adjacent roots counted one by one, as one tally over the span they cover."""
        root = Span(min(p.root.lo for p in parts), max(p.root.hi for p in parts))
        return cls(
            root,
            sum(p.intercom for p in parts),
            sum(p.store for p in parts),
            sorted((m for p in parts for m in p.mismatches), key=lambda m: m.span),
            sum(p.requests for p in parts),
        )


class Splitter(Protocol):
    def split(self, span: Span) -> tuple[Span, Span] | None:
        """Two halves that cover `span`, or None when it cannot be split further."""
        ...


class ExactSplitter:
    """Spans of whole seconds: halved at the midpoint down to a single second."""

    def split(self, span: Span) -> tuple[Span, Span] | None:
        if span.lo >= span.hi:
            return None
        middle = (span.lo + span.hi) // 2
        return Span(span.lo, middle), Span(middle + 1, span.hi)


class DaySplitter:
    """Spans of whole calendar days in a time zone, halved at a day boundary."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def day_start(self, timestamp: int) -> int:
        local = datetime.fromtimestamp(timestamp, self.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(midnight.timestamp())

    def next_day_start(self, timestamp: int) -> int:
        local = datetime.fromtimestamp(self.day_start(timestamp), self.zone)
        # Wall-clock arithmetic, then re-attach the zone: a DST day lasts 23 or 25 hours.
        following = (local.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=self.zone)
        return int(following.timestamp())

    def align(self, lo: int, hi: int) -> Span:
        """The whole days `[lo, hi]` touches."""
        return Span(self.day_start(lo), self.next_day_start(hi) - 1)

    def split(self, span: Span) -> tuple[Span, Span] | None:
        if self.next_day_start(span.lo) > span.hi:
            return None  # one day: contact search cannot tell its seconds apart
        boundary = self.day_start((span.lo + span.hi) // 2)
        if boundary <= span.lo:
            boundary = self.next_day_start(span.lo)
        return Span(span.lo, boundary - 1), Span(boundary, span.hi)


async def tally(
    intercom: Count, store: Count, root: Span, splitter: Splitter, *, leaf_size: int
) -> Tally:
    """Count `root` on both sides and narrow every disagreement down to leaves: spans
    Intercom counts at most `leaf_size` records in (one page re-reads them), or that
    cannot be split. Halves that agree are not looked into further.

    Only the first half of a span is asked about; Intercom's count of the second is the
    span's less the first's, which halves the requests. Should the index change in between,
    the worst case is a look into a half that agrees, or a leaf found on the next run: every
    leaf is re-read, and the root is counted again after the repairs."""
    result = Tally(root, await intercom(root), await store(root), requests=1)
    pending = [(root, result.intercom, result.store)]
    while pending:
        span, theirs, ours = pending.pop()
        if theirs == ours:
            continue
        halves = splitter.split(span) if theirs > leaf_size else None
        if halves is None:
            result.mismatches.append(Mismatch(span, theirs, ours))
            continue
        first, second = halves
        first_theirs = await intercom(first)
        result.requests += 1
        first_ours = await store(first)
        pending.append((second, max(0, theirs - first_theirs), ours - first_ours))
        pending.append((first, first_theirs, first_ours))
    result.mismatches.sort(key=lambda m: m.span)
    return result
