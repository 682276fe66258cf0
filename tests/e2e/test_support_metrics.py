"""The support dashboard's figures equal an independent computation from the ground truth.

Everything on the Python side here is computed from the simulator's raw records — the live
conversations and every part a sync can see (the newest 500 of a longer history), the
tickets and their state parts — with the definitions written out again below:
dbt_intercom's `intercom__conversation_metrics` (both close families) and
`intercom__admin_metrics` for the per-conversation figures and the teammate table, the
state machine of a conversation for "as of" states. None of the product's transforms,
events or metric SQL is reused.

The workspace holds conversations closed by teammates, by the bot, by workflows and by
contacts, and conversations deleted after a first sync (a full sync marks them deleted):
they must count nowhere. The same store is read under several views: the default one,
ranges (presets and custom dates), comparisons, each filter, and an as-of moment.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.metrics.support import support_dashboard
from intercom_sync.metrics.view import View, parse_view
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store.base import Store
from tests.e2e.harness import open_test_store, run
from tests.support_values import support_metrics

pytestmark = pytest.mark.slow

DAY = 86_400
CAP = 500
CONTACTS = ("user", "lead")
AGE_BUCKETS = (
    ("< 1 h", 60),
    ("1–4 h", 240),
    ("4–24 h", 1440),
    ("1–3 d", 3 * 1440),
    ("3–7 d", 7 * 1440),
    ("1–4 wk", 28 * 1440),
    ("> 4 wk", math.inf),
)
Record = dict[str, Any]


# -- definitions, written out again ---------------------------------------------------------


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


def dbt_metrics(conversation: Record, parts: list[Record]) -> dict[str, Any]:
    """intercom__conversation_metrics for one conversation (None where dbt has NULL)."""

    def first_last(test: Callable[[Record], bool]) -> tuple[Record | None, Record | None]:
        found = [p for p in parts if test(p)]
        return (found[0], found[-1]) if found else (None, None)

    def at(part: Record | None) -> int | None:
        return None if part is None else part["created_at"]

    contact, _ = first_last(
        lambda p: p["part_type"] == "comment" and p["author"]["type"] in CONTACTS
    )
    first_assignment, _ = first_last(lambda p: "assignment" in p["part_type"])
    response, _ = first_last(
        lambda p: (
            p["part_type"] in ("comment", "assignment")
            and p["author"]["type"] == "admin"
            and p.get("body") is not None
        )
    )
    first_close, last_close = first_last(lambda p: p["part_type"] == "close")
    first_admin_close, last_admin_close = first_last(
        lambda p: p["part_type"] == "close" and p["author"]["type"] == "admin"
    )
    created = conversation["created_at"]
    return {
        "time_to_first_assignment": minutes(at(first_assignment), created),
        "time_to_first_response": minutes(at(response), created),
        "time_to_first_close": minutes(at(first_close), at(contact)),
        "time_to_last_close": minutes(at(last_close), at(contact)),
        "time_to_admin_first_close": minutes(at(first_admin_close), at(contact)),
        "count_reopens": sum(1 for p in parts if p["part_type"] == "open"),
        "count_assignments": sum(1 for p in parts if "assignment" in p["part_type"]),
        "last_close_by_admin_id": None
        if last_admin_close is None
        else last_admin_close["author"]["id"],
    }


def state_before(parts: list[Record], moment: float) -> str:
    """A conversation's state after its parts strictly before `moment`: a close closes,
    an `open` part or a contact's message opens, a snooze snoozes, the snooze timer wakes a
    snoozed one."""
    state = "open"
    for p in parts:
        if p["created_at"] * 1000 >= moment:
            break
        kind, author = p["part_type"], p["author"]["type"]
        if kind == "close":
            state = "closed"
        elif kind == "open" or (kind == "comment" and author in CONTACTS):
            state = "open"
        elif kind == "snoozed":
            state = "snoozed"
        elif kind == "timer_unsnooze" and state == "snoozed":
            state = "open"
    return state


def waiting_before(parts: list[Record], moment: float) -> bool:
    """Open, with no admin and no team assigned, after everything before `moment` (an
    assignment to nobody takes the admin off, not the team)."""
    admin = team = None
    for p in parts:
        if p["created_at"] * 1000 >= moment:
            break
        if "assignment" in p["part_type"]:
            target = p.get("assigned_to") or {}
            if target.get("type") == "team" and target.get("id") is not None:
                team = target["id"]
            elif target.get("type") == "admin" and target.get("id") is not None:
                admin = target["id"]
            else:
                admin = None
    return state_before(parts, moment) == "open" and admin is None and team is None


def ticket_state_before(ticket: Record, moment: float) -> str:
    parts = ticket["ticket_parts"]["ticket_parts"]
    state = parts[0]["previous_ticket_state"] if parts else ticket["ticket_state"]
    for p in sorted(parts, key=lambda p: p["created_at"]):
        if p["created_at"] * 1000 < moment:
            state = p["ticket_state"]
    return state


def iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bucket_of(ms: float, bucket: str) -> str:
    day = int(ms // 86_400_000)
    if bucket == "week":
        day -= (day + 3) % 7  # weeks start on Monday; 1970-01-01 was a Thursday
    return iso(day * 86_400_000)


def buckets(start: float, end: float, bucket: str) -> list[str]:
    out: list[str] = []
    step = 7 if bucket == "week" else 1
    current = datetime.fromisoformat(bucket_of(start, bucket).replace("Z", "+00:00"))
    while current.timestamp() * 1000 < end:
        out.append(current.strftime("%Y-%m-%dT%H:%M:%SZ"))
        current += timedelta(days=step)
    return out


def top(counts: dict[str, float], shown: dict[str, Any], limit: int = 15) -> None:
    """A widget showing the top `limit` labels: every shown label is right, and nothing
    bigger than the smallest shown one was left out."""
    assert len(shown) == min(limit, len(counts))
    for label, value in shown.items():
        assert counts[label] == pytest.approx(value), label
    if shown:
        floor = min(shown.values())
        assert all(label in shown for label, n in counts.items() if n > floor)


# -- the workspace ----------------------------------------------------------------------------


def exercise(sim: Simulator, clock: ManualClock) -> None:
    """Ten days of traffic that moves conversations in and out of the unassigned queue,
    closed by teammates, the bot (a workflow) and contacts, and tickets moving along."""
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
        for n, cid in enumerate(fresh):
            clock.advance(300)
            m.reply(cid, author="admin")
            clock.advance(300)
            m.close(cid, by=("bot", "contact", "admin")[n % 3])
        for ticket_id in list(sim.world.tickets)[day * 3 : day * 3 + 3]:
            m.update_ticket(ticket_id)
    clock.advance(sim.quirks.search_lag_seconds + 1)


def delete_some(sim: Simulator, clock: ManualClock, now: float) -> list[str]:
    """Delete conversations of every kind: recent, tagged, rated, open, with a team."""
    convs = sim.world.conversations
    recent = sorted(cid for cid, c in convs.items() if c["created_at"] > now - 25 * DAY)
    picks = [
        next(cid for cid in recent if convs[cid]["tags"]["tags"]),
        next(cid for cid in recent if convs[cid].get("conversation_rating")),
        next(cid for cid in recent if convs[cid]["state"] == "open"),
        next(cid for cid in recent if convs[cid]["team_assignee_id"]),
        *recent[:4],
    ]
    gone = list(dict.fromkeys(picks))
    for cid in gone:
        sim.mutator.delete_conversation(cid)
    clock.advance(sim.quirks.search_lag_seconds + 1)
    return gone


@dataclass
class Truth:
    """What a perfect copy holds, and the dbt values of every live conversation."""

    now: float
    conversations: dict[str, Record]
    parts: dict[str, list[Record]]  # live and deleted: what a sync could store
    dbt: dict[str, dict[str, Any]]
    tickets: dict[str, Record]
    team_names: dict[str, str]
    admin_names: dict[str, str]
    tag_names: dict[str, str]
    long: dict[str, int]  # conversation → parts the API never returns
    segments_of: dict[str, set[str]]  # contact → the names of the segments it is in


def truth_of(sim: Simulator, now: float) -> Truth:
    world = sim.world
    truth = sim.truth()
    conversations = {k[0]: c for k, c in truth["conversations"].items()}
    parts = {
        cid: sorted(
            world.parts[cid], key=lambda p: (p["created_at"], len(str(p["id"])), str(p["id"]))
        )[-CAP:]
        for cid in world.parts.timelines
    }
    return Truth(
        now=now * 1000,
        conversations=conversations,
        parts=parts,
        dbt={cid: dbt_metrics(c, parts[cid]) for cid, c in conversations.items()},
        tickets={k[0]: t for k, t in truth["tickets"].items()},
        team_names={tid: t["name"] for tid, t in world.teams.items()},
        admin_names={aid: a["name"] for aid, a in world.admins.items()},
        tag_names={tid: t["name"] for tid, t in world.tags.items()},
        long={
            cid: len(world.parts[cid]) - CAP
            for cid in world.conversations
            if len(world.parts[cid]) > CAP
        },
        segments_of=segment_names_by_contact(truth["contact_segments"]),
    )


def segment_names_by_contact(memberships: dict[tuple[str, ...], Record]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for (contact_id, _), segment in memberships.items():
        out[contact_id].add(segment["name"])
    return out


# -- a view, computed from the truth ------------------------------------------------------------


class Expect:
    """Every support figure for one view, from the truth."""

    def __init__(self, truth: Truth, view: View) -> None:
        self.t = truth
        self.view = view
        span = view.span or _default_span(view)
        self.start, self.end = span.start_ms, span.end_ms
        self.at = view.end_ms
        f = view.filters

        def matches(c: Record) -> bool:
            tags = {t["id"] for t in c["tags"]["tags"]}
            return (
                (f.team is None or str(c["team_assignee_id"]) == f.team)
                and (f.admin is None or str(c["admin_assignee_id"]) == f.admin)
                and (f.channel is None or c["source"]["type"] == f.channel)
                and (f.tag is None or f.tag in tags)
            )

        self.matching = {cid: c for cid, c in truth.conversations.items() if matches(c)}
        self.recent = [
            cid
            for cid, c in self.matching.items()
            if self.start <= c["created_at"] * 1000 < self.end
        ]
        self.with_parts = [cid for cid in self.recent if truth.parts[cid]]
        self.bucket = "week" if (self.end - self.start) / 86_400_000 > 62 else "day"

    def team(self, c: Record) -> str:
        tid = c["team_assignee_id"]
        return "(none)" if tid is None else self.t.team_names[str(tid)]

    def admin(self, c: Record) -> str:
        aid = c["admin_assignee_id"]
        return "(none)" if aid is None else self.t.admin_names[str(aid)]

    def values(self, name: str, ids: list[str] | None = None) -> list[float]:
        found = (self.t.dbt[cid][name] for cid in (self.with_parts if ids is None else ids))
        return [v for v in found if v is not None]

    def latency(self, name: str) -> dict[str, float | None]:
        values = self.values(name)
        return {"median": percentile(values, 0.5), "p90": percentile(values, 0.9)}

    def states(self) -> dict[str, int]:
        counts = Counter(
            state_before(self.t.parts[cid], self.at)
            for cid, c in self.matching.items()
            if c["created_at"] * 1000 < self.at
        )
        return {s: counts[s] for s in ("open", "snoozed", "closed")}

    def open_ids(self) -> list[str]:
        return [
            cid
            for cid, c in self.matching.items()
            if c["created_at"] * 1000 < self.at
            and state_before(self.t.parts[cid], self.at) == "open"
        ]

    def per_bucket(self, pick: Callable[[str], tuple[float, Any] | None]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for cid in self.recent:
            found = pick(cid)
            if found is not None:
                out[bucket_of(found[0], self.bucket)].append(found[1])
        return out

    def trend(self, name: str) -> dict[str, dict[str, float | None]]:
        grouped = self.per_bucket(
            lambda cid: (
                None
                if cid not in self.with_parts or self.t.dbt[cid][name] is None
                else (self.t.conversations[cid]["created_at"] * 1000, self.t.dbt[cid][name])
            )
        )
        keys = buckets(self.start, self.end, self.bucket)
        return {
            "median": {k: percentile(grouped.get(k, []), 0.5) for k in keys},
            "p90": {k: percentile(grouped.get(k, []), 0.9) for k in keys},
        }

    def teammates(self) -> dict[str, dict[str, Any]]:
        credited: dict[str, list[str]] = defaultdict(list)
        for cid in self.with_parts:
            closer = self.t.dbt[cid]["last_close_by_admin_id"]
            if closer is not None and self.t.conversations[cid]["admin_assignee_id"] is not None:
                credited[closer].append(cid)
        replies: dict[str, list[str]] = defaultdict(list)
        for cid in self.recent:
            for p in self.t.parts[cid]:
                if p["part_type"] == "comment" and p["author"]["type"] == "admin":
                    replies[p["author"]["id"]].append(cid)
        rows = {}
        for admin in set(credited) | set(replies):
            ids = credited.get(admin, [])
            ratings = [
                self.t.conversations[c]["conversation_rating"]["rating"]
                for c in ids
                if self.t.conversations[c].get("conversation_rating")
            ]
            first_response = self.values("time_to_first_response", ids)
            last_close = self.values("time_to_last_close", ids)
            rows[self.t.admin_names[admin]] = {
                "handled": len(set(replies.get(admin, []))),
                "replies": len(replies.get(admin, [])),
                "closes": sum(1 for c in ids if self.t.conversations[c]["state"] == "closed"),
                "response p50": percentile(first_response, 0.5),
                "response p90": percentile(first_response, 0.9),
                "close p50": percentile(last_close, 0.5),
                "close p90": percentile(last_close, 0.9),
                "rated": len(ratings),
                "CSAT": sum(ratings) / len(ratings) if ratings else None,
                "reopens p50": percentile(self.values("count_reopens", ids), 0.5),
                "assignments p50": percentile(self.values("count_assignments", ids), 0.5),
            }
        return rows

    def tickets(self) -> list[Record]:
        f = self.view.filters
        return [
            t
            for t in self.t.tickets.values()
            if (f.team is None or str(t["team_assignee_id"]) == f.team)
            and (f.admin is None or str(t["admin_assignee_id"]) == f.admin)
        ]


def _default_span(view: View) -> Any:
    span = view.window(30 * 86_400_000)
    assert span is not None
    return span


def rating(c: Record) -> int | None:
    found = c.get("conversation_rating")
    return found["rating"] if found else None


def approx_dict(got: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    assert set(got) == set(expected), what
    for key, value in expected.items():
        if value is None:
            assert got[key] is None, (what, key)
        else:
            assert got[key] == pytest.approx(value), (what, key)


# -- the test -------------------------------------------------------------------------------


def check_view(store: Store, truth: Truth, view: View) -> None:
    got = support_metrics(store, truth.now / 1000, view)
    e = Expect(truth, view)
    convs = truth.conversations
    recent = [convs[cid] for cid in e.recent]
    assert got["conversation_states"] == e.states()
    assert got["new_conversations_total"] == len(recent)
    per_day = Counter(bucket_of(c["created_at"] * 1000, e.bucket) for c in recent)
    assert got["new_conversations"] == {
        k: per_day.get(k, 0) for k in buckets(e.start, e.end, e.bucket)
    }

    for name in (
        "time_to_first_assignment",
        "time_to_first_response",
        "time_to_first_close",
        "time_to_last_close",
    ):
        approx_dict(got[name], e.latency(name), name)
    approx_dict(
        got["response_time_trend"]["median"], e.trend("time_to_first_response")["median"], "trend"
    )
    approx_dict(
        got["response_time_trend"]["p90"], e.trend("time_to_first_response")["p90"], "trend p90"
    )
    approx_dict(
        got["close_time_trend"]["median"], e.trend("time_to_last_close")["median"], "close trend"
    )

    with_parts = [truth.dbt[cid] for cid in e.with_parts]
    if with_parts:
        reopened = sum(1 for m in with_parts if m["count_reopens"] > 0)
        assert got["reopen_rate"] == pytest.approx(reopened / len(with_parts))
        assert got["assignments_per_conversation"] == pytest.approx(
            sum(m["count_assignments"] for m in with_parts) / len(with_parts)
        )
    assert got["conversations_without_parts"] == {
        "without stored parts": len(recent) - len(with_parts),
        "conversations": len(recent),
    }

    ratings = [rating(c) for c in recent if rating(c) is not None]
    assert got["csat_average"] == (pytest.approx(sum(ratings) / len(ratings)) if ratings else None)
    assert got["csat_distribution"] == {str(r): n for r, n in sorted(Counter(ratings).items())}
    closed = [c for c in recent if c["state"] == "closed"]
    rated_closed = [c for c in closed if rating(c) is not None]
    assert got["csat_response_rate"] == (
        pytest.approx(len(rated_closed) / len(closed)) if closed else None
    )
    by_team: dict[str, list[int]] = defaultdict(list)
    for c in recent:
        by_team[e.team(c)].append(rating(c))  # type: ignore[arg-type]
    for team, row in got["csat_by_team"].items():
        rated = [r for r in by_team[team] if r is not None]
        assert row["rated"] == len(rated), team
        assert row["average"] == (pytest.approx(sum(rated) / len(rated)) if rated else None), team

    top(Counter(e.team(c) for c in recent), got["volume_by_team"])
    top(Counter(e.admin(c) for c in recent), got["volume_by_admin"])
    top(Counter(t["name"] for c in recent for t in c["tags"]["tags"]), got["volume_by_tag"])
    top(Counter(c["source"]["type"] for c in recent), got["volume_by_channel"])
    in_segment: Counter[str] = Counter()
    for c in recent:
        contacts = [p["id"] for p in c["contacts"]["contacts"]]
        in_segment.update(set().union(*(truth.segments_of.get(x, set()) for x in contacts)))
    assert in_segment, "the view's contacts are in segments: the check must hold something"
    top(in_segment, got["volume_by_segment"])

    responses: dict[str, list[float]] = defaultdict(list)
    for cid in e.with_parts:
        value = truth.dbt[cid]["time_to_first_response"]
        if value is not None:
            responses[e.team(convs[cid])].append(value)
    assert set(got["response_by_team"]) == set(responses)
    for team, row in got["response_by_team"].items():
        assert row["conversations"] == len(responses[team]), team
        assert row["median"] == pytest.approx(percentile(responses[team], 0.5)), team
        assert row["p90"] == pytest.approx(percentile(responses[team], 0.9)), team

    tagged: dict[str, list[str]] = defaultdict(list)
    for cid in e.recent:
        for t in convs[cid]["tags"]["tags"]:
            tagged[truth.tag_names[t["id"]]].append(cid)
    table = got["tags_table"]
    assert len(table) == min(15, len(tagged))
    for tag, row in table.items():
        ids = tagged[tag]
        assert row["conversations"] == len(ids), tag
        assert row["reopens"] == sum(truth.dbt[c]["count_reopens"] for c in ids if truth.parts[c])
        rated = [rating(convs[c]) for c in ids if rating(convs[c]) is not None]
        assert row["avg rating"] == (pytest.approx(sum(rated) / len(rated)) if rated else None)

    expected_teammates = e.teammates()
    assert set(got["teammates"]) == set(expected_teammates)
    for name, row in expected_teammates.items():
        approx_dict(got["teammates"][name], row, f"teammate {name}")

    assigned = Counter(
        bucket_of(p["created_at"] * 1000, e.bucket)
        for cid in e.matching
        for p in truth.parts[cid]
        if "assignment" in p["part_type"] and e.start <= p["created_at"] * 1000 < e.end
    )
    assert got["assignments_per_day"] == {
        k: assigned.get(k, 0) for k in buckets(e.start, e.end, e.bucket)
    }

    keys = buckets(e.start, e.end, e.bucket)
    ends = [
        min(
            datetime.fromisoformat(k.replace("Z", "+00:00")).timestamp() * 1000
            + (7 if e.bucket == "week" else 1) * 86_400_000,
            e.end,
        )
        for k in keys
    ]
    if view.filters.team or view.filters.admin:
        expected_depth = dict.fromkeys(keys, 0)  # unassigned means no team and no teammate
    else:
        expected_depth = {
            k: sum(
                1
                for cid, c in e.matching.items()
                if c["created_at"] * 1000 < end and waiting_before(truth.parts[cid], end)
            )
            for k, end in zip(keys, ends, strict=True)
        }
    assert got["unassigned_queue_depth"] == expected_depth

    open_ids = e.open_ids()
    ages = [(e.at - convs[cid]["created_at"] * 1000) / 60_000 for cid in open_ids]
    expected_backlog: dict[str, int] = {}
    lower = 0.0
    for label, upper in AGE_BUCKETS:
        expected_backlog[label] = sum(lower <= a < upper for a in ages)
        lower = upper
    assert got["backlog_age"] == (expected_backlog if ages else {})
    oldest = evaluate_widget(store, support_dashboard().widgets["oldest_open"], view)
    expected_oldest = sorted(open_ids, key=lambda cid: (convs[cid]["created_at"], cid))[:10]
    assert oldest["keys"] == expected_oldest
    assert [r[1] for r in oldest["rows"]] == pytest.approx(
        [(e.at - convs[cid]["created_at"] * 1000) / 60_000 for cid in expected_oldest]
    )
    assert all(
        link.endswith(f"/inbox/conversation/{cid}")
        for link, cid in zip(oldest["links"], expected_oldest, strict=True)
    )

    tickets = e.tickets()
    created = Counter(
        bucket_of(t["created_at"] * 1000, e.bucket)
        for t in tickets
        if e.start <= t["created_at"] * 1000 < e.end
    )
    resolved = Counter(
        bucket_of(p["created_at"] * 1000, e.bucket)
        for t in tickets
        for p in t["ticket_parts"]["ticket_parts"]
        if p["ticket_state"] == "resolved"
        and p["previous_ticket_state"] != "resolved"
        and e.start <= p["created_at"] * 1000 < e.end
    )
    assert got["tickets_per_day"] == {
        "created": {k: created.get(k, 0) for k in keys},
        "resolved": {k: resolved.get(k, 0) for k in keys},
    }
    states = Counter(ticket_state_before(t, e.at) for t in tickets if t["created_at"] * 1000 < e.at)
    assert got["ticket_states"] == {
        s.replace("_", " "): states[s]
        for s in ("submitted", "in_progress", "waiting_on_customer")
        if states[s]
    }

    in_range = set(e.recent) if view.span else set(e.matching)
    gaps = {cid: n for cid, n in truth.long.items() if cid in in_range}
    assert got["parts_gaps"] == {
        "conversations with incomplete parts": len(gaps),
        "parts missing": sum(gaps.values()),
    }


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Simulator, list[str], float]:
    spec = WorldSpec.preset("small", seed=12)
    clock = ManualClock(spec.now)
    sim = Simulator(SimulatorConfig(world=spec), clock=clock)
    exercise(sim, clock)
    path = tmp_path_factory.mktemp("support") / "store.db"
    assert run(sim, path).status == "succeeded"
    gone = delete_some(sim, clock, clock.now())
    assert run(sim, path, full=True).status == "succeeded"
    return path, sim, gone, clock.now()


def test_the_workspace_has_every_kind_of_close_and_deletions(synced: Any) -> None:
    path, sim, gone, now = synced
    closers = Counter(
        p["author"]["type"]
        for cid in sim.world.conversations
        for p in sim.world.parts[cid]
        if p["part_type"] == "close" and p["created_at"] > now - 30 * DAY
    )
    assert closers["admin"] and closers["bot"] and closers["user"] + closers["lead"]
    store = open_test_store(path)
    try:
        deleted = {
            r[0]
            for r in store.query(
                "SELECT entity_id FROM entities WHERE entity_type = 'intercom_conversation' "
                "AND deleted_at IS NOT NULL"
            )
        }
        assert deleted == set(gone)
        # their metrics and events are still stored (nothing is lost) …
        kept = store.query(
            f"SELECT COUNT(*) FROM metrics WHERE entity_id IN ({', '.join('?' * len(gone))})", gone
        )[0][0]
        assert kept > 0
    finally:
        store.close()


VIEWS: list[dict[str, str]] = [
    {},
    {"range": "7d", "team": "TEAM"},
    {"from": "FROM", "to": "TO", "channel": "email", "compare": "year"},
    {"range": "90d", "tag": "TAG", "compare": "none"},
    {"range": "30d", "admin": "ADMIN"},
    {"as_of": "AS_OF", "range": "30d"},
    {"as_of": "AS_OF", "range": "90d", "channel": "conversation"},
]


def concrete(params: dict[str, str], sim: Simulator, now: float) -> dict[str, str]:
    """Fill the placeholders with ids and dates that hold many conversations."""
    convs = [c for c in sim.world.conversations.values() if c["created_at"] > now - 30 * DAY]
    week = [c for c in convs if c["created_at"] > now - 7 * DAY]
    team = Counter(str(c["team_assignee_id"]) for c in week if c["team_assignee_id"]).most_common(
        1
    )[0][0]
    admin = Counter(
        str(c["admin_assignee_id"]) for c in convs if c["admin_assignee_id"]
    ).most_common(1)[0][0]
    tag = Counter(t["id"] for c in convs for t in c["tags"]["tags"]).most_common(1)[0][0]
    day = lambda d: datetime.fromtimestamp(now - d * DAY, UTC).strftime("%Y-%m-%d")  # noqa: E731
    fill = {
        "TEAM": team,
        "ADMIN": admin,
        "TAG": tag,
        "FROM": day(40),
        "TO": day(12),
        "AS_OF": datetime.fromtimestamp(now - 10 * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {k: fill.get(v, v) for k, v in params.items()}


@pytest.mark.parametrize(
    "params", VIEWS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "default"
)
def test_support_dashboard_equals_a_plain_python_computation(
    synced: Any, params: dict[str, str]
) -> None:
    path, sim, gone, now = synced
    truth = truth_of(sim, now)
    assert not set(gone) & set(truth.conversations)
    view = parse_view(concrete(params, sim, now), int(now * 1000))
    e = Expect(truth, view)
    assert len(e.recent) > 5, "the view must hold enough conversations to mean something"
    store = open_test_store(path)
    try:
        check_view(store, truth, view)
    finally:
        store.close()


def test_the_stored_dbt_facts_of_every_conversation(synced: Any) -> None:
    """Who closed first and last (any author, and admins), the last admin response and the
    first and last team assigned, as dbt_intercom's conversation model defines them."""
    path, sim, _, now = synced
    truth = truth_of(sim, now)
    store = open_test_store(path)
    try:
        rows = store.query(
            "SELECT entity_id, metric, value, json_extract(attributes, '$.authorId'), "
            "json_extract(attributes, '$.authorType'), json_extract(attributes, '$.teamId') "
            "FROM metrics WHERE metric IN ('last_admin_response_at', 'first_close_at', "
            "'last_close_at', 'first_admin_close_at', 'last_admin_close_at', "
            "'first_team_assignment_at', 'last_team_assignment_at')"
        )
    finally:
        store.close()
    got = {
        (cid, metric): (value, author, kind, team)
        for cid, metric, value, author, kind, team in rows
    }
    checked = 0
    for cid in truth.conversations:
        parts = truth.parts[cid]
        closes = [p for p in parts if p["part_type"] == "close"]
        admin_closes = [p for p in closes if p["author"]["type"] == "admin"]
        responses = [
            p
            for p in parts
            if p["part_type"] in ("comment", "assignment")
            and p["author"]["type"] == "admin"
            and p.get("body") is not None
        ]
        teams = [p for p in parts if (p.get("assigned_to") or {}).get("type") == "team"]
        expected = {
            "first_close_at": closes[:1],
            "last_close_at": closes[-1:],
            "first_admin_close_at": admin_closes[:1],
            "last_admin_close_at": admin_closes[-1:],
            "last_admin_response_at": responses[-1:],
            "first_team_assignment_at": teams[:1],
            "last_team_assignment_at": teams[-1:],
        }
        for metric, found in expected.items():
            if not found:
                assert (cid, metric) not in got, (cid, metric)
                continue
            value, author, kind, team = got[(cid, metric)]
            assert value == found[0]["created_at"] * 1000, (cid, metric)
            if "close" in metric:
                assert author == found[0]["author"]["id"], (cid, metric)
            if metric in ("first_close_at", "last_close_at"):
                assert kind == found[0]["author"]["type"], (cid, metric)
            if "team" in metric:
                assert team == str(found[0]["assigned_to"]["id"]), (cid, metric)
            checked += 1
    assert checked > 1000


