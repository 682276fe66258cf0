"""The built-in support dashboard: queue depth, data quality, and every widget checked
against an independent plain-Python computation over the same rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.metrics import support_dashboard
from intercom_sync.metrics.freshness import stream_freshness, sync_overview, to_ms
from intercom_sync.metrics.queue import queue_points
from intercom_sync.metrics.view import parse_view
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store import PageWrite, RunRecord, Shapes, Store, open_store
from intercom_sync.store.queue_spans import queue_spans
from tests.support_values import support_metrics
from tests.synthetic import SyntheticSpec, write_shapes, write_synthetic

DAY, HOUR = 86_400_000, 3_600_000
SPEC = SyntheticSpec(seed=5, conversations=400, contacts=50, admins=8, teams=3, tags=6)
NOW = SPEC.now_ms


def test_queue_points_end_each_bucket_and_stop_at_now() -> None:
    now = NOW + 6 * HOUR
    starts, points = queue_points("day", now - 2 * DAY, now)
    assert starts == [NOW - 2 * DAY, NOW - DAY, NOW]
    assert points == [NOW - DAY, NOW, now]


# -- queue depth on a hand-built store -----------------------------------------------------------


def _conv(cid: str, state: str, admin: str | None = None) -> tuple[Any, ...]:
    attrs = {"state": state, "adminAssigneeId": admin, "teamAssigneeId": None, "createdAt": 0}
    return ("intercom", "intercom_conversation", cid, orjson.dumps(attrs).decode(), 1)


def _ev(cid: str, n: Any, transition: str, at: int, to: str | None = None) -> tuple[Any, ...]:
    attrs = {"transition": transition, "assignedToId": to, "source": "parts"}
    row = ("intercom", "intercom_conversation_state_change", f"{cid}:{n}", "intercom_conversation")
    return (*row, cid, at, orjson.dumps(attrs).decode())


def with_queue(events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The events and, as a sync writes them, each conversation's queue entries and exits."""
    out = list(events)
    by_conversation: dict[str, list[tuple[Any, ...]]] = {}
    for e in events:
        by_conversation.setdefault(e[4], []).append(e)
    for cid, rows in by_conversation.items():
        replay = []
        for e in sorted(rows, key=lambda e: e[5]):
            attrs = orjson.loads(e[6])
            replay.append((e[5], attrs["transition"], attrs["assignedToId"], None))
        for entered, left in queue_spans(replay, "parts"):
            out.append(_ev(cid, f"in{entered}", "queue_entered", entered))
            if left is not None:
                out.append(_ev(cid, f"out{left}", "queue_left", left))
    return out


