"""A search stream's copy, checked against Intercom's own counts, and repaired where they
disagree (DESIGN §5: completeness is checked, not assumed).

After every pass, and on `intercom-sync verify`, Intercom's `total_count` over the span
`[start_date, the stream's cursor]` is compared with the store's live rows there; spans
that disagree are narrowed down (`engine.reconcile.tally`) and, in a sync, re-read. Each
check is recorded under `verify:<stream>` in the sync state, for `status`, the dashboard
and the next run.

What the store holds beyond Intercom's count is not lost data: records deleted since the
last full pass (only a full pass marks deletions, and confirms each one), or records
changed again since they were stored. A re-read span names those rows; they are kept in the
stream's state as `absent` and left out of later counts until a full pass settles them, so
they are looked for once, not on every run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intercom_sync.client.pagination import (
    AnchoredSearchPaginator,
    PaginationError,
    Paginator,
    Request,
    SearchCursorPaginator,
)
from intercom_sync.client.paging import Record
from intercom_sync.engine.bounds import query_bound, search_body, upper_query_bound
from intercom_sync.engine.context import SyncContext
from intercom_sync.engine.reconcile import DaySplitter, ExactSplitter, Span, Splitter, Tally, tally
from intercom_sync.store.base import SyncBackend
from intercom_sync.streams.catalog import StreamSpec

# How many disagreeing spans a check record keeps (the counts cover them all).
_KEPT_SPANS = 20
WritePage = Callable[[list[Record]], Awaitable[None]]


@dataclass
class Check:
    """What one check of a search stream found (and, in a sync, repaired)."""

    tally: Tally | None = None
    requests: int = 0  # counting and re-reading, all told
    reread: int = 0  # records re-read from disagreeing spans
    absent: dict[str, int] = field(default_factory=dict)  # id -> updated_at, see module doc
    skipped: str | None = None  # why nothing was checked

    @property
    def complete(self) -> bool:
        """Nothing Intercom counts is missing from the store (it may hold more)."""
        return self.tally is None or self.tally.intercom <= self.tally.store

    def record(self, at: int, source: str) -> dict[str, Any]:
        """The JSON kept under `verify:<stream>`."""
        out: dict[str, Any] = {"at": at, "source": source, "complete": self.complete}
        if self.skipped:
            out["skipped"] = self.skipped
        if self.tally is not None:
            t = self.tally
            out.update(
                span=t.root.as_list(),
                intercom=t.intercom,
                store=t.store,
                agrees=t.agrees,
                mismatches=[
                    [m.span.lo, m.span.hi, m.intercom, m.store] for m in t.mismatches[:_KEPT_SPANS]
                ],
                mismatched_spans=len(t.mismatches),
                # Records Intercom counted in spans where the store had fewer (found, and
                # in a sync re-read), against rows it held beyond Intercom's count.
                missing=sum(max(0, m.missing) for m in t.mismatches),
                surplus=sum(max(0, -m.missing) for m in t.mismatches),
            )
        out["requests"] = self.requests
        out["reread"] = self.reread
        out["absent"] = len(self.absent)
        return out


class SpanSearch:
    """How one search stream asks Intercom about a span of `updated_at`."""

    def __init__(self, spec: StreamSpec, timezone: str | None, per_page: int) -> None:
        self.spec = spec
        self.timezone = timezone
        self.per_page = per_page
        self.splitter: Splitter | None = ExactSplitter()
        self.days: DaySplitter | None = None
        if spec.day_granular:
            zone = _zone(timezone)
            self.days = DaySplitter(zone) if zone is not None else None
            self.splitter = self.days

    def roots(self, start: int, lower: int, bound: int) -> list[Span]:
        """What to count: the history before the pass (`[start, lower)`) and the pass's own
        span (`[lower, bound]`), apart — so rows an old deletion leaves in the store cannot
        hide a record this pass missed. For calendar-day search both are whole days and stop
        before `bound`'s day (that day is re-read whole by the next pass, and still moving)."""
        if self.days is not None:
            days = self.days
            cut, end = days.day_start(max(start, lower)), days.day_start(bound) - 1
            spans = [(days.day_start(start), cut - 1), (cut, end)]
        else:
            cut = max(start, lower)
            spans = [(start, cut - 1), (cut, bound)]
        return [Span(lo, hi) for lo, hi in spans if hi >= lo]

    def request(self, span: Span, *, per_page: int, sort: bool = True) -> Request:
        lower = query_bound(span.lo, day_granular=self.spec.day_granular, timezone=self.timezone)
        upper = upper_query_bound(
            span.hi, day_granular=self.spec.day_granular, timezone=self.timezone
        )
        return Request.post(
            self.spec.endpoint, search_body(lower, per_page, upper=upper, sort=sort)
        )

    def paginator(self) -> Paginator:
        if self.spec.day_granular:
            return SearchCursorPaginator()
        return AnchoredSearchPaginator(self.spec.records_key)


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def intercom_count(ctx: SyncContext, search: SpanSearch, span: Span) -> int:
    """Intercom's `total_count` for a span: one request of one record."""
    request = search.request(span, per_page=1, sort=False)
    response = await ctx.send(search.spec.name, request)
    total = response.data.get("total_count")
    if not isinstance(total, int) or isinstance(total, bool):
        raise PaginationError(f"{search.spec.name} search did not say total_count")
    return total