def test_comparisons_and_freshness(synced: Any) -> None:
    """The previous period and the same period last year; the freshness table's rows are the
    store's rows."""
    path, sim, _, now = synced
    truth = truth_of(sim, now)
    widget = support_dashboard().widgets["new_conversations_total"]
    store = open_test_store(path)
    try:
        for compare, shift in (("previous", 7 * DAY), ("year", 365 * DAY)):
            view = parse_view({"range": "7d", "compare": compare}, int(now * 1000))
            body = evaluate_widget(store, widget, view)
            value = body["values"][0]
            start, end = now - 7 * DAY - shift, now - shift
            assert value["previous"] == sum(
                start <= c["created_at"] < end for c in truth.conversations.values()
            )
            assert value["previous_window"] == {"start": iso(start * 1000), "end": iso(end * 1000)}
        freshness = support_metrics(store, now)["stream_freshness"]
    finally:
        store.close()
    world_truth = sim.truth()
    for stream in ("contacts", "companies", "tickets", "admins", "conversations"):
        assert freshness[stream]["rows"] == len(world_truth[stream]), stream
    stored_parts = sum(len(p) for p in truth.parts.values())  # deleted conversations' too
    assert freshness["conversation_parts"]["rows"] == stored_parts
    assert all(row["age"] is None or row["age"] >= 0 for row in freshness.values())