@pytest.fixture
def queue_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'q.db'}")
    entities = [
        _conv("old_waiting", "open"),  # unassigned since long before the window: always waiting
        _conv("old_closed", "closed"),
        _conv("new_assigned", "open", "a1"),
        _conv("new_closed", "closed"),
    ]
    events = [
        _ev("old_waiting", 0, "created", NOW - 90 * DAY),
        _ev("old_closed", 0, "created", NOW - 90 * DAY),
        _ev("old_closed", 1, "closed", NOW - 80 * DAY),
        # created 2.5 days ago, assigned 1.5 days ago
        _ev("new_assigned", 0, "created", NOW - 60 * HOUR),
        _ev("new_assigned", 1, "assigned", NOW - 36 * HOUR, "a1"),
        # created 4 days ago, closed unassigned 3.5 days ago, reopened 1 hour ago
        _ev("new_closed", 0, "created", NOW - 4 * DAY),
        _ev("new_closed", 1, "closed", NOW - 84 * HOUR),
        _ev("new_closed", 2, "reopened", NOW - HOUR),
    ]
    write_shapes(store, Shapes(entities=entities, events=with_queue(events)), NOW // 1000)
    yield store
    store.close()


def test_unassigned_queue_depth_per_day(queue_store: Store) -> None:
    body = evaluate_widget(queue_store, support_dashboard().widgets["unassigned_queue_depth"], NOW)
    assert len(body["x"]) == 30 and body["x"][-1] == "2025-12-31T00:00:00Z"
    depth = body["series"][0]["y"]
    # End of each of the last five days (Dec 27 … Dec 31 = now):
    #  Dec 27 (T=now-4d): old_waiting                                      → 1
    #  Dec 28 (T=now-3d): old_waiting (new_closed closed at now-3.5d)      → 1
    #  Dec 29 (T=now-2d): old_waiting, new_assigned (created now-2.5d)     → 2
    #  Dec 30 (T=now-1d): old_waiting (new_assigned assigned at now-1.5d)  → 1
    #  Dec 31 (T=now):    old_waiting, new_closed (reopened, unassigned)   → 2
    assert depth[-5:] == [1, 1, 2, 1, 2]
    assert depth[:-5] == [1] * 25


def test_the_depth_follows_new_events_and_the_as_of_moment(queue_store: Store) -> None:
    widget = support_dashboard().widgets["unassigned_queue_depth"]
    first = evaluate_widget(queue_store, widget, NOW)["series"][0]["y"]
    # new_closed gets assigned half an hour before now: it leaves the queue.
    later = Shapes(events=[_ev("new_closed", "out", "queue_left", NOW - 30 * 60_000)])
    write_shapes(queue_store, later, NOW // 1000)
    again = evaluate_widget(queue_store, widget, NOW)["series"][0]["y"]
    assert again[:-1] == first[:-1] and (first[-1], again[-1]) == (2, 1)
    # as of two days ago: the window ends then, and so does the last point
    past = parse_view({"as_of": "2025-12-30T00:00:00Z"}, NOW)
    body = evaluate_widget(queue_store, widget, past)
    assert body["x"][-1] == "2025-12-29T00:00:00Z"
    assert body["series"][0]["y"][-2:] == [1, 2]  # Dec 28 and Dec 29 as above
    by_email = parse_view({"channel": "email"}, NOW)  # none of them came by email
    assert set(evaluate_widget(queue_store, widget, by_email)["series"][0]["y"]) == {0}


# -- the whole dashboard against plain Python ------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('support') / 's.db'}")
    write_synthetic(store, SPEC)
    yield store
    store.close()


def _attrs(store: Store, entity_type: str) -> dict[str, dict[str, Any]]:
    rows = store.query(
        "SELECT entity_id, attributes FROM entities WHERE entity_type = ? AND deleted_at IS NULL",
        (entity_type,),
    )
    return {eid: orjson.loads(a) for eid, a in rows}


def _quantile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT00:00:00Z")


def test_support_metrics_equal_a_plain_python_computation(synthetic: Store) -> None:
    got = support_metrics(synthetic, NOW / 1000)
    convs = _attrs(synthetic, "intercom_conversation")
    names = {**_attrs(synthetic, "intercom_team"), **_attrs(synthetic, "intercom_admin")}
    recent = [c for c in convs.values() if NOW - 30 * DAY <= c["createdAt"] < NOW]
    states = Counter(c["state"] for c in convs.values())
    assert got["conversation_states"] == {
        "open": states["open"],
        "snoozed": states["snoozed"],
        "closed": states["closed"],
    }
    # The headline count follows the view: 30 days by default, 7 with range=7d.
    assert got["new_conversations_total"] == len(recent)
    week = sum(NOW - 7 * DAY <= c["createdAt"] < NOW for c in convs.values())
    last_week = support_metrics(synthetic, NOW / 1000, parse_view({"range": "7d"}, NOW))
    assert last_week["new_conversations_total"] == week
    per_day = Counter(_day(c["createdAt"]) for c in recent)
    assert {d: n for d, n in got["new_conversations"].items() if n} == dict(per_day)
    assert len(got["new_conversations"]) == 30

    def label(key: str | None) -> str:
        return "(none)" if key is None else names[key]["name"]

    for widget, field in (
        ("volume_by_team", "teamAssigneeId"),
        ("volume_by_admin", "adminAssigneeId"),
    ):
        expected = Counter(label(c[field]) for c in recent)
        assert got[widget] == dict(expected.most_common(15)), widget
    assert got["volume_by_channel"] == dict(Counter(c["channel"] for c in recent))
    assert got["volume_by_tag"] == dict(Counter(t for c in recent for t in c["tags"]))
    ratings = [c["rating"] for c in recent if c["rating"] is not None]
    assert got["csat_average"] == pytest.approx(statistics.fmean(ratings))
    assert got["csat_distribution"] == {str(r): n for r, n in sorted(Counter(ratings).items())}


def _metric_values(store: Store, name: str, start: int, end: int) -> list[float]:
    rows = store.query(
        "SELECT value FROM metrics WHERE metric = ? AND ts >= ? AND ts < ?", (name, start, end)
    )
    return [float(v) for (v,) in rows]


@pytest.mark.parametrize(
    "name", ["first_assignment", "first_response", "first_close", "last_close"]
)
def test_latency_medians_and_p90s(synthetic: Store, name: str) -> None:
    got = support_metrics(synthetic, NOW / 1000)[f"time_to_{name}"]
    values = _metric_values(synthetic, f"time_to_{name}_minutes", NOW - 30 * DAY, NOW)
    assert got["median"] == pytest.approx(statistics.median(values))
    assert got["p90"] == pytest.approx(_quantile(values, 0.9))
    assert got["p90"] == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[-1])


def test_reopen_rate_and_assignments(synthetic: Store) -> None:
    got = support_metrics(synthetic, NOW / 1000)
    reopens = _metric_values(synthetic, "count_reopens", NOW - 30 * DAY, NOW)
    assert got["reopen_rate"] == pytest.approx(sum(v > 0 for v in reopens) / len(reopens))
    assignments = _metric_values(synthetic, "count_assignments", NOW - 30 * DAY, NOW)
    assert got["assignments_per_conversation"] == pytest.approx(statistics.fmean(assignments))


def test_queue_depth_equals_a_full_replay_of_every_conversation(synthetic: Store) -> None:
    """The widget replays only conversations that changed in the window; replaying all of
    them, point by point, must give the same depths."""
    got = support_metrics(synthetic, NOW / 1000)["unassigned_queue_depth"]
    rows = synthetic.query("SELECT entity_id, occurred_at, attributes FROM events")
    history: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for cid, at, attrs in rows:
        history.setdefault(cid, []).append((at, orjson.loads(attrs)))
    _, points = queue_points("day", NOW - 30 * DAY, NOW)
    expected = []
    for t in points:
        waiting = 0
        for events in history.values():
            is_open = assigned = False
            for _, e in sorted(events, key=lambda x: (x[0], x[1]["transition"] != "created")):
                if _ >= t:
                    break
                kind = e["transition"]
                is_open = {
                    "created": True,
                    "reopened": True,
                    "closed": False,
                    "snoozed": False,
                }.get(kind, is_open)
                assigned = (
                    False
                    if kind == "created"
                    else (e["assignedToId"] is not None if kind == "assigned" else assigned)
                )
            waiting += is_open and not assigned
        expected.append(waiting)
    assert list(got.values()) == expected


def test_data_quality_widgets(synthetic: Store) -> None:
    got = support_metrics(synthetic, NOW / 1000)
    gaps = synthetic.query("SELECT expected, stored FROM _parts_gaps")
    assert got["parts_gaps"] == {
        "conversations with incomplete parts": 3,
        "parts missing": sum(expected - stored for expected, stored in gaps),
    }
    freshness = got["stream_freshness"]
    assert set(freshness) == {
        "admins",
        "teams",
        "tags",
        "contacts",
        "conversations",
        "conversation_parts",
    }
    assert freshness["contacts"]["age"] == 5.0
    assert freshness["contacts"]["last run"] == "succeeded"
    # rows: what the store's tables hold, not what the last run said it wrote (103): the
    # synthetic workspace writes only shapes, so its raw contacts table is empty.
    assert freshness["contacts"]["rows"] == 0


def test_every_support_widget_works_on_an_empty_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        got = support_metrics(store, NOW / 1000)
    finally:
        store.close()
    assert got["conversation_states"] == {"open": 0, "snoozed": 0, "closed": 0}
    assert got["time_to_first_response"] == {"median": None, "p90": None}
    assert got["volume_by_tag"] == {}
    assert set(got["unassigned_queue_depth"].values()) == {0}
    assert got["stream_freshness"] == {}


# -- freshness ------------------------------------------------------------------------------


def test_freshness_reads_checkpoints_and_the_last_run(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        now_s = NOW // 1000
        store.apply(PageWrite(state={"tags": {"cursor": 1}}), now_s - 120)
        store.apply(PageWrite(state={"contacts": {"cursor": 2}}), now_s - 3_600)
        check = {"at": now_s - 3_600, "intercom": 9, "store": 7, "source": "sync"}
        store.apply(PageWrite(state={"verify:contacts": check}), now_s - 3_600)
        store.start_run(RunRecord("r1", now_s - 4_000, "full", 0))
        store.finish_run(
            "r1",
            finished_at=now_s - 100,
            status="partial",
            streams={
                "contacts": {"records": 7, "status": "failed"},
                "tags": {"records": 3, "status": "succeeded"},
            },
            requests=3,
            rate_limited=0,
            errors=["contacts: boom"],
        )
        streams = {s["stream"]: s for s in stream_freshness(store, NOW)}
        overview = sync_overview(store, NOW)
    finally:
        store.close()
    assert streams["tags"]["age_minutes"] == 2.0
    assert streams["contacts"] == {
        "stream": "contacts",
        "last_synced": "2025-12-31T23:00:00Z",
        "age_minutes": 60.0,
        "after_as_of": False,
        "last_run_status": "failed",
        "last_run_records": 7,
        "rows": 0,  # the run reported 7 records; the store holds none
        "verified": "DISAGREES (2 missing) 2025-12-31 23:00:00Z",
    }
    assert streams["tags"]["verified"] == "—"
    assert not any(name.startswith("verify:") for name in streams)  # checks are not streams
    assert overview["last_run"]["status"] == "partial"
    assert overview["last_run"]["errors"] == ["contacts: boom"]
    assert (overview["oldest_stream_age_minutes"], overview["newest_stream_age_minutes"]) == (
        60.0,
        2.0,
    )


def test_no_age_is_ever_negative(tmp_path: Path) -> None:
    """Seen as of a moment before the last sync (--as-of in the past): the sync has no
    age then, and the page says when it happened instead."""
    from intercom_sync.web.render import freshness_line

    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        now_s = NOW // 1000
        store.apply(PageWrite(state={"tags": {"cursor": 1}}), now_s)
        store.start_run(RunRecord("r1", now_s - 60, "full", 0))
        store.finish_run(
            "r1",
            finished_at=now_s,
            status="succeeded",
            streams={},
            requests=1,
            rate_limited=0,
            errors=[],
        )
        earlier = NOW - 3 * DAY
        (tags,) = stream_freshness(store, earlier)
        overview = sync_overview(store, earlier)
    finally:
        store.close()
    assert (tags["age_minutes"], tags["after_as_of"]) == (None, True)
    assert overview["oldest_stream_age_minutes"] is None
    line = freshness_line(overview, None, earlier)
    assert "after the as-of time" in line and " ago" not in line


def test_timestamps_in_seconds_or_milliseconds() -> None:
    assert to_ms(1_767_225_600) == NOW
    assert to_ms(NOW) == NOW
    assert to_ms(None) is None
