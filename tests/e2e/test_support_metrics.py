"""The support dashboard's figures equal an independent computation from the ground truth.

Everything on the Python side here is computed from the simulator's raw records — the
conversations and every part a sync can see (the newest 500 of a longer history) — with
the definitions written out again below (the dbt `intercom__conversation_metrics` ones for
the latencies). None of the product's transforms, events or metric SQL is reused.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.metrics.support import support_metrics
from intercom_sync.simulator.service import Simulator
from intercom_sync.simulator.spec import SimulatorConfig, WorldSpec
from tests.e2e.harness import open_test_store, run

pytestmark = pytest.mark.slow

DAY = 86_400
CAP = 500
CONTACTS = ("user", "lead")


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def minutes(later: int | None, earlier: int | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier) / 60, 2)


def dbt_metrics(conversation: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    def times(test: Any) -> list[int]:
        return sorted(p["created_at"] for p in parts if test(p))

    contact = times(lambda p: p["part_type"] == "comment" and p["author"]["type"] in CONTACTS)
    assignments = times(lambda p: "assignment" in p["part_type"])
    responses = times(
        lambda p: (
            p["part_type"] in ("comment", "assignment")
            and p["author"]["type"] == "admin"
            and p.get("body") is not None
        )
    )
    closes = times(lambda p: p["part_type"] == "close")  # by any author, as dbt counts them
    created = conversation["created_at"]
    first_contact = contact[0] if contact else None
    return {
        "time_to_first_assignment": minutes(assignments[0] if assignments else None, created),
        "time_to_first_response": minutes(responses[0] if responses else None, created),
        "time_to_first_close": minutes(closes[0] if closes else None, first_contact),
        "time_to_last_close": minutes(closes[-1] if closes else None, first_contact),
        "count_reopens": sum(1 for p in parts if p["part_type"] == "open"),
        "count_assignments": len(assignments),
    }


def waiting_at(conversation: dict[str, Any], parts: list[dict[str, Any]], at: float) -> bool:
    """Open, with no admin and no team assigned, after everything that happened before `at`
    (an assignment to nobody takes the admin off, not the team)."""
    if conversation["created_at"] >= at:
        return False
    state, admin, team = "open", None, None
    for p in parts:
        if p["created_at"] >= at:
            break
        kind, author = p["part_type"], p["author"]["type"]
        if "assignment" in kind:
            target = p.get("assigned_to") or {}
            if target.get("type") == "team" and target.get("id") is not None:
                team = target["id"]
            elif target.get("type") == "admin" and target.get("id") is not None:
                admin = target["id"]
            else:
                admin = None
        elif kind == "close":
            state = "closed"
        elif kind == "open":
            state = "open"
        elif kind == "snoozed":
            state = "snoozed"
        elif (kind == "timer_unsnooze" and state == "snoozed") or (
            kind == "comment" and author in CONTACTS
        ):
            state = "open"
    return state == "open" and admin is None and team is None


def day_key(ts: float) -> str:
    start = int(ts // DAY) * DAY
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def top(counts: dict[str, float], shown: dict[str, Any], limit: int = 15) -> None:
    """A widget showing the top `limit` labels: every shown label is right, and nothing
    bigger than the smallest shown one was left out."""
    assert len(shown) == min(limit, len(counts))
    for label, value in shown.items():
        assert counts[label] == pytest.approx(value), label
    floor = min(shown.values())
    assert all(label in shown for label, n in counts.items() if n > floor)


def exercise_the_queue(sim: Simulator, clock: ManualClock) -> None:
    """Ten days of traffic that moves conversations in and out of the unassigned queue:
    new ones left unassigned, snoozed and woken (by the timer or by the customer), closed
    and reopened, assigned and unassigned again."""
    m = sim.mutator
    for day in range(10):
        clock.advance(0.9 * DAY)
        fresh = [m.new_conversation().id for _ in range(6)]
        unassigned = [cid for cid in fresh if not sim.world.conversations[cid]["team_assignee_id"]]
        for i, cid in enumerate(unassigned):
            clock.advance(600)
            if i % 3 == 0:
                m.snooze(cid, int(clock.now()) + 3_600)
                clock.advance(3_700)
                m.unsnooze(cid) if day % 2 else m.reply(cid, author="user")
            elif i % 3 == 1:
                m.close(cid)
                clock.advance(1_800)
                m.reply(cid, author="user") if day % 2 else m.reopen(cid)
            else:
                m.assign(cid, next(iter(sim.world.admins)), None)
                clock.advance(900)
                m.assign(cid, None, None)
    clock.advance(sim.quirks.search_lag_seconds + 1)


def test_support_dashboard_equals_a_plain_python_computation(tmp_path: Path) -> None:
    spec = WorldSpec.preset("small", seed=12)
    clock = ManualClock(spec.now)
    sim = Simulator(SimulatorConfig(world=spec), clock=clock)
    exercise_the_queue(sim, clock)
    path = tmp_path / "store.db"
    assert run(sim, path).status == "succeeded"
    now = clock.now()
    world = sim.world
    conversations = list(sim.truth()["conversations"].values())
    parts = {
        cid: sorted(world.parts[cid], key=lambda p: (p["created_at"], str(p["id"])))[-CAP:]
        for cid in world.conversations
    }
    recent = [c for c in conversations if now - 30 * DAY <= c["created_at"] < now]
    assert len(recent) > 50, "the window must hold enough conversations to mean something"

    store = open_test_store(path)
    try:
        got = support_metrics(store, now)
    finally:
        store.close()

    states = Counter(c["state"] for c in conversations)
    assert got["open_conversations"] == states["open"]
    assert got["snoozed_conversations"] == states["snoozed"]
    assert got["closed_conversations"] == states["closed"]
    assert got["new_conversations_7d"] == sum(
        1 for c in conversations if now - 7 * DAY <= c["created_at"] < now
    )
    per_day = Counter(day_key(c["created_at"]) for c in recent)
    assert {k: v for k, v in got["new_conversations"].items() if v} == dict(per_day)

    metrics = {c["id"]: dbt_metrics(c, parts[c["id"]]) for c in recent}
    for name in (
        "time_to_first_assignment",
        "time_to_first_response",
        "time_to_first_close",
        "time_to_last_close",
    ):
        values = [m[name] for m in metrics.values() if m[name] is not None]
        assert got[name]["median"] == pytest.approx(percentile(values, 0.5)), name
        assert got[name]["p90"] == pytest.approx(percentile(values, 0.9)), name

    # Part-based figures cover conversations with parts only (dbt's need them).
    with_parts = [m for cid, m in metrics.items() if parts[cid]]
    reopened = sum(1 for m in with_parts if m["count_reopens"] > 0)
    assert got["reopen_rate"] == pytest.approx(reopened / len(with_parts))
    assert got["assignments_per_conversation"] == pytest.approx(
        sum(m["count_assignments"] for m in with_parts) / len(with_parts)
    )
    assigned_per_day = Counter(
        day_key(p["created_at"])
        for plist in parts.values()
        for p in plist
        if "assignment" in p["part_type"] and now - 30 * DAY <= p["created_at"] < now
    )
    assert {k: v for k, v in got["assignments_per_day"].items() if v} == dict(assigned_per_day)

    team_names = {tid: t["name"] for tid, t in world.teams.items()}
    admin_names = {aid: a["name"] for aid, a in world.admins.items()}

    def label(names: dict[str, str], value: Any) -> str:
        return "(none)" if value is None else names[str(value)]

    top(Counter(label(team_names, c["team_assignee_id"]) for c in recent), got["volume_by_team"])
    top(Counter(label(admin_names, c["admin_assignee_id"]) for c in recent), got["volume_by_admin"])
    top(Counter(t["name"] for c in recent for t in c["tags"]["tags"]), got["volume_by_tag"])
    top(Counter(c["source"]["type"] for c in recent), got["volume_by_channel"])

    ratings = [c["conversation_rating"]["rating"] for c in recent if c.get("conversation_rating")]
    assert got["csat_average"] == pytest.approx(sum(ratings) / len(ratings))
    assert got["csat_distribution"] == {str(r): n for r, n in sorted(Counter(ratings).items())}

    responses: dict[str, list[float]] = defaultdict(list)
    for c in recent:
        value = metrics[c["id"]]["time_to_first_response"]
        if value is not None:
            responses[label(team_names, c["team_assignee_id"])].append(value)
    for team, row in got["response_by_team"].items():
        assert row["conversations"] == len(responses[team]), team
        assert row["median"] == pytest.approx(percentile(responses[team], 0.5)), team
        assert row["p90"] == pytest.approx(percentile(responses[team], 0.9)), team

    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in recent:
        for t in c["tags"]["tags"]:
            by_tag[t["name"]].append(c)
    for tag, row in got["tags_table"].items():
        tagged = by_tag[tag]
        assert row["conversations"] == len(tagged), tag
        assert row["reopens"] == sum(c["statistics"].get("count_reopens", 0) for c in tagged)
        rated = [c["conversation_rating"]["rating"] for c in tagged if c.get("conversation_rating")]
        assert row["avg rating"] == (pytest.approx(sum(rated) / len(rated)) if rated else None)

    long = {cid: len(world.parts[cid]) - CAP for cid in world.parts if len(world.parts[cid]) > CAP}
    assert got["parts_gaps"] == {
        "conversations with incomplete parts": len(long),
        "parts missing": sum(long.values()),
    }

    ends = {}
    for key in got["unassigned_queue_depth"]:
        start = datetime.fromisoformat(key.replace("Z", "+00:00")).timestamp()
        ends[key] = min(start + DAY, now)
    by_id = {c["id"]: c for c in conversations}
    expected_depth = {
        key: sum(1 for cid, c in by_id.items() if waiting_at(c, parts[cid], at))
        for key, at in ends.items()
    }
    assert got["unassigned_queue_depth"] == expected_depth
    assert len(expected_depth) >= 30