async def check_stream(
    ctx: SyncContext,
    search: SpanSearch,
    roots: list[Span],
    *,
    seen_pass: str | None,
    absent: dict[str, int],
    write: WritePage | None,
) -> Check:
    """Count each of `roots` on both sides and narrow down what disagrees; with `write`,
    re-read every disagreeing span through it and count the roots again.

    `seen_pass` (a full pass): the store side counts the rows that pass saw. Otherwise it
    counts live rows, less the `absent` ones still stored as they were found."""
    if search.splitter is None:
        return Check(skipped="the workspace's time zone is unknown (contact search counts days)")
    if not roots:
        return Check(skipped="nothing to check yet")
    table = search.spec.name
    absent = await _still_absent(ctx, table, absent)

    async def theirs(span: Span) -> int:
        return await intercom_count(ctx, search, span)

    async def ours(span: Span) -> int:
        rows = await ctx.store.run(
            lambda b: b.count_rows(table, span.lo, span.hi, seen_pass=seen_pass)
        )
        if seen_pass is not None:
            return rows
        return rows - sum(1 for u in absent.values() if span.lo <= u <= span.hi)

    splitter = search.splitter
    parts = [await tally(theirs, ours, r, splitter, leaf_size=search.per_page) for r in roots]
    found = Tally.combined(parts)
    check = Check(tally=found, absent=absent, requests=found.requests)
    if write is None or not found.mismatches:
        return check
    for mismatch in found.mismatches:
        returned = await _reread(ctx, search, mismatch.span, write, check)
        if seen_pass is None:
            stored = await ctx.store.run(partial(_live_versions, table, mismatch.span))
            absent.update((i, u) for i, u in stored.items() if i not in returned)
    recount = [Tally(r, await theirs(r), await ours(r), requests=1) for r in roots]
    check.tally = Tally.combined(recount)
    check.tally.mismatches = found.mismatches
    check.requests += len(roots)
    return check


async def _reread(
    ctx: SyncContext, search: SpanSearch, span: Span, write: WritePage, check: Check
) -> set[str]:
    """Read a span again, writing what comes back; the ids Intercom returned for it."""
    returned: set[str] = set()
    first = search.request(span, per_page=search.per_page)
    async for page in ctx.pages(
        search.spec.name, first, search.paginator(), search.spec.records_key
    ):
        records = [r for r in page.records if span.lo <= _updated_at(r) <= span.hi]
        returned.update(str(r.get("id")) for r in records)
        check.requests += 1
        check.reread += len(records)
        await write(records)
    return returned


async def _still_absent(ctx: SyncContext, table: str, absent: dict[str, int]) -> dict[str, int]:
    """The absent rows still stored as they were when found (a newer version was read
    since: it is not absent any more)."""
    if not absent:
        return {}
    live = await ctx.store.run(
        lambda b: b.live_versions(table, min(absent.values()), max(absent.values()))
    )
    return {i: u for i, u in absent.items() if live.get(i) == u}


def _live_versions(table: str, span: Span, b: SyncBackend) -> dict[str, int]:
    return b.live_versions(table, span.lo, span.hi)


def _updated_at(record: Record) -> int:
    value = record.get("updated_at")
    return int(value) if isinstance(value, int | float) else -1
