"""Views: ranges, comparisons and filters from request parameters; buckets a chart draws;
why a widget is empty; a store's state as of a moment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.metrics.durations import Span, chart_bucket, partial_buckets
from intercom_sync.metrics.emptiness import why
from intercom_sync.metrics.states import oldest_open, open_created_between, state_counts
from intercom_sync.metrics.view import Filters, View, ViewError, parse_view, year_earlier
from intercom_sync.store import PageWrite, Shapes, Store, open_store
from tests.synthetic import write_shapes

DAY = 86_400_000
NOW = 1_767_225_600_000 + 15 * 3_600_000  # 2026-01-01T15:00:00Z
JAN_1 = 1_767_225_600_000


def test_no_range_keeps_each_metrics_own_window() -> None:
    view = parse_view({}, NOW)
    assert (view.span, view.preset, view.compare, view.filters) == (None, None, None, Filters())
    assert view.window(7 * DAY) == Span(NOW - 7 * DAY, NOW)
    assert view.window(None) is None
    assert view.end_ms == NOW


def test_a_preset_is_the_last_n_days_before_as_of() -> None:
    view = parse_view({"range": "90d", "as_of": "2026-01-01T00:00:00Z"}, NOW)
    assert view.now_ms == JAN_1 and view.pinned
    assert view.span == Span(JAN_1 - 90 * DAY, JAN_1)
    assert view.window(7 * DAY) == view.span  # the range replaces every window
    assert view.preset == "90d"


def test_dates_and_times() -> None:
    view = parse_view({"from": "2025-12-01", "to": "2025-12-31"}, NOW)
    assert view.span == Span(JAN_1 - 31 * DAY, JAN_1)  # a date `to` includes its day
    today = parse_view({"from": "2025-12-31", "to": "2026-01-01"}, NOW)
    assert today.span == Span(JAN_1 - DAY, NOW)  # cut at as-of
    times = parse_view({"from": "2025-12-31T12:00:00+02:00", "to": "2026-01-01T06:00"}, NOW)
    assert times.span == Span(JAN_1 - 14 * 3_600_000, JAN_1 + 6 * 3_600_000)
    assert parse_view({"from": "2025-12-25"}, NOW).span == Span(JAN_1 - 7 * DAY, NOW)
    custom = parse_view({"range": "custom", "from": "2025-12-25", "to": "2025-12-26"}, NOW)
    assert custom.span == Span(JAN_1 - 7 * DAY, JAN_1 - 5 * DAY) and custom.preset is None


def test_empty_parameters_are_not_given_and_unknown_ones_are_ignored() -> None:
    view = parse_view({"range": "", "team": " ", "token": "x", "tab": "2"}, NOW)
    assert view == View(NOW)


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"range": "2w"}, "range", "not one of 7d, 30d, 90d"),
        ({"range": "7d", "to": "2025-12-01"}, "range", "either range or from/to"),
        ({"to": "2025-12-01"}, "from", "needed with to"),
        ({"range": "custom"}, "from", "needed for a custom range"),
        ({"from": "soon"}, "from", "not an ISO-8601 date"),
        ({"from": "2025-12-01", "to": "2025-11-30"}, "from", "not before to"),
        ({"from": "2026-01-02"}, "from", "not before the as-of time"),
        ({"as_of": "2026-01-02T00:00:00Z"}, "as_of", "after the current time"),
        ({"compare": "month"}, "compare", "previous, year, none"),
        ({"team": "a b"}, "team", "not an Intercom id"),
        ({"tag": "x" * 65}, "tag", "not an Intercom id"),
        ({"channel": "fax"}, "channel", "not one of conversation, email"),
    ],
)
def test_bad_values_name_their_parameter(params: dict[str, str], parameter: str, says: str) -> None:
    with pytest.raises(ViewError) as raised:
        parse_view(params, NOW)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"{parameter}: ") and says in str(raised.value)


def test_comparisons() -> None:
    span = Span(JAN_1 - 7 * DAY, JAN_1)
    assert View(NOW).compared(span, True) == Span(JAN_1 - 14 * DAY, JAN_1 - 7 * DAY)
    assert View(NOW, compare="none").compared(span, True) is None
    assert View(NOW).compared(span, False) is None  # a widget that never compares
    year = View(NOW, compare="year").compared(span, True)
    assert year == Span(JAN_1 - 365 * DAY - 7 * DAY, JAN_1 - 365 * DAY)
    leap_day = 1_709_208_000_000  # 2024-02-29T12:00:00Z
    assert year_earlier(leap_day) == 1_677_585_600_000  # 2023-02-28T12:00:00Z


def test_the_view_as_json_says_what_was_shown() -> None:
    view = parse_view({"range": "7d", "team": "t1", "compare": "year"}, NOW)
    assert view.as_json() == {
        "as_of": "2026-01-01T15:00:00Z",
        "range": "7d",
        "from": "2025-12-25T15:00:00Z",
        "to": "2026-01-01T15:00:00Z",
        "compare": "year",
        "filters": {"team": "t1"},
    }


def test_charts_step_up_to_weeks_past_62_points_and_mark_partial_buckets() -> None:
    assert chart_bucket("day", Span(NOW - 30 * DAY, NOW)) == "day"
    assert chart_bucket("day", Span(NOW - 90 * DAY, NOW)) == "week"
    assert chart_bucket("day", None) == "day"
    starts = [JAN_1 - 2 * DAY, JAN_1 - DAY, JAN_1]
    span = Span(JAN_1 - 2 * DAY + 3_600_000, NOW)  # starts an hour into the first day
    assert partial_buckets(starts, "day", span) == [True, False, True]
    assert partial_buckets(starts, "day", Span(JAN_1 - 2 * DAY, JAN_1 + DAY)) == [False] * 3


# -- states as of a moment, and why there is nothing -------------------------------------------


def _conv(cid: str, state: str, created: int, updated: int, team: str | None = None) -> Any:
    attrs = {"state": state, "createdAt": created, "teamAssigneeId": team, "adminAssigneeId": None}
    return ("intercom", "intercom_conversation", cid, orjson.dumps(attrs).decode(), updated)


def _ev(cid: str, n: int, transition: str, at: int) -> Any:
    attrs = orjson.dumps({"transition": transition, "partId": str(n)}).decode()
    row = ("intercom", "intercom_conversation_state_change", f"{cid}:{n}", "intercom_conversation")
    return (*row, cid, at, attrs)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Store]:
    """a: open since 10 days; b: closed 5 days ago, reopened 1 day ago (team t1);
    c: created 3 days ago and closed 2 days ago; d: created tomorrow-ish (after as-of)."""
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    entities = [
        _conv("a", "open", JAN_1 - 10 * DAY, JAN_1 - 10 * DAY),
        _conv("b", "open", JAN_1 - 9 * DAY, JAN_1 - DAY, team="t1"),
        _conv("c", "closed", JAN_1 - 3 * DAY, JAN_1 - 2 * DAY),
    ]
    events = [
        _ev("a", 0, "created", JAN_1 - 10 * DAY),
        _ev("b", 0, "created", JAN_1 - 9 * DAY),
        _ev("b", 1, "closed", JAN_1 - 5 * DAY),
        _ev("b", 2, "reopened", JAN_1 - DAY),
        _ev("c", 0, "created", JAN_1 - 3 * DAY),
        _ev("c", 1, "closed", JAN_1 - 2 * DAY),
    ]
    write_shapes(store, Shapes(entities=entities, events=events), JAN_1 // 1000)
    store.apply(PageWrite(state={"conversations": {"cursor": 1}}), JAN_1 // 1000)
    yield store
    store.close()


def test_states_as_of_a_moment_replay_only_what_changed_since(history: Store) -> None:
    no = Filters()
    assert state_counts(history, "intercom", "intercom_conversation", JAN_1, no) == {
        "open": 2,
        "closed": 1,
    }
    three_days = JAN_1 - 3 * DAY + 1
    assert state_counts(history, "intercom", "intercom_conversation", three_days, no) == {
        "open": 2,  # a, and c just created
        "closed": 1,  # b, closed 5 days ago
    }
    assert state_counts(history, "intercom", "intercom_conversation", JAN_1 - 20 * DAY, no) == {}
    team = state_counts(
        history, "intercom", "intercom_conversation", three_days, Filters(team="t1")
    )
    assert team == {"closed": 1}
    assert oldest_open(history, "intercom", three_days, no, 5) == [
        ("a", JAN_1 - 10 * DAY),
        ("c", JAN_1 - 3 * DAY),
    ]
    assert oldest_open(history, "intercom", three_days, no, 1) == [("a", JAN_1 - 10 * DAY)]
    # today b is open (reopened a day ago) but three days ago it was closed
    assert oldest_open(history, "intercom", JAN_1, no, 5)[1] == ("b", JAN_1 - 9 * DAY)
    week = [(JAN_1 - 7 * DAY, three_days), (JAN_1 - 30 * DAY, JAN_1 - 7 * DAY)]
    assert open_created_between(history, "intercom", three_days, no, week) == [1, 1]
    assert open_created_between(history, "intercom", JAN_1, no, week) == [0, 2]


def test_why_a_widget_is_empty(history: Store, tmp_path: Path) -> None:
    owners: list[str | None] = ["intercom_conversation"]
    before = Span(JAN_1 - 60 * DAY, JAN_1 - 30 * DAY)
    assert why(history, "intercom", owners, before, View(NOW)) == (
        "This range ends before the store's first conversation (2025-12-22)."
    )
    later = Span(JAN_1 - DAY, JAN_1)
    assert why(history, "intercom", owners, later, View(NOW, filters=Filters(team="t9"))) == (
        "No conversations between 2025-12-31 00:00 UTC and 2026-01-01 00:00 UTC with these filters."
    )
    assert why(history, "intercom", owners, later, View(NOW), structural=True) is None
    tickets = why(history, "intercom", ["intercom_ticket"], later, View(NOW))
    assert tickets is not None and "tickets stream has not been synced" in tickets
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert "has not been synced" in str(why(empty, "intercom", owners, later, View(NOW)))
    finally:
        empty.close()
