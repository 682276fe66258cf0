"""Every fn, filter op, bucket and window against hand-computed values, on SQLite and PostgreSQL.

The fixture is five live conversations (and one deleted) whose numbers are small enough
to count by hand; each expectation below says how it was counted. PostgreSQL runs when
its server binaries are installed (a throwaway cluster is started for this module).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.metrics import define_config, define_dashboard, define_metric
from intercom_sync.metrics.compute import Span, evaluate, evaluate_many
from intercom_sync.metrics.definitions import Widget
from intercom_sync.metrics.durations import bucket_start
from intercom_sync.metrics.view import View
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store import PageWrite, RecordWrite, Shapes, Store, apply_indexes, open_store
from intercom_sync.store.indexes import INDEXES, OBSOLETE
from intercom_sync.store.readonly import run_readonly
from intercom_sync.store.schema import RAW_TABLES
from tests.synthetic import write_shapes

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR, DAY = 3_600_000, 86_400_000
CONV = "intercom_conversation"
HOSTILE = ["open' OR 1=1 --", "'); DROP TABLE entities; --", "%", "_", "\\"]


# -- the fixture -------------------------------------------------------------------------------


def _conversation(cid: str, created: int, **attrs: Any) -> tuple[Any, ...]:
    return ("intercom", CONV, cid, orjson.dumps({"createdAt": created, **attrs}).decode(), created)


CONVERSATIONS = [
    _conversation(
        "c1",
        NOW - HOUR,
        state="open",
        priority="priority",
        adminAssigneeId="a1",
        teamAssigneeId="t1",
        countReopens=0,
        countAssignments=1,
        tags=["vip", "billing"],
        open=True,
        channel="email",
        rating=None,
        title="refund please",
    ),
    _conversation(
        "c2",
        NOW - 2 * DAY,
        state="closed",
        adminAssigneeId="a2",
        teamAssigneeId="t1",
        countReopens=2,
        countAssignments=3,
        tags=["billing"],
        open=False,
        channel="chat",
        rating=5,
        title="hello",
    ),
    _conversation(
        "c3",
        NOW - 10 * DAY,
        state="closed",
        adminAssigneeId=None,
        teamAssigneeId="t2",
        countReopens=1,
        countAssignments=1,
        tags=[],
        open=False,
        channel="email",
        rating=2,
        title=HOSTILE[0],
    ),
    _conversation(
        "c4",
        NOW - 40 * DAY,
        state="snoozed",
        adminAssigneeId="a1",
        teamAssigneeId=None,
        countReopens=0,
        countAssignments=2,
        tags=["vip"],
        open=False,
        channel="chat",
        rating=4,
        title="snoozed one",
    ),
    _conversation(
        "c5",
        NOW - 3 * HOUR,
        state="open",
        adminAssigneeId=None,
        teamAssigneeId=None,
        countReopens=0,
        countAssignments=0,
        open=True,
        channel="email",
        rating=None,
        title="50% off_now",
    ),
    _conversation("c6", NOW - HOUR, state="open", channel="email", title="deleted one"),
]
PEOPLE = [
    ("intercom", "intercom_admin", "a1", orjson.dumps({"name": "Alice"}).decode(), NOW),
    ("intercom", "intercom_admin", "a2", orjson.dumps({"name": "Bob <b>"}).decode(), NOW),
    ("intercom", "intercom_team", "t1", orjson.dumps({"name": "Tier 1"}).decode(), NOW),
    ("intercom", "intercom_team", "t2", orjson.dumps({"name": "Tier 2"}).decode(), NOW),
]


def _event(cid: str, n: int, transition: str, at: int) -> tuple[Any, ...]:
    attrs = {"conversationId": cid, "transition": transition, "source": "parts"}
    event_type = "intercom_conversation_state_change"
    return ("intercom", event_type, f"{cid}:{n}", CONV, cid, at, orjson.dumps(attrs).decode())


EVENTS = [
    _event("c1", 0, "created", NOW - HOUR),
    _event("c1", 1, "assigned", NOW - HOUR + 60_000),
    _event("c2", 0, "created", NOW - 2 * DAY),
    _event("c2", 1, "assigned", NOW - 2 * DAY + HOUR),
    _event("c2", 2, "assigned", NOW - DAY - HOUR),
    _event("c2", 3, "closed", NOW - DAY),
]


def _metric_row(cid: str, name: str, ts: int, value: float, **attrs: Any) -> tuple[Any, ...]:
    return ("intercom", name, CONV, cid, ts, value, orjson.dumps(attrs).decode())


# time_to_first_response_minutes: values 10, 20, 30, 40 in the last 7 days, 100 before.
METRICS = [
    _metric_row("c1", "time_to_first_response_minutes", NOW - HOUR, 10.0, teamAssigneeId="t1"),
    _metric_row("c2", "time_to_first_response_minutes", NOW - 2 * DAY, 40.0, teamAssigneeId="t1"),
    _metric_row("c5", "time_to_first_response_minutes", NOW - 3 * HOUR, 20.0),
    _metric_row("c7", "time_to_first_response_minutes", NOW - 5 * DAY, 30.0, teamAssigneeId="t2"),
    _metric_row("c3", "time_to_first_response_minutes", NOW - 10 * DAY, 100.0, teamAssigneeId="t2"),
]


def populate(store: Store) -> None:
    shapes = Shapes(entities=CONVERSATIONS + PEOPLE, events=EVENTS, metrics=METRICS)
    write_shapes(store, shapes, NOW // 1000)
    _delete_c6(store)


def _delete_c6(store: Store) -> None:
    """Soft-delete c6 the way a full pass does: its raw row was not seen in the new pass."""
    table = RAW_TABLES["conversations"]
    row = ("c6", *([None] * len(table.columns)), NOW // 1000, "{}")
    write = PageWrite(table="conversations", records=[RecordWrite(("c6",), NOW // 1000, row)])
    write.seen_pass = "old-pass"
    store.apply(write, NOW // 1000)
    store.mark_deleted("conversations", "new-pass", NOW // 1000, entity_type=CONV)


# -- backends ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'm.db'}")
    else:
        opened = open_store(request.getfixturevalue("postgres_url"))
    populate(opened)
    yield opened
    opened.close()


# -- helpers -----------------------------------------------------------------------------------

INTERCOM = {"name": "intercom", "connectorId": "intercom"}


def widget(kind: str = "stat", compare: bool = False, **metric: Any) -> Widget:
    if metric.get("shape", "entity") == "entity":
        metric.setdefault("entity_type", CONV)
    spec = {"kind": kind, "compare": compare, "metric": define_metric(connector=INTERCOM, **metric)}
    config = define_config(
        connectors=[INTERCOM], dashboards={"t": define_dashboard(widgets={"w": spec})}
    )
    return config.dashboards["t"].widgets["w"]


def value(store: Store, **metric: Any) -> Any:
    w = widget(**metric)
    found = evaluate(store, w.metric, View(NOW).window(w.metric.window_ms))
    assert set(found) <= {(None, None)}
    return found.get((None, None))


def grouped(store: Store, **metric: Any) -> dict[Any, Any]:
    w = widget("table", **metric)
    return evaluate(store, w.metric, View(NOW).window(w.metric.window_ms))


def count_where(store: Store, *conditions: dict[str, Any]) -> int:
    result = value(store, fn="count", filter=list(conditions))
    assert isinstance(result, int)
    return result


# -- fns ---------------------------------------------------------------------------------------


def test_count_excludes_deleted_entities(store: Store) -> None:
    assert value(store, fn="count") == 5  # c1..c5; c6 is soft-deleted


def test_count_of_a_field_counts_present_values(store: Store) -> None:
    assert value(store, fn="count", field="rating") == 3  # c2, c3, c4


def test_count_distinct(store: Store) -> None:
    assert (
        value(store, fn="count_distinct", field="teamAssigneeId") == 2
    )  # t1, t2 (NULL is not a value)
    assert value(store, fn="count_distinct", field="channel") == 2


def test_sum_avg_min_max(store: Store) -> None:
    assert value(store, fn="sum", field="countReopens") == 3.0  # 0+2+1+0+0
    assert value(store, fn="avg", field="countAssignments") == pytest.approx(1.4)  # 7/5
    assert value(store, fn="min", field="rating") == 2
    assert value(store, fn="max", field="rating") == 5
    assert value(store, fn="min", field="createdAt") == NOW - 40 * DAY
    assert value(store, fn="min", field="channel") == "chat"
    assert value(store, fn="max", field="channel") == "email"
    assert value(store, fn="avg", field="open") == pytest.approx(0.4)  # 2 of 5 are open


def test_sum_of_nothing_is_zero_and_avg_of_nothing_is_none(store: Store) -> None:
    nothing = [{"field": "state", "op": "eq", "value": "no-such-state"}]
    w = widget(fn="sum", field="countReopens", filter=nothing)
    assert evaluate_widget(store, w, NOW)["values"][0]["value"] == 0
    assert value(store, fn="avg", field="countReopens", filter=nothing) is None


def test_latest_and_first_follow_the_time_field(store: Store) -> None:
    assert value(store, fn="latest", field="title") == "refund please"  # c1 is the newest
    assert value(store, fn="first", field="title") == "snoozed one"  # c4 is the oldest
    assert value(store, fn="latest", field="rating") == 5  # newest rated: c2
    assert value(store, fn="first", field="rating") == 4  # oldest rated: c4
    assert value(store, fn="latest", field="title", time_field="updatedAt") is None  # no such times


@pytest.mark.parametrize(
    ("fn", "expected"), [("p50", 1.0), ("p90", 2.6), ("p95", 2.8), ("p99", 2.96)]
)
def test_percentiles_interpolate_linearly(store: Store, fn: str, expected: float) -> None:
    # countAssignments sorted: 0, 1, 1, 2, 3; rank (n-1)·p: p90 → 3.6 → 2 + 0.6·(3-2)
    assert value(store, fn=fn, field="countAssignments") == pytest.approx(expected)


def test_percentile_of_one_value_and_of_none(store: Store) -> None:
    one = [{"field": "rating", "op": "eq", "value": 5}]
    assert value(store, fn="p90", field="rating", filter=one) == 5
    none = [{"field": "state", "op": "eq", "value": "nope"}]
    assert value(store, fn="p50", field="rating", filter=none) is None


def test_percentiles_per_group(store: Store) -> None:
    found = grouped(store, fn="p50", field="countAssignments", group_by="channel")
    # email: 0, 1, 1 → 1; chat: 2, 3 → 2.5
    assert found == {(None, "email"): 1.0, (None, "chat"): 2.5}


def test_metric_shape_values(store: Store) -> None:
    m = {"shape": "metric", "name": "time_to_first_response_minutes", "field": "value"}
    assert value(store, fn="p50", window="7d", **m) == pytest.approx(25.0)  # 10 20 30 40
    assert value(store, fn="p90", window="7d", **m) == pytest.approx(37.0)  # 30 + 0.7·10
    assert value(store, fn="avg", **m) == pytest.approx(40.0)  # (10+40+20+30+100)/5
    by_team = grouped(store, fn="count", group_by="teamAssigneeId", **m)
    assert by_team == {(None, "t1"): 2, (None, "t2"): 2, (None, None): 1}


def test_event_shape_counts_by_transition(store: Store) -> None:
    e = {"shape": "event", "event_type": "intercom_conversation_state_change"}
    assigned = [{"field": "transition", "op": "eq", "value": "assigned"}]
    assert value(store, fn="count", filter=assigned, **e) == 3
    assert value(store, fn="count_distinct", field="entity_id", **e) == 2


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "state", "op": "eq", "value": "open"}, 2),  # c1, c5
        ({"field": "state", "op": "neq", "value": "open"}, 3),
        ({"field": "adminAssigneeId", "op": "neq", "value": "a1"}, 3),  # c2, and c3/c5 (no admin)
        ({"field": "adminAssigneeId", "op": "eq", "value": None}, 2),  # c3, c5
        ({"field": "adminAssigneeId", "op": "neq", "value": None}, 3),
        ({"field": "countReopens", "op": "gt", "value": 0}, 2),  # c2, c3
        ({"field": "countReopens", "op": "gte", "value": 1}, 2),
        ({"field": "countReopens", "op": "lt", "value": 1}, 3),
        ({"field": "countReopens", "op": "lte", "value": 1}, 4),
        ({"field": "createdAt", "op": "gte", "value": "2025-12-22T00:00:00Z"}, 4),  # not c4
        ({"field": "channel", "op": "in", "value": ["email"]}, 3),
        ({"field": "channel", "op": "in", "value": ["email", "chat"]}, 5),
        ({"field": "channel", "op": "in", "value": []}, 0),
        ({"field": "channel", "op": "nin", "value": ["email"]}, 2),
        ({"field": "teamAssigneeId", "op": "nin", "value": ["t1"]}, 3),  # t2 and the two without
        ({"field": "channel", "op": "nin", "value": []}, 5),
        ({"field": "tags", "op": "contains", "value": "vip"}, 2),  # c1, c4
        ({"field": "title", "op": "contains", "value": "please"}, 1),
        ({"field": "title", "op": "contains", "value": "%"}, 1),  # only the literal "50% off_now"
        ({"field": "title", "op": "contains", "value": "_"}, 1),
        ({"field": "rating", "op": "exists"}, 3),
        ({"field": "rating", "op": "exists", "value": False}, 2),
        ({"field": "tags", "op": "exists"}, 4),  # c5 has no tags at all
        ({"field": "open", "op": "eq", "value": True}, 2),
        ({"field": "open", "op": "eq", "value": False}, 3),
    ],
)
def test_filter_ops(store: Store, condition: dict[str, Any], expected: int) -> None:
    assert count_where(store, condition) == expected


def test_conditions_are_anded(store: Store) -> None:
    email = {"field": "channel", "op": "eq", "value": "email"}
    opened = {"field": "state", "op": "eq", "value": "open"}
    assert count_where(store, email, opened) == 2  # c1, c5


def test_or_groups(store: Store) -> None:
    snoozed = {"field": "state", "op": "eq", "value": "snoozed"}
    happy_chat = [
        {"field": "channel", "op": "eq", "value": "chat"},
        {"field": "rating", "op": "gte", "value": 5},
    ]
    assert count_where(store, {"or": [snoozed, happy_chat]}) == 2  # c4, c2
    email = {"field": "channel", "op": "eq", "value": "email"}
    assert count_where(store, email, {"or": [snoozed, happy_chat]}) == 0


@pytest.mark.parametrize("payload", HOSTILE)
def test_sql_in_filter_values_is_inert(store: Store, payload: str) -> None:
    assert count_where(store, {"field": "state", "op": "eq", "value": payload}) == 0
    assert count_where(store, {"field": "state", "op": "in", "value": [payload, "open"]}) == 2
    assert count_where(store, {"field": "tags", "op": "contains", "value": payload}) == 0
    title_matches = sum(payload in str(orjson.loads(c[3]).get("title")) for c in CONVERSATIONS[:5])
    assert (
        count_where(store, {"field": "title", "op": "contains", "value": payload}) == title_matches
    )
    assert count_where(store, {"field": "title", "op": "eq", "value": payload}) == (
        1 if payload == HOSTILE[0] else 0
    )
    live = "SELECT COUNT(*) FROM entities WHERE entity_type = ? AND deleted_at IS NULL"
    assert store.query(live, (CONV,))[0][0] == 5  # nothing dropped or changed


# -- grouping, buckets, windows ----------------------------------------------------------------


def test_group_by_dimension_and_list(store: Store) -> None:
    assert grouped(store, fn="count", group_by="channel") == {(None, "email"): 3, (None, "chat"): 2}
    assert grouped(store, fn="count", group_by="tags") == {(None, "vip"): 2, (None, "billing"): 2}


def test_distribution_labels_referenced_entities(store: Store) -> None:
    body = evaluate_widget(
        store, widget("distribution", fn="count", group_by="teamAssigneeId"), NOW
    )
    labels = {item["label"]: item["value"] for item in body["items"]}
    assert labels == {"Tier 1": 2, "Tier 2": 1, "(none)": 2}
    admins = evaluate_widget(
        store, widget("distribution", fn="count", group_by="adminAssigneeId"), NOW
    )
    assert {i["label"]: i["value"] for i in admins["items"]} == {
        "Alice": 2,
        "Bob <b>": 1,
        "(none)": 2,
    }


def test_day_buckets_over_a_window_are_filled(store: Store) -> None:
    body = evaluate_widget(
        store, widget("timeseries", fn="count", group_by="day", window="7d"), NOW
    )
    assert body["x"][0] == "2025-12-25T00:00:00Z" and body["x"][-1] == "2025-12-31T00:00:00Z"
    assert body["series"][0]["y"] == [0, 0, 0, 0, 0, 1, 2]  # c2 on the 30th; c1, c5 on the 31st


def test_hour_buckets(store: Store) -> None:
    found = grouped(store, fn="count", group_by="hour", window="24h")
    assert found == {(NOW - HOUR, None): 1, (NOW - 3 * HOUR, None): 1}


def test_week_buckets_start_on_monday(store: Store) -> None:
    found = grouped(store, fn="count", group_by="week")
    monday = 1_766_966_400_000  # 2025-12-29, a Monday
    assert found == {
        (monday, None): 3,  # c1, c2, c5
        (monday - 7 * DAY, None): 1,  # c3 on Monday 2025-12-22 itself
        (monday - 6 * 7 * DAY, None): 1,  # c4 on Saturday 2025-11-22 → Monday 2025-11-17
    }
    body = evaluate_widget(store, widget("timeseries", fn="count", group_by="week"), NOW)
    assert len(body["x"]) == 7 and body["series"][0]["y"] == [1, 0, 0, 0, 0, 1, 3]


def test_month_buckets(store: Store) -> None:
    found = grouped(store, fn="count", group_by="month")
    assert found == {(1_764_547_200_000, None): 4, (1_761_955_200_000, None): 1}  # Dec, Nov 2025


def test_bucket_sql_matches_python_on_edges(store: Store) -> None:
    """The dialect's bucket arithmetic agrees with `bucket_start` on awkward instants."""
    instants = [
        0,
        1,
        DAY - 1,
        DAY,
        951_782_400_000,
        951_868_799_999,
        1_709_164_800_000,
        1_735_689_599_999,
        1_735_689_600_000,
        NOW - 1,
        NOW,
        4_102_444_800_000,
    ]
    tickets = [
        ("intercom", "intercom_ticket", f"k{i}", orjson.dumps({"createdAt": t}).decode(), t)
        for i, t in enumerate(instants)
    ]
    write_shapes(store, Shapes(entities=tickets), NOW // 1000)
    for bucket in ("hour", "day", "week", "month"):
        found = grouped(store, fn="count", group_by=bucket, entity_type="intercom_ticket")
        expected: dict[Any, int] = {}
        for t in instants:
            key = (bucket_start(t, bucket), None)  # type: ignore[arg-type]
            expected[key] = expected.get(key, 0) + 1
        assert found == expected, bucket


def test_windows_are_half_open_and_relative_to_now(store: Store) -> None:
    assert value(store, fn="count", window="24h") == 2  # c1, c5
    assert value(store, fn="count", window="7d") == 3  # + c2
    assert value(store, fn="count", window="30d") == 4  # + c3
    assert value(store, fn="count", window="1h") == 1  # c1 sits exactly on the start


def test_window_start_is_inclusive(store: Store) -> None:
    w = widget(fn="count", window="1h")
    found = evaluate(store, w.metric, Span(NOW - HOUR, NOW))
    assert found == {(None, None): 1}
    assert evaluate(store, w.metric, Span(NOW - HOUR + 1, NOW + 1)) == {(None, None): 0}


def test_previous_period_comparison(store: Store) -> None:
    body = evaluate_widget(store, widget(fn="count", window="7d", compare=True), NOW)
    item = body["values"][0]
    assert (item["value"], item["previous"]) == (3, 1)  # c3 was 10 days ago
    assert item["change"] == {"delta": 2.0, "ratio": 2.0}
    assert item["window"] == {"start": "2025-12-25T00:00:00Z", "end": "2026-01-01T00:00:00Z"}


def test_table_rows_share_a_grouping(store: Store) -> None:
    spec = {
        "kind": "table",
        "metrics": {
            "conversations": define_metric(
                connector=INTERCOM, entity_type=CONV, group_by="channel"
            ),
            "reopens": define_metric(
                connector=INTERCOM,
                entity_type=CONV,
                fn="sum",
                field="countReopens",
                group_by="channel",
            ),
        },
    }
    config = define_config(
        connectors=[INTERCOM], dashboards={"t": define_dashboard(widgets={"w": spec})}
    )
    body = evaluate_widget(store, config.dashboards["t"].widgets["w"], NOW)
    assert body["columns"] == ["channel", "conversations", "reopens"]
    assert body["rows"] == [["email", 3, 1.0], ["chat", 2, 2.0]]


def test_ratio_widgets_divide_by_the_denominator(store: Store) -> None:
    reopened = define_metric(
        connector=INTERCOM,
        entity_type=CONV,
        filter=[{"field": "countReopens", "op": "gt", "value": 0}],
    )
    spec = {
        "kind": "stat",
        "metric": reopened,
        "denominator": define_metric(connector=INTERCOM, entity_type=CONV),
    }
    config = define_config(
        connectors=[INTERCOM], dashboards={"t": define_dashboard(widgets={"w": spec})}
    )
    body = evaluate_widget(store, config.dashboards["t"].widgets["w"], NOW)
    assert body["values"][0]["value"] == pytest.approx(0.4)  # 2 of 5


# -- batching and indexes ------------------------------------------------------------------------


class CountingStore:
    """Delegates to a store and counts the statements it runs."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.url = inner.url
        self.statements = 0

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.statements += 1
        return self.inner.query(sql, params)


def test_metrics_over_the_same_rows_share_one_statement(store: Store) -> None:
    m = {"shape": "metric", "name": "time_to_first_response_minutes", "window": "7d"}
    metrics = [
        widget(fn=fn, field="value", **m).metric for fn in ("p50", "p90", "p99", "avg", "max")
    ]
    metrics.append(widget(fn="count", **m).metric)
    requests = [(metric, View(NOW).window(metric.window_ms)) for metric in metrics]
    counting = CountingStore(store)
    together = evaluate_many(counting, requests)  # type: ignore[arg-type]
    assert counting.statements == 2  # one ranking for the percentiles, one for the aggregates
    assert together == [evaluate(store, metric, span) for metric, span in requests]
    assert [v[(None, None)] for v in together] == pytest.approx([25.0, 37.0, 39.7, 25.0, 40.0, 4])


def test_dashboard_indexes_are_created_and_used(store: Store) -> None:
    statements = apply_indexes(store.url)
    assert len(statements) == len(OBSOLETE) + len(INDEXES)
    apply_indexes(store.url)  # idempotent
    assert value(store, fn="count", window="7d") == 3
    assert value(store, fn="count", filter=[{"field": "state", "op": "eq", "value": "open"}]) == 2
    if store.dialect != "sqlite":
        return
    plans = {
        "ix_m_entities_created_v2": widget(fn="count", window="7d").metric,
        "ix_m_entities_state_v3": widget(
            fn="count", filter=[{"field": "state", "op": "eq", "value": "open"}]
        ).metric,
        "ix_m_metrics_window_v2": widget(
            shape="metric", name="count_reopens", fn="p50", field="value", window="7d"
        ).metric,
        "ix_m_events_transition": widget(
            shape="event",
            event_type="intercom_conversation_state_change",
            window="7d",
            filter=[{"field": "transition", "op": "eq", "value": "assigned"}],
        ).metric,
        "ix_m_events_window": widget(
            shape="event", event_type="intercom_conversation_state_change", window="7d"
        ).metric,
    }
    for name, metric in plans.items():
        counting = PlanningStore(store)
        evaluate(counting, metric, View(NOW).window(metric.window_ms))  # type: ignore[arg-type]
        assert name in counting.plan, (name, counting.plan)


class PlanningStore(CountingStore):
    """Records SQLite's query plan of the statements it runs."""

    plan = ""

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        rows = self.inner.query(f"EXPLAIN QUERY PLAN {sql}", params)
        self.plan += " ".join(str(r[-1]) for r in rows)
        return self.inner.query(sql, params)


def test_the_query_commands_connection_cannot_write(store: Store) -> None:
    """`intercom-sync query` runs user SQL read-only on both backends."""
    before = store.query("SELECT COUNT(*) FROM entities")[0][0]
    columns, rows = run_readonly(store.url, "SELECT COUNT(*) AS n FROM entities")
    assert (columns, rows) == (["n"], [(before,)])
    with pytest.raises(Exception, match=r"(?i)read-?only"):
        run_readonly(store.url, "DELETE FROM entities")
    assert store.query("SELECT COUNT(*) FROM entities")[0][0] == before


def test_support_dashboard_is_the_same_on_both_backends(postgres_url: str, tmp_path: Path) -> None:
    """Every built-in widget, queue-depth replay included, gives equal values on both."""
    import psycopg

    from tests.support_values import support_metrics
    from tests.synthetic import SyntheticSpec, write_synthetic

    name = f"support_{os.getpid()}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}".encode())
        admin.execute(f"CREATE DATABASE {name}".encode())
    spec = SyntheticSpec(seed=21, conversations=250, contacts=30)
    found = []
    for url in (f"sqlite:///{tmp_path / 'eq.db'}", postgres_url.rsplit("/", 1)[0] + f"/{name}"):
        opened = open_store(url)
        try:
            write_synthetic(opened, spec)
            found.append(support_metrics(opened, spec.now_ms / 1000))
        finally:
            opened.close()
    lite, pg = found
    assert lite.keys() == pg.keys()
    for widget_id, expected in lite.items():
        if isinstance(expected, float):
            assert pg[widget_id] == pytest.approx(expected), widget_id
        else:
            assert pg[widget_id] == expected, widget_id
