"""Where incremental reads start and where cursors may move (DESIGN §5)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercom_sync.engine.bounds import (
    DAY,
    SearchPass,
    SliceWatermark,
    activity_slices,
    lower_bound,
    plan_search_pass,
    query_bound,
    search_body,
    upper_query_bound,
)

START = 1_600_000_000
NOW = 1_700_000_000.0
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Pacific/Kiritimati", "UTC"]


def plan(state: dict | None, *, full: bool = False, lookback: int = 0) -> SearchPass:
    return plan_search_pass(
        state, full=full, start=START, lookback_days=lookback, server_now=NOW, search_lag=300
    )


def test_first_pass_is_full_from_start_date_with_a_signpost_below_the_lag() -> None:
    p = plan(None)
    assert p.full and p.lower == START
    assert p.signpost == NOW - 300


def test_incremental_pass_starts_at_the_cursor_minus_lookback_never_before_start() -> None:
    cursor = START + 10 * DAY
    assert plan({"cursor": cursor}).lower == cursor
    assert plan({"cursor": cursor}, lookback=3).lower == cursor - 3 * DAY
    assert plan({"cursor": cursor}, lookback=30).lower == START
    assert not plan({"cursor": cursor}).full


def test_full_flag_restarts_from_start_date() -> None:
    p = plan({"cursor": START + 10 * DAY}, full=True)
    assert p.full and p.lower == START


def test_a_crashed_pass_resumes_with_its_own_signpost_and_id() -> None:
    crashed = SearchPass("abc", False, START + 5, signpost=1234, resume_from=START + 99)
    p = plan({"cursor": START, "pass": crashed.to_state()})
    assert p == crashed
    assert p.query_lower == START + 99


def test_a_full_request_does_not_resume_an_incremental_pass_but_finishes_a_full_one() -> None:
    incremental = SearchPass("inc", False, START + 5, signpost=1234).to_state()
    full_pass = SearchPass("full", True, START, signpost=1234).to_state()
    assert plan({"pass": incremental}, full=True).pass_id != "inc"
    assert plan({"pass": full_pass}, full=False).pass_id == "full"


def test_progress_only_moves_forward() -> None:
    p = SearchPass("x", False, 100, 500)
    assert p.advanced(None).resume_from is None
    assert p.advanced(150).advanced(120).resume_from == 150
    assert p.advanced(90).query_lower == 100  # never below the pass's lower bound


def test_exact_fields_query_one_second_below() -> None:
    assert query_bound(1000, day_granular=False, timezone="UTC") == 999


def _local_date(ts: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None
    )


@settings(max_examples=300, deadline=None)
@given(
    lower=st.integers(min_value=1_500_000_000, max_value=1_900_000_000),
    zone=st.sampled_from(ZONES),
)
def test_day_granular_bound_is_on_the_local_day_before(lower: int, zone: str) -> None:
    bound = query_bound(lower, day_granular=True, timezone=zone)
    assert _local_date(bound, zone) == _local_date(lower, zone) - timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(
    lower=st.integers(min_value=1_500_000_000, max_value=1_900_000_000),
    zone=st.sampled_from(ZONES),
)
def test_without_a_time_zone_the_bound_is_on_an_earlier_day_in_every_zone(
    lower: int, zone: str
) -> None:
    bound = query_bound(lower, day_granular=True, timezone=None)
    assert _local_date(bound, zone) < _local_date(lower, zone)


def test_an_unknown_time_zone_falls_back_safely() -> None:
    assert query_bound(10 * DAY, day_granular=True, timezone="Mars/Olympus") == 10 * DAY - 25 * 3600


def test_search_body_asks_for_an_explicit_ascending_sort() -> None:
    body = search_body(42, per_page=150)
    assert body["sort"] == {"field": "updated_at", "order": "ascending"}
    assert body["query"] == {"field": "updated_at", "operator": ">", "value": 42}
    assert body["pagination"] == {"per_page": 150}


@pytest.mark.parametrize(
    ("cursor", "full", "expected"),
    [(None, False, START), (START + 50, True, START), (START + 5 * DAY, False, START + 3 * DAY)],
)
def test_lower_bound(cursor: int | None, full: bool, expected: int) -> None:
    assert lower_bound(cursor, full=full, start=START, lookback_days=2) == expected


@given(
    lower=st.integers(min_value=0, max_value=10**9),
    span=st.integers(min_value=1, max_value=400 * DAY),
    days=st.integers(min_value=1, max_value=90),
)
def test_activity_slices_cover_the_range_with_one_second_overlaps(
    lower: int, span: int, days: int
) -> None:
    upper = lower + span
    slices = activity_slices(lower, upper, days)
    assert slices[0][0] == lower and slices[-1][1] == upper
    for (_, end), (begin, _) in itertools.pairwise(slices):
        assert begin == end - 1
    assert all(end - begin <= days * DAY + 1 for begin, end in slices)


def test_no_slices_for_an_empty_range() -> None:
    assert activity_slices(100, 100, 30) == []


def test_the_watermark_waits_for_every_earlier_slice() -> None:
    marks = SliceWatermark([10, 20, 30, 40])
    assert marks.finish(2) is None  # slices 0 and 1 are still being read
    assert marks.finish(0) == 10
    assert marks.finish(3) == 10  # slice 1 still stands in the way
    assert marks.finish(1) == 40  # and with it, everything is done


@given(order=st.permutations(list(range(12))))
def test_the_watermark_never_passes_an_unfinished_slice(order: list[int]) -> None:
    ends = [(i + 1) * 100 for i in range(12)]
    marks = SliceWatermark(ends)
    finished: set[int] = set()
    for index in order:
        finished.add(index)
        cursor = marks.finish(index)
        prefix = next((i for i in range(12) if i not in finished), 12)
        assert cursor == (ends[prefix - 1] if prefix else None)
    assert cursor == ends[-1]


# --- a cursor never ahead of the data ----------------------------------------------------------


def test_a_completed_pass_stores_the_newest_record_read_when_it_is_behind_the_signpost() -> None:
    """Guards: a cursor never runs ahead of the data (a stalled index shows records hours
    behind the server's clock; storing the signpost would put them behind the cursor)."""
    p = SearchPass("p", False, START, signpost=START + 1000)
    read = p.advanced(START + 400).advanced(START + 250)
    assert read.completed_cursor(previous=START) == START + 400
    assert p.advanced(START + 5000).completed_cursor(previous=START) == START + 1000


def test_a_pass_that_read_nothing_keeps_the_previous_cursor_or_its_lower_bound() -> None:
    p = SearchPass("p", False, START + 7, signpost=START + 1000)
    assert p.completed_cursor(previous=START + 3) == START + 3
    assert p.completed_cursor(previous=None) == START + 7


def test_out_of_order_records_still_count_as_read_but_not_as_a_resume_point() -> None:
    p = SearchPass("p", True, START, signpost=START + 1000, resume_from=START + 50)
    seen = p.restarted().saw(START + 90)
    assert seen.resume_from is None and seen.query_lower == START
    assert seen.completed_cursor(previous=None) == START + 90
    assert SearchPass.from_state(seen.to_state()) == seen


def test_an_upper_bound_covers_the_whole_last_second_or_local_day() -> None:
    assert upper_query_bound(START, day_granular=False, timezone=None) == START + 1
    assert upper_query_bound(START, day_granular=True, timezone=None) is None
    zone = ZoneInfo("America/New_York")
    for upper in (START, START + 3_600 * 20, 1_710_050_000):  # the last: a DST change
        value = upper_query_bound(upper, day_granular=True, timezone="America/New_York")
        assert value is not None
        day = datetime.fromtimestamp(upper, zone).date()
        assert datetime.fromtimestamp(value, zone).date() == day + timedelta(days=1)


def test_a_span_body_bounds_both_ends() -> None:
    body = search_body(41, per_page=1, upper=100, sort=False)
    assert body == {
        "query": {
            "operator": "AND",
            "value": [
                {"field": "updated_at", "operator": ">", "value": 41},
                {"field": "updated_at", "operator": "<", "value": 100},
            ],
        },
        "pagination": {"per_page": 1},
    }
