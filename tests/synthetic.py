"""A synthetic support workspace written straight into the shape tables.

For dashboard tests, the browser test and the widget-latency benchmark: rows look like
what the sync writes (entities, state-change events, per-conversation metrics, edges,
parts gaps, sync state and runs) without running a sync. Deterministic from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from intercom_sync.store.base import PageWrite, PartsGap, RunRecord, Shapes, Store
from intercom_sync.store.queue_spans import QUEUE_ENTERED, QUEUE_LEFT, queue_spans

CONNECTOR = "intercom"
CONVERSATION = "intercom_conversation"
STATE_CHANGE = "intercom_conversation_state_change"
XSS_TAG = "<script>alert(1)</script>"
XSS_ADMIN = '<img src=x onerror="alert(2)">'
_CHANNELS = ("conversation", "email", "chat", "facebook", "twitter", "phone_call")
_STREAMS = ("admins", "teams", "tags", "contacts", "conversations", "conversation_parts")


@dataclass(frozen=True)
class SyntheticSpec:
    seed: int = 1
    now_ms: int = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    history_days: int = 120
    admins: int = 12
    teams: int = 4
    tags: int = 10
    contacts: int = 400
    conversations: int = 300
    parts_gaps: int = 3
    hostile_names: bool = True  # a tag and an admin whose names are HTML
    page_size: int = 2_000


@dataclass
class _Conversation:
    cid: str
    created: int
    team: str | None = None
    admin: str | None = None
    tags: list[str] = field(default_factory=list)
    channel: str = "conversation"
    timeline: list[tuple[int, str, str | None]] = field(default_factory=list)
    rating: int | None = None


def write_synthetic(store: Store, spec: SyntheticSpec = SyntheticSpec()) -> dict[str, int]:
    """Fill `store` with a synthetic workspace; returns how many rows of each kind."""
    rng = random.Random(spec.seed)
    admins = [f"a{i}" for i in range(spec.admins)]
    teams = [f"t{i}" for i in range(spec.teams)]
    tag_names = [f"tag-{i}" for i in range(spec.tags)]
    if spec.hostile_names and tag_names:
        tag_names[0] = XSS_TAG
    counts = {"entities": 0, "events": 0, "metrics": 0, "edges": 0}
    now_s = spec.now_ms // 1000
    _apply(store, _people(spec, admins, teams, tag_names), counts, now_s)
    _apply(store, _contacts(spec, rng), counts, now_s)
    batch = Shapes()
    for conv in _conversations(spec, rng, admins, teams, tag_names):
        batch.extend(_conversation_shapes(conv, spec.now_ms))
        if len(batch.entities) >= spec.page_size:
            _apply(store, batch, counts, now_s)
            batch = Shapes()
    _apply(store, batch, counts, now_s)
    _sync_bookkeeping(store, spec, rng)
    return counts


def write_shapes(store: Store, shapes: Shapes, now_s: int) -> None:
    """Apply shape rows as one page (what a sync does for derived shapes)."""
    store.apply(PageWrite(shapes=shapes), now_s)


def _apply(store: Store, shapes: Shapes, counts: dict[str, int], now_s: int) -> None:
    if not shapes:
        return
    write_shapes(store, shapes, now_s)
    counts["entities"] += len(shapes.entities)
    counts["events"] += len(shapes.events)
    counts["metrics"] += len(shapes.metrics)
    counts["edges"] += len(shapes.edges)


def _entity(entity_type: str, eid: str, attrs: dict[str, Any], updated_ms: int) -> tuple[Any, ...]:
    return (CONNECTOR, entity_type, eid, orjson.dumps(attrs).decode(), updated_ms)


def _people(spec: SyntheticSpec, admins: list[str], teams: list[str], tags: list[str]) -> Shapes:
    shapes = Shapes()
    members: dict[str, list[str]] = {t: [] for t in teams}
    for i, aid in enumerate(admins):
        team = teams[i % len(teams)] if teams else None
        if team:
            members[team].append(aid)
        name = XSS_ADMIN if spec.hostile_names and i == 1 else f"Admin {i}"
        attrs = {
            "name": name,
            "email": f"admin{i}@example.com",
            "jobTitle": "Support",
            "awayMode": i % 5 == 0,
            "hasInboxSeat": True,
            "teamIds": [team] if team else [],
        }
        shapes.entities.append(_entity("intercom_admin", aid, attrs, spec.now_ms))
    for i, tid in enumerate(teams):
        attrs = {"name": f"Team {i}", "adminCount": len(members[tid]), "adminIds": members[tid]}
        shapes.entities.append(_entity("intercom_team", tid, attrs, spec.now_ms))
        for aid in members[tid]:
            edge = (CONNECTOR, "intercom_team", tid, "has_member", "intercom_admin", aid, None)
            shapes.edges.append(edge)
    for i, name in enumerate(tags):
        shapes.entities.append(_entity("intercom_tag", f"g{i}", {"name": name}, spec.now_ms))
    return shapes


def _contacts(spec: SyntheticSpec, rng: random.Random) -> Shapes:
    shapes = Shapes()
    span_ms = spec.history_days * 86_400_000 * 3
    for i in range(spec.contacts):
        created = spec.now_ms - rng.randrange(span_ms)
        attrs = {
            "role": "user" if rng.random() < 0.7 else "lead",
            "email": f"person{i}@example.org",
            "externalId": f"ext-{i}",
            "name": f"Person {i}",
            "createdAt": created,
            "lastSeenAt": min(spec.now_ms, created + rng.randrange(span_ms)),
            "updatedAt": created,
        }
        shapes.entities.append(_entity("intercom_contact", f"u{i}", attrs, created))
    return shapes


# -- conversations ---------------------------------------------------------------------------


def _minutes(rng: random.Random, mean: float) -> int:
    return int(rng.expovariate(1 / mean) * 60_000) + 1_000


def _conversations(
    spec: SyntheticSpec, rng: random.Random, admins: list[str], teams: list[str], tags: list[str]
) -> Iterator[_Conversation]:
    history_ms = spec.history_days * 86_400_000
    for i in range(spec.conversations):
        created = spec.now_ms - rng.randrange(history_ms)
        conv = _Conversation(f"c{i}", created, channel=rng.choice(_CHANNELS))
        conv.tags = rng.sample(tags, k=min(len(tags), rng.choice((0, 1, 1, 2, 3))))
        _lifecycle(conv, rng, admins, teams, spec.now_ms)
        yield conv


def _lifecycle(
    conv: _Conversation, rng: random.Random, admins: list[str], teams: list[str], now_ms: int
) -> None:
    """A plausible history: reply, assignment, response, close, maybe reopen or snooze."""
    t = conv.created
    line = conv.timeline
    line.append((t, "created", None))
    line.append((t + rng.randrange(1_000, 60_000), "first_contact_reply", None))
    if teams and rng.random() < 0.9:
        t += _minutes(rng, 40)
        conv.team = rng.choice(teams)
        conv.admin = rng.choice(admins) if admins and rng.random() < 0.8 else None
        line.append((t, "assigned", conv.admin or conv.team))
        if rng.random() < 0.2 and admins:
            conv.admin = rng.choice(admins)
            line.append((t + _minutes(rng, 30), "assigned", conv.admin))
    if rng.random() < 0.9:
        t += _minutes(rng, 90)
        line.append((t, "first_admin_reply", None))
    roll = rng.random()
    if roll < 0.85:
        t += _minutes(rng, 600)
        line.append((t, "closed", None))
        if rng.random() < 0.15:
            t += _minutes(rng, 1_440)
            line.append((t, "reopened", None))
            if rng.random() < 0.8:
                line.append((t + _minutes(rng, 300), "closed", None))
        if rng.random() < 0.35:
            conv.rating = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
    elif roll < 0.92:
        line.append((t + _minutes(rng, 120), "snoozed", None))
    conv.timeline = sorted((e for e in line if e[0] < now_ms), key=lambda e: e[0])


def _state(timeline: list[tuple[int, str, str | None]]) -> str:
    state = "open"
    for _, transition, _ in timeline:
        if transition in ("closed", "snoozed"):
            state = transition
        elif transition == "reopened":
            state = "open"
    return state


def _first(timeline: list[tuple[int, str, str | None]], transition: str) -> int | None:
    return next((t for t, tr, _ in timeline if tr == transition), None)


def _last(timeline: list[tuple[int, str, str | None]], transition: str) -> int | None:
    found = [t for t, tr, _ in timeline if tr == transition]
    return found[-1] if found else None


def _conversation_shapes(conv: _Conversation, now_ms: int) -> Shapes:
    line = conv.timeline
    assigned = any(tr == "assigned" for _, tr, _ in line)
    team = conv.team if assigned else None
    admin = conv.admin if assigned else None
    state = _state(line)
    times = {
        "createdAt": conv.created,
        "firstContactReplyAt": _first(line, "first_contact_reply"),
        "firstAdminReplyAt": _first(line, "first_admin_reply"),
        "firstAssignmentAt": _first(line, "assigned"),
        "firstCloseAt": _first(line, "closed"),
        "lastCloseAt": _last(line, "closed"),
    }
    counts = {
        "countAssignments": sum(tr == "assigned" for _, tr, _ in line),
        "countReopens": sum(tr == "reopened" for _, tr, _ in line),
        "countConversationParts": len(line) + 2,
    }
    updated = line[-1][0]
    attrs = {
        "state": state,
        "priority": "not_priority",
        "adminAssigneeId": admin,
        "teamAssigneeId": team,
        **times,
        "updatedAt": updated,
        "snoozedUntil": updated + 86_400_000 if state == "snoozed" else None,
        "waitingSince": None if state != "open" else updated,
        **counts,
        "tags": conv.tags,
        "open": state == "open",
        "channel": conv.channel,
        "sourceDeliveredAs": "customer_initiated",
        "rating": conv.rating if state == "closed" else None,
        "ratingRemark": None,
        "title": f"Conversation {conv.cid}",
    }
    shapes = Shapes(entities=[_entity(CONVERSATION, conv.cid, attrs, updated)])
    common = {"state": state, "adminAssigneeId": admin, "teamAssigneeId": team}
    for n, (at, transition, target) in enumerate(line):
        event_attrs = {
            "conversationId": conv.cid,
            "transition": transition,
            "priority": "not_priority",
            "partId": f"{conv.cid}-p{n}",
            "assignedToId": target,
            "source": "parts",
            **common,
        }
        event_id = f"{conv.cid}:{transition}:{n}"
        row = (CONNECTOR, STATE_CHANGE, event_id, CONVERSATION, conv.cid, at)
        shapes.events.append((*row, orjson.dumps(event_attrs).decode()))
    replay = [(at, transition, target, None) for at, transition, target in line]
    for entered, left in queue_spans(replay, "parts"):
        shapes.events.append(_queue_event(conv.cid, QUEUE_ENTERED, entered, common))
        if left is not None:
            shapes.events.append(_queue_event(conv.cid, QUEUE_LEFT, left, common))
    metric_attrs = orjson.dumps({**common, "channel": conv.channel, "source": "parts"}).decode()
    for name, value in _dbt_metrics(conv, times, counts).items():
        shapes.metrics.append(
            (CONNECTOR, name, CONVERSATION, conv.cid, conv.created, value, metric_attrs)
        )
    for g in conv.tags:
        shapes.edges.append((CONNECTOR, CONVERSATION, conv.cid, "tagged", "intercom_tag", g, None))
    return shapes


def _queue_event(cid: str, transition: str, at: int, common: dict[str, Any]) -> tuple[Any, ...]:
    attrs = {"conversationId": cid, "transition": transition, "source": "parts", **common}
    row = (CONNECTOR, STATE_CHANGE, f"{cid}:{transition}:{at}", CONVERSATION, cid, at)
    return (*row, orjson.dumps(attrs).decode())


def _dbt_metrics(
    conv: _Conversation, times: dict[str, int | None], counts: dict[str, int]
) -> dict[str, float]:
    """The `intercom__conversation_metrics` definitions: minutes, rounded to 2 places."""

    def minutes(end: int | None, start: int | None) -> float | None:
        return None if end is None or start is None else round((end - start) / 60_000, 2)

    line = conv.timeline
    values = {
        "time_to_first_assignment_minutes": minutes(times["firstAssignmentAt"], conv.created),
        "time_to_last_assignment_minutes": minutes(_last(line, "assigned"), conv.created),
        "time_to_first_response_minutes": minutes(times["firstAdminReplyAt"], conv.created),
        "time_to_first_close_minutes": minutes(times["firstCloseAt"], times["firstContactReplyAt"]),
        "time_to_last_close_minutes": minutes(times["lastCloseAt"], times["firstContactReplyAt"]),
        "count_reopens": float(counts["countReopens"]),
        "count_assignments": float(counts["countAssignments"]),
        "count_parts": float(counts["countConversationParts"]),
    }
    return {k: v for k, v in values.items() if v is not None}


# -- bookkeeping -----------------------------------------------------------------------------


def _sync_bookkeeping(store: Store, spec: SyntheticSpec, rng: random.Random) -> None:
    """Gaps for a few conversations, a checkpoint per stream, and one finished run."""
    now_s = spec.now_ms // 1000
    gaps = [
        PartsGap(f"c{i}", expected=520 + i, stored=500)
        for i in rng.sample(range(spec.conversations), k=min(spec.parts_gaps, spec.conversations))
    ]
    states = {s: {"cursor": now_s - 600} for s in _STREAMS}
    store.apply(PageWrite(gaps=gaps, state=states), now_s - 300)
    run = RunRecord(run_id="synthetic-1", started_at=now_s - 900, mode="full", pid=0)
    store.start_run(run)
    streams = {
        s: {"records": 100 + i, "pages": 1, "status": "succeeded"} for i, s in enumerate(_STREAMS)
    }
    store.finish_run(
        run.run_id,
        finished_at=now_s - 300,
        status="succeeded",
        streams=streams,
        requests=len(_STREAMS),
        rate_limited=0,
        errors=[],
    )
