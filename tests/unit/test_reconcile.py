"""Narrowing disagreements between Intercom's counts and the store's (DESIGN §5), on plain
lists of `updated_at` values standing in for both sides."""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercom_sync.engine.reconcile import (
    DaySplitter,
    ExactSplitter,
    Span,
    Tally,
    tally,
)

NY = ZoneInfo("America/New_York")


class Side:
    """One side's records as sorted `updated_at` values, counted per span."""

    def __init__(self, stamps: list[int]) -> None:
        self.stamps = sorted(stamps)
        self.calls = 0

    async def count(self, span: Span) -> int:
        self.calls += 1
        return bisect.bisect_right(self.stamps, span.hi) - bisect.bisect_left(self.stamps, span.lo)


async def test_agreeing_counts_cost_one_request_and_find_nothing() -> None:
    stamps = list(range(0, 100_000, 7))
    intercom, store = Side(stamps), Side(stamps)
    found = await tally(
        intercom.count, store.count, Span(0, 100_000), ExactSplitter(), leaf_size=150
    )
    assert found.agrees and found.mismatches == []
    assert found.requests == intercom.calls == 1


async def test_each_missing_record_is_narrowed_to_a_span_of_at_most_a_page() -> None:
    """Guards: reconciliation finds where the store has fewer records than Intercom counts,
    in spans small enough to re-read in one page."""
    rng = random.Random(3)
    stamps = sorted(rng.sample(range(1_000_000), 20_000))
    lost = set(rng.sample(stamps, 4))
    intercom, store = Side(stamps), Side([s for s in stamps if s not in lost])
    found = await tally(
        intercom.count, store.count, Span(0, 999_999), ExactSplitter(), leaf_size=150
    )
    assert found.intercom - found.store == 4
    assert sum(m.missing for m in found.mismatches) == 4
    for stamp in lost:
        (holder,) = [m for m in found.mismatches if m.span.lo <= stamp <= m.span.hi]
        assert holder.intercom <= 150
    # Only the first half of a split is asked about: the second is derived from its parent.
    assert found.requests == intercom.calls
    assert found.requests < 4 * 2 * 8


async def test_a_store_with_more_rows_is_narrowed_too() -> None:
    stamps = list(range(0, 50_000, 5))
    intercom, store = Side(stamps), Side([*stamps, 12_345, 40_001])
    found = await tally(
        intercom.count, store.count, Span(0, 50_000), ExactSplitter(), leaf_size=100
    )
    assert [m.missing for m in found.mismatches] == [-1, -1]
    assert [m.span.lo <= 12_345 <= m.span.hi for m in found.mismatches] == [True, False]


async def test_a_disagreement_inside_one_second_is_a_leaf_however_large() -> None:
    intercom, store = Side([5] * 400), Side([5] * 399)
    found = await tally(intercom.count, store.count, Span(0, 10), ExactSplitter(), leaf_size=150)
    assert found.mismatches and found.mismatches[0].span == Span(5, 5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5_000), max_size=300),
    st.lists(st.integers(0, 5_000), max_size=30),
    st.lists(st.integers(0, 5_000), max_size=30),
)
async def test_every_leaf_reported_disagrees_and_the_leaves_account_for_the_whole_gap(
    common: list[int], only_intercom: list[int], only_store: list[int]
) -> None:
    intercom, store = Side(common + only_intercom), Side(common + only_store)
    found = await tally(intercom.count, store.count, Span(0, 5_000), ExactSplitter(), leaf_size=10)
    assert all(m.intercom != m.store for m in found.mismatches)
    spans = sorted(m.span for m in found.mismatches)
    assert all(a.hi < b.lo for a, b in itertools.pairwise(spans))
    # The leaves account for the whole gap between the two roots...
    assert sum(m.missing for m in found.mismatches) == found.intercom - found.store
    # ...and with nothing on the store's side to cancel it out, every record the store
    # lacks lies in a reported span.
    if not only_store:
        for stamp in only_intercom:
            assert any(span.lo <= stamp <= span.hi for span in spans)


def test_exact_halves_cover_the_span_without_overlap() -> None:
    halves = ExactSplitter().split(Span(10, 21))
    assert halves == (Span(10, 15), Span(16, 21))
    assert ExactSplitter().split(Span(7, 7)) is None


def local(y: int, m: int, d: int, h: int = 0) -> int:
    return int(datetime(y, m, d, h, tzinfo=NY).timestamp())


def test_day_spans_split_at_local_midnight_and_a_single_day_never_splits() -> None:
    days = DaySplitter(NY)
    week = days.align(local(2025, 3, 5, 13), local(2025, 3, 11, 9))
    assert week == Span(local(2025, 3, 5), local(2025, 3, 12) - 1)
    halves = days.split(week)
    assert halves is not None
    first, second = halves
    assert first.lo == week.lo and second.hi == week.hi and first.hi + 1 == second.lo
    assert datetime.fromtimestamp(second.lo, NY).hour == 0
    one_day = days.align(local(2025, 3, 9, 1), local(2025, 3, 9, 23))  # 23 hours: DST
    assert one_day.hi - one_day.lo + 1 == 23 * 3_600
    assert days.split(one_day) is None


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Sydney", "UTC"])
def test_day_splitting_always_ends_in_single_days(zone: str) -> None:
    days = DaySplitter(ZoneInfo(zone))
    pending = [days.align(1_700_000_000, 1_700_000_000 + 40 * 86_400)]
    leaves = []
    while pending:
        span = pending.pop()
        halves = days.split(span)
        if halves is None:
            leaves.append(span)
        else:
            pending.extend(halves)
    assert len(leaves) == 41
    for leaf in leaves:
        start = datetime.fromtimestamp(leaf.lo, ZoneInfo(zone))
        assert (start.hour, start.minute) == (0, 0)
        assert days.next_day_start(leaf.lo) == leaf.hi + 1


def test_adjacent_roots_combine_into_one_tally() -> None:
    a = Tally(Span(0, 9), 5, 4, requests=3)
    b = Tally(Span(10, 19), 7, 7, requests=1)
    both = Tally.combined([a, b])
    assert (both.root, both.intercom, both.store, both.requests) == (Span(0, 19), 12, 11, 4)
